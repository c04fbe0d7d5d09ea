"""An order's recorded state and its timeline: what happened, when, in which system, with which ids.

Two things move independently: the order's *version* (the platform's ``updated_at``; only newer content is
applied) and its *status* in our journey (only moves forward: received → decided → released → shipped → invoiced
→ fulfilled, or cancelled). Returns do not move it: an order can have several, each on the timeline.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from shared.models.instants import AwareDatetime


class OrderStatus(StrEnum):
    RECEIVED = "received"
    HELD = "held"
    REJECTED = "rejected"
    ACCEPTED = "accepted"
    RELEASED = "released"
    SHIPPED = "shipped"  # at least one shipment left a warehouse
    INVOICED = "invoiced"  # the ERP invoiced at least one shipment
    FULFILLED = "fulfilled"  # the channel shows at least one shipment
    CANCELLED = "cancelled"

    @property
    def rank(self) -> int:
        """Statuses only move to a higher rank; a late or repeated event can never move one back."""
        ranks = {"received": 1, "held": 2, "rejected": 2, "accepted": 3, "released": 4}
        ranks.update(shipped=5, invoiced=6, fulfilled=7, cancelled=9)
        return ranks[self.value]


class OrderVersion(BaseModel):
    """The latest applied version of an order; ``version`` orders platform updates (updated_at, in ms)."""

    model_config = ConfigDict(frozen=True)

    order_key: str
    channel: str
    store: str
    external_id: str
    version: int
    correlation_id: str
    last_event_id: str


class OrderState(BaseModel):
    model_config = ConfigDict(frozen=True)

    order_key: str
    channel: str | None = None
    store: str | None = None
    external_id: str | None = None
    version: int | None = None
    status: OrderStatus | None = None
    correlation_id: str | None = None
    cancel_requested: bool = False

    @property
    def cancelling(self) -> bool:
        """The channel cancelled it: nothing more may be created for it in the ERP or the WMS."""
        return self.cancel_requested or self.status is OrderStatus.CANCELLED


class TimelineEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    order_key: str
    event_id: str
    what: str
    at: AwareDatetime
    system: str
    ids: dict[str, str]
