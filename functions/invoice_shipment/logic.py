"""Record a shipment in the ERP (item fulfillment and invoice), then announce it: the channel waits for this."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from shared.erp.ports import Erp
from shared.errors import DownstreamUnavailable, NotFound
from shared.models.events import OrderInvoiced, ShipmentDispatched
from shared.models.shipping import Invoice
from shared.observability import logger
from shared.ports import EventPublisher

SOURCE = "crossdock.billing"


@dataclass
class InvoiceDeps:
    erp: Erp
    publisher: EventPublisher


def invoice_shipment(event: ShipmentDispatched, deps: InvoiceDeps) -> OrderInvoiced:
    shipment = event.data
    try:
        record = deps.erp.record_shipment(shipment.order_key, shipment)
    except NotFound as error:
        # The warehouse shipped an order whose sales order the ERP does not show yet (its write still in flight,
        # or the ERP read side lagging): wait for it like for an outage, rather than lose the shipment.
        raise DownstreamUnavailable("the ERP has no sales order for the shipment yet", system="erp") from error
    invoice = Invoice(
        order_key=shipment.order_key,
        shipment=shipment,
        erp_sales_order_id=record.sales_order_id,
        erp_fulfillment_id=record.fulfillment_id,
        erp_invoice_id=record.invoice_id,
        amount=record.amount,
    )
    invoiced = OrderInvoiced.about(invoice, dedupe_key=f"{shipment.order_key}:{shipment.shipment_id}", source=SOURCE)
    deps.publisher.publish([invoiced])
    logger.info(
        "shipment invoiced",
        shipment_id=shipment.shipment_id,
        erp_fulfillment_id=record.fulfillment_id,
        erp_invoice_id=record.invoice_id,
    )
    return invoiced


def shipment_to_invoice(invoiced: OrderInvoiced) -> timedelta:
    """From the warehouse's ship time to the ERP invoice (the event is made right after the invoice exists)."""
    # A WMS clock ahead of ours would make it negative: that is no latency at all.
    return max(timedelta(0), invoiced.metadata.occurred_at - invoiced.data.shipment.shipped_at)
