"""Decision and cancellation consumer: push the status to the channel. Wiring only; see ``logic``."""

from __future__ import annotations

import functools
from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.update_channel.env import UpdateChannelEnv
from functions.update_channel.logic import UpdateChannelDeps, update_channel
from shared.aws.event_bus import EventBridgePublisher
from shared.aws.order_store import DynamoOrderStore
from shared.aws.queue_ports import queue_ports
from shared.aws.systems import connected_channels
from shared.consumer import consume
from shared.env import load_env
from shared.models.bus import parse_event
from shared.models.events import OrderAccepted, OrderCancelled, OrderHeld, OrderRejected
from shared.observability import logger


@functools.cache
def env() -> UpdateChannelEnv:
    return load_env(UpdateChannelEnv)


@functools.cache
def deps() -> UpdateChannelDeps:
    return UpdateChannelDeps(
        api_for=connected_channels(env()),
        publisher=EventBridgePublisher(env().EVENT_BUS_NAME),
        states=DynamoOrderStore(env().ORDERS_TABLE_NAME),
    )


def handle(body: str) -> None:
    update_channel(parse_event(body, (OrderAccepted, OrderHeld, OrderRejected, OrderCancelled)), deps())


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return consume(event, context, handle, **queue_ports(env()))
