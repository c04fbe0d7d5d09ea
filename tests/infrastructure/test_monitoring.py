"""Every function, queue, DLQ and the API have their alarms, the SLO alarms follow cdk.json, one dashboard per env.

The lists come from the template, so a resource added without its alarms fails here.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import App, Duration, Stack
from aws_cdk import aws_lambda as lambda_

from infra.components.monitoring import Monitoring
from infra.config import EnvConfig, cdk_context, load_config
from shared import metrics
from tests.infrastructure.conftest import Synth

Dims = dict[str, Any]


class Alarm:
    """An alarm's metric, whichever form CDK rendered: flat, or one ``Metrics`` entry (a labelled metric)."""

    def __init__(self, props: dict[str, Any]) -> None:
        self.props = props
        if "MetricName" in props:
            self.namespace, self.name = props["Namespace"], props["MetricName"]
            self.stat = props.get("ExtendedStatistic") or props["Statistic"]
            self.period, raw_dims = props["Period"], props.get("Dimensions", [])
        else:
            [entry] = [m for m in props["Metrics"] if m.get("ReturnData", True)]
            stat = entry["MetricStat"]
            self.namespace, self.name = stat["Metric"]["Namespace"], stat["Metric"]["MetricName"]
            self.stat, self.period, raw_dims = stat["Stat"], stat["Period"], stat["Metric"].get("Dimensions", [])
        self.dims: Dims = {d["Name"]: d["Value"] for d in raw_dims}
        self.threshold: float = props["Threshold"]
        self.operator: str = props["ComparisonOperator"]


def alarms_of(stack: Synth) -> list[Alarm]:
    return [Alarm(a["Properties"]) for a in stack.resources("AWS::CloudWatch::Alarm").values()]


def on(alarms: list[Alarm], namespace: str, **dims: Any) -> dict[str, Alarm]:
    """metric name → the alarm on it, among the alarms on exactly ``dims``."""
    found = [a for a in alarms if a.namespace == namespace and a.dims == dims]
    by_name = {a.name: a for a in found}
    assert len(by_name) == len(found), f"two alarms on one metric of {dims}"
    return by_name


def config_of(stack: Synth) -> EnvConfig:
    return load_config(cdk_context()["crossdock"], stack.env)


def test_every_function_has_error_throttle_and_duration_alarms(stack: Synth) -> None:
    alarms = alarms_of(stack)
    functions = stack.resources("AWS::Lambda::Function")
    assert functions
    for logical_id, fn in functions.items():
        watched = on(alarms, "AWS/Lambda", FunctionName={"Ref": logical_id})
        assert set(watched) == {"Errors", "Throttles", "Duration"}, logical_id
        assert watched["Errors"].threshold == watched["Throttles"].threshold == 0  # above 0: any
        duration = watched["Duration"]
        assert duration.stat == "p99"
        assert duration.threshold == fn["Properties"]["Timeout"] * 1000 * 0.8


def queue_ids(stack: Synth) -> tuple[set[str], set[str]]:
    """(buffers, DLQs): a DLQ is any queue a redrive policy or an EventBridge target dead-letters to."""
    queues = stack.resources("AWS::SQS::Queue")
    buffers = {k for k, q in queues.items() if "RedrivePolicy" in q["Properties"]}
    dlqs = {queues[k]["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0] for k in buffers}
    for rule in stack.resources("AWS::Events::Rule").values():
        for target in rule["Properties"].get("Targets", []):
            if "DeadLetterConfig" in target:
                dlqs.add(target["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0])
    assert dlqs <= set(queues)
    # No queue outside the two roles: a new kind of queue needs its alarms thought about, and this test.
    assert buffers | dlqs == set(queues)
    return buffers, dlqs


def test_every_buffer_has_depth_and_age_alarms(stack: Synth) -> None:
    alarms = alarms_of(stack)
    buffers, _ = queue_ids(stack)
    assert buffers
    for queue in buffers:
        watched = on(alarms, "AWS/SQS", QueueName={"Fn::GetAtt": [queue, "QueueName"]})
        assert set(watched) == {"ApproximateNumberOfMessagesVisible", "ApproximateAgeOfOldestMessage"}, queue
        assert watched["ApproximateNumberOfMessagesVisible"].threshold == 1000
        assert watched["ApproximateAgeOfOldestMessage"].threshold == 15 * 60
        assert {a.period for a in watched.values()} == {60}


def test_every_dlq_has_count_and_age_alarms(stack: Synth) -> None:
    alarms = alarms_of(stack)
    _, dlqs = queue_ids(stack)
    assert dlqs
    for dlq in dlqs:
        watched = on(alarms, "AWS/SQS", QueueName={"Fn::GetAtt": [dlq, "QueueName"]})
        assert set(watched) == {"ApproximateNumberOfMessagesVisible", "ApproximateAgeOfOldestMessage"}, dlq
        count = watched["ApproximateNumberOfMessagesVisible"]
        assert (count.operator, count.threshold) == ("GreaterThanThreshold", 0)  # one dead letter alarms
        assert count.stat == "Maximum"
        assert {a.period for a in watched.values()} == {60}


def test_the_api_has_4xx_5xx_and_latency_alarms(stack: Synth) -> None:
    alarms = alarms_of(stack)
    apis = stack.resources("AWS::ApiGatewayV2::Api")
    assert apis
    for api in apis:
        watched = on(alarms, "AWS/ApiGateway", ApiId={"Ref": api}, Stage="$default")
        assert set(watched) == {"4xx", "5xx", "Latency"}
        assert watched["4xx"].threshold == 50
        assert watched["5xx"].threshold == 0
        assert (watched["Latency"].stat, watched["Latency"].threshold) == ("p99", 2000)


def test_slo_alarms_follow_the_env_config(stack: Synth) -> None:
    config = config_of(stack)
    slo = config.operations.slo
    alarms = [a for a in alarms_of(stack) if a.namespace == config.metrics_namespace and a.stat == "p95"]
    expected: dict[tuple[str, str | None], int] = {
        (metrics.TIME_TO_ERP, None): slo.time_to_erp_p95_seconds,
        (metrics.SHIPMENT_TO_INVOICE_LATENCY, None): slo.shipment_to_invoice_p95_seconds,
        **{(metrics.INVENTORY_PROPAGATION_LAG, c): slo.propagation_lag_p95_seconds for c in config.inventory.channels},
    }
    assert len(config.inventory.channels) >= 1
    actual = {(a.name, a.dims.get("channel")): a for a in alarms}
    assert len(actual) == len(alarms)
    assert set(actual) == set(expected)
    for (name, channel), seconds in expected.items():
        alarm = actual[(name, channel)]
        assert alarm.threshold == seconds * 1000  # the metrics are in ms
        assert (alarm.operator, alarm.period) == ("GreaterThanThreshold", 15 * 60)
        assert alarm.dims == {
            "service": f"crossdock-{metrics.EMITTED_BY[name]}",
            **({"channel": channel} if channel else {}),
        }


def test_every_alarm_notifies_the_env_topic_and_is_quiet_without_data(stack: Synth) -> None:
    [topic] = stack.resources("AWS::SNS::Topic")
    alarms = stack.resources("AWS::CloudWatch::Alarm").values()
    assert alarms
    for alarm in alarms:
        props = alarm["Properties"]
        assert props.get("AlarmName", "").startswith(f"crossdock-{stack.env}-"), props  # the env's, at a glance
        assert props["AlarmActions"] == props["OKActions"] == [{"Ref": topic}], props.get("AlarmName")
        assert props["TreatMissingData"] == "notBreaching"
        assert props.get("ActionsEnabled", True) is True


def dashboard_metrics(dashboard: dict[str, Any]) -> list[tuple[str, str, Dims]]:
    """(namespace, metric, dimensions) of every line the dashboard draws."""
    parts = dashboard["Properties"]["DashboardBody"]["Fn::Join"][1]
    body = json.loads("".join(p if isinstance(p, str) else "TOKEN" for p in parts))  # tokens sit inside strings
    lines = [line for w in body["widgets"] for line in w["properties"].get("metrics", []) if isinstance(line[0], str)]
    return [(line[0], line[1], dict(zip(line[2:-1:2], line[3:-1:2], strict=True))) for line in lines]


def test_one_dashboard_per_env_draws_every_business_metric(stack: Synth) -> None:
    config = config_of(stack)
    [dashboard] = stack.resources("AWS::CloudWatch::Dashboard").values()
    assert dashboard["Properties"]["DashboardName"] == f"crossdock-{stack.env}"
    drawn = [(name, dims) for ns, name, dims in dashboard_metrics(dashboard) if ns == config.metrics_namespace]
    for name, package in metrics.EMITTED_BY.items():
        assert any(n == name and d["service"] == f"crossdock-{package}" for n, d in drawn), name
    lag = {d["channel"] for n, d in drawn if n == metrics.INVENTORY_PROPAGATION_LAG}
    assert lag == set(config.inventory.channels)
    recovered = {d["channel"] for n, d in drawn if n == metrics.MISSED_ORDERS_RECOVERED}
    assert recovered == set(config.reconcile)
    calls = {d["channel"] for n, d in drawn if n == metrics.CHANNEL_CALLS_PER_CHANGE}
    assert calls == set(config.inventory.channels)
    breakers = [d for n, d in drawn if n == metrics.OPEN_BREAKERS]
    assert sorted(d["system"] for d in breakers) == config.connected_systems
    assert all(set(d) == {"service", "system"} for d in breakers)  # the set the detector emits


def test_a_function_made_after_watch_functions_fails_synth() -> None:
    app = App()
    stack = Stack(app, "Late")
    monitoring = Monitoring(stack, "Monitoring", config=EnvConfig(name="dev"))
    functions: list[lambda_.Function] = []
    monitoring.watch_functions(functions)
    functions.append(
        lambda_.Function(
            stack,
            "Late",
            runtime=lambda_.Runtime.PYTHON_3_13,
            handler="index.handler",
            code=lambda_.Code.from_inline("def handler(event, context): pass"),
            timeout=Duration.seconds(3),
        )
    )
    with pytest.raises(RuntimeError, match="Late/Late has no alarms"):
        app.synth()
