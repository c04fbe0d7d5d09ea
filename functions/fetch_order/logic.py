"""The claim check: a channel said an order changed (a thin webhook, or reconciliation found it); fetch the
order from the channel's API and publish it as the order event it is."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from shared.channels.base import ChannelApi
from shared.errors import NotFound
from shared.models.events import ChannelOrderNotified, OrderCancelled, OrderEvent, OrderReceived, OrderUpdated
from shared.observability import logger
from shared.ports import EventPublisher

SOURCE = "crossdock.intake"  # a fetched order is a channel fact, like a webhook's


@dataclass
class FetchDeps:
    api_for: Callable[[str], ChannelApi | None]
    publisher: EventPublisher


def fetch_order(event: ChannelOrderNotified, deps: FetchDeps) -> OrderEvent:
    ref = event.data
    api = deps.api_for(ref.channel.value)
    if api is None:
        raise NotFound("channel has no API to fetch from", platform=ref.channel.value)
    order = api.fetch_order(ref.external_id)
    if order.cancelled_at is not None or ref.change == "cancelled":
        kind: type[OrderEvent] = OrderCancelled
    elif ref.change == "created":
        kind = OrderReceived
    else:
        kind = OrderUpdated
    # Keyed on the order's own version: the same change seen twice (webhook and reconciliation) is one event.
    dedupe_key = f"{order.key}:{kind.detail_type}:{order.updated_at.isoformat()}"
    result = kind.for_order(order, dedupe_key=dedupe_key, source=SOURCE)
    deps.publisher.publish([result])
    logger.info("order fetched", detail_type=kind.detail_type, observed_by=ref.observed_by)
    return result
