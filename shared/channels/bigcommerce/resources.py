"""The part of BigCommerce's V2 order resources we read: the order, its products, its shipping addresses.

V2 writes money as strings (``"11.5000"``), dates in RFC 2822 (``Mon, 30 Nov 2026 15:42:19 +0000``) and ``""``
for a value it does not have. Unknown fields are ignored (bigcommerce/docs ``reference/orders.v2.oas2.yml``).
"""

from __future__ import annotations

from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, RootModel


def _rfc2822(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return parsedate_to_datetime(value)  # naive for "-0000", which AwareDatetime then refuses
        except (TypeError, ValueError):
            return value  # e.g. ISO 8601, which pydantic reads itself
    return value


def _blank_is_none(value: Any) -> Any:
    return None if value == "" else value


V2Date = Annotated[AwareDatetime, BeforeValidator(_rfc2822)]
Text = Annotated[str | None, BeforeValidator(_blank_is_none)]


class _BigCommerce(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class BigCommerceAddress(_BigCommerce):
    first_name: Text = None
    last_name: Text = None
    company: Text = None
    street_1: Text = None
    street_2: Text = None
    city: Text = None
    state: Text = None  # the full name ("Ohio"): V2 addresses carry no state code
    zip: Text = None
    country_iso2: Text = None
    phone: Text = None
    email: Text = None


class BigCommerceOrder(_BigCommerce):
    id: int = Field(ge=1)
    customer_id: int = 0  # 0 is a guest
    date_created: V2Date
    date_modified: V2Date
    status_id: int = Field(ge=0)
    currency_code: str
    total_inc_tax: Decimal | None = None
    payment_status: Text = None
    billing_address: BigCommerceAddress | None = None
    staff_notes: Text = None


class BigCommerceOrderStamp(_BigCommerce):
    """What reconciliation reads of each listed order."""

    id: int = Field(ge=1)
    date_modified: V2Date


class BigCommerceAppliedDiscount(_BigCommerce):
    id: str | int | None = None
    amount: Decimal
    name: Text = None
    code: Text = None


class BigCommerceOrderProduct(_BigCommerce):
    id: int
    sku: Text = None
    name: str
    quantity: int = Field(ge=1)
    price_ex_tax: Decimal = Field(ge=0)
    total_ex_tax: Decimal = Field(ge=0)
    total_tax: Decimal = Field(ge=0)
    applied_discounts: list[BigCommerceAppliedDiscount] = []


class BigCommerceShippingAddress(BigCommerceAddress):
    id: int


class BigCommerceOrderProducts(RootModel[list[BigCommerceOrderProduct]]):
    pass


class BigCommerceShippingAddresses(RootModel[list[BigCommerceShippingAddress]]):
    pass


class BigCommerceOrderStamps(RootModel[list[BigCommerceOrderStamp]]):
    pass
