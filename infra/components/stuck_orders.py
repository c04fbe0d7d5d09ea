"""Stuck orders: a scheduled detector, its ``StuckOrders`` metric per status, and one alarm per status.

The SLAs are the environment's ``operations.stuck``; a status without one is never checked nor alarmed.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from constructs import Construct

from infra.components.lambda_factory import LambdaFactory
from infra.components.monitoring import Monitoring
from infra.components.orders_table import OrdersTable
from infra.config import EnvConfig
from shared.metrics import EMITTED_BY, STUCK_ORDERS

PACKAGE = EMITTED_BY[STUCK_ORDERS]


class StuckOrders(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvConfig,
        factory: LambdaFactory,
        orders: OrdersTable,
        monitoring: Monitoring,
    ) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        policy = config.operations.stuck
        self.function = factory.function(
            "DetectStuckOrders",
            package=PACKAGE,
            description="Count and name the orders stuck in a status past its SLA",
            timeout=Duration.seconds(60),
            environment={
                "ORDERS_TABLE_NAME": orders.table.table_name,
                "STUCK_POLICY": policy.model_dump_json(),
            },
        )
        orders.grant(self.function)
        # On the default bus, as every schedule; a missed run is made up by the next one, so two retries do.
        events.Rule(
            self,
            "Schedule",
            schedule=events.Schedule.rate(Duration.minutes(policy.detect_every_minutes)),
            targets=[targets.LambdaFunction(self.function, retry_attempts=2)],
        )
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        for status, minutes in sorted(policy.after_minutes.items()):
            self.alarms[status] = monitoring.alarm(
                self,
                f"Stuck{status.title()}",
                self.metric(status),
                threshold=1,
                description=f"Orders {status} for more than {minutes} minutes: see crossdock status",
            )

    def metric(self, status: str) -> cloudwatch.Metric:
        """The detector's count of orders stuck in ``status`` (the dimensions it emits, exactly)."""
        # A period no shorter than the schedule: every period has a datapoint, so the alarm does not flap to OK.
        minutes = max(5, self._config.operations.stuck.detect_every_minutes)
        return cloudwatch.Metric(
            namespace=self._config.metrics_namespace,
            metric_name=STUCK_ORDERS,
            dimensions_map={"service": f"crossdock-{PACKAGE}", "status": status},
            statistic=cloudwatch.Stats.MAXIMUM,
            period=Duration.minutes(minutes),
        )
