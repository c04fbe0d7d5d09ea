"""Scheduled: count the orders stuck past their SLA per status (metric ``StuckOrders``) and name them in a log."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.detect_stuck_orders.env import DetectStuckEnv
from functions.detect_stuck_orders.logic import detect_stuck_orders
from shared.aws.order_store import DynamoOrderStore
from shared.env import load_env
from shared.metrics import STUCK_ORDERS
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
        # A dimension holds for a whole EMF document, so each status is its own (service is added to each).
        with single_metric(name=STUCK_ORDERS, unit=MetricUnit.Count, value=count) as metric:
            metric.add_dimension(name="status", value=status)
    return {"stuck": len(detection.stuck), "per_status": detection.per_status}
