"""What every channel adapter provides to the webhook intake. A new platform is a new adapter, not a new handler."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from shared.models.events import EventEnvelope
from shared.models.lifecycle import ChannelOrderRef, ChannelStatus, Reason
from shared.models.money import Money
from shared.models.order import Order
from shared.models.shipping import Shipment, ShippedLine


@dataclass(frozen=True)
class WebhookRequest:
    """A delivery as it came over HTTP. ``headers`` keys are lower-case; ``body`` is the raw bytes that were signed."""

    headers: Mapping[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass(frozen=True)
class Delivery:
    """A verified delivery, mapped. ``dedupe_key`` names the platform event, so every retry of it shares the key."""

    dedupe_key: str
    event: EventEnvelope[Any]
    topic: str


@dataclass(frozen=True)
class RefundRequest:
    """Pay back ``amount`` on an order for returned ``lines``. ``refund_id`` (RMA and receipt) keys it once."""

    refund_id: str
    rma_number: str
    amount: Money
    lines: tuple[ShippedLine, ...]
    note: str = ""


@dataclass(frozen=True)
class OrderBound:
    """A verified delivery about an order known only by a reference Crossdock gave another system.

    A WMS names the order by the release's reference id, a return by its RMA number, a carrier by the reference
    the tracking was registered with. The intake looks the reference up (``OrderReferences``) and calls
    ``build`` with the order key; a reference Crossdock never gave out is acknowledged and ignored.
    """

    dedupe_key: str
    topic: str
    reference: str
    build: Callable[[str], EventEnvelope[Any]]


@dataclass(frozen=True)
class Ignored:
    """A verified delivery with nothing in it for Crossdock (e.g. a tracking status before the carrier scanned).

    Answered 200, so the sender neither retries it for days nor disables the hook; logged with its reason.
    """

    topic: str
    reason: str


class OrderReferences(Protocol):
    def order_for(self, reference: str) -> str | None:
        """The order key behind a reference we gave out (a WMS reference id, an RMA number), if any."""


class ChannelApi(Protocol):
    """What Crossdock calls on a channel's own API (``shared/channels/<platform>/api.py``)."""

    def fetch_order(self, external_id: str) -> Order:
        """The order as the channel has it now, mapped to the canonical model (the claim check)."""

    def list_updated_since(self, since: datetime) -> list[ChannelOrderRef]:
        """Every order updated at or after ``since``, for reconciliation (paginated under the hood)."""

    def push_status(self, external_id: str, status: ChannelStatus, reasons: Sequence[Reason] = ()) -> None:
        """Tell the channel what happened, idempotently: pushing the same status twice changes nothing."""

    def create_fulfillment(self, external_id: str, shipment: Shipment) -> str:
        """Show the shipment on the order, with carrier and tracking; the channel's fulfillment id.

        Once per ``shipment.shipment_id``: a retry finds the fulfillment it made (by its tracking or its note)
        and returns it. Raises ``ValidationFailed`` when the channel refuses the lines (e.g. already fulfilled
        by hand) and ``NotFound`` when the order is not in the channel.
        """

    def refund(self, external_id: str, request: RefundRequest) -> str:
        """Refund ``request.amount`` (with the returned lines, no restock: the WMS restocks); the refund id.

        Once per ``request.refund_id``: a retry finds the refund it made and returns it. Raises
        ``ValidationFailed`` when the channel refuses (e.g. more than was paid).
        """


class WebhookAdapter(Protocol):
    """Adapters subclass ``WebhookAdapterBase`` for the defaults."""

    platform: str
    # The platform's retry horizon: a dedupe window shorter than this lets a late retry through twice.
    retry_horizon_seconds: int

    def handshake(self, request: WebhookRequest) -> dict[str, Any] | None:
        """A platform's unsigned setup call (e.g. WooCommerce's creation ping): the body to answer 200 with."""

    def verify(self, request: WebhookRequest, secrets: Sequence[bytes]) -> None:
        """Raise ``Unauthorized`` unless one of ``secrets`` signed the request."""

    def parse(self, request: WebhookRequest) -> Delivery | OrderBound | Ignored:
        """Map a verified request (``OrderBound`` when the order is named by one of our references, ``Ignored``
        when it is valid but means nothing to Crossdock).

        Raise ``NotFound`` for a topic we do not take, ``ValidationFailed`` for a bad body.
        """


class WebhookAdapterBase:
    """Defaults for adapters: no handshake."""

    def handshake(self, request: WebhookRequest) -> dict[str, Any] | None:
        return None
