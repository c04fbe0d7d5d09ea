"""Tell the channel what happened to its order: accepted, on hold, rejected or cancelled. Idempotent."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from shared.channels.base import ChannelApi
from shared.models.events import (
    ChannelStatusUpdated,
    EventEnvelope,
    OrderAccepted,
    OrderCancelled,
    OrderHeld,
    OrderRejected,
    metadata_for,
)
from shared.models.lifecycle import ChannelStatus, ChannelStatusChange, OrderDecision
from shared.models.order import Order
from shared.models.order_state import OrderState, OrderStatus
from shared.observability import logger
from shared.ports import EventPublisher

SOURCE = "crossdock.channels"
_STATUS: dict[type[EventEnvelope[Any]], ChannelStatus] = {
    OrderAccepted: ChannelStatus.ACCEPTED,
    OrderHeld: ChannelStatus.ON_HOLD,
    OrderRejected: ChannelStatus.REJECTED,
    OrderCancelled: ChannelStatus.CANCELLED,
}


# The journey status each channel status stands for: a push never goes out once the order has moved past it.
_JOURNEY = {
    ChannelStatus.ACCEPTED: OrderStatus.ACCEPTED,
    ChannelStatus.ON_HOLD: OrderStatus.HELD,
    ChannelStatus.REJECTED: OrderStatus.REJECTED,
    ChannelStatus.CANCELLED: OrderStatus.CANCELLED,
}


class OrderStates(Protocol):
    def get(self, order_key: str) -> OrderState | None: ...


@dataclass
class UpdateChannelDeps:
    # None for a channel with no API to tell (a B2B portal that only sends).
    api_for: Callable[[str], ChannelApi | None]
    publisher: EventPublisher
    states: OrderStates


def update_channel(event: EventEnvelope[Any], deps: UpdateChannelDeps) -> ChannelStatusUpdated | None:
    status = _STATUS[type(event)]
    data = event.data
    order: Order = data.order if isinstance(data, OrderDecision) else data
    reasons = data.reasons if isinstance(data, OrderDecision) else ()
    state = deps.states.get(order.key)
    if state is not None and state.status is not None and state.status.rank > _JOURNEY[status].rank:
        # E.g. a retried "accepted" push after the order was cancelled: the later status's own push wins.
        logger.info("status push overtaken", status=status.value, current=state.status.value)
        return None
    api = deps.api_for(order.channel.value)
    if api is None:
        logger.info("channel has no status API", channel=order.channel.value, status=status.value)
        return None
    api.push_status(order.external_id, status, reasons)
    change = ChannelStatusChange(
        order_key=order.key,
        channel=order.channel,
        store=order.store,
        external_id=order.external_id,
        status=status,
        reasons=tuple(reasons),
    )
    dedupe_key = f"{order.key}:{status.value}"
    updated = ChannelStatusUpdated(
        metadata=metadata_for(
            ChannelStatusUpdated.detail_type, dedupe_key=dedupe_key, order_key=order.key, source=SOURCE
        ),
        data=change,
    )
    deps.publisher.publish([updated])
    logger.info("channel status pushed", status=status.value)
    return updated
