"""The part of BigCommerce's order resources we read: the V2 order, its products, shipping addresses and
shipments, and the V3 refunds and refund quotes.

V2 writes money as strings (``"11.5000"``), dates in RFC 2822 (``Mon, 30 Nov 2026 15:42:19 +0000``) and ``""``
for a value it does not have. Unknown fields are ignored (bigcommerce/docs ``reference/orders.v2.oas2.yml``).
V3 payment actions wrap each answer in ``data`` and write money as numbers (``reference/orders.v3.yml``).
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
    quantity_shipped: int = Field(default=0, ge=0)
    quantity_refunded: int = Field(default=0, ge=0)
    order_address_id: int | None = None
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


class BigCommerceShipmentItem(_BigCommerce):
    order_product_id: int
    quantity: int


class BigCommerceShipment(_BigCommerce):
    id: int = Field(ge=1)
    tracking_number: Text = None
    comments: Text = None
    items: list[BigCommerceShipmentItem] = []


class BigCommerceShipments(RootModel[list[BigCommerceShipment]]):
    pass


class BigCommerceRefundItem(_BigCommerce):
    item_type: str
    item_id: int | None = None
    quantity: int | None = None
    reason: Text = None


class BigCommerceRefund(_BigCommerce):
    id: int = Field(ge=1)
    order_id: int | None = None
    reason: Text = None
    total_amount: Decimal | None = None
    items: list[BigCommerceRefundItem] = []

    def reasons(self) -> list[str]:
        """The refund's reason and its items': BigCommerce keeps the reason per item."""
        return [reason for reason in (self.reason, *(item.reason for item in self.items)) if reason]


class BigCommerceRefunds(_BigCommerce):
    data: list[BigCommerceRefund]


class BigCommerceRefundCreated(_BigCommerce):
    data: BigCommerceRefund


class BigCommercePaymentOption(_BigCommerce):
    provider_id: str
    provider_description: Text = None
    amount: Decimal
    offline: bool = False
    offline_provider: bool = False


class BigCommerceRefundQuote(_BigCommerce):
    total_refund_amount: Decimal
    # Each method is one way to pay the whole refund back: one provider, or a split over several.
    refund_methods: list[list[BigCommercePaymentOption]] = []


class BigCommerceRefundQuoteCreated(_BigCommerce):
    data: BigCommerceRefundQuote
