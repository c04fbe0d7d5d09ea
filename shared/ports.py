"""The ports logic depends on. Adapters in ``shared.aws`` implement them; tests pass fakes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from shared.models.events import EventEnvelope


class EventPublisher(Protocol):
    def publish(self, events: Sequence[EventEnvelope[Any]]) -> None: ...


class SecretSource(Protocol):
    def for_platform(self, platform: str) -> Sequence[bytes]: ...
