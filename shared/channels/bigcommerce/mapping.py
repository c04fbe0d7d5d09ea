"""BigCommerce V2 order, products and shipping addresses → canonical ``Order``.

The store is named by its store hash, as the webhook adapter names it, so both paths give one order key.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from shared.channels.bigcommerce.resources import (
    BigCommerceAddress,
    BigCommerceOrder,
    BigCommerceOrderProduct,
    BigCommerceShippingAddress,
)
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

CANCELLED = 5
AWAITING_PAYMENT = 7
RATE_PLACES = Decimal("0.0001")
# Order status → what it says about the money (support.bigcommerce.com "Order Statuses"). Statuses that say
# nothing certain (Cancelled, Manual Verification Required, Disputed) stay unknown for the ERP step to judge.
_FINANCIAL_STATUS = {
    0: FinancialStatus.PENDING,  # Incomplete: the shopper reached payment and left
    1: FinancialStatus.PENDING,  # Pending
    2: FinancialStatus.PAID,  # Shipped
    3: FinancialStatus.PAID,  # Partially Shipped
    4: FinancialStatus.REFUNDED,  # Refunded
    6: FinancialStatus.VOIDED,  # Declined: marked declined, typically for lack of manual payment
    7: FinancialStatus.PENDING,  # Awaiting Payment (authorized when the payment status says so)
    8: FinancialStatus.PAID,  # Awaiting Pickup
    9: FinancialStatus.PAID,  # Awaiting Shipment
    10: FinancialStatus.PAID,  # Completed
    11: FinancialStatus.PAID,  # Awaiting Fulfillment: checkout done, payment confirmed
    14: FinancialStatus.PARTIALLY_REFUNDED,  # Partially Refunded
}
# V2 addresses give the state's name only; the canonical address wants the code carriers and 3PLs take.
_REGION_CODES = {
    "US": {
        "Alabama": "AL", "Alaska": "AK", "Arizona": "AZ", "Arkansas": "AR", "California": "CA", "Colorado": "CO",
        "Connecticut": "CT", "Delaware": "DE", "District of Columbia": "DC", "Florida": "FL", "Georgia": "GA",
        "Hawaii": "HI", "Idaho": "ID", "Illinois": "IL", "Indiana": "IN", "Iowa": "IA", "Kansas": "KS",
        "Kentucky": "KY", "Louisiana": "LA", "Maine": "ME", "Maryland": "MD", "Massachusetts": "MA",
        "Michigan": "MI", "Minnesota": "MN", "Mississippi": "MS", "Missouri": "MO", "Montana": "MT",
        "Nebraska": "NE", "Nevada": "NV", "New Hampshire": "NH", "New Jersey": "NJ", "New Mexico": "NM",
        "New York": "NY", "North Carolina": "NC", "North Dakota": "ND", "Ohio": "OH", "Oklahoma": "OK",
        "Oregon": "OR", "Pennsylvania": "PA", "Puerto Rico": "PR", "Rhode Island": "RI", "South Carolina": "SC",
        "South Dakota": "SD", "Tennessee": "TN", "Texas": "TX", "Utah": "UT", "Vermont": "VT", "Virginia": "VA",
        "Washington": "WA", "West Virginia": "WV", "Wisconsin": "WI", "Wyoming": "WY",
    },
    "CA": {
        "Alberta": "AB", "British Columbia": "BC", "Manitoba": "MB", "New Brunswick": "NB",
        "Newfoundland and Labrador": "NL", "Northwest Territories": "NT", "Nova Scotia": "NS", "Nunavut": "NU",
        "Ontario": "ON", "Prince Edward Island": "PE", "Quebec": "QC", "Saskatchewan": "SK", "Yukon": "YT",
    },
}  # fmt: skip


def to_order(
    order: BigCommerceOrder,
    products: Sequence[BigCommerceOrderProduct],
    shipping_addresses: Sequence[BigCommerceShippingAddress],
    store_hash: str,
) -> Order:
    currency = order.currency_code.upper()
    billing = order.billing_address or BigCommerceAddress()
    return Order(
        channel=Channel.BIGCOMMERCE,
        store=store_hash,
        external_id=str(order.id),
        order_number=str(order.id),  # BigCommerce shows the order id to the buyer
        customer=CustomerRef(
            external_id=str(order.customer_id) if order.customer_id else None,
            email=billing.email,
            company=billing.company,
        ),
        currency=currency,
        lines=tuple(_line(product, currency) for product in products),
        # An order can ship to several addresses; the canonical order has one, so it takes the first.
        shipping_address=_address(shipping_addresses[0]) if shipping_addresses else None,
        financial_status=_financial_status(order),
        total=Money(amount=order.total_inc_tax, currency=currency) if order.total_inc_tax is not None else None,
        placed_at=order.date_created,
        updated_at=order.date_modified,
        # V2 keeps no cancellation date: the change that cancelled it is the last modification we can see.
        cancelled_at=order.date_modified if order.status_id == CANCELLED else None,
    )


def _line(product: BigCommerceOrderProduct, currency: str) -> OrderLine:
    def money(amount: Decimal) -> Money:
        return Money(amount=amount, currency=currency)

    discounts = tuple(
        Discount(code=discount.code or discount.name, amount=money(discount.amount))
        for discount in product.applied_discounts
        if discount.amount
    )
    # V2 gives the line's tax as one amount; its rate is that amount over the taxed total.
    taxes: tuple[TaxLine, ...] = ()
    if product.total_tax:
        rate = (product.total_tax / product.total_ex_tax).quantize(RATE_PLACES) if product.total_ex_tax else Decimal(0)
        taxes = (TaxLine(title="Tax", rate=rate, amount=money(product.total_tax)),)
    return OrderLine(
        line_id=str(product.id),
        sku=product.sku,
        title=product.name,
        quantity=product.quantity,
        unit_price=money(product.price_ex_tax),
        discounts=discounts,
        tax_lines=taxes,
    )


def _financial_status(order: BigCommerceOrder) -> FinancialStatus:
    if order.status_id == AWAITING_PAYMENT and (order.payment_status or "").lower() == "authorized":
        return FinancialStatus.AUTHORIZED
    return _FINANCIAL_STATUS.get(order.status_id, FinancialStatus.UNKNOWN)


def _address(address: BigCommerceShippingAddress) -> Address:
    name = " ".join(part for part in (address.first_name, address.last_name) if part)
    country = address.country_iso2.upper() if address.country_iso2 else None
    region = address.state
    if region and country in _REGION_CODES:
        region = _REGION_CODES[country].get(region, region)
    return Address(
        name=name or None,
        company=address.company,
        line1=address.street_1,
        line2=address.street_2,
        city=address.city,
        region_code=region,
        postal_code=address.zip,
        country_code=country,
        phone=address.phone,
    )
