"""An event consumer: rule on the bus → queue (with DLQ and alarms) → function, with partial batch failures.

The function gets ``DLQ_URL`` so that a record no retry can fix goes to the DLQ at once, with its reason, and its
own ``BUFFER_URL``, to park records there while a breaker is open or a downstream outage lasts, instead of in the
DLQ.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from constructs import Construct

from infra.components.lambda_factory import LambdaFactory
from infra.components.monitoring import Monitoring
from infra.components.queue_with_dlq import QueueWithDlq
from infra.nag import acknowledge


class Consumer(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        factory: LambdaFactory,
        package: str,
        description: str,
        environment: dict[str, str],
        bus: events.IEventBus,
        pattern: events.EventPattern,
        monitoring: Monitoring,
        max_concurrency: int,
        timeout_seconds: int = 30,
        batch_size: int = 10,
        batching_window_seconds: int = 1,
        publishes: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        timeout = Duration.seconds(timeout_seconds)
        self.buffer = QueueWithDlq(self, "Buffer", monitoring=monitoring, consumer_timeout=timeout)
        self.function: lambda_.Function = factory.function(
            construct_id,
            package=package,
            description=description,
            timeout=timeout,
            environment={
                **environment,
                "DLQ_URL": self.buffer.dlq.queue_url,
                # Records park in their own queue while a breaker is open, and wait out outages there (waits).
                "BUFFER_URL": self.buffer.queue.queue_url,
                # On the last receive the consumer parks a failing record in the DLQ itself, with its reason.
                "MAX_RECEIVE_COUNT": str(self.buffer.max_receive_count),
            },
        )
        self.buffer.dlq.grant_send_messages(self.function)
        self.buffer.queue.grant_send_messages(self.function)
        if publishes:
            bus.grant_put_events_to(self.function)
        self._bus = bus
        self.rule = self.also_on("", pattern)
        self.function.add_event_source(
            sources.SqsEventSource(
                self.buffer.queue,
                batch_size=batch_size,
                max_batching_window=Duration.seconds(batching_window_seconds),
                report_batch_item_failures=True,
                max_concurrency=max_concurrency,
            )
        )
        acknowledge(
            self.function,
            "LambdaEventSourceMappingDestination",
            "An SQS event source takes no on-failure destination (streams and Kafka do): a record that keeps "
            "failing goes to the buffer's DLQ by its redrive policy, or is put there at once with its reason.",
            pack="Serverless",
        )

    def also_on(self, name: str, pattern: events.EventPattern) -> events.Rule:
        """Feed the buffer from one more rule (one pattern cannot say "A from X or B from Y")."""
        rule = events.Rule(self, f"{name}Rule", event_bus=self._bus, event_pattern=pattern)
        # Delivery failures from the bus land in the same DLQ: one place to look, one redrive.
        rule.add_target(
            targets.SqsQueue(
                self.buffer.queue,
                dead_letter_queue=self.buffer.dlq,
                retry_attempts=185,
                max_event_age=Duration.hours(24),
            )
        )
        return rule
