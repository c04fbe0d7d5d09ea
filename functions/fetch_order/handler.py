"""ChannelOrderNotified consumer: fetch the order from the channel. Wiring only; see ``logic``."""

from __future__ import annotations

import functools
from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.fetch_order.env import FetchOrderEnv
from functions.fetch_order.logic import FetchDeps, fetch_order
from shared.aws.event_bus import EventBridgePublisher
from shared.aws.queue_ports import queue_ports
from shared.aws.systems import connected_channels
from shared.consumer import consume
from shared.env import load_env
from shared.models.bus import parse_event
from shared.models.events import ChannelOrderNotified
from shared.observability import logger


@functools.cache
def env() -> FetchOrderEnv:
    return load_env(FetchOrderEnv)


@functools.cache
def deps() -> FetchDeps:
    return FetchDeps(
        api_for=connected_channels(env()),
        publisher=EventBridgePublisher(env().EVENT_BUS_NAME),
    )


def handle(body: str) -> None:
    fetch_order(parse_event(body, ChannelOrderNotified), deps())


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return consume(event, context, handle, **queue_ports(env()))
