"""The canonical order. Lenient about business content (a line with no SKU is still an order the ERP step
can hold with a reason), strict about structure (ids, quantities, money)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PositiveInt

from shared.models.instants import AwareDatetime
from shared.models.money import CurrencyCode, DecimalStr, Money

NonEmpty = Annotated[str, Field(min_length=1, max_length=255)]


class Channel(StrEnum):
    SHOPIFY = "shopify"
    BIGCOMMERCE = "bigcommerce"
    WOOCOMMERCE = "woocommerce"
    B2B_PORTAL = "b2b_portal"


class FinancialStatus(StrEnum):
    PENDING = "pending"
    AUTHORIZED = "authorized"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    VOIDED = "voided"
    UNKNOWN = "unknown"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TaxLine(_Model):
    title: str
    rate: DecimalStr = Field(ge=Decimal(0))
    amount: Money


class Discount(_Model):
    code: str | None = None
    amount: Money


class OrderLine(_Model):
    line_id: NonEmpty
    sku: str | None = Field(default=None, description="None when the channel line has no SKU; the ERP step holds it")
    title: str
    quantity: PositiveInt
    unit_price: Money
    discounts: tuple[Discount, ...] = ()
    tax_lines: tuple[TaxLine, ...] = ()


class Address(_Model):
    name: str | None = None
    company: str | None = None
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    region_code: str | None = None
    postal_code: str | None = None
    country_code: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    phone: str | None = None


class CustomerRef(_Model):
    """Who the channel says the buyer is. The ERP resolves it to an account in Step 3."""

    external_id: str | None = None
    email: str | None = None
    company: str | None = None


class Order(_Model):
    channel: Channel
    store: NonEmpty = Field(description="The channel store, e.g. the Shopify shop domain")
    external_id: NonEmpty = Field(description="The order id in the channel")
    order_number: str | None = None
    customer: CustomerRef
    currency: CurrencyCode
    lines: tuple[OrderLine, ...] = Field(min_length=1)
    shipping_address: Address | None = None
    financial_status: FinancialStatus
    total: Money | None = None
    placed_at: AwareDatetime
    updated_at: AwareDatetime = Field(description="The platform's updated_at: orders apply only newer versions")
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None

    @property
    def key(self) -> str:
        """One order, whichever topic or delivery carried it."""
        return f"{self.channel.value}:{self.store}:{self.external_id}"


def split_order_key(order_key: str) -> tuple[Channel, str, str]:
    """``channel:store:external_id`` back into its parts (a store may hold a colon; a channel id does not)."""
    channel, rest = order_key.split(":", 1)
    store, external_id = rest.rsplit(":", 1)
    return Channel(channel), store, external_id
