"""Event contracts on the bus: ``<Resource><PastTense>`` detail-types whose detail is ``{metadata, data}``.

The ids are derived, not random: the event id from the delivery's dedupe key (so a replay of the same
delivery carries the same id downstream) and the correlation id from the order key (so every hop of one
order shares it).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar, Generic, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from shared.models.instants import AwareDatetime
from shared.models.inventory import (
    AvailabilityPublication,
    InventoryChange,
    LevelChange,
    OversellPrevention,
    StockLevel,
    StockReport,
)
from shared.models.lifecycle import ChannelOrderRef, ChannelStatusChange, FulfillmentRelease, OrderDecision
from shared.models.order import Order
from shared.models.returns import CreditMemo, Refund, ReturnAuthorization, ReturnReceipt
from shared.models.shipping import ChannelFulfillment, Invoice, Shipment, ShipmentProgress

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
        metadata = metadata_for(cls.detail_type, dedupe_key=dedupe_key, order_key=order.key, source=source)
        if occurred_at is not None:
            metadata = metadata.model_copy(update={"occurred_at": occurred_at})
        return cls(metadata=metadata, data=order)


class OrderReceived(OrderEvent):
    detail_type: ClassVar[str] = "OrderReceived"


class OrderUpdated(OrderEvent):
    detail_type: ClassVar[str] = "OrderUpdated"


class OrderCancelled(OrderEvent):
    detail_type: ClassVar[str] = "OrderCancelled"


def metadata_for(detail_type: str, *, dedupe_key: str, order_key: str, source: str) -> EventMetadata:
    """Metadata of an event about one order: ids derived as above, so redoing the work repeats the same ids."""
    return EventMetadata(
        event_id=derive_id(detail_type, dedupe_key),
        correlation_id=derive_id("order", order_key),
        occurred_at=datetime.now(UTC),
        source=source,
    )


def stock_metadata(detail_type: str, *, dedupe_key: str, system: str, facility: str, source: str) -> EventMetadata:
    """Metadata of an event about stock at one facility of ``system`` (``wms``, ``erp``).

    There is no order to correlate on, so every event about one facility's stock shares a correlation id.
    """
    return EventMetadata(
        event_id=derive_id(detail_type, dedupe_key),
        correlation_id=derive_id("stock", f"{system}:{facility}"),
        occurred_at=datetime.now(UTC),
        source=source,
    )


OrderDataT = TypeVar("OrderDataT", bound=BaseModel)


class EnvelopeOfOrder(EventEnvelope[OrderDataT], Generic[OrderDataT]):
    """An event whose data names its order (``data.order_key``): ids derived from it, as ``metadata_for``."""

    @classmethod
    def about(cls, data: OrderDataT, *, dedupe_key: str, source: str) -> Self:
        order_key: str = getattr(data, "order_key")  # noqa: B009 - every data model of these events has it
        metadata = metadata_for(cls.detail_type, dedupe_key=dedupe_key, order_key=order_key, source=source)
        return cls(metadata=metadata, data=data)


class OrderAccepted(EventEnvelope[OrderDecision]):
    detail_type: ClassVar[str] = "OrderAccepted"


class OrderHeld(EventEnvelope[OrderDecision]):
    detail_type: ClassVar[str] = "OrderHeld"


class OrderRejected(EventEnvelope[OrderDecision]):
    detail_type: ClassVar[str] = "OrderRejected"


class FulfillmentReleased(EventEnvelope[FulfillmentRelease]):
    detail_type: ClassVar[str] = "FulfillmentReleased"


class ChannelOrderNotified(EventEnvelope[ChannelOrderRef]):
    """A channel says an order changed but sent no order (a thin webhook, or reconciliation found it)."""

    detail_type: ClassVar[str] = "ChannelOrderNotified"


class ChannelStatusUpdated(EventEnvelope[ChannelStatusChange]):
    detail_type: ClassVar[str] = "ChannelStatusUpdated"


class StockReported(EventEnvelope[StockReport]):
    """A WMS or the ERP reported stock at one of its facilities: absolute counts or deltas (``data.kind``)."""

    detail_type: ClassVar[str] = "StockReported"

    @classmethod
    def for_report(cls, report: StockReport, *, dedupe_key: str, source: str) -> StockReported:
        metadata = stock_metadata(
            cls.detail_type, dedupe_key=dedupe_key, system=report.source, facility=report.facility, source=source
        )
        return cls(metadata=metadata, data=report)


class InventoryAdjusted(EventEnvelope[InventoryChange]):
    """Ledger rows changed (a report, a reservation, a release): the channel syncs recompute availability."""

    detail_type: ClassVar[str] = "InventoryAdjusted"
    # Rows per event: a row is about 250 bytes, and an event (and a PutEvents call) holds at most 256 KB.
    LEVELS_PER_EVENT: ClassVar[int] = 400

    @classmethod
    def for_levels(
        cls, cause: str, cause_id: str, levels: Sequence[StockLevel], *, correlation_id: str, source: str
    ) -> list[InventoryAdjusted]:
        """One event per chunk of rows; ids derived from the cause, so a redo repeats the same ids."""
        events = []
        for index, start in enumerate(range(0, len(levels), cls.LEVELS_PER_EVENT)):
            chunk = levels[start : start + cls.LEVELS_PER_EVENT]
            metadata = EventMetadata(
                event_id=derive_id(cls.detail_type, cause, cause_id, str(index)),
                correlation_id=correlation_id,
                occurred_at=datetime.now(UTC),
                source=source,
            )
            change = InventoryChange(cause=cause, cause_id=cause_id, levels=tuple(LevelChange.of(x) for x in chunk))
            events.append(cls(metadata=metadata, data=change))
        return events


class AvailabilityPublished(EventEnvelope[AvailabilityPublication]):
    """One channel now shows these quantities."""

    detail_type: ClassVar[str] = "AvailabilityPublished"


class OversellPrevented(EventEnvelope[OversellPrevention]):
    """A channel sold units the ledger could not promise; the order was held instead of accepted."""

    detail_type: ClassVar[str] = "OversellPrevented"


class ShipmentDispatched(EnvelopeOfOrder[Shipment]):
    """Goods left a facility for an order, with carrier, tracking, packages and lines (WMS or 3PL)."""

    detail_type: ClassVar[str] = "ShipmentDispatched"


class ShipmentProgressed(EnvelopeOfOrder[ShipmentProgress]):
    """A step around dispatch: picked, packed (WMS), in transit, delivered (carrier)."""

    detail_type: ClassVar[str] = "ShipmentProgressed"


class OrderInvoiced(EnvelopeOfOrder[Invoice]):
    """The ERP recorded a shipment's item fulfillment and invoice. The channel may now hear "shipped"."""

    detail_type: ClassVar[str] = "OrderInvoiced"


class ChannelFulfilled(EnvelopeOfOrder[ChannelFulfillment]):
    detail_type: ClassVar[str] = "ChannelFulfilled"


class ReturnAuthorized(EnvelopeOfOrder[ReturnAuthorization]):
    detail_type: ClassVar[str] = "ReturnAuthorized"


class ReturnReceived(EnvelopeOfOrder[ReturnReceipt]):
    """The warehouse received returned units, each with its condition and restock or scrap decision."""

    detail_type: ClassVar[str] = "ReturnReceived"


class CreditMemoIssued(EnvelopeOfOrder[CreditMemo]):
    detail_type: ClassVar[str] = "CreditMemoIssued"


class RefundIssued(EnvelopeOfOrder[Refund]):
    detail_type: ClassVar[str] = "RefundIssued"


# Every contract published on the bus, by detail-type: the schema export and its drift test iterate this.
CONTRACTS: dict[str, type[EventEnvelope[Any]]] = {
    model.detail_type: model
    for model in (
        OrderReceived,
        OrderUpdated,
        OrderCancelled,
        OrderAccepted,
        OrderHeld,
        OrderRejected,
        FulfillmentReleased,
        ChannelOrderNotified,
        ChannelStatusUpdated,
        StockReported,
        InventoryAdjusted,
        AvailabilityPublished,
        OversellPrevented,
        ShipmentDispatched,
        ShipmentProgressed,
        OrderInvoiced,
        ChannelFulfilled,
        ReturnAuthorized,
        ReturnReceived,
        CreditMemoIssued,
        RefundIssued,
    )
}

# The contracts about one order: what the order recorder puts on its timeline.
ORDER_CONTRACTS: dict[str, type[EventEnvelope[Any]]] = {
    name: model
    for name, model in CONTRACTS.items()
    if model not in (StockReported, InventoryAdjusted, AvailabilityPublished)
}
