"""What happens to an order after intake: ERP decisions, warehouse releases, channel status, claim checks."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, PositiveInt

from shared.models.instants import AwareDatetime
from shared.models.order import Address, Channel, Order


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Reason(_Model):
    """Why an order was held or rejected, machine-readable first (``code``), then for people (``message``)."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    message: str
    line_id: str | None = None


class AllocatedLine(_Model):
    line_id: str
    sku: str
    quantity: PositiveInt


class Allocation(_Model):
    """The lines one warehouse ships; ``erp_location`` is that warehouse's location in the ERP."""

    warehouse: str
    erp_location: str
    lines: tuple[AllocatedLine, ...] = Field(min_length=1)


class OrderDecision(_Model):
    """The outcome of checking an order against the ERP: accepted (with allocations), held or rejected."""

    order: Order
    reasons: tuple[Reason, ...] = ()
    erp_sales_order_id: str | None = None
    allocations: tuple[Allocation, ...] = ()


class FulfillmentRequest(_Model):
    """One release to the WMS: one per (order, warehouse). ``reference_id`` is its idempotency key there."""

    order_key: str
    reference_id: str
    warehouse: str
    lines: tuple[AllocatedLine, ...] = Field(min_length=1)
    ship_to: Address | None = None
    order_number: str | None = None
    # The WMS's id of the warehouse (``Warehouse.wms_facility``): the WMS ships from there, where we reserved.
    facility: str | None = None


class FulfillmentRelease(_Model):
    request: FulfillmentRequest
    wms_order_id: str


class ChannelOrderRef(_Model):
    """A pointer to an order in a channel, for a claim check: the consumer fetches the order itself."""

    channel: Channel
    store: str
    external_id: str
    change: str = Field(description="created, updated or cancelled")
    observed_by: str = Field(description="webhook or reconciliation")
    updated_at: AwareDatetime | None = None

    @property
    def key(self) -> str:
        return f"{self.channel.value}:{self.store}:{self.external_id}"


class ChannelStatus(StrEnum):
    ACCEPTED = "accepted"
    ON_HOLD = "on_hold"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class ChannelStatusChange(_Model):
    order_key: str
    channel: Channel
    store: str
    external_id: str
    status: ChannelStatus
    reasons: tuple[Reason, ...] = ()
