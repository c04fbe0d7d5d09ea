"""WooCommerce REST v3 order → canonical ``Order``."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from shared.channels.woocommerce.payloads import WooAddress, WooLineItem, WooOrder
from shared.errors import ValidationFailed
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

# WooCommerce stores line totals, not unit prices; four places keep a bulk item's per-unit price exact enough.
UNIT_PRICE_PLACES = Decimal("0.0001")
_FINANCIAL_STATUS = {
    "pending": FinancialStatus.PENDING,
    "on-hold": FinancialStatus.PENDING,  # awaiting a bank transfer or a cheque
    "checkout-draft": FinancialStatus.PENDING,
    "processing": FinancialStatus.PAID,
    "completed": FinancialStatus.PAID,
    "refunded": FinancialStatus.REFUNDED,
}


def to_order(payload: WooOrder, store: str) -> Order:
    currency = payload.currency.upper()
    billing = payload.billing or WooAddress()
    return Order(
        channel=Channel.WOOCOMMERCE,
        store=store,
        external_id=str(payload.id),
        order_number=payload.number,
        customer=CustomerRef(
            external_id=str(payload.customer_id) if payload.customer_id else None,
            email=billing.email or None,
            company=billing.company or None,
        ),
        currency=currency,
        lines=tuple(_line(item, payload, currency) for item in payload.line_items),
        shipping_address=_address(payload.shipping),
        financial_status=_financial_status(payload),
        total=Money(amount=payload.total, currency=currency) if payload.total is not None else None,
        placed_at=payload.date_created_gmt,
        updated_at=payload.date_modified_gmt,
        # WooCommerce keeps no cancellation date or reason; the change that cancelled it is the last modification.
        cancelled_at=payload.date_modified_gmt if payload.status == "cancelled" else None,
    )


def _line(item: WooLineItem, payload: WooOrder, currency: str) -> OrderLine:
    def money(amount: Decimal) -> Money:
        return Money(amount=amount, currency=currency)

    # Coupons are not allocated per line: the line's discount is subtotal - total, under the order's coupon codes.
    discount = item.subtotal - item.total
    codes = ",".join(coupon.code for coupon in payload.coupon_lines) or None
    rates = {rate.rate_id: rate for rate in payload.tax_lines}
    tax_lines = []
    for tax in item.taxes:
        if not tax.total:
            continue
        rate = rates.get(tax.id)
        tax_lines.append(
            TaxLine(
                title=(rate.label if rate else None) or f"tax rate {tax.id}",
                # A rate WooCommerce did not describe keeps its amount; the ERP step recomputes tax anyway.
                rate=(rate.rate_percent / 100) if rate and rate.rate_percent is not None else Decimal(0),
                amount=money(tax.total),
            )
        )
    try:
        unit_price = (item.subtotal / item.quantity).quantize(UNIT_PRICE_PLACES)
    except InvalidOperation:
        # Beyond Decimal's precision: no real price looks like this.
        raise ValidationFailed("invalid WooCommerce order", field="line_items.subtotal") from None
    return OrderLine(
        line_id=str(item.id),
        sku=item.sku or None,  # "" for a product with no SKU
        title=item.name,
        quantity=item.quantity,
        unit_price=money(unit_price),
        discounts=(Discount(code=codes, amount=money(discount)),) if discount > 0 else (),
        tax_lines=tuple(tax_lines),
    )


def _financial_status(payload: WooOrder) -> FinancialStatus:
    if payload.refunds and payload.status != "refunded":
        return FinancialStatus.PARTIALLY_REFUNDED
    return _FINANCIAL_STATUS.get(payload.status, FinancialStatus.UNKNOWN)


def _address(address: WooAddress | None) -> Address | None:
    if address is None or not (address.address_1 or address.city or address.country):
        return None  # virtual-only orders carry an all-blank shipping address
    name = " ".join(part for part in (address.first_name, address.last_name) if part)
    return Address(
        name=name or None,
        company=address.company or None,
        line1=address.address_1 or None,
        line2=address.address_2 or None,
        city=address.city or None,
        region_code=address.state or None,
        postal_code=address.postcode or None,
        country_code=address.country.upper() if address.country else None,
        phone=address.phone or None,
    )
