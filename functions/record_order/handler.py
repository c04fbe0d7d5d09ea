"""SQS consumer of every order event on the bus: partial batch responses, permanent failures to the DLQ."""

from __future__ import annotations

import functools
from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.record_order.env import RecordOrderEnv
from functions.record_order.logic import record_event
from shared.aws.order_store import DynamoOrderStore
from shared.aws.queue_ports import queue_ports
from shared.consumer import consume
from shared.env import load_env
from shared.models.bus import parse_event
from shared.models.events import EventEnvelope
from shared.observability import logger


@functools.cache
def env() -> RecordOrderEnv:
    return load_env(RecordOrderEnv)


@functools.cache
def store() -> DynamoOrderStore:
    return DynamoOrderStore(env().ORDERS_TABLE_NAME)


def handle(body: str) -> None:
    record_event(parse_event(body, EventEnvelope), store())


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return consume(event, context, handle, **queue_ports(env()))
