"""OrderReceived consumer: validate against the ERP, decide, route. Wiring only; see ``logic``."""

from __future__ import annotations

import functools
from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.validate_order.env import ValidateOrderEnv
from functions.validate_order.logic import ValidateDeps, validate_order
from shared.aws.connections import SecretsManagerConnections
from shared.aws.event_bus import EventBridgePublisher
from shared.aws.inventory_ledger import DynamoInventoryLedger
from shared.aws.order_store import DynamoOrderStore
from shared.aws.queue_ports import queue_ports
from shared.connections import Connected
from shared.consumer import consume
from shared.env import load_env
from shared.erp.netsuite import NetSuiteErp
from shared.models.bus import parse_event
from shared.models.events import OrderReceived
from shared.observability import logger


@functools.cache
def env() -> ValidateOrderEnv:
    return load_env(ValidateOrderEnv)


@functools.cache
def erp() -> Connected[NetSuiteErp]:
    return Connected(SecretsManagerConnections(env().CONNECTION_PREFIX), "netsuite", NetSuiteErp)


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
    validate_order(parse_event(body, OrderReceived), deps())


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return consume(event, context, handle, **queue_ports(env()))
