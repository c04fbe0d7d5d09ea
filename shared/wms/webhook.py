"""WMS webhook adapter (platform ``wms``): Standard Webhooks deliveries from a ShipBob-like WMS.

Verification is Standard Webhooks (``webhook-id``, ``webhook-timestamp``, ``webhook-signature``), as ShipBob signs.
The topic comes from ``x-webhook-topic``, or from the body's ``topic`` when the header is absent. The header is not
signed (the signature covers id, timestamp and body only), so when both are present they must agree.

Each topic is one entry of ``TOPICS``: a function from the raw body and the dedupe key to the event, or, for a topic
about an order, to a ``Bound``. The WMS names an order by the release's reference id (a return by its RMA number),
never by our order key, so those topics come back as ``OrderBound`` and the intake resolves the reference:

- ``inventory.snapshot`` / ``inventory.adjusted`` → ``StockReported``;
- ``order.shipped`` → ``ShipmentDispatched``;
- ``order.shipment.status.updated`` (``Picked`` / ``Packed``), ``order.shipment.delivered``,
  ``order.shipment.exception`` → ``ShipmentProgressed``;
- ``return.completed`` → ``ReturnReceived``.

Every other topic (``order.shipment.cancelled``, ``order.shipment.on_hold``, ...) is answered 404.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ValidationError

from shared import standard_webhooks
from shared.channels.base import Delivery, Ignored, OrderBound, WebhookAdapterBase, WebhookRequest
from shared.errors import NotFound, ValidationFailed
from shared.models.events import (
    EnvelopeOfOrder,
    EventEnvelope,
    ReturnReceived,
    ShipmentDispatched,
    ShipmentProgressed,
    StockReported,
)
from shared.models.inventory import ReportKind, StockItem, StockReport
from shared.models.returns import Condition, Disposition, ReceivedLine, ReturnReceipt
from shared.models.shipping import Milestone, Package, Shipment, ShipmentProgress, ShippedLine
from shared.validation import as_validation_failed
from shared.wms.inventory_payloads import InventoryAdjustedPayload, InventorySnapshotPayload, WmsTopic
from shared.wms.return_payloads import ShipBobReturn
from shared.wms.shipment_payloads import ShipBobShipment, ShipmentProduct, Tracking

SOURCE = "crossdock.intake"
PLATFORM = "wms"
TOPIC_HEADER = "x-webhook-topic"
MAX_MESSAGE_ID_LENGTH = 200  # the id becomes part of an idempotency key; Standard Webhooks sets no limit
# We assume the WMS retries as ShipBob does: immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h after
# each failure, then marks the message failed (developer.shipbob.com/webhooks, "Retry Schedule"): 27 h 35 min 5 s.
# A manual replay from ShipBob's portal can come any time later; the ledger's as-of and report-id checks cover it.
RETRY_DELAYS_SECONDS = (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600)

# What ShipBob's status details say about pick and pack (``order.shipment.status.updated``).
STATUS_MILESTONES = {"Picked": Milestone.PICKED, "Packed": Milestone.PACKED}
# ShipBob's return actions: a restocked unit goes back on the shelf; quarantined or disposed ones do not.
RETURN_ACTIONS = {"restock": Disposition.RESTOCK, "quarantine": Disposition.SCRAP, "dispose": Disposition.SCRAP}
# ShipBob's action_reason is the warehouse's free text; these words decide the condition, damage first, and
# "unopened" before "open". A reason that says none of them: a restocked unit is new, a scrapped one damaged.
DAMAGED_WORDS = ("damage", "defect", "broken")
NEW_WORDS = ("unopened", "sealed", "sellable", "new")
OPENED_WORDS = ("open", "used", "worn")


@dataclass(frozen=True)
class Bound:
    """A topic about an order: the reference the WMS names it by, and its event once the order key is known."""

    reference: str
    build: Callable[[str], EventEnvelope[Any]]


# (raw body, dedupe key) → the event to publish, or a ``Bound``. Raises ``ValidationError`` for a bad body.
TopicHandler = Callable[[bytes, str], EventEnvelope[Any] | Bound | Ignored]


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


def _shipped(body: bytes, dedupe_key: str) -> Bound:
    payload = ShipBobShipment.model_validate_json(body)
    tracking = payload.tracking
    if tracking is None:
        raise ValidationFailed("invalid WMS order.shipped", field="tracking", detail="a shipped shipment has tracking")
    shipped_at = payload.actual_fulfillment_date or tracking.shipping_date
    if shipped_at is None:
        raise ValidationFailed("invalid WMS order.shipped", field="actual_fulfillment_date", detail="missing")
    lines = _summed(payload.products)
    if not lines:
        raise ValidationFailed("invalid WMS order.shipped", field="products", detail="no units shipped")
    # Validated here, with the reference standing in for the order key: the intake's build cannot fail.
    shipment = Shipment(
        shipment_id=str(payload.id),
        order_key=payload.reference_id,
        reference_id=payload.reference_id,
        facility=str(payload.location.id),
        carrier=tracking.carrier,
        service=tracking.carrier_service,
        tracking_url=tracking.tracking_url,
        packages=_packages(payload, tracking, lines),
        lines=_lines(lines),
        shipped_at=shipped_at,
    )
    return Bound(payload.reference_id, _about(ShipmentDispatched, shipment, dedupe_key))


def _packages(payload: ShipBobShipment, tracking: Tracking, lines: dict[str, int]) -> tuple[Package, ...]:
    """One package per parent carton, with what its cartons hold; without cartons, the shipment is one package."""
    if not payload.parent_cartons:
        return (Package(tracking_number=tracking.tracking_number, carrier=tracking.carrier, lines=_lines(lines)),)
    packed: dict[str, int] = {}
    packages = []
    for index, parent in enumerate(payload.parent_cartons):
        contents = _summed(product for carton in parent.cartons for product in carton.products)
        for sku, quantity in contents.items():
            packed[sku] = packed.get(sku, 0) + quantity
            if packed[sku] > lines.get(sku, 0):
                # A box cannot hold what did not ship: the payload contradicts itself.
                field = f"parent_cartons.{index}.cartons"
                raise ValidationFailed("invalid WMS order.shipped", field=field, detail="more packed than shipped")
        packages.append(Package(tracking_number=parent.barcode, carrier=tracking.carrier, lines=_lines(contents)))
    return tuple(packages)


def _status_updated(body: bytes, dedupe_key: str) -> Bound | Ignored:
    payload = ShipBobShipment.model_validate_json(body)
    if not payload.status_details:
        raise ValidationFailed("invalid WMS order.shipment.status.updated", field="status_details", detail="empty")
    index = len(payload.status_details) - 1
    latest = payload.status_details[index]  # the newest is last
    milestone = STATUS_MILESTONES.get(latest.name)
    if milestone is None:
        # A step we do not track (a label printed, a hold lifted): acknowledged, so the WMS does not retry it.
        return Ignored(topic="order.shipment.status.updated", reason=f"status {latest.name[:64]} is not tracked")
    at = _required(payload.last_update_at, "order.shipment.status.updated", "last_update_at")
    return _progress(payload, milestone, at, latest.description, dedupe_key)


def _delivered(body: bytes, dedupe_key: str) -> Bound:
    payload = ShipBobShipment.model_validate_json(body)
    at = _required(payload.delivery_date, "order.shipment.delivered", "delivery_date")
    return _progress(payload, Milestone.DELIVERED, at, None, dedupe_key)


def _exception(body: bytes, dedupe_key: str) -> Bound:
    payload = ShipBobShipment.model_validate_json(body)
    if payload.status != "Exception":
        # The topic header is not signed: the body must say so too, or any captured shipment could be relabelled.
        raise ValidationFailed("invalid WMS order.shipment.exception", field="status", detail="not Exception")
    at = _required(payload.last_update_at, "order.shipment.exception", "last_update_at")
    # ShipBob says why in the status details (e.g. "Out of stock"); the newest is last.
    latest = payload.status_details[-1] if payload.status_details else None
    detail = (latest.description or latest.name) if latest else None
    return _progress(payload, Milestone.EXCEPTION, at, detail, dedupe_key)


def _progress(
    payload: ShipBobShipment, milestone: Milestone, at: datetime, detail: str | None, dedupe_key: str
) -> Bound:
    tracking = payload.tracking
    progress = ShipmentProgress(
        order_key=payload.reference_id,
        milestone=milestone,
        at=at,
        reported_by="wms",
        shipment_id=str(payload.id),
        tracking_number=tracking.tracking_number if tracking else None,
        carrier=tracking.carrier if tracking else None,
        detail=detail,
    )
    return Bound(payload.reference_id, _about(ShipmentProgressed, progress, dedupe_key))


def _return_completed(body: bytes, dedupe_key: str) -> Bound:
    payload = ShipBobReturn.model_validate_json(body)
    if payload.status != "Completed":
        raise ValidationFailed("invalid WMS return.completed", field="status", detail="not Completed")
    receipt = ReturnReceipt(
        receipt_id=str(payload.id),
        rma_number=payload.reference_id,
        order_key=payload.reference_id,
        facility=str(payload.fulfillment_center.id),
        lines=_received_lines(payload),
        received_at=payload.completed_date,
    )
    return Bound(payload.reference_id, _about(ReturnReceived, receipt, dedupe_key))


def _received_lines(payload: ShipBobReturn) -> tuple[ReceivedLine, ...]:
    """One line per SKU, condition and disposition: one item's units may be split (some restocked, some not)."""
    quantities: dict[tuple[str, Condition, Disposition], int] = {}
    for index, item in enumerate(payload.inventory):
        for step, taken in enumerate(item.action_taken):
            disposition = RETURN_ACTIONS.get(taken.action.lower())
            if disposition is None:
                field = f"inventory.{index}.action_taken.{step}.action"
                raise ValidationFailed("invalid WMS return.completed", field=field, detail="unknown action")
            if taken.quantity_processed:
                key = (item.sku, _condition(taken.action_reason, disposition), disposition)
                quantities[key] = quantities.get(key, 0) + taken.quantity_processed
    if not quantities:
        raise ValidationFailed("invalid WMS return.completed", field="inventory", detail="no units processed")
    return tuple(
        ReceivedLine(sku=sku, quantity=quantity, condition=condition, disposition=disposition)
        for (sku, condition, disposition), quantity in quantities.items()
    )


def _condition(reason: str | None, disposition: Disposition) -> Condition:
    text = (reason or "").lower()
    for words, condition in ((DAMAGED_WORDS, Condition.DAMAGED), (NEW_WORDS, Condition.NEW)):
        if any(word in text for word in words):
            return condition
    if any(word in text for word in OPENED_WORDS):
        return Condition.OPENED
    return Condition.NEW if disposition is Disposition.RESTOCK else Condition.DAMAGED


def _about(
    event_type: type[EnvelopeOfOrder[Any]], data: BaseModel, dedupe_key: str
) -> Callable[[str], EventEnvelope[Any]]:
    def build(order_key: str) -> EventEnvelope[Any]:
        return event_type.about(data.model_copy(update={"order_key": order_key}), dedupe_key=dedupe_key, source=SOURCE)

    return build


def _summed(products: Iterable[ShipmentProduct]) -> dict[str, int]:
    """Units per SKU, in first-seen order; a SKU may come as several products or inventory items (lots)."""
    quantities: dict[str, int] = {}
    for product in products:
        if product.quantity:
            quantities[product.our_sku] = quantities.get(product.our_sku, 0) + product.quantity
    return quantities


def _lines(quantities: dict[str, int]) -> tuple[ShippedLine, ...]:
    return tuple(ShippedLine(sku=sku, quantity=quantity) for sku, quantity in quantities.items())


def _required(value: datetime | None, topic: str, field: str) -> datetime:
    if value is None:
        raise ValidationFailed(f"invalid WMS {topic}", field=field, detail="missing")
    return value


TOPICS: dict[str, TopicHandler] = {
    "inventory.snapshot": _snapshot,
    "inventory.adjusted": _adjusted,
    "order.shipped": _shipped,
    "order.shipment.status.updated": _status_updated,
    "order.shipment.delivered": _delivered,
    "order.shipment.exception": _exception,
    "return.completed": _return_completed,
}


class WmsWebhookAdapter(WebhookAdapterBase):
    platform = PLATFORM
    retry_horizon_seconds = sum(RETRY_DELAYS_SECONDS)

    def __init__(self, now: Callable[[], float] = time.time) -> None:
        self._now = now

    def verify(self, request: WebhookRequest, secrets: Sequence[bytes]) -> None:
        standard_webhooks.verify(request.headers, request.body, secrets, now=self._now)

    def parse(self, request: WebhookRequest) -> Delivery | OrderBound | Ignored:
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
            mapped = handler(request.body, dedupe_key)
        except ValidationError as error:
            raise as_validation_failed(error, f"WMS {topic}") from None
        if isinstance(mapped, Ignored):
            return mapped
        if isinstance(mapped, Bound):
            return OrderBound(dedupe_key=dedupe_key, topic=topic, reference=mapped.reference, build=mapped.build)
        return Delivery(dedupe_key=dedupe_key, event=mapped, topic=topic)


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
