"""Carrier tracking sandbox: AfterShip-style tracking webhooks (``tracking_update``) for the parcels the WMS ships.

No API is emulated: Crossdock only receives. Scenarios ``follow()`` a shipment the WMS sandbox shipped (each of its
tracking numbers is registered with the shipment's ``reference_id`` as ``order_id``, as whoever registers the
tracking does) and ``update()`` a tracking with a delivery status tag; each update adds a checkpoint and queues one
webhook to ``webhook_targets``. The body is AfterShip's: ``{ts, event, event_id, is_tracking_first_tag, msg}``,
``msg`` being the tracking with every checkpoint so far, oldest first. Each attempt is signed when it goes out, as
AfterShip signs: ``aftership-hmac-sha256`` = base64 HMAC-SHA256 of the raw body under the webhook secret, so a
``use_webhook_secret`` rotation applies to what is still queued.
"""

from __future__ import annotations

import base64
import copy
import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from infra.local.clock import Clock
from infra.local.sandboxes.base import Delivery, Sandbox
from shared.signatures import hmac_sha256_b64

Record = dict[str, Any]

SIGNATURE_HEADER: Final = "aftership-hmac-sha256"
WEBHOOK_VERSION: Final = "2026-07"
# AfterShip's delivery statuses (aftership.com/docs/tracking, "Delivery Statuses").
TAGS: Final = {
    "Pending": "Pending tracking",
    "InfoReceived": "Shipment information received",
    "InTransit": "In transit",
    "OutForDelivery": "Out for delivery",
    "AttemptFail": "Delivery attempted, no one available",
    "AvailableForPickup": "Available for pickup",
    "Delivered": "Delivered",
    "Exception": "Delivery exception",
    "Expired": "No tracking update for 30 days",
}
# The WMS's carrier names → AfterShip courier slugs.
SLUGS: Final = {"UPS": "ups", "FedEx": "fedex", "USPS": "usps", "DHL": "dhl"}


class CarrierSandbox(Sandbox):
    """An AfterShip account: trackings by number, each with its checkpoints, and signed tracking webhooks."""

    name = "carrier"

    def __init__(self, clock: Clock | None = None, seed: int = 7, *, webhook_secret: str | None = None) -> None:
        super().__init__(clock, seed)
        # AfterShip issues a plain string secret; here it is derived from the seed unless given.
        self.webhook_secret = webhook_secret or base64.b64encode(self.random.randbytes(24)).decode()

    def reset_state(self) -> None:
        self.trackings: dict[str, Record] = {}
        self._sent: dict[str, bytes] = {}  # event_id → body

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "trackings": copy.deepcopy(self.trackings),
                "webhooks": [
                    {"label": d.label, "due_at": d.due_at, "status": d.status, "delivered_at": d.delivered_at}
                    for d in self.outbox
                ],
            }

    # -- what the carrier does -------------------------------------------------------------------------------
    def follow(self, shipment: Mapping[str, Any]) -> list[str]:
        """Register every tracking number of a WMS sandbox shipment (its parent cartons', else its tracking's) under
        the shipment's ``reference_id``. Returns the tracking numbers.
        """
        tracking = shipment.get("tracking") or {}
        if not tracking.get("tracking_number"):
            raise ValueError(f"shipment {shipment.get('id')} has no tracking")
        numbers = [carton["barcode"] for carton in shipment.get("parent_cartons") or []]
        numbers = numbers or [tracking["tracking_number"]]
        slug = SLUGS.get(tracking.get("carrier", ""), str(tracking.get("carrier", "")).lower())
        for number in numbers:
            self.register(number, order_id=shipment["reference_id"], slug=slug)
        return numbers

    def register(self, tracking_number: str, *, order_id: str, slug: str = "ups") -> Record:
        """Create a tracking (``Pending``, no checkpoints). Registering it again changes nothing."""
        with self.lock:
            if tracking_number not in self.trackings:
                now = self._now()
                self.trackings[tracking_number] = {
                    "id": uuid.UUID(int=self.random.getrandbits(128)).hex,
                    "tracking_number": tracking_number,
                    "slug": slug,
                    "active": True,
                    "tag": "Pending",
                    "subtag": "Pending_001",
                    "subtag_message": TAGS["Pending"],
                    "order_id": order_id,
                    "title": tracking_number,
                    "created_at": now,
                    "updated_at": now,
                    "checkpoints": [],
                }
            return copy.deepcopy(self.trackings[tracking_number])

    def update(
        self,
        tracking_number: str,
        tag: str,
        *,
        message: str | None = None,
        location: str | None = None,
        subtag: str | None = None,
        delays: Sequence[float] = (0.0,),
    ) -> str:
        """The carrier scanned the parcel: a checkpoint with ``tag`` is added and ``tracking_update`` queued once per
        entry of ``delays``. Returns the webhook's ``event_id``.
        """
        if tag not in TAGS:
            raise ValueError(f"unknown tag {tag!r}: AfterShip's are {sorted(TAGS)}")
        with self.lock:
            tracking = self.trackings.get(tracking_number)
            if tracking is None:
                raise ValueError(f"tracking {tracking_number} is not registered")
            first_of_tag = all(checkpoint["tag"] != tag for checkpoint in tracking["checkpoints"])
            now = self._now()
            subtag = subtag or f"{tag}_001"
            tracking["checkpoints"].append(
                {
                    "slug": tracking["slug"],
                    "created_at": now,
                    "checkpoint_time": now,
                    "location": location,
                    "message": message or TAGS[tag],
                    "tag": tag,
                    "subtag": subtag,
                    "subtag_message": TAGS[tag],
                }
            )
            tracking.update(tag=tag, subtag=subtag, subtag_message=TAGS[tag], updated_at=now)
            tracking["active"] = tag not in ("Delivered", "Expired")
            return self._notify(tracking, first_of_tag, delays)

    def resend_webhook(self, event_id: str, *, delays: Sequence[float] = (0.0,)) -> str:
        """Send a webhook already sent again, same body and ``event_id`` (signed anew when it goes out)."""
        with self.lock:
            body = self._sent.get(event_id)
            if body is None:
                raise ValueError(f"no webhook {event_id} was sent")
            self.send_webhook(_headers(), body, delays=delays, label="tracking_update")
            return event_id

    # -- webhooks --------------------------------------------------------------------------------------------
    def delivery_headers(self, delivery: Delivery) -> dict[str, str]:
        headers = dict(delivery.headers)
        headers[SIGNATURE_HEADER] = hmac_sha256_b64(self.webhook_secret.encode(), delivery.body)
        return headers

    def _notify(self, tracking: Record, first_of_tag: bool, delays: Sequence[float]) -> str:
        event_id = str(uuid.UUID(int=self.random.getrandbits(128), version=4))
        payload = {
            "ts": int(self.clock.now()),
            "event": "tracking_update",
            "event_id": event_id,
            "is_tracking_first_tag": first_of_tag,
            "msg": copy.deepcopy(tracking),
        }
        body = json.dumps(payload, separators=(",", ":")).encode()
        self._sent[event_id] = body
        self.send_webhook(_headers(), body, delays=delays, label="tracking_update")
        return event_id

    def _now(self) -> str:
        return datetime.fromtimestamp(self.clock.now(), UTC).isoformat(timespec="seconds")


def _headers() -> dict[str, str]:
    return {"content-type": "application/json", "as-webhook-version": WEBHOOK_VERSION}
