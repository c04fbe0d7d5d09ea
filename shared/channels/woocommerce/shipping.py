"""What a shipment and a refund become on WooCommerce, which has no shipments: a customer note, and a refund.

Platform facts (woocommerce/woocommerce, REST v3 ``class-wc-rest-order-notes-controller.php``,
``class-wc-rest-order-refunds-controller.php``, ``wc-order-functions.php``):
- A note with ``customer_note: true`` is emailed to the buyer: it carries the carrier, the tracking numbers and
  a marker with the shipment id, so a repeat is found among the order's notes.
- What shipped is counted in the order's meta, one private key per shipment (``_crossdock_shipment_<id>``, its
  SKUs and quantities as JSON): absolute values, so writing one again changes nothing, and one key per
  shipment, so two shipments written at once do not overwrite each other. The notes are for people; parsing
  them back would make their wording a contract. When every line has shipped in full, a ``processing`` order is
  set ``completed``; otherwise it stays as it is.
- ``POST /orders/{id}/refunds`` takes ``amount`` (a string), ``reason`` (it carries the refund id) and
  ``line_items`` (``id``, ``quantity``, ``refund_total``). ``api_refund: false``: the ERP's credit memo is the
  books and the money goes back through the ERP's payment run (B2B accounts pay by transfer on terms), so
  WooCommerce records the refund and its gateway does not pay it a second time; ``bacs`` and the other offline
  gateways refuse ``api_refund: true`` anyway. ``api_restock: false``: the warehouse restocks what it received.
  An amount over what is left to refund is a 500 from WooCommerce (``wc_create_refund`` fails), which would read
  as an outage, so it is checked here first.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, RootModel

from shared.channels.base import RefundRequest
from shared.errors import ValidationFailed
from shared.models.shipping import Shipment, ShippedLine

SYSTEM = "woocommerce"
CENT = Decimal("0.01")
SHIPMENT_META = "_crossdock_shipment_"  # private meta: a leading underscore keeps it off the buyer's views
CLOSED_STATUSES = frozenset({"cancelled", "refunded", "trash"})
COMPLETABLE_STATUSES = frozenset({"processing"})


class _Woo(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class WooOrderLine(_Woo):
    id: int
    sku: str | None = None
    quantity: int
    total: Decimal = Decimal(0)
    total_tax: Decimal = Decimal(0)


class WooMeta(_Woo):
    key: str
    value: Any = None


class WooShippingOrder(_Woo):
    """The part of an order that shipping and refunding read."""

    id: int = Field(ge=1)
    status: str
    currency: str
    total: Decimal = Decimal(0)
    line_items: list[WooOrderLine] = []
    meta_data: list[WooMeta] = []


class WooNote(_Woo):
    id: int
    note: str


class WooNotes(RootModel[list[WooNote]]):
    pass


class WooRefundLine(_Woo):
    sku: str | None = None
    quantity: int = 0  # negative on a refund


class WooRefund(_Woo):
    id: int
    amount: Decimal
    reason: str | None = None
    line_items: list[WooRefundLine] = []


class WooRefunds(RootModel[list[WooRefund]]):
    pass


# -- shipments ------------------------------------------------------------------------------------------------
def shipment_marker(shipment_id: str) -> str:
    # Bracketed, so "S-1" is never found inside the note of "S-10".
    return f"[crossdock shipment {shipment_id}]"


def made_note(notes: Iterable[WooNote], shipment: Shipment) -> WooNote | None:
    marker = shipment_marker(shipment.shipment_id)
    return next((note for note in notes if marker in note.note), None)


def shipment_note(shipment: Shipment) -> str:
    carrier = " ".join(filter(None, (shipment.carrier, shipment.service)))
    lines = [f"Your order has shipped with {carrier}.", "Tracking: " + ", ".join(shipment.tracking_numbers)]
    if shipment.tracking_url:
        lines.append(shipment.tracking_url)
    lines.append(f"Ref: {shipment_marker(shipment.shipment_id)}")
    return "\n".join(lines)


def shipment_meta_key(shipment_id: str) -> str:
    return SHIPMENT_META + shipment_id


def shipped(order: WooShippingOrder) -> dict[str, int]:
    """Units shipped per SKU, from the order's shipment meta."""
    totals: dict[str, int] = {}
    for meta in order.meta_data:
        if not meta.key.startswith(SHIPMENT_META):
            continue
        lines = json.loads(meta.value) if isinstance(meta.value, str) else meta.value
        for sku, quantity in (lines or {}).items():
            totals[sku] = totals.get(sku, 0) + int(quantity)
    return totals


def shipment_meta(order: WooShippingOrder, shipment: Shipment) -> dict[str, Any] | None:
    """The meta entry recording this shipment, checked against what the order has left; None if recorded."""
    key = shipment_meta_key(shipment.shipment_id)
    if any(meta.key == key for meta in order.meta_data):
        return None
    check_left(shipment.lines, ordered(order), shipped(order), "ship")
    return {"key": key, "value": json.dumps(shipment.quantities(), sort_keys=True)}


def all_shipped(order: WooShippingOrder) -> bool:
    done = shipped(order)
    return all(done.get(sku, 0) >= quantity for sku, quantity in ordered(order).items()) and all(
        line.sku for line in order.line_items
    )


def ordered(order: WooShippingOrder) -> dict[str, int]:
    totals: dict[str, int] = {}
    for line in order.line_items:
        if line.sku:
            totals[line.sku] = totals.get(line.sku, 0) + line.quantity
    return totals


def check_left(wanted: Sequence[ShippedLine], ordered: dict[str, int], done: dict[str, int], what: str) -> None:
    for index, line in enumerate(wanted):
        if line.sku not in ordered:
            raise ValidationFailed("the order has no line with this sku", system=SYSTEM, field=f"lines.{index}.sku")
        if line.quantity > ordered[line.sku] - done.get(line.sku, 0):
            raise ValidationFailed(
                f"more than the order has left to {what}", system=SYSTEM, field=f"lines.{index}.quantity"
            )


# -- refunds --------------------------------------------------------------------------------------------------
def refund_marker(refund_id: str) -> str:
    return f"[crossdock refund {refund_id}]"


def made_refund(refunds: Iterable[WooRefund], refund_id: str) -> WooRefund | None:
    marker = refund_marker(refund_id)
    return next((refund for refund in refunds if refund.reason and marker in refund.reason), None)


def refund_body(order: WooShippingOrder, refunds: Sequence[WooRefund], request: RefundRequest) -> dict[str, Any]:
    amount = request.amount.amount
    if request.amount.currency != order.currency:
        raise ValidationFailed("refund currency is not the order's", system=SYSTEM, field="amount.currency")
    left = order.total - sum((refund.amount for refund in refunds), Decimal(0))
    if not 0 < amount <= left:
        raise ValidationFailed("more than the order has left to refund", system=SYSTEM, field="amount")
    refunded: dict[str, int] = {}
    for line in (line for refund in refunds for line in refund.line_items if line.sku):
        refunded[str(line.sku)] = refunded.get(str(line.sku), 0) - line.quantity
    check_left(request.lines, ordered(order), refunded, "refund")
    lines = _pick(order.line_items, request.lines, refunded)
    reason = f"{refund_marker(request.refund_id)} RMA {request.rma_number} {request.note}".strip()
    return {
        "amount": format(amount, "f"),
        "reason": reason,
        "line_items": [
            {"id": line.id, "quantity": quantity, "refund_total": format(share, "f")}
            for (line, quantity), share in zip(lines, _spread(amount, lines), strict=True)
        ],
        "api_refund": False,
        "api_restock": False,
    }


def _pick(
    lines: Sequence[WooOrderLine], wanted: Sequence[ShippedLine], refunded: dict[str, int]
) -> list[tuple[WooOrderLine, int]]:
    """(order line, quantity) for each SKU, from its lines in order, after what earlier refunds took."""
    picked: list[tuple[WooOrderLine, int]] = []
    for want in wanted:
        taken, needed = refunded.get(want.sku, 0), want.quantity
        for line in (line for line in lines if line.sku == want.sku):
            free = max(0, line.quantity - taken)
            taken = max(0, taken - line.quantity)
            take = min(free, needed)
            if take:
                picked.append((line, take))
                needed -= take
    return picked


def _spread(amount: Decimal, lines: Sequence[tuple[WooOrderLine, int]]) -> list[Decimal]:
    """The credited amount over the lines by their value (with tax), in cents; the last takes the rounding."""
    values = [(line.total + line.total_tax) / line.quantity * quantity for line, quantity in lines]
    whole = sum(values, Decimal(0))
    if whole <= 0:
        values, whole = [Decimal(quantity) for _, quantity in lines], Decimal(sum(q for _, q in lines))
    shares = [(amount * value / whole).quantize(CENT, rounding=ROUND_HALF_UP) for value in values[:-1]]
    return [*shares, amount - sum(shares, Decimal(0))]
