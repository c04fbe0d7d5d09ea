"""GET /v1/orders/{channel}/{external_id}: an order's state and its whole timeline."""

from __future__ import annotations

from typing import Any, Protocol

from shared.errors import NotFound, ValidationFailed
from shared.models.order import Channel
from shared.models.order_state import OrderState, TimelineEntry

# The canonical model's limit for ids; a longer key would also be refused by DynamoDB as a 5xx.
MAX_ID_LENGTH = 255


class OrderReader(Protocol):
    def find(self, channel: str, external_id: str) -> list[OrderState]: ...

    def timeline(self, order_key: str) -> list[TimelineEntry]: ...


def get_order(channel: str, external_id: str, store: str | None, reader: OrderReader) -> dict[str, Any]:
    if channel not in {c.value for c in Channel}:
        raise NotFound("unknown channel", field="channel")
    if not 0 < len(external_id) <= MAX_ID_LENGTH or (store is not None and len(store) > MAX_ID_LENGTH):
        raise ValidationFailed("order id or store too long", field="external_id")
    matches = [s for s in reader.find(channel, external_id) if store is None or s.store == store]
    if not matches:
        raise NotFound("no such order", field="external_id")
    if len(matches) > 1:
        raise ValidationFailed("the order id is in several stores: pass ?store=", field="store")
    state = matches[0]
    timeline = sorted(reader.timeline(state.order_key), key=lambda entry: entry.at)
    return {
        "order_key": state.order_key,
        "channel": state.channel,
        "store": state.store,
        "external_id": state.external_id,
        "status": state.status.value if state.status else None,
        "correlation_id": state.correlation_id,
        "timeline": [e.model_dump(mode="json", exclude={"order_key"}) for e in timeline],
    }
