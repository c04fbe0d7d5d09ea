"""Event contracts on the bus: ``<Resource><PastTense>`` detail-types whose detail is ``{metadata, data}``.

The ids are derived, not random: the event id from the delivery's dedupe key (so a replay of the same
delivery carries the same id downstream) and the correlation id from the order key (so every hop of one
order shares it).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import ClassVar, Generic, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.models.order import Order

SCHEMA_VERSION = "1.0"
# Fixed namespace so ids stay stable across deploys and regions.
_NAMESPACE = uuid.UUID("6f1c2a3e-5b7d-4c1e-9a8f-0d2e4b6c8a10")

DataT = TypeVar("DataT", bound=BaseModel)


def derive_id(*parts: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, "|".join(parts)))


class EventMetadata(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: str = Field(description="Stable per logical event: duplicates carry the same id")
    correlation_id: str = Field(description="Stable per order across every hop")
    schema_version: str = SCHEMA_VERSION
    occurred_at: AwareDatetime
    source: str = Field(description="The publishing service, equal to the EventBridge source")


class EventEnvelope(BaseModel, Generic[DataT]):
    model_config = ConfigDict(frozen=True, extra="forbid")

    detail_type: ClassVar[str]
    metadata: EventMetadata
    data: DataT


class OrderEvent(EventEnvelope[Order]):
    """An event whose data is one order."""

    @classmethod
    def for_order(
        cls, order: Order, *, dedupe_key: str, source: str, occurred_at: datetime | None = None
    ) -> OrderEvent:
        metadata = EventMetadata(
            event_id=derive_id(cls.detail_type, dedupe_key),
            correlation_id=derive_id("order", order.key),
            occurred_at=occurred_at or datetime.now(UTC),
            source=source,
        )
        return cls(metadata=metadata, data=order)


class OrderReceived(OrderEvent):
    detail_type: ClassVar[str] = "OrderReceived"


class OrderUpdated(OrderEvent):
    detail_type: ClassVar[str] = "OrderUpdated"


class OrderCancelled(OrderEvent):
    detail_type: ClassVar[str] = "OrderCancelled"


# Every contract published on the bus, by detail-type: the schema export and its drift test iterate this.
CONTRACTS: dict[str, type[OrderEvent]] = {
    model.detail_type: model for model in (OrderReceived, OrderUpdated, OrderCancelled)
}
