"""Orders' journeys in memory, for the warm hot path: every event a consumer takes, made by the use cases themselves.

Each order is a Shopify ``orders/create`` delivery mapped by the adapter, then validated, released, shipped,
invoiced, fulfilled, returned and credited by the functions' logic on in-process fakes of the ports, with the dev
environment's rules and routing (cdk.json). The fakes are the unit tests' (``tests.fakes``): real behaviour in
memory. A bench tool may import them; production code never does.
"""

from __future__ import annotations

import copy
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.authorize_return.logic import ReturnDeps, authorize_return
from functions.credit_return.logic import CreditDeps, credit_return
from functions.invoice_shipment.logic import InvoiceDeps, invoice_shipment
from functions.record_order.logic import record_event
from functions.release_fulfillment.logic import ReleaseDeps, release_fulfillment
from functions.validate_order.logic import ValidateDeps, validate_order
from infra.bench.fakes import (
    FakeChannelApi,
    FakeErp,
    FakeLambdaContext,
    FakeOrderStore,
    FakePublisher,
    FakeWms,
    InMemoryLedger,
    InMemoryPersistence,
)
from infra.config import EnvConfig, cdk_context, load_config
from infra.samples import compact, shopify_payload
from shared.channels.base import WebhookRequest
from shared.channels.shopify.adapter import ShopifyAdapter
from shared.erp.ports import ErpCustomer, ErpItem
from shared.models.events import (
    ChannelOrderNotified,
    CreditMemoIssued,
    EventEnvelope,
    FulfillmentReleased,
    InventoryAdjusted,
    OrderAccepted,
    OrderCancelled,
    OrderInvoiced,
    OrderReceived,
    ReturnReceived,
    ShipmentDispatched,
    metadata_for,
)
from shared.models.inventory import ReservationLine
from shared.models.lifecycle import ChannelOrderRef
from shared.models.order import Order
from shared.models.returns import Condition, Disposition, ReceivedLine, ReturnLine, ReturnReceipt, ReturnRequest
from shared.models.shipping import Package, Shipment, ShippedLine
from shared.once import Once

SHOP = "bench-supply.myshopify.com"
INTAKE = "crossdock.intake"
STOCK = 1_000_000  # per SKU and warehouse: no order of the bench is ever short
FIRST_ORDER_ID = 7_300_000_000_000


def dev_config() -> EnvConfig:
    return load_config(cdk_context()["crossdock"], "dev")


@dataclass(frozen=True)
class Journey:
    """One order's events, as its journey makes them."""

    order: Order
    received: OrderReceived
    accepted: OrderAccepted
    adjusted: InventoryAdjusted  # the reservation's ledger change, for the availability sync
    released: tuple[FulfillmentReleased, ...]
    reservations: tuple[ReservationLine, ...]
    dispatched: ShipmentDispatched
    invoiced: OrderInvoiced
    notified: ChannelOrderNotified
    cancelled: OrderCancelled
    return_received: ReturnReceived
    credit_memo: CreditMemoIssued
    authorization: Any  # ReturnAuthorization: what the return's store holds before the receipt


def shopify_order(number: int) -> dict[str, Any]:
    """The real-format sample under a new order id, so every order of the bench is a new one."""
    payload = copy.deepcopy(shopify_payload("orders_create"))
    payload["id"] = FIRST_ORDER_ID + number
    payload["name"] = f"#B{number}"
    payload["order_number"] = 10_000 + number
    return payload


def received(number: int) -> OrderReceived:
    headers = {"x-shopify-topic": "orders/create", "x-shopify-shop-domain": SHOP, "x-shopify-event-id": str(number)}
    event = ShopifyAdapter().parse(WebhookRequest(headers=headers, body=compact(shopify_order(number)))).event
    assert isinstance(event, OrderReceived)
    return event


class World:
    """The outside systems and tables the journey runs against, stocked so that every order is accepted."""

    def __init__(self, config: EnvConfig, orders: list[Order]) -> None:
        self.config = config
        self.orders = orders
        self.skus = sorted({line.sku for order in orders for line in order.lines if line.sku})
        self.prices = {line.sku: line.unit_price.amount for order in orders for line in order.lines if line.sku}
        self.emails = sorted({order.customer.email for order in orders if order.customer.email})

    def erp(self) -> FakeErp:
        customer = ErpCustomer(
            id="C-1", active=True, credit_hold=False, terms="Net 30", credit_limit=Decimal(10**9), balance=Decimal(0)
        )
        locations = {w.erp_location: STOCK for w in self.config.routing.warehouses}
        catalog = {
            sku: ErpItem(id=f"I-{sku}", sku=sku, price=self.prices[sku], available=dict(locations)) for sku in self.skus
        }
        return FakeErp(customers=dict.fromkeys(self.emails, customer), catalog=catalog)

    def erp_with_sales_orders(self) -> FakeErp:
        erp = self.erp()
        customer = next(iter(erp.customers.values()))
        for order in self.orders:
            erp.upsert_sales_order(order, customer, ())
        return erp

    def ledger(self) -> InMemoryLedger:
        ledger = InMemoryLedger()
        for sku in self.skus:
            for warehouse in self.config.routing.warehouses:
                ledger.stock(sku, warehouse.id, STOCK)
        return ledger

    def channel(self) -> FakeChannelApi:
        return FakeChannelApi(orders=self.orders)

    def once(self, name: str) -> Once:
        once = Once(InMemoryPersistence(), name)
        once.register(cast(LambdaContext, FakeLambdaContext(timeout_ms=600_000)))
        return once


def journeys(count: int, config: EnvConfig | None = None) -> tuple[World, list[Journey]]:
    """``count`` orders taken through the whole journey; every step must succeed, or the bench would time errors."""
    config = config or dev_config()
    made = [received(number) for number in range(count)]
    world = World(config, [event.data for event in made])
    erp, ledger, store, wms_publisher = world.erp(), world.ledger(), FakeOrderStore(), FakePublisher()
    wms = FakeWms()
    result = []
    for number, order_received in enumerate(made):
        order = order_received.data
        record_event(order_received, store)
        validated = FakePublisher()
        deps = ValidateDeps(
            erp=erp,
            publisher=validated,
            states=store,
            rules=config.order_rules,
            routing=config.routing,
            ledger=ledger,
        )
        accepted = validate_order(order_received, deps)
        if not isinstance(accepted, OrderAccepted):
            reasons = [r.code for r in accepted.data.reasons] if accepted is not None else []
            raise RuntimeError(f"the bench order was not accepted: {reasons}")
        released = release_fulfillment(accepted, ReleaseDeps(wms=wms, publisher=wms_publisher, states=store))
        shipment = _shipment(number, released[0], config)
        dispatched = ShipmentDispatched.about(shipment, dedupe_key=f"wms:shipped:{shipment.shipment_id}", source=INTAKE)
        record_event(dispatched, store)
        invoiced = invoice_shipment(dispatched, InvoiceDeps(erp=erp, publisher=FakePublisher()))
        authorization, _ = authorize_return(
            ReturnRequest(
                channel=order.channel,
                external_id=order.external_id,
                request_id=f"bench-{number}",
                lines=(ReturnLine(sku=shipment.lines[0].sku, quantity=1, reason_code="damaged"),),
            ),
            ReturnDeps(store=store, erp=erp, publisher=FakePublisher(), policy=config.returns),
            datetime.now(UTC),
        )
        return_received = ReturnReceived.about(
            ReturnReceipt(
                receipt_id=f"RCPT-{number}",
                rma_number=authorization.rma_number,
                order_key=order.key,
                facility=shipment.facility,
                lines=(
                    ReceivedLine(
                        sku=shipment.lines[0].sku, quantity=1, condition=Condition.NEW, disposition=Disposition.RESTOCK
                    ),
                ),
                received_at=datetime.now(UTC),
            ),
            dedupe_key=f"wms:return:RCPT-{number}",
            source=INTAKE,
        )
        credit_memo = credit_return(
            return_received,
            CreditDeps(
                erp=erp,
                publisher=FakePublisher(),
                returns=store,
                credit_percent=config.returns.credit_percent,
            ),
        )
        result.append(
            Journey(
                order=order,
                received=order_received,
                accepted=accepted,
                adjusted=next(e for e in validated.events if isinstance(e, InventoryAdjusted)),
                released=tuple(released),
                reservations=tuple(ledger.reservations(order.key)),
                dispatched=dispatched,
                invoiced=invoiced,
                notified=_notified(order),
                cancelled=cast(
                    OrderCancelled, OrderCancelled.for_order(order, dedupe_key=f"{order.key}:cancel", source=INTAKE)
                ),
                return_received=return_received,
                credit_memo=credit_memo,
                authorization=authorization,
            )
        )
    return world, result


def _shipment(number: int, released: FulfillmentReleased, config: EnvConfig) -> Shipment:
    request = released.data.request
    facility = next(w.wms_facility or w.id for w in config.routing.warehouses if w.id == request.warehouse)
    quantities: dict[str, int] = {}
    for line in request.lines:
        quantities[line.sku] = quantities.get(line.sku, 0) + line.quantity
    return Shipment(
        shipment_id=f"SHIP-{number}",
        order_key=request.order_key,
        reference_id=request.reference_id,
        facility=facility,
        carrier="UPS",
        service="Ground",
        packages=(Package(tracking_number=f"1ZBENCH{number:08d}"),),
        lines=tuple(ShippedLine(sku=sku, quantity=quantity) for sku, quantity in quantities.items()),
        shipped_at=datetime.now(UTC) - timedelta(minutes=5),
    )


def _notified(order: Order) -> ChannelOrderNotified:
    ref = ChannelOrderRef(
        channel=order.channel,
        store=order.store,
        external_id=order.external_id,
        change="created",
        observed_by="webhook",
        updated_at=order.updated_at,
    )
    metadata = metadata_for(
        ChannelOrderNotified.detail_type, dedupe_key=f"notified:{ref.key}", order_key=ref.key, source=INTAKE
    )
    return ChannelOrderNotified(metadata=metadata, data=ref)


def bus_body(event: EventEnvelope[Any]) -> str:
    """The event as a rule delivers it to a queue: EventBridge's envelope around our contract."""
    return json.dumps(
        {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": event.detail_type,
            "source": event.metadata.source,
            "account": "123456789012",
            "time": event.metadata.occurred_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": "us-east-1",
            "resources": [],
            "detail": json.loads(event.model_dump_json()),
        }
    )
