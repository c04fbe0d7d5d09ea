"""cdk-nag AwsSolutions with zero unacknowledged findings, reasons on every acknowledgment, cfn-lint clean."""

from __future__ import annotations

import pytest
from aws_cdk import App, Duration, Stack, Validations
from aws_cdk import aws_sqs as sqs
from cdk_nag import AwsSolutionsChecks
from cfnlint.api import lint_file

from infra.components.monitoring import Monitoring
from infra.components.queue_with_dlq import QueueWithDlq
from infra.config import EnvConfig
from tests.infrastructure.conftest import Synth

# W3005: CDK writes DependsOn that is also implied by a Ref; AWS's own linter flags it, CloudFormation doesn't mind.
CFN_LINT_FALSE_POSITIVES = {"W3005"}


def test_synth_passed_cdk_nag(stack: Synth) -> None:
    """build_app adds AwsSolutionsChecks: an unacknowledged finding would have failed synth in the fixture."""
    assert stack.template_json["Resources"]


def test_every_acknowledgment_has_a_reason(stack: Synth) -> None:
    acknowledged = {}
    for construct in stack.app.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == "aws:cdk:acknowledged-rules":
                acknowledged.update({f"{construct.node.path}:{rule}": reason for rule, reason in entry.data.items()})
    assert acknowledged
    for where, reason in acknowledged.items():
        assert len(reason.split()) >= 8, f"{where}: say why"


def test_cdk_nag_does_fail_an_unacknowledged_finding() -> None:
    """The check above proves something only if cdk-nag is really wired: a queue without a DLQ must fail."""
    app = App()
    bad = Stack(app, "Bad")
    sqs.Queue(bad, "NoDlq")
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    with pytest.raises(RuntimeError, match="AwsSolutions-SQS3"):
        app.synth()


def test_queue_with_dlq_unit_passes_nag_and_wires_redrive_and_alarms() -> None:
    app = App()
    stack = Stack(app, "Unit")
    monitoring = Monitoring(stack, "Monitoring", config=EnvConfig(name="dev"))
    unit = QueueWithDlq(stack, "Orders", monitoring=monitoring, consumer_timeout=Duration.seconds(30))
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
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
