"""What every channel adapter provides to the webhook intake. A new platform is a new adapter, not a new handler."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from shared.models.events import EventEnvelope
from shared.models.order import Order


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
    event: EventEnvelope[Order]
    topic: str


class WebhookAdapter(Protocol):
    platform: str
    # The platform's retry horizon: a dedupe window shorter than this lets a late retry through twice.
    retry_horizon_seconds: int

    def verify(self, request: WebhookRequest, secrets: Sequence[bytes]) -> None:
        """Raise ``Unauthorized`` unless one of ``secrets`` signed the request."""

    def parse(self, request: WebhookRequest) -> Delivery:
        """Map a verified request.

        Raise ``NotFound`` for a topic we do not take, ``ValidationFailed`` for a bad body.
        """
