"""Record every order event: the order's version, its status, and an entry on its timeline.

Newer platform versions win, statuses only move forward, and each event is on the timeline once, so
redelivered, late and out-of-order events are acknowledged without changing what they should not.
"""

from __future__ import annotations

from typing import Any, Protocol

from shared.models.events import (
    ChannelFulfilled,
    ChannelOrderNotified,
    ChannelStatusUpdated,
    CreditMemoIssued,
    EnvelopeOfOrder,
    EventEnvelope,
    FulfillmentReleased,
    OrderAccepted,
    OrderCancelled,
    OrderEvent,
    OrderHeld,
    OrderInvoiced,
    OrderReceived,
    OrderRejected,
    OversellPrevented,
    RefundIssued,
    ReturnAuthorized,
    ReturnReceived,
    ShipmentDispatched,
    ShipmentProgressed,
)
from shared.models.lifecycle import OrderDecision
from shared.models.order_state import OrderState, OrderStatus, OrderVersion, TimelineEntry
from shared.models.shipping import Shipment
from shared.observability import logger

INTAKE = "crossdock.intake"

# What each event says about the journey's status. The channel's own cancellation is only a request: the
# order is cancelled once crossdock.orders has cancelled it in the ERP and the WMS.
_STATUS: dict[tuple[type[EventEnvelope[Any]], bool], OrderStatus] = {
    (OrderReceived, True): OrderStatus.RECEIVED,
    (OrderAccepted, False): OrderStatus.ACCEPTED,
    (OrderHeld, False): OrderStatus.HELD,
    (OrderRejected, False): OrderStatus.REJECTED,
    (FulfillmentReleased, False): OrderStatus.RELEASED,
    (OrderCancelled, False): OrderStatus.CANCELLED,
    (ShipmentDispatched, True): OrderStatus.SHIPPED,
    (OrderInvoiced, False): OrderStatus.INVOICED,
    (ChannelFulfilled, False): OrderStatus.FULFILLED,
}


class OrderStore(Protocol):
    def apply_version(self, state: OrderVersion) -> bool: ...

    def advance_status(self, order_key: str, status: OrderStatus, at: Any) -> bool: ...

    def append(self, entry: TimelineEntry) -> bool: ...

    def get(self, order_key: str) -> OrderState | None: ...

    def record_shipment(self, shipment: Shipment) -> bool: ...


def record_event(event: EventEnvelope[Any], store: OrderStore) -> bool:
    """Returns False when the event changed nothing (stale, repeated, or a status already passed)."""
    meta = event.metadata
    order_key = order_key_of(event)
    from_channel = meta.source == INTAKE
    versioned = isinstance(event, OrderEvent) and from_channel
    version_applied = False
    if isinstance(event, OrderEvent) and versioned:
        order = event.data
        version_applied = store.apply_version(
            OrderVersion(
                order_key=order.key,
                channel=order.channel.value,
                store=order.store,
                external_id=order.external_id,
                version=int(order.updated_at.timestamp() * 1000),
                correlation_id=meta.correlation_id,
                last_event_id=meta.event_id,
            )
        )
    if isinstance(event, ShipmentDispatched):
        store.record_shipment(event.data)  # what shipped, for the returns API's checks
    status = _STATUS.get((type(event), from_channel))
    status_moved = store.advance_status(order_key, status, meta.occurred_at) if status is not None else False
    # The timeline keeps every event, stale ones too: it is the record of what arrived.
    stale = versioned and not version_applied
    appended = store.append(
        TimelineEntry(
            order_key=order_key,
            event_id=meta.event_id,
            what=event.detail_type + (" (stale, not applied)" if stale else ""),
            at=meta.occurred_at,
            system=meta.source,
            ids=ids_of(event),
        )
    )
    # What counts as a change: the version or the status where the event carries them, else a new entry.
    applied = version_applied or status_moved if versioned or status is not None else appended
    logger.info("order event recorded", detail_type=event.detail_type, applied=applied, order_key=order_key)
    return applied


def order_key_of(event: EventEnvelope[Any]) -> str:
    data = event.data
    if isinstance(event, OrderEvent):
        return event.data.key
    if isinstance(data, OrderDecision):
        return data.order.key
    if isinstance(event, FulfillmentReleased):
        return event.data.request.order_key
    if isinstance(event, ChannelOrderNotified):
        return event.data.key
    if isinstance(event, ChannelStatusUpdated | OversellPrevented):
        return event.data.order_key
    if isinstance(event, EnvelopeOfOrder):
        order_key: str = event.data.order_key
        return order_key
    raise TypeError(f"not an order event: {event.detail_type}")


def ids_of(event: EventEnvelope[Any]) -> dict[str, str]:
    """The ids a person needs to find this hop in the other system."""
    ids = {"event_id": event.metadata.event_id}
    data = event.data
    if isinstance(event, OrderEvent):
        ids["channel_order_id"] = event.data.external_id
    elif isinstance(data, OrderDecision):
        ids["channel_order_id"] = data.order.external_id
        if data.erp_sales_order_id:
            ids["erp_sales_order_id"] = data.erp_sales_order_id
        if data.reasons:
            ids["reasons"] = ",".join(r.code for r in data.reasons)
        if data.allocations:
            ids["warehouses"] = ",".join(a.warehouse for a in data.allocations)
    elif isinstance(event, FulfillmentReleased):
        ids.update(
            warehouse=event.data.request.warehouse,
            wms_order_id=event.data.wms_order_id,
            reference_id=event.data.request.reference_id,
        )
    elif isinstance(event, ChannelOrderNotified):
        ids.update(channel_order_id=event.data.external_id, observed_by=event.data.observed_by)
    elif isinstance(event, ChannelStatusUpdated):
        ids.update(channel_order_id=event.data.external_id, channel_status=event.data.status.value)
    elif isinstance(event, OversellPrevented):
        ids["short_skus"] = ",".join(sorted({s.sku for s in event.data.shortages}))
    else:
        ids.update(_after_sale_ids(event))
    return ids


def _after_sale_ids(event: EventEnvelope[Any]) -> dict[str, str]:
    """Shipment and return hops: the ids to find them in the WMS, the ERP and the channel."""
    if isinstance(event, ShipmentDispatched):
        shipment = event.data
        return {
            "shipment_id": shipment.shipment_id,
            "carrier": shipment.carrier,
            "tracking_numbers": ",".join(shipment.tracking_numbers),
            "skus": _quantities(shipment.quantities()),
        }
    if isinstance(event, ShipmentProgressed):
        progress = event.data
        ids = {"milestone": progress.milestone.value, "reported_by": progress.reported_by}
        ids.update(
            {
                k: v
                for k, v in (("shipment_id", progress.shipment_id), ("tracking_number", progress.tracking_number))
                if v
            }
        )
        return ids
    if isinstance(event, OrderInvoiced):
        invoice = event.data
        ids = {
            "shipment_id": invoice.shipment.shipment_id,
            "erp_fulfillment_id": invoice.erp_fulfillment_id,
            "erp_invoice_id": invoice.erp_invoice_id,
        }
        if invoice.amount is not None:
            ids["amount"] = f"{invoice.amount.amount} {invoice.amount.currency}"
        return ids
    if isinstance(event, ChannelFulfilled):
        ids = {"shipment_id": event.data.shipment_id, "tracking_numbers": ",".join(event.data.tracking_numbers)}
        if event.data.channel_fulfillment_id:
            ids["channel_fulfillment_id"] = event.data.channel_fulfillment_id
        return ids
    if isinstance(event, ReturnAuthorized):
        rma = event.data
        quantities = {line.sku: line.quantity for line in rma.lines}
        return {
            "rma_number": rma.rma_number,
            "erp_return_authorization_id": rma.erp_return_authorization_id or "",
            "skus": _quantities(quantities),
        }
    if isinstance(event, ReturnReceived):
        receipt = event.data
        dispositions = ",".join(
            f"{line.sku}:{line.quantity}:{line.condition.value}:{line.disposition.value}" for line in receipt.lines
        )
        return {"rma_number": receipt.rma_number, "receipt_id": receipt.receipt_id, "lines": dispositions}
    if isinstance(event, CreditMemoIssued):
        memo = event.data
        return {
            "rma_number": memo.rma_number,
            "erp_credit_memo_id": memo.erp_credit_memo_id,
            "amount": f"{memo.amount.amount} {memo.amount.currency}",
        }
    if isinstance(event, RefundIssued):
        refund = event.data
        ids = {"rma_number": refund.rma_number, "amount": f"{refund.amount.amount} {refund.amount.currency}"}
        if refund.channel_refund_id:
            ids["channel_refund_id"] = refund.channel_refund_id
        return ids
    return {}


def _quantities(quantities: dict[str, int]) -> str:
    return ",".join(f"{sku}:{quantity}" for sku, quantity in sorted(quantities.items()))
