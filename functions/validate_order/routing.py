"""Choose the warehouse(s) for an accepted order from the routing rules and what each warehouse can promise.

Stock comes from the inventory ledger (warehouse id → SKU → units free to promise), not the ERP: the ledger is
what reservations are taken against, so routing and the reservation agree.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from shared.models.lifecycle import AllocatedLine, Allocation, Reason
from shared.models.order import Order
from shared.models.rules import RoutingRules, Warehouse

Line = tuple[str, str, int]  # line id, sku, quantity


Stock = Mapping[str, Mapping[str, int]]  # warehouse id → SKU → units free to promise


def route(order: Order, stock: Stock, rules: RoutingRules) -> tuple[list[Allocation], list[Reason]]:
    """One warehouse if one can ship everything; else, if splits are allowed, each line from the first that can.

    Stock is counted per SKU, so two lines of one SKU never each take the same units.
    """
    lines: list[Line] = [(line.line_id, line.sku, line.quantity) for line in order.lines if line.sku]
    if not lines:
        return [], [Reason(code="nothing_to_ship", message="no line has a SKU a warehouse could pick")]
    candidates = _candidates(order, rules)
    if not candidates:
        return [], [Reason(code="no_warehouse", message="no warehouse serves the ship-to address")]
    left = {w.id: Counter(stock.get(w.id, {})) for w in candidates}
    needed = Counter[str]()
    for _, sku, quantity in lines:
        needed[sku] += quantity
    for warehouse in candidates:
        if all(left[warehouse.id][sku] >= quantity for sku, quantity in needed.items()):
            return [_allocation(warehouse, lines)], []
    if not rules.allow_split:
        return [], [Reason(code="insufficient_stock", message="no single warehouse can ship the whole order")]
    by_warehouse: dict[str, list[Line]] = {}
    reasons = []
    for line_id, sku, quantity in lines:
        source = next((w for w in candidates if left[w.id][sku] >= quantity), None)
        if source is None:
            reasons.append(
                Reason(code="insufficient_stock", message=f"no warehouse has {quantity} x {sku}", line_id=line_id)
            )
            continue
        left[source.id][sku] -= quantity
        by_warehouse.setdefault(source.id, []).append((line_id, sku, quantity))
    if reasons:
        return [], reasons
    warehouses = {w.id: w for w in candidates}
    return [_allocation(warehouses[w], w_lines) for w, w_lines in by_warehouse.items()], []


def _candidates(order: Order, rules: RoutingRules) -> list[Warehouse]:
    """Warehouses serving the destination, most specific region match first, then by priority."""
    address = order.shipping_address
    country = address.country_code if address else None
    region = f"{country}-{address.region_code}" if address and country and address.region_code else None

    def match(warehouse: Warehouse) -> int | None:
        if region and region in warehouse.regions:
            return 0
        if country and country in warehouse.regions:
            return 1
        return 2 if "*" in warehouse.regions else None

    ranked = [(m, w.priority, w) for w in rules.warehouses if (m := match(w)) is not None]
    return [w for _, _, w in sorted(ranked, key=lambda t: (t[0], t[1]))]


def _allocation(warehouse: Warehouse, lines: list[Line]) -> Allocation:
    return Allocation(
        warehouse=warehouse.id,
        erp_location=warehouse.erp_location,
        lines=tuple(AllocatedLine(line_id=line_id, sku=sku, quantity=quantity) for line_id, sku, quantity in lines),
    )
