"""Check a received order against the ERP, decide, create the ERP sales order, choose the warehouses.

Accepted: the ERP sales order exists (created once, on the order's external id) and the allocations say
which warehouse ships which lines. Held or rejected: the reasons say why, machine-readable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from functions.validate_order.checks import check_customer, check_destination, check_lines
from functions.validate_order.routing import route
from shared.erp.ports import Erp
from shared.models.events import OrderAccepted, OrderHeld, OrderReceived, OrderRejected, metadata_for
from shared.models.lifecycle import OrderDecision, Reason
from shared.models.order_state import OrderState, OrderStatus
from shared.models.rules import Action, OrderRules, RoutingRules
from shared.observability import logger
from shared.ports import EventPublisher

SOURCE = "crossdock.orders"
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


def validate_order(event: OrderReceived, deps: ValidateDeps) -> Decision | None:
    order = event.data
    state = deps.states.get(order.key)
    if state is not None and state.cancelling:
        logger.info("order cancelled before validation", order_key=order.key)
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
    if decision is OrderAccepted:
        allocations, stock_reasons = route(order, items, deps.routing)
        decision = _decide(stock_reasons, deps.rules)
        reasons = stock_reasons
    if decision is OrderAccepted:
        assert customer is not None  # an unknown customer never passes the checks
        sales_order = deps.erp.upsert_sales_order(order, customer, allocations)
        if _cancelled_meanwhile(order.key, deps):
            # The channel cancelled while we were deciding: undo the sales order, release nothing.
            deps.erp.cancel_sales_order(order)
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
    deps.publisher.publish([result])
    logger.info("order decided", decision=decision.detail_type, reasons=[r.code for r in data.reasons])
    return result


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
