"""Scheduled: count the orders stuck past their SLA per status (metric ``StuckOrders``) and name them in a log;
flag each connected system whose breaker is open (metric ``OpenBreakers``)."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.detect_stuck_orders.env import DetectStuckEnv
from functions.detect_stuck_orders.logic import detect_stuck_orders, open_breakers
from shared.aws.breaker_store import DynamoBreakerStore
from shared.aws.order_store import DynamoOrderStore
from shared.env import load_env
from shared.metrics import OPEN_BREAKERS, STUCK_ORDERS
from shared.observability import logger


@functools.cache
def env() -> DetectStuckEnv:
    return load_env(DetectStuckEnv)


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = env()
    detection = detect_stuck_orders(
        DynamoOrderStore(settings.ORDERS_TABLE_NAME), settings.STUCK_POLICY, datetime.now(UTC)
    )
    for status, count in detection.per_status.items():
        emit(STUCK_ORDERS, count, status=status)
    breakers = open_breakers(DynamoBreakerStore(settings.OPS_TABLE_NAME), settings.CONNECTED_SYSTEMS)
    for system, is_open in breakers.items():
        emit(OPEN_BREAKERS, int(is_open), system=system)
    return {
        "stuck": len(detection.stuck),
        "per_status": detection.per_status,
        "open_breakers": [system for system, is_open in breakers.items() if is_open],
    }


def emit(name: str, value: int, **dimensions: str) -> None:
    # A dimension holds for a whole EMF document, so each value is its own (service is added to each).
    with single_metric(name=name, unit=MetricUnit.Count, value=value) as metric:
        for key, dimension in dimensions.items():
            metric.add_dimension(name=key, value=dimension)
