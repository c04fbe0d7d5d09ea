"""OrderInvoiced consumer (or ShipmentDispatched, where the ERP need not go first): fulfil in the channel."""

from __future__ import annotations

import functools
from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.fulfil_channel.env import FulfilChannelEnv
from functions.fulfil_channel.logic import FulfilDeps, fulfil_channel
from shared.aws.event_bus import EventBridgePublisher
from shared.aws.idempotency import dynamodb_persistence
from shared.aws.queue_ports import queue_ports
from shared.aws.systems import connected_channels
from shared.consumer import consume
from shared.env import load_env
from shared.models.bus import parse_event
from shared.models.events import OrderInvoiced, ShipmentDispatched
from shared.observability import logger
from shared.once import Once


@functools.cache
def env() -> FulfilChannelEnv:
    return load_env(FulfilChannelEnv)


@functools.cache
def deps() -> FulfilDeps:
    return FulfilDeps(
        api_for=connected_channels(env()),
        publisher=EventBridgePublisher(env().EVENT_BUS_NAME),
        invoice_before_fulfil=env().INVOICE_BEFORE_FULFIL,
        once=once(),
    )


@functools.cache
def once() -> Once:
    return Once(dynamodb_persistence(env().IDEMPOTENCY_TABLE_NAME), "fulfil_channel")


def handle(body: str) -> None:
    event = parse_event(body, (OrderInvoiced, ShipmentDispatched))
    assert isinstance(event, OrderInvoiced | ShipmentDispatched)  # parse_event checked it; this tells mypy
    fulfil_channel(event, deps())


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    once().register(context)
    return consume(event, context, handle, **queue_ports(env()))
