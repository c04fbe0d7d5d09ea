"""What a shipment and a refund become on BigCommerce: a V2 shipment and a V3 payment-actions refund.

Platform facts (bigcommerce/docs ``reference/orders.v2.oas2.yml``, ``reference/orders.v3.yml``):
- ``POST /v2/orders/{id}/shipments`` ships ``items`` (``order_product_id``, ``quantity``) to one
  ``order_address_id``, with one ``tracking_number``; ``tracking_carrier`` and ``shipping_provider`` are codes
  from fixed lists (empty for any other carrier), ``comments`` is free text. Shipping moves the order to Shipped
  or Partially Shipped. A shipment has no field of ours but ``comments``: it carries the shipment id, so a
  repeat is found among the order's shipments.
- ``POST /v3/orders/{id}/payment_actions/refunds`` takes ``items`` (``PRODUCT`` by order product id and
  quantity, or ``ORDER`` with an ``amount``, tax not recalculated) and ``payments`` (``provider_id``, ``amount``,
  ``offline``). The payments must add up to what BigCommerce computes for the items, which a refund quote
  (``POST .../refund_quotes``) tells, with the ways it can be paid back. The reason is per item (at most 1,000
  characters) and carries the refund id.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from shared.channels.base import RefundRequest
from shared.channels.bigcommerce.resources import (
    BigCommerceOrderProduct,
    BigCommercePaymentOption,
    BigCommerceRefund,
    BigCommerceRefundQuote,
    BigCommerceShipment,
    BigCommerceShippingAddress,
)
from shared.channels.lines import allocate
from shared.errors import ValidationFailed
from shared.models.shipping import Shipment

SYSTEM = "bigcommerce"
CENT = Decimal("0.01")
# Carrier names as warehouses write them → BigCommerce's codes. Another carrier ships with neither code and its
# name in ``shipping_method``, which the buyer sees with the tracking number.
TRACKING_CARRIERS = {"ups": "ups", "fedex": "fedex", "usps": "usps", "dhl": "dhl", "dhl express": "dhl"}
SHIPPING_PROVIDERS = frozenset({"ups", "fedex", "usps"})  # providers BigCommerce integrates itself
# Refunding to store credit or as "custom" (paid back outside BigCommerce) is a person's choice, not ours.
NOT_THE_PAYMENT = frozenset({"storecredit", "custom"})

Available = tuple[int, str | None, int]  # an order product's id, its SKU, how many it has left


def as_number(amount: Decimal) -> float:
    """V3 takes money as a JSON number. A value rounded to cents comes back from float's shortest repr exactly."""
    return float(amount.quantize(CENT))


# -- shipments ------------------------------------------------------------------------------------------------
def shipment_marker(shipment_id: str) -> str:
    # Bracketed, so "S-1" is never found inside the comments of "S-10".
    return f"[crossdock shipment {shipment_id}]"


def made_for(shipments: Iterable[BigCommerceShipment], shipment: Shipment) -> BigCommerceShipment | None:
    """The shipment already made for this one: ours by its comments, or one carrying its first tracking number."""
    marker, first = shipment_marker(shipment.shipment_id), shipment.tracking_numbers[0]
    return next((s for s in shipments if marker in (s.comments or "") or s.tracking_number == first), None)


def shipment_body(
    shipment: Shipment, products: Sequence[BigCommerceOrderProduct], addresses: Sequence[BigCommerceShippingAddress]
) -> dict[str, Any]:
    available = [(p.id, p.sku, p.quantity - p.quantity_shipped) for p in products]
    items = allocate(shipment.lines, available, "ship", SYSTEM)
    address_id = _address_for(items, products, addresses)
    carrier = shipment.carrier.casefold()
    numbers = shipment.tracking_numbers
    comments = shipment_marker(shipment.shipment_id)
    if len(numbers) > 1:  # one tracking number per shipment: the others go where the merchant reads them
        comments += " Other packages: " + ", ".join(numbers[1:])
    body: dict[str, Any] = {
        "order_address_id": address_id,
        "tracking_number": numbers[0],
        "shipping_method": " ".join(filter(None, (shipment.carrier, shipment.service))),
        "shipping_provider": carrier if carrier in SHIPPING_PROVIDERS else "",
        "tracking_carrier": TRACKING_CARRIERS.get(carrier, ""),
        "comments": comments,
        "items": [{"order_product_id": product_id, "quantity": quantity} for product_id, quantity in items],
    }
    if shipment.tracking_url:
        body["tracking_link"] = shipment.tracking_url
    return body


def _address_for(
    items: list[tuple[int, int]],
    products: Sequence[BigCommerceOrderProduct],
    addresses: Sequence[BigCommerceShippingAddress],
) -> int:
    """The one ship-to address of the shipped products (an order may ship to several)."""
    if not addresses:
        raise ValidationFailed("the order has no shipping address", system=SYSTEM, field="shipping_addresses")
    shipped = {item_id for item_id, _ in items}
    named = {p.order_address_id for p in products if p.id in shipped and p.order_address_id is not None}
    if len(named) > 1:
        raise ValidationFailed("a shipment goes to one address", system=SYSTEM, field="lines")
    known = {address.id for address in addresses}
    address_id = named.pop() if named else addresses[0].id
    if address_id not in known:
        raise ValidationFailed("the order has no such shipping address", system=SYSTEM, field="order_address_id")
    return address_id


# -- refunds --------------------------------------------------------------------------------------------------
def refund_marker(refund_id: str) -> str:
    return f"[crossdock refund {refund_id}]"


def made_refund(refunds: Iterable[BigCommerceRefund], refund_id: str) -> BigCommerceRefund | None:
    marker = refund_marker(refund_id)
    return next((r for r in refunds if any(marker in reason for reason in r.reasons())), None)


def refund_reason(request: RefundRequest) -> str:
    return f"{refund_marker(request.refund_id)} RMA {request.rma_number} {request.note}".strip()[:1000]


def product_items(request: RefundRequest, products: Sequence[BigCommerceOrderProduct]) -> list[dict[str, Any]]:
    available = [(p.id, p.sku, p.quantity - p.quantity_refunded) for p in products]
    reason = refund_reason(request)
    return [
        {"item_type": "PRODUCT", "item_id": product_id, "quantity": quantity, "reason": reason}
        for product_id, quantity in allocate(request.lines, available, "refund", SYSTEM)
    ]


def order_item(order_id: int, request: RefundRequest) -> dict[str, Any]:
    """The credited amount at order level: what the ERP credits, where BigCommerce's line math says otherwise."""
    amount = as_number(request.amount.amount)
    return {"item_type": "ORDER", "item_id": order_id, "amount": amount, "reason": refund_reason(request)}


def payment(quote: BigCommerceRefundQuote, amount: Decimal) -> dict[str, Any]:
    """Pay back through the order's own provider, offline where BigCommerce says it must be."""
    options = [method[0] for method in quote.refund_methods if len(method) == 1]
    option: BigCommercePaymentOption | None = next((o for o in options if o.provider_id not in NOT_THE_PAYMENT), None)
    if option is None:
        raise ValidationFailed("the order's payment cannot be refunded", system=SYSTEM, field="payments")
    return {"provider_id": option.provider_id, "amount": as_number(amount), "offline": option.offline}
