"""Release an accepted order to the warehouse: one fulfillment request per (order, warehouse), created once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from shared.ids import safe_ref
from shared.models.events import FulfillmentReleased, OrderAccepted, metadata_for
from shared.models.lifecycle import FulfillmentRelease, FulfillmentRequest
from shared.models.order_state import OrderState
from shared.models.rules import RoutingRules
from shared.observability import logger
from shared.ports import EventPublisher
from shared.wms.ports import Wms

SOURCE = "crossdock.fulfillment"


class OrderStates(Protocol):
    def get(self, order_key: str) -> OrderState | None: ...

    def remember_reference(self, reference: str, order_key: str) -> None: ...


@dataclass
class ReleaseDeps:
    wms: Wms
    publisher: EventPublisher
    states: OrderStates
    routing: RoutingRules | None = None


def release_fulfillment(event: OrderAccepted, deps: ReleaseDeps) -> list[FulfillmentReleased]:
    order = event.data.order
    if _cancelling(order.key, deps):
        logger.info("order cancelled before release", order_key=order.key)
        return []
    released = []
    for allocation in event.data.allocations:
        request = FulfillmentRequest(
            order_key=order.key,
            # The WMS's idempotency key: a retry finds the order it already made.
            reference_id=safe_ref(order.key, allocation.warehouse),
            warehouse=allocation.warehouse,
            lines=allocation.lines,
            ship_to=order.shipping_address,
            order_number=order.order_number,
            facility=_facility(allocation.warehouse, deps.routing),
        )
        # Before the WMS has it: its shipment webhooks name the order by this reference only.
        deps.states.remember_reference(request.reference_id, order.key)
        wms_order = deps.wms.release(request)
        if _cancelling(order.key, deps):
            # The channel cancelled while we released: withdraw it; the cancellation has its own record.
            deps.wms.cancel(request.reference_id)
            logger.info("release withdrawn: order cancelled meanwhile", order_key=order.key)
            return []
        dedupe_key = f"{order.key}:{allocation.warehouse}"
        released.append(
            FulfillmentReleased(
                metadata=metadata_for(
                    FulfillmentReleased.detail_type, dedupe_key=dedupe_key, order_key=order.key, source=SOURCE
                ),
                data=FulfillmentRelease(request=request, wms_order_id=wms_order.id),
            )
        )
        logger.info("fulfillment released", warehouse=allocation.warehouse, wms_created=wms_order.created)
    deps.publisher.publish(released)
    return released


def _facility(warehouse: str, routing: RoutingRules | None) -> str | None:
    warehouses = routing.warehouses if routing is not None else ()
    return next((w.wms_facility for w in warehouses if w.id == warehouse), None)


def _cancelling(order_key: str, deps: ReleaseDeps) -> bool:
    state = deps.states.get(order_key)
    return state is not None and state.cancelling
