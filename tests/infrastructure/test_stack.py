"""CDK assertions on every environment's stack: the settings the config promises are the ones deployed."""

from __future__ import annotations

import json

from aws_cdk.assertions import Match

from infra.config import cdk_context, load_config
from tests.infrastructure.conftest import Synth


def config_of(stack: Synth):  # type: ignore[no-untyped-def]
    return load_config(cdk_context()["crossdock"], stack.env)


def test_functions_run_arm64_python313_with_json_logs(stack: Synth) -> None:
    functions = stack.resources("AWS::Lambda::Function")
    assert functions
    for fn in functions.values():
        props = fn["Properties"]
        assert props["Architectures"] == ["arm64"]
        assert props["Runtime"] == "python3.13"
        assert props["LoggingConfig"]["LogFormat"] == "JSON"
        assert "LogGroup" in props["LoggingConfig"]
        assert len(props["Layers"]) == 1


def test_log_groups_keep_the_env_retention(stack: Synth) -> None:
    config = config_of(stack)
    for group in stack.resources("AWS::Logs::LogGroup").values():
        assert group["Properties"]["RetentionInDays"] == config.log_retention_days
        assert group["DeletionPolicy"] == ("Delete" if config.removal_policy == "destroy" else "Retain")


def test_intake_environment_matches_config(stack: Synth) -> None:
    config = config_of(stack)
    stack.template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": "functions.receive_webhook.handler.lambda_handler",
            "Timeout": 5,
            "Environment": {
                "Variables": Match.object_like(
                    {
                        "POWERTOOLS_LOG_LEVEL": config.log_level,
                        "DEDUPE_WINDOW_SECONDS": json.dumps(config.dedupe_window_seconds, sort_keys=True),
                        "WEBHOOK_SECRET_PREFIX": f"crossdock-{stack.env}/webhooks/",
                        "EVENT_BUS_NAME": Match.any_value(),
                        "IDEMPOTENCY_TABLE_NAME": Match.any_value(),
                    }
                )
            },
        },
    )
    if config.intake_reserved_concurrency:
        stack.template.has_resource_properties(
            "AWS::Lambda::Function", {"ReservedConcurrentExecutions": config.intake_reserved_concurrency}
        )


def test_dedupe_window_covers_shopify_retries(stack: Synth) -> None:
    assert config_of(stack).dedupe_window_seconds["shopify"] >= 72 * 3600


def test_tables_on_demand_with_pitr_per_env(stack: Synth) -> None:
    config = config_of(stack)
    # Named by logical id without CDK's 8-character hash, e.g. OperationsTable.
    tables = {logical_id[:-8]: t for logical_id, t in stack.resources("AWS::DynamoDB::GlobalTable").items()}
    assert sorted(tables) == ["IdempotencyTable", "InventoryTable", "OperationsTable", "OrdersTable"]
    for name, table in tables.items():
        props = table["Properties"]
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        # Every replica, as the environment says (absent means off).
        for replica in props["Replicas"]:
            pitr = replica.get("PointInTimeRecoverySpecification", {})
            assert pitr.get("PointInTimeRecoveryEnabled", False) is config.point_in_time_recovery, name
        assert table["DeletionPolicy"] == ("Delete" if config.removal_policy == "destroy" else "Retain")


def test_idempotency_table_expires_records(stack: Synth) -> None:
    stack.template.has_resource_properties(
        "AWS::DynamoDB::GlobalTable",
        {
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "TimeToLiveSpecification": {"AttributeName": "expiration", "Enabled": True},
        },
    )


CONSUMERS = {
    # function package: (source, detail-types) its rule matches
    "validate_order": (["crossdock.intake"], ["OrderReceived"]),
    "release_fulfillment": (["crossdock.orders"], ["OrderAccepted"]),
    "update_channel": (["crossdock.orders"], ["OrderAccepted", "OrderHeld", "OrderRejected", "OrderCancelled"]),
    "cancel_order": (["crossdock.intake"], ["OrderCancelled"]),
}


def test_each_consumer_is_wired_rule_to_queue_to_function_with_its_dlq(stack: Synth) -> None:
    config = config_of(stack)
    rules = stack.resources("AWS::Events::Rule").values()
    mappings = stack.resources("AWS::Lambda::EventSourceMapping").values()
    functions = stack.resources("AWS::Lambda::Function")
    for package, (source, detail_types) in CONSUMERS.items():
        [rule] = [
            r for r in rules if r["Properties"].get("EventPattern") == {"source": source, "detail-type": detail_types}
        ]
        [target] = rule["Properties"]["Targets"]
        queue_id = target["Arn"]["Fn::GetAtt"][0]
        dlq_id = target["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]
        queue = stack.resources("AWS::SQS::Queue")[queue_id]["Properties"]
        assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": [dlq_id, "Arn"]}
        [fn_id] = [
            k
            for k, f in functions.items()
            if f["Properties"]["Handler"] == f"functions.{package}.handler.lambda_handler"
        ]
        assert functions[fn_id]["Properties"]["Environment"]["Variables"]["DLQ_URL"] == {"Ref": dlq_id}
        [mapping] = [m for m in mappings if m["Properties"]["FunctionName"] == {"Ref": fn_id}]
        assert mapping["Properties"]["EventSourceArn"] == {"Fn::GetAtt": [queue_id, "Arn"]}
        assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        expected = {
            "validate_order": config.consumer_max_concurrency - 2,
            "cancel_order": 2,
        }.get(package, config.consumer_max_concurrency)
        assert mapping["Properties"]["ScalingConfig"] == {"MaximumConcurrency": expected}
        # ERP callers take one order per invocation, with time for a slow ERP.
        erp_caller = package in ("validate_order", "cancel_order")
        assert mapping["Properties"]["BatchSize"] == (1 if erp_caller else 10)
        assert functions[fn_id]["Properties"]["Timeout"] == (120 if erp_caller else 30)


def test_the_erp_callers_share_the_erp_concurrency_budget(stack: Synth) -> None:
    config = config_of(stack)
    functions = stack.resources("AWS::Lambda::Function")
    erp_callers = {
        k
        for k, f in functions.items()
        if f["Properties"]["Handler"].split(".")[1] in ("validate_order", "cancel_order")
    }
    total = sum(
        m["Properties"]["ScalingConfig"]["MaximumConcurrency"]
        for m in stack.resources("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"]["Ref"] in erp_callers
    )
    assert total == config.consumer_max_concurrency


def test_the_recorder_hears_every_order_contract_and_no_stock_one(stack: Synth) -> None:
    from shared.models.events import CONTRACTS, ORDER_CONTRACTS

    stack.template.has_resource_properties(
        "AWS::Events::Rule",
        {"EventPattern": {"source": [{"prefix": "crossdock."}], "detail-type": sorted(ORDER_CONTRACTS)}},
    )
    assert {"StockReported", "InventoryAdjusted", "AvailabilityPublished"} == set(CONTRACTS) - set(ORDER_CONTRACTS)


def test_rules_are_data_in_the_validator_environment(stack: Synth) -> None:
    config = config_of(stack)
    stack.template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": "functions.validate_order.handler.lambda_handler",
            "Environment": {
                "Variables": Match.object_like(
                    {
                        "ORDER_RULES": config.order_rules.model_dump_json(),
                        "ROUTING_RULES": config.routing.model_dump_json(),
                    }
                )
            },
        },
    )


def test_reconciliation_runs_on_a_schedule_per_channel(stack: Synth) -> None:
    config = config_of(stack)
    scheduled = [
        r["Properties"]
        for r in stack.resources("AWS::Events::Rule").values()
        if "ScheduleExpression" in r["Properties"] and "channel" in r["Properties"]["Targets"][0].get("Input", "")
    ]
    inputs = sorted(json.loads(r["Targets"][0]["Input"])["channel"] for r in scheduled)
    assert inputs == sorted(config.reconcile)
    for rule in scheduled:
        channel = json.loads(rule["Targets"][0]["Input"])["channel"]
        assert rule["ScheduleExpression"] == f"rate({config.reconcile[channel].every_minutes} minutes)"


def test_each_channel_with_a_policy_has_its_own_sync_fed_by_adjustments_and_a_sweep(stack: Synth) -> None:
    config = config_of(stack)
    functions = stack.resources("AWS::Lambda::Function")
    syncs = {
        f["Properties"]["Environment"]["Variables"]["CHANNEL"]: k
        for k, f in functions.items()
        if f["Properties"]["Handler"] == "functions.sync_availability.handler.lambda_handler"
    }
    assert sorted(syncs) == sorted(config.inventory.channels)
    mappings = stack.resources("AWS::Lambda::EventSourceMapping").values()
    rules = stack.resources("AWS::Events::Rule").values()
    for fn_id in syncs.values():
        [mapping] = [m for m in mappings if m["Properties"]["FunctionName"] == {"Ref": fn_id}]
        queue = mapping["Properties"]["EventSourceArn"]["Fn::GetAtt"][0]
        # Large batches, two pollers at most (the lease keeps one writer); changes coalesce at the holder.
        assert mapping["Properties"]["BatchSize"] == 1000
        assert mapping["Properties"]["ScalingConfig"] == {"MaximumConcurrency": 2}
        feeding = [
            r["Properties"] for r in rules if r["Properties"]["Targets"][0]["Arn"] == {"Fn::GetAtt": [queue, "Arn"]}
        ]
        patterns = [r.get("EventPattern") for r in feeding if "EventPattern" in r]
        assert patterns[0] == {"detail-type": ["InventoryAdjusted"]}
        # The channel's own orders: it moved its count itself, so ours is written again.
        channel = functions[fn_id]["Properties"]["Environment"]["Variables"]["CHANNEL"]
        assert {"data": {"order": {"channel": [channel]}}} in [p.get("detail") for p in patterns]
        assert {"data": {"channel": [channel]}} in [p.get("detail") for p in patterns]
        [sweep] = [r for r in feeding if "ScheduleExpression" in r]
        assert json.loads(sweep["Targets"][0]["Input"]) == {"sweep": True}
        assert sweep["ScheduleExpression"] == f"rate({config.availability_sweep_minutes} minute" + (
            "s)" if config.availability_sweep_minutes != 1 else ")"
        )


def test_stock_comes_back_only_when_a_cancellation_was_carried_out(stack: Synth) -> None:
    patterns = [r["Properties"].get("EventPattern") for r in stack.resources("AWS::Events::Rule").values()]
    assert {"detail-type": ["StockReported"]} in patterns
    assert {"source": ["crossdock.orders"], "detail-type": ["OrderCancelled"]} in patterns


def test_shipments_and_returns_from_the_intake_reach_the_ledger_writer(stack: Synth) -> None:
    functions = stack.resources("AWS::Lambda::Function")
    [fn_id] = [
        k
        for k, f in functions.items()
        if f["Properties"]["Handler"] == "functions.apply_inventory.handler.lambda_handler"
    ]
    [mapping] = [
        m
        for m in stack.resources("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == {"Ref": fn_id}
    ]
    queue = mapping["Properties"]["EventSourceArn"]
    pattern = {"source": ["crossdock.intake"], "detail-type": ["ShipmentDispatched", "ReturnReceived"]}
    [rule] = [
        r for r in stack.resources("AWS::Events::Rule").values() if r["Properties"].get("EventPattern") == pattern
    ]
    [target] = rule["Properties"]["Targets"]
    assert target["Arn"] == queue


def test_order_api_needs_iam(stack: Synth) -> None:
    stack.template.has_resource_properties(
        "AWS::ApiGatewayV2::Route",
        {"RouteKey": "GET /v1/orders/{channel}/{external_id}", "AuthorizationType": "AWS_IAM"},
    )


def test_one_connection_secret_per_system(stack: Synth) -> None:
    names = sorted(
        s["Properties"]["Name"]
        for s in stack.resources("AWS::SecretsManager::Secret").values()
        if "/connections/" in s["Properties"]["Name"]
    )
    assert names == [f"crossdock-{stack.env}/connections/{s}" for s in config_of(stack).connected_systems]


def test_every_queue_has_a_dlq(stack: Synth) -> None:
    queues = stack.resources("AWS::SQS::Queue")
    dlq_refs = [
        q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]
        for q in queues.values()
        if "RedrivePolicy" in q["Properties"]
    ]
    assert dlq_refs
    assert len(queues) == 2 * len(dlq_refs)


def test_bus_has_an_archive_with_the_env_retention(stack: Synth) -> None:
    stack.template.has_resource_properties("AWS::Events::EventBus", {"Name": f"crossdock-{stack.env}"})
    stack.template.has_resource_properties(
        "AWS::Events::Archive", {"RetentionDays": config_of(stack).archive_retention_days}
    )


def test_webhook_route_is_an_http_api_with_logs_and_throttling(stack: Synth) -> None:
    config = config_of(stack)
    stack.template.has_resource_properties("AWS::ApiGatewayV2::Api", {"ProtocolType": "HTTP"})
    stack.template.has_resource_properties("AWS::ApiGatewayV2::Route", {"RouteKey": "POST /v1/webhooks/{platform}"})
    stack.template.has_resource_properties(
        "AWS::ApiGatewayV2::Stage",
        {
            "StageName": "$default",
            "AutoDeploy": True,
            "AccessLogSettings": Match.object_like({"DestinationArn": Match.any_value()}),
            "DefaultRouteSettings": {
                "ThrottlingRateLimit": config.api_rate_limit,
                "ThrottlingBurstLimit": config.api_burst_limit,
            },
        },
    )
    assert not stack.resources("AWS::ApiGateway::RestApi")


def test_one_secret_per_platform_with_rotation_shape(stack: Synth) -> None:
    secrets = [
        s for s in stack.resources("AWS::SecretsManager::Secret").values() if "/webhooks/" in s["Properties"]["Name"]
    ]
    names = sorted(s["Properties"]["Name"] for s in secrets)
    assert names == [f"crossdock-{stack.env}/webhooks/{p}" for p in config_of(stack).platforms]
    for secret in secrets:
        generate = secret["Properties"]["GenerateSecretString"]
        assert generate["GenerateStringKey"] == "current"
        assert json.loads(generate["SecretStringTemplate"]) == {"previous": ""}


def test_no_aws_managed_policies_and_no_wildcard_actions(stack: Synth) -> None:
    for role in stack.resources("AWS::IAM::Role").values():
        assert "ManagedPolicyArns" not in role["Properties"]
    for policy in stack.resources("AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert all(a != "*" and not a.endswith(":*") for a in actions), actions


def test_secret_reads_name_one_secret_each(stack: Synth) -> None:
    secret_ids = set(stack.resources("AWS::SecretsManager::Secret"))
    for policy in stack.resources("AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if any(a.startswith("secretsmanager:") for a in actions):
                # minimizePolicies merges the grants on several secrets into one statement with a list.
                resource = statement["Resource"]
                resources = resource if isinstance(resource, list) else [resource]
                assert all(resource in [{"Ref": s} for s in secret_ids] for resource in resources)


def test_alarm_email_only_where_configured(stack: Synth) -> None:
    subscriptions = list(stack.resources("AWS::SNS::Subscription").values())
    email = config_of(stack).alarm_email
    assert [s["Properties"]["Endpoint"] for s in subscriptions] == ([email] if email else [])


def test_operations_table_expires_audit_records(stack: Synth) -> None:
    stack.template.has_resource_properties(
        "AWS::DynamoDB::GlobalTable",
        {"TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True}},
    )
