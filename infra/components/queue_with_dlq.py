"""The reusable buffer: a queue and its DLQ, watched for depth and age (the queue), count and age (the DLQ)."""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.components.monitoring import Monitoring
from infra.nag import acknowledge

DLQ_RETENTION = Duration.days(14)  # the SQS maximum: time to find the cause and replay


class QueueWithDlq(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        monitoring: Monitoring,
        consumer_timeout: Duration,
        max_receive_count: int = 5,
        fifo: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        self.max_receive_count = max_receive_count
        self.dlq = sqs.Queue(
            self,
            "Dlq",
            retention_period=DLQ_RETENTION,
            enforce_ssl=True,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            fifo=fifo or None,
        )
        acknowledge(
            self.dlq,
            "SQSRedrivePolicy",
            "This is the dead-letter queue, the end of the line: its messages wait 14 days, alarmed on count and "
            "age, for an operator to read and redrive them (crossdock dlq). A DLQ of a DLQ would only move them.",
            pack="Serverless",
        )
        self.queue = sqs.Queue(
            self,
            "Queue",
            # AWS's rule for Lambda consumers: at least 6 x the function timeout.
            visibility_timeout=Duration.seconds(consumer_timeout.to_seconds() * 6),
            enforce_ssl=True,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.dlq, max_receive_count=max_receive_count),
            fifo=fifo or None,
        )
        # Named by its place in the stack (e.g. OrderJourney-ValidateOrder-Buffer): every consumer's is "Buffer".
        stack_path = Stack.of(self).node.path
        monitoring.watch_queue(self.node.path.removeprefix(f"{stack_path}/").replace("/", "-"), self.queue, self.dlq)
