"""Shipments and what follows them: the warehouse ships, the ERP invoices, the channel hears "shipped".

A shipment is one departure from one facility. An order may ship in several (partial shipments) and one
shipment may hold several packages, each with its tracking number. Lines are by SKU: that is how a warehouse
counts what left, whatever the order's line ids were.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, model_validator

from shared.models.instants import AwareDatetime
from shared.models.money import Money
from shared.models.order import Channel
from shared.waiting import WaitPolicy

Sku = Annotated[str, Field(min_length=1, max_length=128)]
ShortText = Annotated[str, Field(min_length=1, max_length=200)]
# More packages or lines than one truck holds is a bad payload, and an event must stay under 256 KB.
MAX_SHIPMENT_LINES = 500
MAX_PACKAGES = 200


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ShippedLine(_Model):
    sku: Sku
    quantity: PositiveInt = Field(le=1_000_000)


class Package(_Model):
    tracking_number: ShortText
    carrier: ShortText | None = None
    lines: tuple[ShippedLine, ...] = ()


class Shipment(_Model):
    """What left one facility for one order. ``shipment_id`` is the WMS's own id: the idempotency key."""

    shipment_id: ShortText
    order_key: str = Field(min_length=1, max_length=600)
    reference_id: ShortText = Field(description="The WMS release it ships (ours: one per order and warehouse)")
    facility: ShortText = Field(description="The WMS facility it left from; routing maps it to a warehouse")
    carrier: ShortText
    service: ShortText | None = None
    tracking_url: str | None = Field(default=None, max_length=2000)
    packages: tuple[Package, ...] = Field(min_length=1, max_length=MAX_PACKAGES)
    lines: tuple[ShippedLine, ...] = Field(min_length=1, max_length=MAX_SHIPMENT_LINES)
    shipped_at: AwareDatetime

    @model_validator(mode="after")
    def _one_line_per_sku(self) -> Shipment:
        skus = [line.sku for line in self.lines]
        if len(set(skus)) != len(skus):
            raise ValueError("a shipment lists each SKU once")
        return self

    @property
    def tracking_numbers(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(package.tracking_number for package in self.packages))

    def quantities(self) -> dict[str, int]:
        return {line.sku: line.quantity for line in self.lines}


class Milestone(StrEnum):
    PICKED = "picked"
    PACKED = "packed"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    EXCEPTION = "exception"


class ShipmentProgress(_Model):
    """A step before or after dispatch, from the WMS (picked, packed) or the carrier (in transit, delivered)."""

    order_key: str = Field(min_length=1, max_length=600)
    milestone: Milestone
    at: AwareDatetime
    reported_by: str = Field(description="wms or carrier")
    shipment_id: ShortText | None = None
    tracking_number: ShortText | None = None
    carrier: ShortText | None = None
    detail: str | None = Field(default=None, max_length=500)


class Invoice(_Model):
    """The ERP recorded the shipment: an item fulfillment and an invoice, once per shipment."""

    order_key: str
    shipment: Shipment
    erp_sales_order_id: str
    erp_fulfillment_id: str
    erp_invoice_id: str
    amount: Money | None = None


class ShippingPolicy(_Model):
    """Per environment: whether the channel waits for the ERP invoice, and how a shipment waits out the ERP."""

    # On by default: the channel never says "shipped" for something the books have not invoiced.
    invoice_before_fulfil: bool = True
    erp_wait: WaitPolicy = Field(default_factory=WaitPolicy)


class ChannelFulfillment(_Model):
    """The channel now shows the shipment, with its tracking."""

    order_key: str
    channel: Channel
    store: str
    external_id: str
    shipment_id: str
    tracking_numbers: tuple[str, ...]
    channel_fulfillment_id: str | None = Field(default=None, description="None for a channel with no API")
