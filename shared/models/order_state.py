"""An order's recorded state and its timeline: what happened, when, in which system, with which ids."""

from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict


class OrderStatus(StrEnum):
    RECEIVED = "received"
    CANCELLED = "cancelled"


class OrderVersion(BaseModel):
    """The latest applied version of an order; ``version`` orders platform updates (updated_at, in ms)."""

    model_config = ConfigDict(frozen=True)

    order_key: str
    channel: str
    store: str
    external_id: str
    status: OrderStatus
    version: int
    correlation_id: str
    last_event_id: str


class TimelineEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    order_key: str
    event_id: str
    what: str
    at: AwareDatetime
    system: str
    ids: dict[str, str]
