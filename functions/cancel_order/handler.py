"""Channel OrderCancelled consumer: cancel in the ERP and the WMS. Wiring only; see ``logic``."""

from __future__ import annotations

import functools
from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.cancel_order.env import CancelOrderEnv
from functions.cancel_order.logic import CancelDeps, cancel_order
from shared.aws.event_bus import EventBridgePublisher
from shared.aws.order_store import DynamoOrderStore
from shared.aws.queue_ports import queue_ports
from shared.aws.systems import connected_erp, connected_wms
from shared.connections import Connected
from shared.consumer import consume
from shared.env import load_env
from shared.erp.netsuite import NetSuiteErp
from shared.models.bus import parse_event
from shared.models.events import OrderCancelled
from shared.observability import logger
from shared.wms.shipbob import ShipBobWms


@functools.cache
def env() -> CancelOrderEnv:
    return load_env(CancelOrderEnv)


@functools.cache
def adapters() -> tuple[Connected[NetSuiteErp], Connected[ShipBobWms]]:
    return connected_erp(env()), connected_wms(env())


def deps() -> CancelDeps:
    """Per record: the adapters follow their connection secrets (a rotation needs no cold start)."""
    settings = env()
    erp, wms = adapters()
    return CancelDeps(
        erp=erp(),
        wms=wms(),
        publisher=EventBridgePublisher(settings.EVENT_BUS_NAME),
        states=DynamoOrderStore(settings.ORDERS_TABLE_NAME),
        routing=settings.ROUTING_RULES,
    )


def handle(body: str) -> None:
    cancel_order(parse_event(body, OrderCancelled), deps())


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return consume(event, context, handle, **queue_ports(env()))
