"""OrderReceived consumer: validate against the ERP, decide, route. Wiring only; see ``logic``."""

from __future__ import annotations

import functools
from typing import Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.validate_order.env import ValidateOrderEnv
from functions.validate_order.logic import Decision, ValidateDeps, oversell_prevented, time_to_erp, validate_order
from shared.aws.event_bus import EventBridgePublisher
from shared.aws.inventory_ledger import DynamoInventoryLedger
from shared.aws.order_store import DynamoOrderStore
from shared.aws.queue_ports import queue_ports
from shared.aws.systems import connected_erp
from shared.connections import Connected
from shared.consumer import consume
from shared.env import load_env
from shared.erp.netsuite import NetSuiteErp
from shared.metrics import (
    ORDERS_ACCEPTED,
    ORDERS_HELD,
    ORDERS_RECEIVED,
    ORDERS_REJECTED,
    OVERSELL_PREVENTED,
    TIME_TO_ERP,
)
from shared.models.bus import parse_event
from shared.models.events import OrderAccepted, OrderHeld, OrderReceived, OrderRejected
from shared.observability import logger

metrics = Metrics()
# The count each decision adds to.
DECIDED = {
    OrderAccepted.detail_type: ORDERS_ACCEPTED,
    OrderHeld.detail_type: ORDERS_HELD,
    OrderRejected.detail_type: ORDERS_REJECTED,
}


@functools.cache
def env() -> ValidateOrderEnv:
    return load_env(ValidateOrderEnv)


@functools.cache
def erp() -> Connected[NetSuiteErp]:
    return connected_erp(env())


def deps() -> ValidateDeps:
    """Per record: the ERP adapter follows its connection secret (a rotation needs no cold start)."""
    settings = env()
    return ValidateDeps(
        erp=erp()(),
        publisher=EventBridgePublisher(settings.EVENT_BUS_NAME),
        states=DynamoOrderStore(settings.ORDERS_TABLE_NAME),
        rules=settings.ORDER_RULES,
        routing=settings.ROUTING_RULES,
        ledger=DynamoInventoryLedger(settings.INVENTORY_TABLE_NAME),
    )


def handle(body: str) -> None:
    received = parse_event(body, OrderReceived)
    decision = validate_order(received, deps())
    if decision is not None:  # None: decided before (a redelivery) or cancelled, nothing to count
        measure(received, decision)


def measure(received: OrderReceived, decision: Decision) -> None:
    """The business metrics of a decision made this time; ``log_metrics`` flushes them after the batch."""
    metrics.add_metric(name=ORDERS_RECEIVED, unit=MetricUnit.Count, value=1)
    metrics.add_metric(name=DECIDED[decision.detail_type], unit=MetricUnit.Count, value=1)
    elapsed = time_to_erp(received, decision)
    if elapsed is not None:
        metrics.add_metric(name=TIME_TO_ERP, unit=MetricUnit.Milliseconds, value=elapsed.total_seconds() * 1000)
    if oversell_prevented(decision):
        metrics.add_metric(name=OVERSELL_PREVENTED, unit=MetricUnit.Count, value=1)


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return consume(event, context, handle, **queue_ports(env()))
