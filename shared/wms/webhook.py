"""WMS webhook adapter (platform ``wms``): Standard Webhooks deliveries from a ShipBob-like WMS.

Verification is Standard Webhooks (``webhook-id``, ``webhook-timestamp``, ``webhook-signature``), as ShipBob signs.
The topic comes from ``x-webhook-topic``, or from the body's ``topic`` when the header is absent. The header is not
signed (the signature covers id, timestamp and body only), so when both are present they must agree.

Each topic is one entry of ``TOPICS``: a function from the raw body and the dedupe key to the event. Today the
inventory topics map to ``StockReported``; the shipment topics (``order.shipped``, ...) are answered 404 until a
handler for them is added there.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import ValidationError

from shared import standard_webhooks
from shared.channels.base import Delivery, WebhookAdapterBase, WebhookRequest
from shared.errors import NotFound, ValidationFailed
from shared.models.events import EventEnvelope, StockReported
from shared.models.inventory import ReportKind, StockItem, StockReport
from shared.validation import as_validation_failed
from shared.wms.inventory_payloads import InventoryAdjustedPayload, InventorySnapshotPayload, WmsTopic

SOURCE = "crossdock.intake"
PLATFORM = "wms"
TOPIC_HEADER = "x-webhook-topic"
MAX_MESSAGE_ID_LENGTH = 200  # the id becomes part of an idempotency key; Standard Webhooks sets no limit
# We assume the WMS retries as ShipBob does: immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h after
# each failure, then marks the message failed (developer.shipbob.com/webhooks, "Retry Schedule"): 27 h 35 min 5 s.
# A manual replay from ShipBob's portal can come any time later; the ledger's as-of and report-id checks cover it.
RETRY_DELAYS_SECONDS = (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600)

# (raw body, dedupe key) → the event to publish. Raises ``ValidationError`` for a bad body.
TopicHandler = Callable[[bytes, str], EventEnvelope[Any]]


def _snapshot(body: bytes, dedupe_key: str) -> EventEnvelope[Any]:
    payload = InventorySnapshotPayload.model_validate_json(body)
    skus = [item.sku for item in payload.items]
    if len(set(skus)) != len(skus):
        # Two counts of one SKU in one snapshot contradict each other: which is true is not ours to guess.
        index = next(i for i, sku in enumerate(skus) if skus.index(sku) != i)
        raise ValidationFailed("invalid WMS inventory.snapshot", field=f"items.{index}.sku", detail="duplicate SKU")
    report = StockReport(
        report_id=payload.snapshot_id,
        source="wms",
        facility=str(payload.fulfillment_center.id),
        kind=ReportKind.SNAPSHOT,
        as_of=payload.as_of,
        items=tuple(StockItem(sku=item.sku, on_hand=item.on_hand_quantity) for item in payload.items),
    )
    return StockReported.for_report(report, dedupe_key=dedupe_key, source=SOURCE)


def _adjusted(body: bytes, dedupe_key: str) -> EventEnvelope[Any]:
    payload = InventoryAdjustedPayload.model_validate_json(body)
    # A SKU may come twice (two reasons); the ledger applies one delta per SKU and report, so they are summed.
    deltas: dict[str, int] = {}
    for item in payload.items:
        deltas[item.sku] = deltas.get(item.sku, 0) + item.quantity_change
    report = StockReport(
        report_id=payload.adjustment_id,
        source="wms",
        facility=str(payload.fulfillment_center.id),
        kind=ReportKind.ADJUSTMENT,
        as_of=payload.as_of,
        items=tuple(StockItem(sku=sku, on_hand_delta=delta) for sku, delta in deltas.items()),
    )
    return StockReported.for_report(report, dedupe_key=dedupe_key, source=SOURCE)


TOPICS: dict[str, TopicHandler] = {
    "inventory.snapshot": _snapshot,
    "inventory.adjusted": _adjusted,
}


class WmsWebhookAdapter(WebhookAdapterBase):
    platform = PLATFORM
    retry_horizon_seconds = sum(RETRY_DELAYS_SECONDS)

    def __init__(self, now: Callable[[], float] = time.time) -> None:
        self._now = now

    def verify(self, request: WebhookRequest, secrets: Sequence[bytes]) -> None:
        standard_webhooks.verify(request.headers, request.body, secrets, now=self._now)

    def parse(self, request: WebhookRequest) -> Delivery:
        msg_id = request.header("webhook-id")
        if not msg_id:
            raise ValidationFailed("missing header", field="webhook-id")
        if len(msg_id) > MAX_MESSAGE_ID_LENGTH:
            raise ValidationFailed("invalid header", field="webhook-id", detail="too long")
        topic = _topic(request)
        handler = TOPICS.get(topic)
        if handler is None:
            raise NotFound("unsupported topic", topic=topic[:64])
        # webhook-id is the same on every retry of one event, whatever the attempt's timestamp and signature.
        dedupe_key = f"{PLATFORM}:{topic}:{msg_id}"
        try:
            event = handler(request.body, dedupe_key)
        except ValidationError as error:
            raise as_validation_failed(error, f"WMS {topic}") from None
        return Delivery(dedupe_key=dedupe_key, event=event, topic=topic)


def _topic(request: WebhookRequest) -> str:
    header = request.header(TOPIC_HEADER)
    try:
        in_body = WmsTopic.model_validate_json(request.body).topic
    except ValidationError as error:
        if header:
            return header  # the topic's own payload model says what is wrong with the body
        raise as_validation_failed(error, "WMS webhook") from None
    if header and in_body and header != in_body:
        # The body is signed and the header is not: when they disagree, neither is to be trusted.
        raise ValidationFailed("topic header and body disagree", field="topic")
    topic = header or in_body
    if not topic:
        raise ValidationFailed("missing topic", field=TOPIC_HEADER)
    return topic
