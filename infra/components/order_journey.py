"""Order-to-fulfillment: the consumers between a received order and a released, channel-notified one.

fetch (claim check) → validate against the ERP → release to the WMS → tell the channel; cancel on a channel
cancellation; record every event on the order's timeline; reconcile each channel on a schedule; read an
order's state and timeline through the API.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from constructs import Construct

from infra.components.connections import Connections
from infra.components.consumer import Consumer
from infra.components.inventory_table import InventoryTable
from infra.components.lambda_factory import LambdaFactory
from infra.components.monitoring import Monitoring
from infra.components.operations_table import OperationsTable
from infra.components.orders_table import OrdersTable
from infra.components.webhook_api import WebhookApi
from infra.config import EnvConfig
from infra.nag import acknowledge

INTAKE = "crossdock.intake"
ORDERS = "crossdock.orders"


class OrderJourney(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvConfig,
        factory: LambdaFactory,
        bus: events.IEventBus,
        orders: OrdersTable,
        connections: Connections,
        monitoring: Monitoring,
        api: WebhookApi,
        inventory: InventoryTable,
        operations: OperationsTable,
    ) -> None:
        super().__init__(scope, construct_id)
        common = {"EVENT_BUS_NAME": bus.event_bus_name, "CONNECTION_PREFIX": connections.prefix}
        routing = config.routing.model_dump_json()
        orders_table = {"ORDERS_TABLE_NAME": orders.table.table_name}
        # The ERP's concurrency budget is shared by every caller: cancellations get the minimum (2), validation
        # the rest. An ERP caller takes one order per invocation, with time for the ERP's slow days.
        cancel_concurrency = 2
        validate_concurrency = max(2, config.consumer_max_concurrency - cancel_concurrency)
        erp_caller = {"batch_size": 1, "timeout_seconds": 120}

        def consumer(
            name: str,
            package: str,
            description: str,
            pattern: events.EventPattern,
            environment: dict[str, str],
            max_concurrency: int = config.consumer_max_concurrency,
            batch_size: int = 10,
            timeout_seconds: int = 30,
        ) -> Consumer:
            return Consumer(
                self,
                name,
                factory=factory,
                package=package,
                description=description,
                bus=bus,
                pattern=pattern,
                monitoring=monitoring,
                environment={**common, **environment},
                max_concurrency=max_concurrency,
                batch_size=batch_size,
                timeout_seconds=timeout_seconds,
                publishes=True,
            )

        fetch = consumer(
            "FetchOrder",
            "fetch_order",
            "Fetch notified orders from the channel (claim check)",
            events.EventPattern(detail_type=["ChannelOrderNotified"]),
            environment={},
        )
        validate = consumer(
            "ValidateOrder",
            "validate_order",
            "Check orders against the ERP, decide, create the sales order, route",
            events.EventPattern(source=[INTAKE], detail_type=["OrderReceived"]),
            environment={
                **orders_table,
                "INVENTORY_TABLE_NAME": inventory.table.table_name,
                "ORDER_RULES": config.order_rules.model_dump_json(),
                "ROUTING_RULES": routing,
            },
            max_concurrency=validate_concurrency,
            **erp_caller,
        )
        release = consumer(
            "ReleaseFulfillment",
            "release_fulfillment",
            "Release accepted orders to the WMS, once per warehouse",
            events.EventPattern(source=[ORDERS], detail_type=["OrderAccepted"]),
            environment={**orders_table, "ROUTING_RULES": routing},
        )
        update = consumer(
            "UpdateChannel",
            "update_channel",
            "Tell the channel: accepted, on hold, rejected, cancelled",
            events.EventPattern(
                source=[ORDERS], detail_type=["OrderAccepted", "OrderHeld", "OrderRejected", "OrderCancelled"]
            ),
            environment=orders_table,
        )
        cancel = consumer(
            "CancelOrder",
            "cancel_order",
            "Cancel in the ERP and the WMS when the channel cancels",
            events.EventPattern(source=[INTAKE], detail_type=["OrderCancelled"]),
            environment={**orders_table, "ROUTING_RULES": routing},
            max_concurrency=cancel_concurrency,
            **erp_caller,
        )
        channel_systems = [s for s in config.connected_systems if s not in ("netsuite", "wms")]
        connections.grant_read(fetch.function, *channel_systems)
        connections.grant_read(update.function, *channel_systems)
        connections.grant_read(validate.function, "netsuite")
        connections.grant_read(release.function, "wms")
        connections.grant_read(cancel.function, "netsuite", "wms")
        orders.grant(validate.function)
        inventory.grant(validate.function)  # reservations
        orders.grant(update.function)
        orders.grant(release.function, write=True)  # the reference → order map
        orders.grant(cancel.function, write=True)
        # Each calls an outside system: a system that keeps failing is left alone until its breaker's probe.
        for caller in (fetch, validate, release, update, cancel):
            operations.use_breakers(caller.function)

        self._reconciliation(config, factory, bus, orders, connections, common, operations)
        self.order_api = factory.function(
            "GetOrder",
            package="get_order",
            description="An order's state and timeline (IAM-authorized)",
            environment={"ORDERS_TABLE_NAME": orders.table.table_name},
        )
        orders.grant(self.order_api)
        api.add_iam_route("/v1/orders/{channel}/{external_id}", self.order_api)

    def _reconciliation(
        self,
        config: EnvConfig,
        factory: LambdaFactory,
        bus: events.IEventBus,
        orders: OrdersTable,
        connections: Connections,
        common: dict[str, str],
        operations: OperationsTable,
    ) -> None:
        if not config.reconcile:
            return
        reconcile = factory.function(
            "ReconcileOrders",
            package="reconcile_orders",
            description="Find channel orders whose webhooks never arrived and re-inject them",
            timeout=Duration.seconds(120),
            environment={
                **common,
                "ORDERS_TABLE_NAME": orders.table.table_name,
            },
        )
        bus.grant_put_events_to(reconcile)
        orders.grant(reconcile)
        connections.grant_read(reconcile, *config.reconcile)
        operations.use_breakers(reconcile)
        for platform, schedule in sorted(config.reconcile.items()):
            # Scheduled rules live on the default bus; one per channel, the channel in its constant input.
            schedule_rule = events.Rule(
                self,
                f"Reconcile{platform.title().replace('_', '')}",
                schedule=events.Schedule.rate(Duration.minutes(schedule.every_minutes)),
                targets=[
                    targets.LambdaFunction(
                        reconcile,
                        event=events.RuleTargetInput.from_object(
                            {"channel": platform, "lookback_minutes": schedule.lookback_minutes}
                        ),
                        retry_attempts=2,
                    )
                ],
            )
            acknowledge(
                schedule_rule,
                "EventBusDLQ",
                "A reconciliation tick carries only its constant input: one EventBridge could not deliver is made "
                "up by the next tick, whose look-back window overlaps it. A DLQ of ticks would hold nothing to redo.",
                pack="Serverless",
            )
