"""StockReported, OrderCancelled, ShipmentDispatched and ReturnReceived consumer: the ledger's only writer besides
reservations. Wiring only.
"""

from __future__ import annotations

import functools
from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.apply_inventory.env import ApplyInventoryEnv
from functions.apply_inventory.logic import (
    ApplyDeps,
    apply_return,
    apply_shipment,
    apply_stock_report,
    release_cancelled,
)
from shared.aws.event_bus import EventBridgePublisher
from shared.aws.inventory_ledger import DynamoInventoryLedger
from shared.aws.queue_ports import queue_ports
from shared.consumer import consume
from shared.env import load_env
from shared.models.bus import parse_event
from shared.models.events import OrderCancelled, ReturnReceived, ShipmentDispatched, StockReported
from shared.observability import logger


@functools.cache
def env() -> ApplyInventoryEnv:
    return load_env(ApplyInventoryEnv)


def deps() -> ApplyDeps:
    settings = env()
    return ApplyDeps(
        ledger=DynamoInventoryLedger(settings.INVENTORY_TABLE_NAME),
        publisher=EventBridgePublisher(settings.EVENT_BUS_NAME),
        routing=settings.ROUTING_RULES,
    )


def handle(body: str) -> None:
    event = parse_event(body, (StockReported, OrderCancelled, ShipmentDispatched, ReturnReceived))
    if isinstance(event, StockReported):
        apply_stock_report(event, deps())
    elif isinstance(event, OrderCancelled):
        release_cancelled(event, deps())
    elif isinstance(event, ShipmentDispatched):
        apply_shipment(event, deps())
    elif isinstance(event, ReturnReceived):
        apply_return(event, deps())


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return consume(event, context, handle, **queue_ports(env()))
