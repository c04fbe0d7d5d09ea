"""B2B portal order → canonical ``Order``. The payload is ours, so this is nearly one field to one field."""

from __future__ import annotations

from shared.channels.b2b_portal.payloads import OrderSubmission, PortalAddress, PortalLine
from shared.models.money import Money
from shared.models.order import Address, Channel, CustomerRef, FinancialStatus, Order, OrderLine


def to_order(submission: OrderSubmission, store: str) -> Order:
    data = submission.data
    cancelled = submission.type == "order.cancelled"
    return Order(
        channel=Channel.B2B_PORTAL,
        store=store,
        external_id=data.id,
        order_number=data.order_number,
        customer=CustomerRef(
            external_id=data.customer.account_number, email=data.customer.email, company=data.customer.company
        ),
        currency=data.currency,
        lines=tuple(_line(line, data.currency) for line in data.lines),
        shipping_address=_address(data.ship_to),
        # A portal takes no payment: the account's terms apply, and the ERP step knows them.
        financial_status=FinancialStatus.UNKNOWN,
        placed_at=data.placed_at,
        updated_at=data.updated_at,
        cancelled_at=(data.cancelled_at or data.updated_at) if cancelled else None,
        cancel_reason=data.cancel_reason if cancelled else None,
    )


def _line(line: PortalLine, currency: str) -> OrderLine:
    return OrderLine(
        line_id=line.line_id,
        sku=line.sku or None,
        title=line.description,
        quantity=line.quantity,
        unit_price=Money(amount=line.unit_price, currency=currency),
    )


def _address(address: PortalAddress | None) -> Address | None:
    return Address.model_validate(address.model_dump()) if address else None
