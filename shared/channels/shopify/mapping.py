"""Shopify order resource → canonical ``Order``."""

from __future__ import annotations

from shared.channels.shopify.payloads import ShopifyAddress, ShopifyLineItem, ShopifyOrder
from shared.models.money import Money
from shared.models.order import (
    Address,
    Channel,
    CustomerRef,
    Discount,
    FinancialStatus,
    Order,
    OrderLine,
    TaxLine,
)

_FINANCIAL_STATUS = {status.value: status for status in FinancialStatus}


def to_order(payload: ShopifyOrder, shop_domain: str) -> Order:
    currency = payload.currency.upper()
    company = payload.billing_address.company if payload.billing_address else None
    return Order(
        channel=Channel.SHOPIFY,
        store=shop_domain,
        external_id=str(payload.id),
        order_number=payload.name,
        customer=CustomerRef(
            external_id=str(payload.customer.id) if payload.customer and payload.customer.id else None,
            email=(payload.customer.email if payload.customer else None) or payload.email,
            company=company,
        ),
        currency=currency,
        lines=tuple(_line(item, payload, currency) for item in payload.line_items),
        shipping_address=_address(payload.shipping_address),
        financial_status=_FINANCIAL_STATUS.get(payload.financial_status or "", FinancialStatus.UNKNOWN),
        total=Money(amount=payload.total_price, currency=currency) if payload.total_price is not None else None,
        placed_at=payload.created_at,
        updated_at=payload.updated_at,
        cancelled_at=payload.cancelled_at,
        cancel_reason=payload.cancel_reason,
    )


def _line(item: ShopifyLineItem, payload: ShopifyOrder, currency: str) -> OrderLine:
    def money(amount: object) -> Money:
        return Money.model_validate({"amount": amount, "currency": currency})

    discounts = tuple(
        Discount(code=_discount_code(payload, allocation.discount_application_index), amount=money(allocation.amount))
        for allocation in item.discount_allocations
        if allocation.amount
    )
    return OrderLine(
        line_id=str(item.id),
        sku=item.sku or None,  # Shopify sends "" as well as null for custom items
        title=item.title,
        quantity=item.quantity,
        unit_price=money(item.price),
        discounts=discounts,
        tax_lines=tuple(TaxLine(title=t.title, rate=t.rate, amount=money(t.price)) for t in item.tax_lines),
    )


def _discount_code(payload: ShopifyOrder, index: int | None) -> str | None:
    if index is None or not 0 <= index < len(payload.discount_applications):
        return None
    application = payload.discount_applications[index]
    return application.code or application.title


def _address(address: ShopifyAddress | None) -> Address | None:
    if address is None:
        return None
    return Address(
        name=address.name,
        company=address.company,
        line1=address.address1,
        line2=address.address2,
        city=address.city,
        region_code=address.province_code,
        postal_code=address.zip,
        country_code=address.country_code.upper() if address.country_code else None,
        phone=address.phone,
    )
