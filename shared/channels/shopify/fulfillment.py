"""What a shipment and a refund become on Shopify: the inputs of ``fulfillmentCreate`` and ``refundCreate``.

Platform facts (shopify.dev, Admin GraphQL 2026-07):
- A fulfillment ships fulfillment order line items (``FulfillmentInput.lineItemsByFulfillmentOrder``); only
  fulfillment orders that are ``OPEN`` or ``IN_PROGRESS`` take one. ``trackingInfo`` takes every number at once
  (``FulfillmentTrackingInput.numbers``). A fulfillment has no field of ours, so a repeat is found by its
  tracking numbers, which the warehouse gives each shipment.
- ``refundCreate`` takes line items with a ``restockType`` (``NO_RESTOCK``: the warehouse restocks what it
  received, and Shopify must not count it twice) and the money as transactions against the order's paid sale or
  capture (``OrderTransactionInput``: ``parentId``, ``gateway``, ``kind: REFUND``). The refund's ``note`` carries
  our key, so a repeat is found among the order's refunds.

Pure functions: the API client reads the order and sends what these build.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from shared.channels.base import RefundRequest
from shared.channels.lines import allocate
from shared.channels.shopify import graphql
from shared.errors import ValidationFailed
from shared.models.shipping import Shipment

SYSTEM = "shopify"
FULFILLABLE = frozenset({"OPEN", "IN_PROGRESS"})
PAID_KINDS = frozenset({"SALE", "CAPTURE"})

Available = tuple[str, str | None, int]  # an order line's id, its SKU, how many it has left


# -- fulfillment ----------------------------------------------------------------------------------------------
def made_for(fulfillments: Iterable[graphql.Fulfillment], shipment: Shipment) -> graphql.Fulfillment | None:
    """The live fulfillment made for this shipment: its first tracking number, and none that is not the shipment's.

    Read as a subset because the answer lists at most 20 numbers; a carrier never gives two shipments one number.
    """
    numbers, first = frozenset(shipment.tracking_numbers), shipment.tracking_numbers[0]
    return next(
        (
            f
            for f in fulfillments
            if f.status != "CANCELLED" and first in f.tracking_numbers and f.tracking_numbers <= numbers
        ),
        None,
    )


def fulfillment_input(order: graphql.OrderFulfillment, shipment: Shipment) -> dict[str, Any]:
    open_orders = [fo for fo in order.fulfillment_orders.nodes if fo.status in FULFILLABLE]
    owner = {line.id: fo.id for fo in open_orders for line in fo.line_items.nodes}
    available = [
        (line.id, line.line_item.sku, line.remaining_quantity) for fo in open_orders for line in fo.line_items.nodes
    ]
    groups: dict[str, list[dict[str, Any]]] = {}
    for line_id, quantity in allocate(shipment.lines, available, "ship", SYSTEM):
        groups.setdefault(owner[line_id], []).append({"id": line_id, "quantity": quantity})
    tracking: dict[str, Any] = {"company": shipment.carrier, "numbers": list(shipment.tracking_numbers)}
    if shipment.tracking_url:
        tracking["url"] = shipment.tracking_url
    return {
        "lineItemsByFulfillmentOrder": [
            {"fulfillmentOrderId": fo_id, "fulfillmentOrderLineItems": items} for fo_id, items in groups.items()
        ],
        "trackingInfo": tracking,
        "notifyCustomer": True,
    }


# -- refund ---------------------------------------------------------------------------------------------------
def refund_marker(refund_id: str) -> str:
    # Bracketed, so "R-1" is never found inside the note of "R-10".
    return f"[crossdock refund {refund_id}]"


def made_refund(refunds: Iterable[graphql.Refund], refund_id: str) -> graphql.Refund | None:
    marker = refund_marker(refund_id)
    return next((refund for refund in refunds if refund.note and marker in refund.note), None)


def refund_input(order: graphql.OrderRefunds, request: RefundRequest) -> dict[str, Any]:
    if request.amount.currency != order.presentment_currency_code:
        # The ERP credits in the order's currency; converting here would refund a different amount.
        raise ValidationFailed("refund currency is not the order's", system=SYSTEM, field="amount.currency")
    available = [(line.id, line.sku, line.refundable_quantity) for line in order.line_items.nodes]
    lines = allocate(request.lines, available, "refund", SYSTEM)
    parent = _paid_transaction(order.transactions)
    note = f"{refund_marker(request.refund_id)} RMA {request.rma_number}"
    if parent is None:
        # Unpaid (net terms): no money to send back. The lines are returned on the order, and the ERP's credit
        # memo settles the open invoice.
        note += f"; {format(request.amount.amount, 'f')} {request.amount.currency} credited against the invoice"
    transactions = (
        [
            {
                "orderId": order.id,
                "parentId": parent.id,
                "gateway": parent.gateway,
                "kind": "REFUND",
                "amount": format(request.amount.amount, "f"),
            }
        ]
        if parent is not None
        else []
    )
    return {
        "orderId": order.id,
        "note": f"{note}\n{request.note}" if request.note else note,
        "notify": True,
        "currency": order.presentment_currency_code,
        "refundLineItems": [
            {"lineItemId": line_id, "quantity": quantity, "restockType": "NO_RESTOCK"} for line_id, quantity in lines
        ],
        "transactions": transactions,
    }


def _paid_transaction(transactions: Iterable[graphql.Transaction]) -> graphql.Transaction | None:
    """The largest successful sale or capture: what a refund is paid back against (None: nothing was paid)."""
    paid = [t for t in transactions if t.kind in PAID_KINDS and t.status == "SUCCESS" and t.gateway]
    return max(paid, key=lambda t: t.amount_set.presentment_money.amount) if paid else None
