"""The Crossdock stack of one environment. It only composes constructs; each construct owns one concern."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import CfnOutput, Duration, Stack, Tags
from aws_cdk import aws_events as events
from constructs import Construct

from infra.components.after_sale import AfterSale
from infra.components.availability import Availability
from infra.components.connections import Connections
from infra.components.consumer import Consumer
from infra.components.event_bus import EventBackbone
from infra.components.idempotency_table import IdempotencyTable
from infra.components.inventory_table import InventoryTable
from infra.components.lambda_factory import LambdaFactory
from infra.components.monitoring import Monitoring
from infra.components.operations_table import OperationsTable
from infra.components.order_journey import OrderJourney
from infra.components.orders_table import OrdersTable
from infra.components.stuck_orders import StuckOrders
from infra.components.webhook_api import WebhookApi
from infra.components.webhook_secrets import WebhookSecrets
from infra.config import EnvConfig
from shared.models.events import ORDER_CONTRACTS


class CrossdockStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: EnvConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, description=f"Crossdock integration fabric ({config.name})", **kwargs)
        Tags.of(self).add("app", "crossdock")
        Tags.of(self).add("env", config.name)

        monitoring = Monitoring(self, "Monitoring", config=config)
        # First, so the business SLOs head the dashboard.
        monitoring.business_slos()
        backbone = EventBackbone(self, "Events", config=config)
        idempotency = IdempotencyTable(self, "Idempotency", config=config)
        secrets = WebhookSecrets(self, "WebhookSecrets", config=config)
        factory = LambdaFactory(self, "Functions", config=config)
        # Breaker state of the outside systems, and the audit trail of redrives and replays.
        operations = OperationsTable(self, "Operations", config=config)

        # Synchronous behind API Gateway: a failure is a 5xx the platform retries, so it needs no DLQ.
        intake = factory.function(
            "ReceiveWebhook",
            package="receive_webhook",
            description="Verify, dedupe and publish channel webhooks",
            timeout=Duration.seconds(5),  # Shopify's own deadline
            reserved_concurrency=config.intake_reserved_concurrency,
            environment={
                "EVENT_BUS_NAME": backbone.bus.event_bus_name,
                "IDEMPOTENCY_TABLE_NAME": idempotency.table.table_name,
                "WEBHOOK_SECRET_PREFIX": secrets.prefix,
                "DEDUPE_WINDOW_SECONDS": json.dumps(config.dedupe_window_seconds, sort_keys=True),
            },
        )
        backbone.bus.grant_put_events_to(intake)
        idempotency.table.grant_read_write_data(intake)
        for secret in secrets.secrets.values():
            secret.grant_read(intake)

        webhooks = WebhookApi(self, "Webhooks", config=config, intake=intake)

        orders = OrdersTable(self, "Orders", config=config)
        # WMS and carrier webhooks name orders by the references we gave out: the intake reads them back.
        intake.add_environment("ORDERS_TABLE_NAME", orders.table.table_name)
        orders.grant(intake)
        connections = Connections(self, "Connections", config=config)
        recorder = Consumer(
            self,
            "RecordOrder",
            factory=factory,
            package="record_order",
            # Every event about an order goes on its timeline.
            description="Record order versions, statuses and timeline entries",
            environment={"ORDERS_TABLE_NAME": orders.table.table_name},
            bus=backbone.bus,
            pattern=events.EventPattern(source=events.Match.prefix("crossdock."), detail_type=sorted(ORDER_CONTRACTS)),
            monitoring=monitoring,
            max_concurrency=config.consumer_max_concurrency,
        )
        orders.grant(recorder.function, write=True)
        inventory = InventoryTable(self, "Inventory", config=config)
        OrderJourney(
            self,
            "OrderJourney",
            config=config,
            factory=factory,
            bus=backbone.bus,
            orders=orders,
            connections=connections,
            monitoring=monitoring,
            api=webhooks,
            inventory=inventory,
            operations=operations,
        )
        AfterSale(
            self,
            "AfterSale",
            config=config,
            factory=factory,
            bus=backbone.bus,
            orders=orders,
            connections=connections,
            monitoring=monitoring,
            api=webhooks,
            idempotency=idempotency,
            operations=operations,
        )
        Availability(
            self,
            "Availability",
            config=config,
            factory=factory,
            bus=backbone.bus,
            inventory=inventory,
            connections=connections,
            monitoring=monitoring,
            operations=operations,
        )
        StuckOrders(
            self,
            "StuckOrders",
            config=config,
            factory=factory,
            orders=orders,
            operations=operations,
            monitoring=monitoring,
        )

        # Last: a function made after this line fails synth (it would have no alarms).
        monitoring.watch_functions(factory.functions)
        monitoring.watch_http_api("Webhooks", webhooks.api)

        CfnOutput(self, "WebhookBaseUrl", value=f"{webhooks.api.api_endpoint}/v1/webhooks")
        CfnOutput(self, "EventBusName", value=backbone.bus.event_bus_name)
        CfnOutput(self, "AlarmTopicArn", value=monitoring.topic.topic_arn)
        CfnOutput(self, "WebhookSecretPrefix", value=secrets.prefix)
        CfnOutput(self, "ConnectionSecretPrefix", value=connections.prefix)
        CfnOutput(self, "OrderApiUrl", value=f"{webhooks.api.api_endpoint}/v1/orders")
        CfnOutput(self, "ReturnsApiUrl", value=f"{webhooks.api.api_endpoint}/v1/returns")
        CfnOutput(self, "OperationsTableName", value=operations.table.table_name)
        CfnOutput(self, "OrdersTableName", value=orders.table.table_name)
        CfnOutput(self, "EventArchiveName", value=backbone.archive.archive_name)
