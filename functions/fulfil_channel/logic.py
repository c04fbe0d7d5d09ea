"""Tell the channel an order shipped, with carrier and tracking: once per shipment, after the ERP invoiced it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from shared.channels.base import ChannelApi
from shared.models.events import ChannelFulfilled, OrderInvoiced, ShipmentDispatched
from shared.models.order import split_order_key
from shared.models.shipping import ChannelFulfillment
from shared.observability import logger
from shared.once import Effect, just_run
from shared.ports import EventPublisher

SOURCE = "crossdock.channels"


@dataclass
class FulfilDeps:
    # None for a channel with no API to tell (a B2B portal that only sends).
    api_for: Callable[[str], ChannelApi | None]
    publisher: EventPublisher
    # The environment's rule: the channel hears "shipped" only once the ERP has invoiced the shipment.
    invoice_before_fulfil: bool = True
    # Two copies of one invoice handled at once must not both create (``shared.once``).
    once: Callable[[str, Effect], str | None] = just_run


def fulfil_channel(event: OrderInvoiced | ShipmentDispatched, deps: FulfilDeps) -> ChannelFulfilled | None:
    if isinstance(event, ShipmentDispatched) and deps.invoice_before_fulfil:
        # Only reachable through a misrouted rule or a manual replay: the invoice's own event will fulfil it.
        logger.warning("shipment not invoiced yet: channel not told", shipment_id=event.data.shipment_id)
        return None
    shipment = event.data.shipment if isinstance(event, OrderInvoiced) else event.data
    channel, store, external_id = split_order_key(shipment.order_key)
    api = deps.api_for(channel.value)
    fulfillment_id = None
    if api is not None:
        key = f"fulfil:{shipment.order_key}:{shipment.shipment_id}"
        fulfillment_id = deps.once(key, lambda: api.create_fulfillment(external_id, shipment))
    fulfilled = ChannelFulfilled.about(
        ChannelFulfillment(
            order_key=shipment.order_key,
            channel=channel,
            store=store,
            external_id=external_id,
            shipment_id=shipment.shipment_id,
            tracking_numbers=shipment.tracking_numbers,
            channel_fulfillment_id=fulfillment_id,
        ),
        dedupe_key=f"{shipment.order_key}:{shipment.shipment_id}",
        source=SOURCE,
    )
    deps.publisher.publish([fulfilled])
    logger.info("channel fulfilled", shipment_id=shipment.shipment_id, channel=channel.value, told=api is not None)
    return fulfilled
