"""A channel cancelled an order: cancel the ERP sales order if nothing shipped, withdraw the WMS releases.

Too late (shipped or invoiced) is not an error: the order is held with a reason for a person to handle.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from shared.erp.ports import CancelOutcome, Erp
from shared.ids import safe_ref
from shared.models.events import OrderCancelled, OrderHeld, metadata_for
from shared.models.lifecycle import OrderDecision, Reason
from shared.models.order_state import OrderStatus
from shared.models.rules import RoutingRules
from shared.observability import logger
from shared.ports import EventPublisher
from shared.wms.ports import Wms, WmsCancelOutcome

SOURCE = "crossdock.orders"


class StatusStore(Protocol):
    def advance_status(self, order_key: str, status: OrderStatus, at: datetime) -> bool: ...

    def request_cancel(self, order_key: str, at: datetime) -> None: ...


@dataclass
class CancelDeps:
    erp: Erp
    wms: Wms
    publisher: EventPublisher
    states: StatusStore
    routing: RoutingRules


def cancel_order(event: OrderCancelled, deps: CancelDeps) -> OrderCancelled | OrderHeld:
    order = event.data
    # Marked first: a validation or release in flight for this order sees it and creates nothing more.
    deps.states.request_cancel(order.key, datetime.now(UTC))
    # The warehouses first: goods that left must keep their sales order, so the ERP is only cancelled once
    # no warehouse has shipped.
    reasons = [
        Reason(code="too_late_to_cancel", message=f"{warehouse.id} has already shipped")
        for warehouse in deps.routing.warehouses
        if deps.wms.cancel(safe_ref(order.key, warehouse.id)) is WmsCancelOutcome.TOO_LATE
    ]
    erp = deps.erp.cancel_sales_order(order) if not reasons else None
    if erp is CancelOutcome.TOO_LATE:
        reasons.append(Reason(code="too_late_to_cancel", message="the ERP sales order is already fulfilled or billed"))
    if reasons:
        held = OrderHeld(
            metadata=metadata_for(
                OrderHeld.detail_type, dedupe_key=f"{order.key}:cancel", order_key=order.key, source=SOURCE
            ),
            data=OrderDecision(order=order, reasons=tuple(reasons)),
        )
        deps.publisher.publish([held])
        logger.warning("cancellation too late", order_key=order.key)
        return held
    deps.states.advance_status(order.key, OrderStatus.CANCELLED, datetime.now(UTC))
    cancelled = OrderCancelled(
        metadata=metadata_for(
            OrderCancelled.detail_type, dedupe_key=f"{order.key}:cancel", order_key=order.key, source=SOURCE
        ),
        data=order,
    )
    deps.publisher.publish([cancelled])
    logger.info("order cancelled", erp=erp.value if erp else None)
    return cancelled
