"""The reusable buffer: a queue, its DLQ, and alarms on the DLQ and on the age of the oldest message."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.components.monitoring import Monitoring

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
        max_age_alarm_minutes: int = 15,
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
        monitoring.alarm(
            self,
            "DlqNotEmpty",
            self.dlq.metric_approximate_number_of_messages_visible(period=Duration.minutes(1)),
            threshold=1,
            description=f"{construct_id}: messages failed for good; inspect and redrive",
        )
        monitoring.alarm(
            self,
            "OldestMessage",
            self.queue.metric_approximate_age_of_oldest_message(period=Duration.minutes(1)),
            threshold=max_age_alarm_minutes * 60,
            description=f"{construct_id}: the consumer is falling behind",
        )
