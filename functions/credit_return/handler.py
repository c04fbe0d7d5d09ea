"""ReturnReceived consumer: the ERP credit memo. Wiring only; see ``logic``."""

from __future__ import annotations

import functools
from typing import Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.credit_return.env import CreditReturnEnv
from functions.credit_return.logic import CreditDeps, credit_return
from shared.aws.event_bus import EventBridgePublisher
from shared.aws.order_store import DynamoOrderStore
from shared.aws.queue_ports import queue_ports
from shared.aws.requeue import SqsRequeue
from shared.aws.systems import connected_erp
from shared.connections import Connected
from shared.consumer import consume
from shared.env import load_env
from shared.erp.netsuite import NetSuiteErp
from shared.metrics import RETURNS_CREDITED
from shared.models.bus import parse_event
from shared.models.events import ReturnReceived
from shared.observability import logger
from shared.waiting import Waiting

metrics = Metrics()


@functools.cache
def env() -> CreditReturnEnv:
    return load_env(CreditReturnEnv)


@functools.cache
def erp() -> Connected[NetSuiteErp]:
    return connected_erp(env())


def handle(body: str) -> None:
    settings = env()
    deps = CreditDeps(
        erp=erp()(),
        publisher=EventBridgePublisher(settings.EVENT_BUS_NAME),
        returns=DynamoOrderStore(settings.ORDERS_TABLE_NAME),
        credit_percent=settings.RETURN_POLICY.credit_percent,
    )
    credit_return(parse_event(body, ReturnReceived), deps)
    measure()


def measure() -> None:
    """One credit memo made. A redelivery after a success counts again (rare): the ERP hands back the memo it
    made before without saying it is old."""
    metrics.add_metric(name=RETURNS_CREDITED, unit=MetricUnit.Count, value=1)


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    settings = env()
    waiting = Waiting(SqsRequeue(settings.BUFFER_URL), settings.WAIT_POLICY)
    return consume(event, context, handle, waiting=waiting, **queue_ports(settings))
