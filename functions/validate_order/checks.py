"""The checks an order goes through against the ERP. Each returns the problems it finds as ``Reason``s."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from shared.erp.ports import ErpCustomer, ErpItem
from shared.models.lifecycle import Reason
from shared.models.order import FinancialStatus, Order
from shared.models.rules import OrderRules


def check_customer(order: Order, customer: ErpCustomer | None) -> list[Reason]:
    if customer is None:
        return [Reason(code="unknown_customer", message="no ERP customer matches the order's customer")]
    reasons = []
    if not customer.active:
        reasons.append(Reason(code="inactive_customer", message=f"ERP customer {customer.id} is inactive"))
    if customer.credit_hold:
        reasons.append(Reason(code="credit_hold", message=f"ERP customer {customer.id} is on credit hold"))
    total = order.total.amount if order.total else Decimal(0)
    if customer.credit_limit is not None and (customer.balance or Decimal(0)) + total > customer.credit_limit:
        reasons.append(Reason(code="over_credit_limit", message="balance plus this order exceeds the credit limit"))
    # Anything short of paid in full leaves a balance the customer's terms must cover.
    unpaid = order.financial_status in (
        FinancialStatus.PENDING,
        FinancialStatus.AUTHORIZED,
        FinancialStatus.PARTIALLY_PAID,
        FinancialStatus.UNKNOWN,
    )
    if unpaid and not customer.terms:
        reasons.append(Reason(code="no_terms", message="an unpaid order needs payment terms in the ERP"))
    return reasons


def check_lines(order: Order, items: Mapping[str, ErpItem], rules: OrderRules) -> list[Reason]:
    reasons = []
    tolerance = rules.price_tolerance_pct / Decimal(100)
    for line in order.lines:
        if line.sku is None:
            reasons.append(Reason(code="missing_sku", message="the line has no SKU", line_id=line.line_id))
            continue
        item = items.get(line.sku)
        if item is None:
            reasons.append(Reason(code="unknown_sku", message=f"{line.sku} is not an ERP item", line_id=line.line_id))
            continue
        if item.restricted:
            reasons.append(Reason(code="restricted_product", message=f"{line.sku} is restricted", line_id=line.line_id))
        if item.currency != order.currency:
            reasons.append(
                Reason(
                    code="currency_mismatch", message=f"ERP prices {line.sku} in {item.currency}", line_id=line.line_id
                )
            )
        elif line.unit_price.amount < item.price * (1 - tolerance):
            reasons.append(
                Reason(
                    code="price_below_erp",
                    message=f"{line.sku} at {line.unit_price.amount} is below the ERP price {item.price}",
                    line_id=line.line_id,
                )
            )
    return reasons


def check_destination(order: Order, items: Mapping[str, ErpItem], rules: OrderRules) -> list[Reason]:
    address = order.shipping_address
    if address is None or address.country_code is None:
        return [Reason(code="missing_tax_context", message="no ship-to country: tax and routing need one")]
    reasons = []
    if address.country_code in rules.restricted_destinations:
        reasons.append(
            Reason(code="restricted_destination", message=f"shipping to {address.country_code} is restricted")
        )
    taxable = any(item.taxable for item in items.values())
    # US sales tax is by state: a taxable US order with no state cannot be taxed correctly.
    if taxable and address.country_code == "US" and not address.region_code:
        reasons.append(Reason(code="missing_tax_context", message="a taxable US order needs a ship-to state"))
    return reasons
