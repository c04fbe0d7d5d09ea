"""CDK assertions on stuck-order detection: the sparse index, the scheduled detector and an alarm per status."""

from __future__ import annotations

import json

from infra.config import cdk_context, load_config
from shared.metrics import STUCK_ORDERS
from tests.infrastructure.conftest import Synth
from tests.integration.test_stuck_orders import OPEN_STATUS_INDEX

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
