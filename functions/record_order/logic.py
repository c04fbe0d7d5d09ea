"""Record every order event: the order's version, its status, and an entry on its timeline.

Newer platform versions win, statuses only move forward, and each event is on the timeline once, so
redelivered, late and out-of-order events are acknowledged without changing what they should not.
"""

from __future__ import annotations

from typing import Any, Protocol

from shared.models.events import (
    ChannelOrderNotified,
    ChannelStatusUpdated,
    EventEnvelope,
    FulfillmentReleased,
    OrderAccepted,
    OrderCancelled,
    OrderEvent,
    OrderHeld,
    OrderReceived,
    OrderRejected,
    OversellPrevented,
)
from shared.models.lifecycle import OrderDecision
from shared.models.order_state import OrderState, OrderStatus, OrderVersion, TimelineEntry
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
}


class OrderStore(Protocol):
    def apply_version(self, state: OrderVersion) -> bool: ...

    def advance_status(self, order_key: str, status: OrderStatus, at: Any) -> bool: ...

    def append(self, entry: TimelineEntry) -> bool: ...

    def get(self, order_key: str) -> OrderState | None: ...


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
    return ids
