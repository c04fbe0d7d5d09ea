"""Inventory-to-availability: keep the stock ledger, and publish each channel's available-to-promise.

StockReported (WMS, ERP), carried-out cancellations, shipments and restocked returns → the ledger writer →
InventoryAdjusted → one sync per channel (its own queue, batched so changes coalesce) → the channel's bulk stock
API. A schedule sweeps each channel for held increases and writes that failed.
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
from infra.config import EnvConfig

ORDERS = "crossdock.orders"
INTAKE = "crossdock.intake"
SYNC_TIMEOUT_SECONDS = 120


class Availability(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvConfig,
        factory: LambdaFactory,
        bus: events.IEventBus,
        inventory: InventoryTable,
        connections: Connections,
        monitoring: Monitoring,
        operations: OperationsTable,
    ) -> None:
        super().__init__(scope, construct_id)
        table = {"INVENTORY_TABLE_NAME": inventory.table.table_name, "EVENT_BUS_NAME": bus.event_bus_name}
        self.apply = Consumer(
            self,
            "ApplyInventory",
            factory=factory,
            package="apply_inventory",
            description="Apply stock reports, cancellations, shipments and returns to the stock ledger",
            environment={**table, "ROUTING_RULES": config.routing.model_dump_json()},
            bus=bus,
            # Any publisher on our bus may report stock: the WMS webhook through the intake, the ERP's feed.
            pattern=events.EventPattern(detail_type=["StockReported"]),
            monitoring=monitoring,
            max_concurrency=config.consumer_max_concurrency,
            publishes=True,
        )
        # Units come back only once a cancellation is carried out (the WMS release withdrawn), not when asked.
        self.apply.also_on("Cancelled", events.EventPattern(source=[ORDERS], detail_type=["OrderCancelled"]))
        # What the WMS says left (on-hand out, the reservation given back) and what came back to the shelf.
        self.apply.also_on(
            "Warehouse", events.EventPattern(source=[INTAKE], detail_type=["ShipmentDispatched", "ReturnReceived"])
        )
        inventory.grant(self.apply.function)

        self.syncs: dict[str, Consumer] = {}
        policy_json = config.inventory.model_dump_json()
        for channel in sorted(config.inventory.channels):
            name = f"Sync{channel.title().replace('_', '')}Availability"
            sync = Consumer(
                self,
                name,
                factory=factory,
                package="sync_availability",
                description=f"Publish available-to-promise to {channel}",
                environment={
                    **table,
                    "CHANNEL": channel,
                    "INVENTORY_POLICY": policy_json,
                    "CONNECTION_PREFIX": connections.prefix,
                },
                bus=bus,
                pattern=events.EventPattern(detail_type=["InventoryAdjusted"]),
                monitoring=monitoring,
                # Two is SQS's least; the lease keeps it to one writer per channel.
                max_concurrency=2,
                # Coalescing happens at the lease holder, which waits for marks to pause; a short window here
                # gets changes marked soon, so that pause means the changes paused.
                batch_size=1000,
                batching_window_seconds=1,
                timeout_seconds=SYNC_TIMEOUT_SECONDS,
                publishes=True,
            )
            # The channel's own orders: it moved its count for them itself, so ours is written again.
            decisions = ["OrderAccepted", "OrderHeld", "OrderRejected"]
            sync.also_on(
                "Decisions",
                events.EventPattern(
                    source=[ORDERS], detail_type=decisions, detail={"data": {"order": {"channel": [channel]}}}
                ),
            )
            sync.also_on(
                "Cancellations",
                events.EventPattern(
                    source=[ORDERS], detail_type=["OrderCancelled"], detail={"data": {"channel": [channel]}}
                ),
            )
            inventory.grant(sync.function)
            connections.grant_read(sync.function, channel)
            operations.use_breakers(sync.function)
            events.Rule(
                self,
                f"{name}Sweep",
                schedule=events.Schedule.rate(Duration.minutes(config.availability_sweep_minutes)),
                targets=[
                    targets.SqsQueue(
                        sync.buffer.queue,
                        message=events.RuleTargetInput.from_object({"sweep": True}),
                        dead_letter_queue=sync.buffer.dlq,
                        retry_attempts=2,
                    )
                ],
            )
            self.syncs[channel] = sync
