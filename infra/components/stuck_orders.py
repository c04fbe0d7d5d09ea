"""Stuck orders and open breakers: a scheduled detector, its ``StuckOrders`` metric per status with one alarm per
status, and its ``OpenBreakers`` metric per connected system with one alarm per system.

The SLAs are the environment's ``operations.stuck``; a status without one is never checked nor alarmed. A breaker
alarms once it has been open for ``BREAKER_OPEN_MINUTES``: an outage behind it raises no other alarm (its
records wait in their queues, parked afresh), and a shorter one is what the breaker is for.
"""

from __future__ import annotations

import json
import math

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from constructs import Construct

from infra.components.lambda_factory import LambdaFactory
from infra.components.monitoring import Monitoring
from infra.components.operations_table import OperationsTable
from infra.components.orders_table import OrdersTable
from infra.config import EnvConfig
from infra.nag import acknowledge
from shared.metrics import EMITTED_BY, OPEN_BREAKERS, STUCK_ORDERS

PACKAGE = EMITTED_BY[STUCK_ORDERS]
BREAKER_OPEN_MINUTES = 15


class StuckOrders(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvConfig,
        factory: LambdaFactory,
        orders: OrdersTable,
        operations: OperationsTable,
        monitoring: Monitoring,
    ) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        policy = config.operations.stuck
        self.function = factory.function(
            "DetectStuckOrders",
            package=PACKAGE,
            description="Count and name the orders stuck in a status past its SLA; flag the open breakers",
            timeout=Duration.seconds(60),
            environment={
                "ORDERS_TABLE_NAME": orders.table.table_name,
                "STUCK_POLICY": policy.model_dump_json(),
                "CONNECTED_SYSTEMS": json.dumps(config.connected_systems),
            },
        )
        orders.grant(self.function)
        operations.read_breakers(self.function)
        # On the default bus, as every schedule; a missed run is made up by the next one, so two retries do.
        schedule = events.Rule(
            self,
            "Schedule",
            schedule=events.Schedule.rate(Duration.minutes(policy.detect_every_minutes)),
            targets=[targets.LambdaFunction(self.function, retry_attempts=2)],
        )
        acknowledge(
            schedule,
            "EventBusDLQ",
            "A detector tick has no input: one EventBridge could not deliver is made up by the next run, which "
            "counts the stuck orders afresh. A DLQ of ticks would hold nothing to redo.",
            pack="Serverless",
        )
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        for status, minutes in sorted(policy.after_minutes.items()):
            self.alarms[status] = monitoring.alarm(
                self,
                f"Stuck{status.title()}",
                self.metric(STUCK_ORDERS, status=status),
                threshold=1,
                description=f"Orders {status} for more than {minutes} minutes: see crossdock status",
            )
        self.breaker_alarms: dict[str, cloudwatch.Alarm] = {}
        for system in config.connected_systems:
            self.breaker_alarms[system] = monitoring.alarm(
                self,
                f"BreakerOpen{system.title()}",
                self.metric(OPEN_BREAKERS, system=system),
                threshold=1,
                evaluation_periods=math.ceil(BREAKER_OPEN_MINUTES / self._period_minutes),
                description=f"{system} breaker open for {BREAKER_OPEN_MINUTES} minutes: see crossdock status",
            )

    def metric(self, name: str, **dimensions: str) -> cloudwatch.Metric:
        """The detector's ``name`` (``StuckOrders`` by status, ``OpenBreakers`` by system), as it emits it."""
        return cloudwatch.Metric(
            namespace=self._config.metrics_namespace,
            metric_name=name,
            dimensions_map={"service": f"crossdock-{PACKAGE}", **dimensions},
            statistic=cloudwatch.Stats.MAXIMUM,
            period=Duration.minutes(self._period_minutes),
        )

    @property
    def _period_minutes(self) -> int:
        # No shorter than the schedule: every period has a datapoint, so the alarm does not flap to OK.
        return max(5, self._config.operations.stuck.detect_every_minutes)
