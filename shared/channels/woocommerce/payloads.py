"""The part of WooCommerce's REST v3 order we read. Unknown fields are ignored: plugins add fields freely."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field


def _as_utc(value: datetime) -> datetime:
    # The *_gmt fields are UTC written without an offset ("2026-11-30T15:42:17").
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:
        # e.g. 0001-01-01T00:00:00+14:00: pydantic turns only a ValueError into a validation error (a 400).
        raise ValueError("datetime out of range") from None


def _blank_is_none(value: Any) -> Any:
    # WooCommerce writes "" for an amount or a field it has no value for.
    return None if value == "" else value


GmtDatetime = Annotated[datetime, AfterValidator(_as_utc)]
OptionalAmount = Annotated[Decimal | None, BeforeValidator(_blank_is_none)]


class _Woo(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class WooLineTax(_Woo):
    id: int  # the rate id, described in the order's tax_lines
    total: OptionalAmount = None


class WooLineItem(_Woo):
    id: int
    name: str
    sku: str | None = None
    quantity: int = Field(ge=1)
    subtotal: Decimal = Field(ge=0, description="Before discounts")
    total: Decimal = Field(ge=0, description="After discounts")
    taxes: list[WooLineTax] = []


class WooTaxLine(_Woo):
    rate_id: int
    label: str | None = None
    rate_percent: Decimal | None = Field(default=None, ge=0)


class WooCouponLine(_Woo):
    code: str


class WooAddress(_Woo):
    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    address_1: str | None = None
    address_2: str | None = None
    city: str | None = None
    state: str | None = None
    postcode: str | None = None
    country: str | None = Field(default=None, pattern=r"^([A-Za-z]{2})?$", description="ISO 3166-1 alpha-2, or blank")
    phone: str | None = None
    email: str | None = None


class WooRefund(_Woo):
    id: int


class WooOrder(_Woo):
    id: int = Field(ge=1)
    number: str | None = None
    status: str
    currency: str = Field(pattern=r"^[A-Za-z]{3}$")
    customer_id: int = 0  # 0 is a guest
    date_created_gmt: GmtDatetime
    date_modified_gmt: GmtDatetime
    date_paid_gmt: GmtDatetime | None = None
    total: Decimal | None = None
    billing: WooAddress | None = None
    shipping: WooAddress | None = None
    line_items: list[WooLineItem] = Field(min_length=1)
    tax_lines: list[WooTaxLine] = []
    coupon_lines: list[WooCouponLine] = []
    refunds: list[WooRefund] = []


class WooDeleted(_Woo):
    """``order.deleted`` carries the id alone (``WC_Webhook::build_payload``)."""

    id: int = Field(ge=1)
