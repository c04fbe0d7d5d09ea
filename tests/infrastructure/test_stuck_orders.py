"""CDK assertions on stuck-order detection: the sparse index, the scheduled detector, an alarm per status, and an
alarm per connected system whose breaker stays open."""

from __future__ import annotations

import json
from typing import Any

from infra.config import cdk_context, load_config
from shared.metrics import OPEN_BREAKERS, STUCK_ORDERS
from tests.infrastructure.conftest import Synth
from tests.tables import OPEN_STATUS_INDEX

HANDLER = "functions.detect_stuck_orders.handler.lambda_handler"


def test_the_orders_table_has_the_open_status_index_the_store_queries(stack: Synth) -> None:
    [orders] = [
        t["Properties"]
        for t in stack.resources("AWS::DynamoDB::GlobalTable").values()
        if any(i["IndexName"] == "by_external_id" for i in t["Properties"].get("GlobalSecondaryIndexes", []))
    ]
    [index] = [i for i in orders["GlobalSecondaryIndexes"] if i["IndexName"] == OPEN_STATUS_INDEX["IndexName"]]
    assert {k: index[k] for k in ("IndexName", "KeySchema", "Projection")} == OPEN_STATUS_INDEX
    assert {"AttributeName": "status_at", "AttributeType": "S"} in orders["AttributeDefinitions"]


def test_the_detector_runs_on_its_schedule_with_the_env_slas(stack: Synth) -> None:
    policy = load_config(cdk_context()["crossdock"], stack.env).operations.stuck
    functions = stack.resources("AWS::Lambda::Function")
    [(fn_id, fn)] = [(k, f) for k, f in functions.items() if f["Properties"]["Handler"] == HANDLER]
    variables = fn["Properties"]["Environment"]["Variables"]
    assert json.loads(variables["STUCK_POLICY"]) == policy.model_dump(mode="json")
    assert "ORDERS_TABLE_NAME" in variables
    [rule] = [
        r["Properties"]
        for r in stack.resources("AWS::Events::Rule").values()
        if r["Properties"]["Targets"][0]["Arn"] == {"Fn::GetAtt": [fn_id, "Arn"]}
    ]
    every = policy.detect_every_minutes
    assert rule["ScheduleExpression"] == f"rate({every} minute{'s' if every != 1 else ''})"


def test_each_status_with_an_sla_has_a_stuck_orders_alarm_to_the_env_topic(stack: Synth) -> None:
    config = load_config(cdk_context()["crossdock"], stack.env)
    [topic_id] = stack.resources("AWS::SNS::Topic")
    alarms = {
        next(d["Value"] for d in a["Properties"]["Dimensions"] if d["Name"] == "status"): a["Properties"]
        for a in stack.resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("MetricName") == STUCK_ORDERS
    }
    assert sorted(alarms) == sorted(config.operations.stuck.after_minutes)
    for status, alarm in alarms.items():
        assert alarm["Namespace"] == config.metrics_namespace
        assert sorted(alarm["Dimensions"], key=lambda d: d["Name"]) == [
            {"Name": "service", "Value": "crossdock-detect_stuck_orders"},
            {"Name": "status", "Value": status},
        ]
        assert alarm["Statistic"] == "Maximum"
        assert alarm["Threshold"] == 1
        assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert alarm["AlarmActions"] == [{"Ref": topic_id}]


def detector(stack: Synth) -> tuple[str, dict[str, Any]]:
    functions = stack.resources("AWS::Lambda::Function")
    [(fn_id, fn)] = [(k, f) for k, f in functions.items() if f["Properties"]["Handler"] == HANDLER]
    return fn_id, fn["Properties"]


def test_the_detector_reads_the_breakers_of_every_connected_system_and_writes_none(stack: Synth) -> None:
    config = load_config(cdk_context()["crossdock"], stack.env)
    _, fn = detector(stack)
    variables = fn["Environment"]["Variables"]
    assert json.loads(variables["CONNECTED_SYSTEMS"]) == config.connected_systems
    table = stack.template_json["Outputs"]["OperationsTableName"]["Value"]
    assert variables["OPS_TABLE_NAME"] == table
    role = fn["Role"]["Fn::GetAtt"][0]
    on_table: set[str] = set()
    for policy in stack.resources("AWS::IAM::Policy").values():
        if {"Ref": role} not in policy["Properties"]["Roles"]:
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            if any(json.dumps(table["Ref"]) in json.dumps(r) for r in resources):
                actions = statement["Action"]
                on_table.update(actions if isinstance(actions, list) else [actions])
    assert {"dynamodb:Query", "dynamodb:GetItem"} <= on_table
    assert not {a for a in on_table if a.endswith(("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"))}


def test_each_connected_system_has_an_open_breaker_alarm_after_15_minutes(stack: Synth) -> None:
    config = load_config(cdk_context()["crossdock"], stack.env)
    [topic_id] = stack.resources("AWS::SNS::Topic")
    alarms = {
        next(d["Value"] for d in a["Properties"]["Dimensions"] if d["Name"] == "system"): a["Properties"]
        for a in stack.resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("MetricName") == OPEN_BREAKERS
    }
    assert sorted(alarms) == config.connected_systems
    assert {"netsuite", "wms"} <= set(alarms)
    for system, alarm in alarms.items():
        assert alarm["Namespace"] == config.metrics_namespace
        assert sorted(alarm["Dimensions"], key=lambda d: d["Name"]) == [
            {"Name": "service", "Value": "crossdock-detect_stuck_orders"},
            {"Name": "system", "Value": system},
        ]
        assert (alarm["Statistic"], alarm["Threshold"]) == ("Maximum", 1)
        assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert (alarm["Period"], alarm["EvaluationPeriods"]) == (300, 3)  # open in three detector periods in a row
        assert alarm.get("DatapointsToAlarm", 3) == 3
        assert alarm["AlarmName"] == f"crossdock-{stack.env}-BreakerOpen{system.title()}"
        assert alarm["AlarmActions"] == alarm["OKActions"] == [{"Ref": topic_id}]
