"""The part of Shopify's order resource we read. Unknown fields are ignored: Shopify adds fields every version."""

from __future__ import annotations

from decimal import Decimal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class _Shopify(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class ShopifyTaxLine(_Shopify):
    title: str
    rate: Decimal = Field(ge=0)
    price: Decimal


class ShopifyDiscountAllocation(_Shopify):
    amount: Decimal
    discount_application_index: int | None = None


class ShopifyDiscountApplication(_Shopify):
    code: str | None = None
    title: str | None = None


class ShopifyLineItem(_Shopify):
    id: int
    sku: str | None = None
    title: str
    quantity: int = Field(ge=1)
    price: Decimal = Field(ge=0)
    tax_lines: list[ShopifyTaxLine] = []
    discount_allocations: list[ShopifyDiscountAllocation] = []


class ShopifyAddress(_Shopify):
    name: str | None = None
    company: str | None = None
    address1: str | None = None
    address2: str | None = None
    city: str | None = None
    province_code: str | None = None
    zip: str | None = None
    country_code: str | None = None
    phone: str | None = None


class ShopifyCustomer(_Shopify):
    id: int | None = None
    email: str | None = None


class ShopifyOrder(_Shopify):
    id: int
    name: str | None = None
    email: str | None = None
    currency: str
    financial_status: str | None = None
    created_at: AwareDatetime
    updated_at: AwareDatetime
    cancelled_at: AwareDatetime | None = None
    cancel_reason: str | None = None
    total_price: Decimal | None = None
    customer: ShopifyCustomer | None = None
    shipping_address: ShopifyAddress | None = None
    billing_address: ShopifyAddress | None = None
    discount_applications: list[ShopifyDiscountApplication] = []
    line_items: list[ShopifyLineItem] = Field(min_length=1)
