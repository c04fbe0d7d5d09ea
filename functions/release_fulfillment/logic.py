"""Release an accepted order to the warehouse: one fulfillment request per (order, warehouse), created once."""

from __future__ import annotations

from dataclasses import dataclass

from shared.ids import safe_ref
from shared.models.events import FulfillmentReleased, OrderAccepted, metadata_for
from shared.models.lifecycle import FulfillmentRelease, FulfillmentRequest
from shared.observability import logger
from shared.ports import EventPublisher
from shared.wms.ports import Wms

SOURCE = "crossdock.fulfillment"


@dataclass
class ReleaseDeps:
    wms: Wms
    publisher: EventPublisher


def release_fulfillment(event: OrderAccepted, deps: ReleaseDeps) -> list[FulfillmentReleased]:
    order = event.data.order
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
        )
        wms_order = deps.wms.release(request)
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
