"""Shipment-to-invoice and return-to-credit: what happens after the warehouse ships.

ShipmentDispatched → invoice in the ERP (waits out ERP outages in its own queue) → OrderInvoiced → fulfil in the
channel. POST /v1/returns → RMA (ERP return authorization) → ReturnReceived from the WMS → credit memo in the ERP
(waits likewise) → CreditMemoIssued → refund in the channel. The ledger side (stock out, reservations given back,
restock) is the Availability construct's.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_events as events
from constructs import Construct

from infra.components.connections import Connections
from infra.components.consumer import Consumer
from infra.components.idempotency_table import IdempotencyTable
from infra.components.lambda_factory import LambdaFactory
from infra.components.monitoring import Monitoring
from infra.components.operations_table import OperationsTable
from infra.components.orders_table import OrdersTable
from infra.components.webhook_api import WebhookApi
from infra.config import EnvConfig

INTAKE = "crossdock.intake"
BILLING = "crossdock.billing"
# Each ERP caller here gets SQS's least concurrency: the ERP's pool is shared with validation and cancellation.
ERP_CONCURRENCY = 2


class AfterSale(Construct):
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
        idempotency: IdempotencyTable,
        operations: OperationsTable,
    ) -> None:
        super().__init__(scope, construct_id)
        self._factory, self._bus, self._monitoring = factory, bus, monitoring
        common = {"EVENT_BUS_NAME": bus.event_bus_name, "CONNECTION_PREFIX": connections.prefix}
        wait = {"WAIT_POLICY": config.shipping.erp_wait.model_dump_json()}
        returns = {"RETURN_POLICY": config.returns.model_dump_json()}
        orders_table = {"ORDERS_TABLE_NAME": orders.table.table_name}
        # The channel calls run once per shipment / receipt even when two copies race (shared/once.py).
        once = {"IDEMPOTENCY_TABLE_NAME": idempotency.table.table_name}
        channels = [s for s in config.connected_systems if s not in ("netsuite", "wms")]

        invoice = self._consumer(
            "InvoiceShipment",
            "invoice_shipment",
            "Record each shipment in the ERP: item fulfillment and invoice",
            events.EventPattern(source=[INTAKE], detail_type=["ShipmentDispatched"]),
            {**common, **wait},
            max_concurrency=ERP_CONCURRENCY,
            waits=True,
        )
        # With the rule on (the default), the channel hears of a shipment only from its invoice.
        fulfil_on = (
            events.EventPattern(source=[BILLING], detail_type=["OrderInvoiced"])
            if config.shipping.invoice_before_fulfil
            else events.EventPattern(source=[INTAKE], detail_type=["ShipmentDispatched"])
        )
        fulfil = self._consumer(
            "FulfilChannel",
            "fulfil_channel",
            "Show each shipment in the channel, with tracking",
            fulfil_on,
            {**common, **once, "INVOICE_BEFORE_FULFIL": "true" if config.shipping.invoice_before_fulfil else "false"},
            max_concurrency=config.consumer_max_concurrency,
        )
        credit = self._consumer(
            "CreditReturn",
            "credit_return",
            "Credit each received return in the ERP",
            events.EventPattern(source=[INTAKE], detail_type=["ReturnReceived"]),
            {**common, **wait, **returns, **orders_table},
            max_concurrency=ERP_CONCURRENCY,
            waits=True,
        )
        refund = self._consumer(
            "RefundChannel",
            "refund_channel",
            "Refund in the channel what the ERP credited",
            events.EventPattern(source=[BILLING], detail_type=["CreditMemoIssued"]),
            {**common, **once},
            max_concurrency=config.consumer_max_concurrency,
        )
        connections.grant_read(invoice.function, "netsuite")
        connections.grant_read(credit.function, "netsuite")
        connections.grant_read(fulfil.function, *channels)
        connections.grant_read(refund.function, *channels)
        orders.grant(credit.function)
        idempotency.table.grant_read_write_data(fulfil.function)
        idempotency.table.grant_read_write_data(refund.function)
        for caller in (invoice, fulfil, credit, refund):
            operations.use_breakers(caller.function)

        self.returns_api = factory.function(
            "AuthorizeReturn",
            package="authorize_return",
            description="Authorize an RMA against what shipped (IAM-authorized)",
            timeout=Duration.seconds(29),  # the ERP call is synchronous; API Gateway's own limit
            environment={**common, **returns, **orders_table},
        )
        bus.grant_put_events_to(self.returns_api)
        orders.grant(self.returns_api, write=True)
        connections.grant_read(self.returns_api, "netsuite")
        operations.use_breakers(self.returns_api)
        api.add_iam_route("/v1/returns", self.returns_api, apigwv2.HttpMethod.POST)

    def _consumer(
        self,
        name: str,
        package: str,
        description: str,
        pattern: events.EventPattern,
        environment: dict[str, str],
        *,
        max_concurrency: int,
        waits: bool = False,
    ) -> Consumer:
        return Consumer(
            self,
            name,
            factory=self._factory,
            package=package,
            description=description,
            bus=self._bus,
            pattern=pattern,
            monitoring=self._monitoring,
            environment=environment,
            max_concurrency=max_concurrency,
            # One record per invocation where the ERP is called: a slow ERP delays one record, not ten.
            batch_size=1 if waits else 10,
            timeout_seconds=120 if waits else 30,
            publishes=True,
        )
