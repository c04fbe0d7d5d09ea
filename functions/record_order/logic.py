"""Record each order event: the newest version wins, older or repeated ones are acknowledged and skipped."""

from __future__ import annotations

from typing import Protocol

from shared.models.events import OrderCancelled, OrderEvent
from shared.models.order_state import OrderStatus, OrderVersion, TimelineEntry
from shared.observability import logger

SYSTEM = "crossdock.intake"


class OrderStore(Protocol):
    def apply_version(self, state: OrderVersion) -> bool: ...

    def append(self, entry: TimelineEntry) -> bool: ...


def record_order(event: OrderEvent, store: OrderStore) -> bool:
    """Returns True when this event's version was applied."""
    order = event.data
    meta = event.metadata
    logger.set_correlation_id(meta.correlation_id)
    state = OrderVersion(
        order_key=order.key,
        channel=order.channel.value,
        store=order.store,
        external_id=order.external_id,
        status=OrderStatus.CANCELLED if isinstance(event, OrderCancelled) else OrderStatus.RECEIVED,
        version=int(order.updated_at.timestamp() * 1000),
        correlation_id=meta.correlation_id,
        last_event_id=meta.event_id,
    )
    applied = store.apply_version(state)
    # The timeline keeps every event, stale ones too: it is the record of what arrived.
    store.append(
        TimelineEntry(
            order_key=order.key,
            event_id=meta.event_id,
            what=event.detail_type if applied else f"{event.detail_type} (stale, not applied)",
            at=meta.occurred_at,
            system=SYSTEM,
            ids={"channel_order_id": order.external_id, "event_id": meta.event_id},
        )
    )
    logger.info("order recorded", detail_type=event.detail_type, applied=applied, order_key=order.key)
    return applied
