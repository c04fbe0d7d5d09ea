"""WooCommerce webhook adapter: answer the creation ping, verify ``X-WC-Webhook-Signature``, map the order topics."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from shared.channels.base import Delivery, WebhookAdapterBase, WebhookRequest
from shared.channels.woocommerce.mapping import to_order
from shared.channels.woocommerce.payloads import WooDeleted, WooOrder
from shared.errors import NotFound, Unauthorized, ValidationFailed
from shared.models.events import (
    ChannelOrderNotified,
    OrderCancelled,
    OrderEvent,
    OrderReceived,
    OrderUpdated,
    metadata_for,
)
from shared.models.lifecycle import ChannelOrderRef
from shared.models.order import Channel
from shared.signatures import matches_any
from shared.validation import as_validation_failed

SOURCE = "crossdock.intake"
TOPICS: dict[str, type[OrderEvent]] = {
    "order.created": OrderReceived,
    "order.updated": OrderUpdated,
    "order.restored": OrderUpdated,  # out of the trash: the order as it now is
}
DELETED = "order.deleted"
# WC_Webhook::deliver_ping: form-encoded, unsigned, no X-WC headers. The hook is saved only if it gets a 200.
_PING = re.compile(rb"webhook_id=(\d{1,20})")


class WooCommerceAdapter(WebhookAdapterBase):
    platform = "woocommerce"
    # WooCommerce never retries: a failed delivery is logged and counted, and the hook is disabled after more than
    # 5 in a row (WC_Webhook::log_delivery). So there is no retry to outlast; the dedupe window still absorbs
    # duplicate sends, and reconciliation finds what a failed delivery lost.
    retry_horizon_seconds = 0

    def handshake(self, request: WebhookRequest) -> dict[str, Any] | None:
        if request.header("x-wc-webhook-signature") or request.header("x-wc-webhook-topic"):
            return None  # a delivery: it must verify
        ping = _PING.fullmatch(request.body.strip())
        return {"ping": "ok", "webhook_id": int(ping.group(1))} if ping else None

    def verify(self, request: WebhookRequest, secrets: Sequence[bytes]) -> None:
        signature = request.header("x-wc-webhook-signature")
        if not signature or not matches_any(secrets, request.body, signature):
            raise Unauthorized("invalid signature")

    def parse(self, request: WebhookRequest) -> Delivery:
        topic = request.header("x-wc-webhook-topic") or ""
        if topic != DELETED and topic not in TOPICS:
            raise NotFound("unsupported topic", topic=topic[:64])
        store = _store(request)
        try:
            if topic == DELETED:
                return _deleted(WooDeleted.model_validate_json(request.body), store)
            payload = WooOrder.model_validate_json(request.body)
            order = to_order(payload, store)
        except ValidationError as error:
            raise as_validation_failed(error, "WooCommerce order") from None
        event_type = TOPICS[topic]
        if event_type is OrderUpdated and payload.status == "cancelled":
            event_type = OrderCancelled
        # WooCommerce has no event id and a new delivery id per send, so the event is the order version: the same
        # change sent twice carries the same date_modified. The topic keeps a create and an update in the same
        # second apart.
        dedupe_key = f"woocommerce:{store}:{topic}:{order.external_id}:{order.updated_at.isoformat()}"
        event = event_type.for_order(order, dedupe_key=dedupe_key, source=SOURCE)
        return Delivery(dedupe_key=dedupe_key, event=event, topic=topic)


def _deleted(payload: WooDeleted, store: str) -> Delivery:
    """A trashed order arrives as its id alone, so it is announced, not mapped: a consumer fetches what is left."""
    ref = ChannelOrderRef(
        channel=Channel.WOOCOMMERCE, store=store, external_id=str(payload.id), change="cancelled", observed_by="webhook"
    )
    # No version to tell two deletions apart: a trash, restore and trash again within the window is caught by
    # reconciliation, not by this event.
    dedupe_key = f"woocommerce:{store}:{DELETED}:{ref.external_id}"
    metadata = metadata_for(ChannelOrderNotified.detail_type, dedupe_key=dedupe_key, order_key=ref.key, source=SOURCE)
    return Delivery(dedupe_key=dedupe_key, event=ChannelOrderNotified(metadata=metadata, data=ref), topic=DELETED)


def _store(request: WebhookRequest) -> str:
    """The site's host: ``X-WC-Webhook-Source`` is the site URL (``home_url('/')``)."""
    try:
        host = urlsplit(request.header("x-wc-webhook-source") or "").hostname
    except ValueError:
        host = None
    if not host:
        raise ValidationFailed("missing header", field="x-wc-webhook-source")
    return host
