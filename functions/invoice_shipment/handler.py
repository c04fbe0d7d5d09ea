"""ShipmentDispatched consumer: record the shipment in the ERP. Wiring only; see ``logic``."""

from __future__ import annotations

import functools
from typing import Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.invoice_shipment.env import InvoiceShipmentEnv
from functions.invoice_shipment.logic import InvoiceDeps, invoice_shipment, shipment_to_invoice
from shared.aws.event_bus import EventBridgePublisher
from shared.aws.queue_ports import queue_ports
from shared.aws.requeue import SqsRequeue
from shared.aws.systems import connected_erp
from shared.connections import Connected
from shared.consumer import consume
from shared.env import load_env
from shared.erp.netsuite import NetSuiteErp
from shared.metrics import SHIPMENT_TO_INVOICE_LATENCY
from shared.models.bus import parse_event
from shared.models.events import OrderInvoiced, ShipmentDispatched
from shared.observability import logger
from shared.waiting import Waiting

metrics = Metrics()


@functools.cache
def env() -> InvoiceShipmentEnv:
    return load_env(InvoiceShipmentEnv)


@functools.cache
def erp() -> Connected[NetSuiteErp]:
    return connected_erp(env())


def handle(body: str) -> None:
    deps = InvoiceDeps(erp=erp()(), publisher=EventBridgePublisher(env().EVENT_BUS_NAME))
    measure(invoice_shipment(parse_event(body, ShipmentDispatched), deps))


def measure(invoiced: OrderInvoiced) -> None:
    """Once per shipment invoiced. A redelivery after a success counts again (rare): the ERP hands back the
    records it made before without saying they are old."""
    latency = shipment_to_invoice(invoiced).total_seconds() * 1000
    metrics.add_metric(name=SHIPMENT_TO_INVOICE_LATENCY, unit=MetricUnit.Milliseconds, value=latency)


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    settings = env()
    waiting = Waiting(SqsRequeue(settings.BUFFER_URL), settings.WAIT_POLICY)
    return consume(event, context, handle, waiting=waiting, **queue_ports(settings))
