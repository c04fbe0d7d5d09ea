"""CreditMemoIssued consumer: refund in the channel. Wiring only; see ``logic``."""

from __future__ import annotations

import functools
from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.refund_channel.env import RefundChannelEnv
from functions.refund_channel.logic import RefundDeps, refund_channel
from shared.aws.event_bus import EventBridgePublisher
from shared.aws.idempotency import dynamodb_persistence
from shared.aws.queue_ports import queue_ports
from shared.aws.systems import connected_channels
from shared.consumer import consume
from shared.env import load_env
from shared.models.bus import parse_event
from shared.models.events import CreditMemoIssued
from shared.observability import logger
from shared.once import Once


@functools.cache
def env() -> RefundChannelEnv:
    return load_env(RefundChannelEnv)


@functools.cache
def deps() -> RefundDeps:
    return RefundDeps(
        api_for=connected_channels(env()),
        publisher=EventBridgePublisher(env().EVENT_BUS_NAME),
        once=once(),
    )


@functools.cache
def once() -> Once:
    return Once(dynamodb_persistence(env().IDEMPOTENCY_TABLE_NAME), "refund_channel")


def handle(body: str) -> None:
    refund_channel(parse_event(body, CreditMemoIssued), deps())


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    once().register(context)
    return consume(event, context, handle, **queue_ports(env()))
