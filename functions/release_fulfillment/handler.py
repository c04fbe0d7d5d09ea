"""OrderAccepted consumer: release to the WMS. Wiring only; see ``logic``."""

from __future__ import annotations

import functools
from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.release_fulfillment.env import ReleaseFulfillmentEnv
from functions.release_fulfillment.logic import ReleaseDeps, release_fulfillment
from shared.aws.event_bus import EventBridgePublisher
from shared.aws.order_store import DynamoOrderStore
from shared.aws.queue_ports import queue_ports
from shared.aws.systems import connected_wms
from shared.connections import Connected
from shared.consumer import consume
from shared.env import load_env
from shared.models.bus import parse_event
from shared.models.events import OrderAccepted
from shared.observability import logger
from shared.wms.shipbob import ShipBobWms


@functools.cache
def env() -> ReleaseFulfillmentEnv:
    return load_env(ReleaseFulfillmentEnv)


@functools.cache
def wms() -> Connected[ShipBobWms]:
    return connected_wms(env())


def deps() -> ReleaseDeps:
    """Per record: the WMS adapter follows its connection secret (a rotation needs no cold start)."""
    return ReleaseDeps(
        wms=wms()(),
        publisher=EventBridgePublisher(env().EVENT_BUS_NAME),
        states=DynamoOrderStore(env().ORDERS_TABLE_NAME),
        routing=env().ROUTING_RULES,
    )


def handle(body: str) -> None:
    release_fulfillment(parse_event(body, OrderAccepted), deps())


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return consume(event, context, handle, **queue_ports(env()))
