"""Carrier tracking adapter (platform ``carrier``): AfterShip tracking webhooks → ``ShipmentProgressed``.

Verification: ``aftership-hmac-sha256`` is the base64 HMAC-SHA256 of the raw body under the account's webhook
secret (aftership.com/docs/tracking, "Webhook Signature"), compared in constant time against every live secret.

The order is named by ``msg.order_id``: whoever registers a tracking with AfterShip sets it to the WMS reference id
of the release that shipped, so the delivery is ``OrderBound`` and the intake resolves the reference.

Delivery status ``tag`` → milestone: ``InTransit`` → in transit; ``OutForDelivery`` and ``AvailableForPickup``
(AfterShip's own OutForDelivery covers "ready to pick up") → out for delivery; ``Delivered`` → delivered;
``Exception``, ``AttemptFail`` and ``Expired`` (no carrier scan for 30 days) → exception, with the checkpoint's
message as the detail. ``InfoReceived`` and ``Pending`` say nothing happened at the carrier yet (the WMS already
said "shipped"), and events other than ``tracking_update`` are not about a package: they are acknowledged and
ignored (``Ignored``, a 200), since any other answer makes AfterShip retry them for 68 hours.

Replay: AfterShip signs no timestamp, so a captured delivery verifies forever. The intake's dedupe on
``event_id`` absorbs retries and replays within the window; past it, the event id is derived from the checkpoint
(tracking number, tag, checkpoint time), so a replay repeats an event id consumers have already seen.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from pydantic import ValidationError

from shared.carrier.payloads import Checkpoint, TrackingEvent, TrackingMessage, TrackingUpdate
from shared.channels.base import Ignored, OrderBound, WebhookAdapterBase, WebhookRequest
from shared.errors import Unauthorized
from shared.models.events import ShipmentProgressed
from shared.models.shipping import Milestone, ShipmentProgress
from shared.signatures import matches_any
from shared.validation import as_validation_failed

SOURCE = "crossdock.intake"
PLATFORM = "carrier"
SIGNATURE_HEADER = "aftership-hmac-sha256"
EVENT = "tracking_update"
TAGS = {
    "InTransit": Milestone.IN_TRANSIT,
    "OutForDelivery": Milestone.OUT_FOR_DELIVERY,
    "AvailableForPickup": Milestone.OUT_FOR_DELIVERY,
    "Delivered": Milestone.DELIVERED,
    "Exception": Milestone.EXCEPTION,
    "AttemptFail": Milestone.EXCEPTION,
    "Expired": Milestone.EXCEPTION,
}
MAX_DETAIL = 500
# AfterShip retries a failed delivery 13 times, 2^(retry - 1) x 30 s apart (aftership.com/docs/tracking, "Webhook
# Overview", "Retry Webhooks"): the 14th and last attempt comes 245,730 s (about 68 h) after the first.
RETRY_DELAYS_SECONDS = tuple(30 * 2**retry for retry in range(13))


class CarrierWebhookAdapter(WebhookAdapterBase):
    platform = PLATFORM
    retry_horizon_seconds = sum(RETRY_DELAYS_SECONDS)

    def verify(self, request: WebhookRequest, secrets: Sequence[bytes]) -> None:
        signature = request.header(SIGNATURE_HEADER)
        if not signature or not matches_any(secrets, request.body, signature):
            raise Unauthorized("invalid signature")

    def parse(self, request: WebhookRequest) -> OrderBound | Ignored:
        try:
            event = TrackingEvent.model_validate_json(request.body).event
        except ValidationError as error:
            raise as_validation_failed(error, "carrier webhook") from None
        if event != EVENT:
            return Ignored(topic=event[:64], reason="not a tracking update")
        try:
            update = TrackingUpdate.model_validate_json(request.body)
        except ValidationError as error:
            raise as_validation_failed(error, "carrier tracking_update") from None
        tracking = update.msg
        milestone = TAGS.get(tracking.tag)
        if milestone is None:
            return Ignored(topic=EVENT, reason=f"tag {tracking.tag[:64]} is not a shipment milestone")
        checkpoint = _checkpoint(tracking)
        try:
            progress = ShipmentProgress(
                order_key=tracking.order_id,  # stands in until the intake resolves the reference
                milestone=milestone,
                at=_at(update, checkpoint),
                reported_by=PLATFORM,
                tracking_number=tracking.tracking_number,
                carrier=tracking.slug,
                detail=_detail(tracking, checkpoint),
            )
        except ValidationError as error:
            # The checkpoint's own text time is read here, not by the payload model: it can still be out of range.
            raise as_validation_failed(error, "carrier tracking_update") from None
        # The event is the checkpoint, whichever AfterShip event (or replay of one) announced it.
        when = (checkpoint.checkpoint_time if checkpoint else None) or _iso(tracking.updated_at) or str(update.ts)
        event_key = f"{PLATFORM}:{tracking.slug}:{tracking.tracking_number}:{tracking.tag}:{when}"

        def build(order_key: str) -> ShipmentProgressed:
            data = progress.model_copy(update={"order_key": order_key})
            return ShipmentProgressed.about(data, dedupe_key=event_key, source=SOURCE)

        return OrderBound(
            dedupe_key=f"{PLATFORM}:{update.event_id}", topic=EVENT, reference=tracking.order_id, build=build
        )


def _checkpoint(tracking: TrackingMessage) -> Checkpoint | None:
    """The newest checkpoint with the tracking's tag (checkpoints come oldest first), else the newest of all."""
    tagged = [c for c in tracking.checkpoints if c.tag == tracking.tag]
    newest = tagged or tracking.checkpoints
    return newest[-1] if newest else None


def _at(update: TrackingUpdate, checkpoint: Checkpoint | None) -> datetime:
    """The checkpoint's time when it says its offset; else when AfterShip updated the tracking; else the event's."""
    if checkpoint and checkpoint.checkpoint_time:
        try:
            at = datetime.fromisoformat(checkpoint.checkpoint_time)
        except ValueError:
            at = None
        if at is not None and at.tzinfo is not None:
            return at
    return update.msg.updated_at or datetime.fromtimestamp(update.ts, UTC)


def _detail(tracking: TrackingMessage, checkpoint: Checkpoint | None) -> str | None:
    message = checkpoint.message if checkpoint else None
    if message and checkpoint and checkpoint.location:
        message = f"{message} ({checkpoint.location})"
    detail = message or tracking.subtag_message
    return detail[:MAX_DETAIL] if detail else None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
