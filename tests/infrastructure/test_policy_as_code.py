"""cdk-nag AwsSolutions and Serverless with zero unacknowledged findings, reasons on every acknowledgment, cfn-lint
clean."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import App, Duration, Stack
from aws_cdk import aws_sqs as sqs
from cfnlint.api import lint_file

from infra.components.monitoring import Monitoring
from infra.components.queue_with_dlq import QueueWithDlq
from infra.config import EnvConfig
from infra.nag import add_nag_packs
from tests.infrastructure.conftest import Synth

# W3005: CDK writes DependsOn that is also implied by a Ref; AWS's own linter flags it, CloudFormation doesn't mind.
CFN_LINT_FALSE_POSITIVES = {"W3005"}


def test_synth_passed_cdk_nag(stack: Synth) -> None:
    """build_app adds both packs: an unacknowledged finding would have failed synth in the fixture."""
    assert stack.template_json["Resources"]


def acknowledgments(template: dict[str, Any]) -> dict[str, str]:
    """``<resource>:<pack>::<rule>`` → reason, as the template's ``Metadata.cdk_nag.rules_to_suppress`` has them."""
    found = {}
    for logical_id, resource in template["Resources"].items():
        for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", []):
            found[f"{logical_id}:{rule['id']}"] = rule["reason"]
    return found


def test_every_acknowledgment_of_both_packs_is_in_the_template_with_a_reason(stack: Synth) -> None:
    acknowledged = acknowledgments(stack.template_json)
    packs = {where.split(":", 1)[1].split("::")[0] for where in acknowledged}
    assert packs == {"AwsSolutions", "Serverless"}
    for where, reason in acknowledged.items():
        assert len(reason.strip()) >= 20, f"{where}: say why ({reason!r})"
        assert len(reason.split()) >= 8, f"{where}: say why ({reason!r})"


def test_cdk_nag_does_fail_an_unacknowledged_finding_of_either_pack() -> None:
    """The checks above prove something only if both packs are really wired: a queue without a DLQ fails each."""
    app = App()
    bad = Stack(app, "Bad")
    sqs.Queue(bad, "NoDlq")
    add_nag_packs(app)
    with pytest.raises(RuntimeError) as failed:
        app.synth()
    assert "AwsSolutions-SQS3" in str(failed.value)
    assert "Serverless-SQSRedrivePolicy" in str(failed.value)


def test_queue_with_dlq_unit_passes_nag_and_wires_redrive_and_alarms() -> None:
    app = App()
    stack = Stack(app, "Unit")
    monitoring = Monitoring(stack, "Monitoring", config=EnvConfig(name="dev"))
    unit = QueueWithDlq(stack, "Orders", monitoring=monitoring, consumer_timeout=Duration.seconds(30))
    add_nag_packs(app)
    template = app.synth().get_stack_by_name("Unit").template
    queues = {k: v["Properties"] for k, v in template["Resources"].items() if v["Type"] == "AWS::SQS::Queue"}
    main = next(p for p in queues.values() if "RedrivePolicy" in p)
    assert main["VisibilityTimeout"] == 180
    assert main["RedrivePolicy"]["maxReceiveCount"] == 5
    assert all(p.get("SqsManagedSseEnabled") for p in queues.values())
    alarms = [v["Properties"] for v in template["Resources"].values() if v["Type"] == "AWS::CloudWatch::Alarm"]
    # The monitoring library labels its metrics, so CDK renders them as one ``Metrics`` entry.
    assert {a["Metrics"][0]["MetricStat"]["Metric"]["MetricName"] for a in alarms} == {
        "ApproximateNumberOfMessagesVisible",
        "ApproximateAgeOfOldestMessage",
    }
    assert unit.dlq is not None


def test_cfn_lint_is_clean(stack: Synth) -> None:
    findings = [m for m in lint_file(stack.template_path) if m.rule.id not in CFN_LINT_FALSE_POSITIVES]
    assert findings == [], "\n".join(str(f) for f in findings)
