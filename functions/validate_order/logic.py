"""Check a received order against the ERP, decide, create the ERP sales order, choose the warehouses.

Accepted: the stock is reserved in the ledger, the ERP sales order exists (created once, on the order's
external id) and the allocations say which warehouse ships which lines. Held or rejected: the reasons say why,
machine-readable.

The reservation is the gate against overselling: it is all or nothing per order and conditional on the ledger
row's version, so when orders race for the last units exactly as many win as there are units. A loser is held
``insufficient_stock`` and ``OversellPrevented`` says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from functions.validate_order.checks import check_customer, check_destination, check_lines
from functions.validate_order.routing import route
from shared.erp.ports import Erp
from shared.errors import PermanentError
from shared.models.events import (
    EventEnvelope,
    InventoryAdjusted,
    OrderAccepted,
    OrderHeld,
    OrderReceived,
    OrderRejected,
    OversellPrevented,
    derive_id,
    metadata_for,
)
from shared.models.inventory import OversellPrevention, ReservationLine, Shortage
from shared.models.lifecycle import AllocatedLine, Allocation, OrderDecision, Reason
from shared.models.order import Order
from shared.models.order_state import OrderState, OrderStatus
from shared.models.rules import Action, OrderRules, RoutingRules
from shared.observability import logger
from shared.ports import EventPublisher, InventoryLedger

SOURCE = "crossdock.orders"
# One DynamoDB transaction holds 100 items: a reservation and a ledger row per line.
MAX_RESERVATION_LINES = 50
Decision = OrderAccepted | OrderHeld | OrderRejected


class OrderStates(Protocol):
    def get(self, order_key: str) -> OrderState | None: ...


@dataclass
class ValidateDeps:
    erp: Erp
    publisher: EventPublisher
    states: OrderStates
    rules: OrderRules
    routing: RoutingRules
    ledger: InventoryLedger
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))


def validate_order(event: OrderReceived, deps: ValidateDeps) -> Decision | None:
    order = event.data
    state = deps.states.get(order.key)
    if state is not None and state.cancelling:
        # An earlier attempt may have reserved before the cancellation landed: give the units back.
        released = deps.ledger.release(order.key, deps.clock())
        deps.publisher.publish(_adjusted(order, tuple(released), cause="release"))
        logger.info("order cancelled before validation", order_key=order.key, released=len(released))
        return None
    if state is not None and state.status is not None and state.status.rank > OrderStatus.RECEIVED.rank:
        # Decided already (a redelivery, or the same order from reconciliation): do nothing twice.
        logger.info("order already decided", order_key=order.key, status=state.status.value)
        return None
    customer = deps.erp.find_customer(order)
    items = deps.erp.items(sorted({line.sku for line in order.lines if line.sku}), customer)
    reasons = check_customer(order, customer) + check_lines(order, items, deps.rules)
    reasons += check_destination(order, items, deps.rules)
    decision = _decide(reasons, deps.rules)
    extra: list[EventEnvelope[Any]] = []
    if decision is OrderAccepted:
        allocations, reasons, extra = _reserve(order, deps)
        decision = _decide(reasons, deps.rules)
    if decision is OrderAccepted:
        assert customer is not None  # an unknown customer never passes the checks
        try:
            sales_order = deps.erp.upsert_sales_order(order, customer, allocations)
        except PermanentError:
            # The ERP refused the order for good: it will not ship, so its units go back on sale.
            deps.ledger.release(order.key, deps.clock())
            raise
        if _cancelled_meanwhile(order.key, deps):
            # The channel cancelled while we were deciding: undo the sales order and the reservation.
            deps.erp.cancel_sales_order(order)
            deps.ledger.release(order.key, deps.clock())
            logger.info("order cancelled during validation", order_key=order.key)
            return None
        data = OrderDecision(order=order, erp_sales_order_id=sales_order.id, allocations=tuple(allocations))
    else:
        data = OrderDecision(
            order=order, reasons=tuple(r for r in reasons if deps.rules.action(r.code) != Action.IGNORE)
        )
    # One decision per order: its id is derived from the order, so a redo publishes the same event.
    result = decision(
        metadata=metadata_for(decision.detail_type, dedupe_key=order.key, order_key=order.key, source=SOURCE), data=data
    )
    # Inventory events first: once the decision is out, a redelivery stops at "already decided".
    deps.publisher.publish(extra)
    deps.publisher.publish([result])
    logger.info("order decided", decision=decision.detail_type, reasons=[r.code for r in data.reasons])
    return result


def time_to_erp(received: OrderReceived, decision: Decision) -> timedelta | None:
    """From the order's arrival at the intake to its ERP sales order; None unless accepted.

    The accepted decision is made right after the sales order exists, so its time stands for the sales order's.
    """
    if not isinstance(decision, OrderAccepted):
        return None
    return max(timedelta(0), decision.metadata.occurred_at - received.metadata.occurred_at)


def oversell_prevented(decision: Decision) -> bool:
    """Not accepted because the units were not there: no warehouse had them, or the reservation lost a race."""
    short = any(reason.code == "insufficient_stock" for reason in decision.data.reasons)
    return short and not isinstance(decision, OrderAccepted)


def _reserve(order: Order, deps: ValidateDeps) -> tuple[list[Allocation], list[Reason], list[EventEnvelope[Any]]]:
    """Route on the ledger's stock and reserve it; once more from fresh stock if another order won the race.

    Returns the allocations, the reasons not to accept (empty when reserved) and the events to publish.
    """
    held = _held_allocations(order, deps)
    if held:
        # A redo after the reservation was taken (e.g. the decision failed to publish): keep what is held.
        keys = [(line.sku, allocation.warehouse) for allocation in held for line in allocation.lines]
        return held, [], _adjusted(order, tuple(deps.ledger.levels(keys).values()))
    skus = sorted({line.sku for line in order.lines if line.sku})
    shortages: tuple[Shortage, ...] = ()
    for _attempt in range(2):
        levels = deps.ledger.levels((sku, w.id) for sku in skus for w in deps.routing.warehouses)
        stock = {
            w.id: {sku: max(0, levels[(sku, w.id)].atp) for sku in skus if (sku, w.id) in levels}
            for w in deps.routing.warehouses
        }
        allocations, reasons = route(order, stock, deps.routing)
        if reasons:
            return [], reasons, _oversell(order, _route_shortages(order, reasons, stock))
        lines = [
            ReservationLine(line_id=line.line_id, sku=line.sku, location=allocation.warehouse, quantity=line.quantity)
            for allocation in allocations
            for line in allocation.lines
        ]
        if len(lines) > MAX_RESERVATION_LINES:
            message = f"{len(lines)} lines; one reservation holds at most {MAX_RESERVATION_LINES}"
            return [], [Reason(code="too_many_lines", message=message)], []
        outcome = deps.ledger.reserve(order.key, lines, deps.clock())
        if outcome.reserved:
            return allocations, [], _adjusted(order, outcome.levels)
        shortages = outcome.shortages
        logger.info("reservation lost a race", order_key=order.key, shortages=len(shortages))
    reasons = [
        Reason(code="insufficient_stock", message=f"{s.available} x {s.sku} left at {s.location}", line_id=s.line_id)
        for s in shortages
    ]
    return [], reasons, _oversell(order, shortages)


def _held_allocations(order: Order, deps: ValidateDeps) -> list[Allocation]:
    """The allocations an earlier attempt reserved, when it reserved every line; else none."""
    held = deps.ledger.reservations(order.key)
    wanted = {line.line_id for line in order.lines if line.sku}
    if not held or {line.line_id for line in held} != wanted:
        return []
    warehouses = {w.id: w for w in deps.routing.warehouses}
    by_location: dict[str, list[AllocatedLine]] = {}
    for line in held:
        by_location.setdefault(line.location, []).append(
            AllocatedLine(line_id=line.line_id, sku=line.sku, quantity=line.quantity)
        )
    return [
        Allocation(warehouse=location, erp_location=warehouses[location].erp_location, lines=tuple(lines))
        for location, lines in by_location.items()
        if location in warehouses
    ]


def _route_shortages(order: Order, reasons: list[Reason], stock: dict[str, dict[str, int]]) -> tuple[Shortage, ...]:
    """Lines routing found no stock for, with the most any one warehouse has (``*``: no single warehouse)."""
    short = {r.line_id for r in reasons if r.code == "insufficient_stock"}
    if not short:
        return ()
    return tuple(
        Shortage(
            line_id=line.line_id,
            sku=line.sku,
            location="*",
            wanted=line.quantity,
            available=max((units.get(line.sku, 0) for units in stock.values()), default=0),
        )
        for line in order.lines
        if line.sku and (None in short or line.line_id in short)
    )


def _adjusted(order: Order, levels: tuple[Any, ...], cause: str = "reservation") -> list[EventEnvelope[Any]]:
    correlation_id = derive_id("order", order.key)  # on the order's trace, as its decision is
    return list(
        InventoryAdjusted.for_levels(cause, order.key, list(levels), correlation_id=correlation_id, source=SOURCE)
    )


def _oversell(order: Order, shortages: tuple[Shortage, ...]) -> list[EventEnvelope[Any]]:
    """An order the channel sold that stock cannot cover: say so, so ops see how often a channel oversold."""
    if not shortages:
        return []
    metadata = metadata_for(OversellPrevented.detail_type, dedupe_key=order.key, order_key=order.key, source=SOURCE)
    prevention = OversellPrevention(order_key=order.key, channel=order.channel.value, shortages=shortages)
    return [OversellPrevented(metadata=metadata, data=prevention)]


def _cancelled_meanwhile(order_key: str, deps: ValidateDeps) -> bool:
    state = deps.states.get(order_key)
    return state is not None and state.cancelling


def _decide(reasons: list[Reason], rules: OrderRules) -> type[Decision]:
    actions = {rules.action(reason.code) for reason in reasons}
    if Action.REJECT in actions:
        return OrderRejected
    if Action.HOLD in actions:
        return OrderHeld
    return OrderAccepted
