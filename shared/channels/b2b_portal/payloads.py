"""The order payload a B2B portal (or an inside-sales tool) sends us: our own documented contract.

It follows the Standard Webhooks payload structure (``{type, timestamp, data}``) and is exported as JSON Schema to
``events/b2b_portal/order_submission.schema.json`` (``make schemas``) for portal developers. Unknown fields are
ignored, so a portal may send more than we read.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

Text = Annotated[str, Field(min_length=1, max_length=255)]


class _Portal(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class PortalEventType(_Portal):
    """Only the type: read first, so a type we do not take is a 404, not a 400 about its ``data``."""

    type: str


class PortalCustomer(_Portal):
    account_number: Text = Field(description="The customer's account number in the ERP")
    email: str | None = None
    company: str | None = None


class PortalLine(_Portal):
    line_id: Text = Field(description="Stable across updates of the order")
    sku: str | None = None
    description: str
    quantity: int = Field(ge=1)
    unit_price: Decimal = Field(ge=0, description="Per unit, before tax, as a decimal string")


class PortalAddress(_Portal):
    name: str | None = None
    company: str | None = None
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    region_code: str | None = None
    postal_code: str | None = None
    country_code: str | None = Field(default=None, pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")
    phone: str | None = None


class PortalOrder(_Portal):
    id: Text = Field(description="The order's id in the portal")
    order_number: str | None = None
    customer: PortalCustomer
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217")
    lines: list[PortalLine] = Field(min_length=1)
    ship_to: PortalAddress | None = None
    po_number: str | None = Field(default=None, description="The buyer's purchase order number")
    placed_at: AwareDatetime
    updated_at: AwareDatetime = Field(description="Later for every change: we apply only newer versions")
    cancelled_at: AwareDatetime | None = None
    cancel_reason: str | None = None


class OrderSubmission(_Portal):
    """One webhook from the portal, signed with Standard Webhooks (``webhook-id``, ``-timestamp``, ``-signature``)."""

    model_config = ConfigDict(title="B2B portal order submission")

    type: Literal["order.created", "order.updated", "order.cancelled"]
    timestamp: AwareDatetime = Field(description="When the event happened in the portal")
    data: PortalOrder
