"""Scheduled per channel: reconcile the channel's recent orders with the intake ledger."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from typing import Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from functions.reconcile_orders.env import ReconcileEnv, ReconcileRequest
from functions.reconcile_orders.logic import ReconcileDeps, reconcile_orders
from shared.aws.event_bus import EventBridgePublisher
from shared.aws.order_store import DynamoOrderStore
from shared.aws.systems import connected_channels
from shared.channels.connected import ConnectedChannels
from shared.env import load_env
from shared.errors import CircuitOpen, NotFound
from shared.metrics import MISSED_ORDERS_RECOVERED
from shared.observability import logger
from shared.validation import as_validation_failed

metrics = Metrics()


@functools.cache
def env() -> ReconcileEnv:
    return load_env(ReconcileEnv)


@functools.cache
def channels() -> ConnectedChannels:
    return connected_channels(env())


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        request = ReconcileRequest.model_validate(event)
    except ValidationError as error:
        raise as_validation_failed(error, "reconciliation request") from None
    api = channels()(request.channel)
    if api is None:
        raise NotFound("channel has no API to reconcile with", platform=request.channel)
    deps = ReconcileDeps(
        api=api, states=DynamoOrderStore(env().ORDERS_TABLE_NAME), publisher=EventBridgePublisher(env().EVENT_BUS_NAME)
    )
    try:
        recovered = reconcile_orders(datetime.now(UTC), timedelta(minutes=request.lookback_minutes), deps)
    except CircuitOpen as error:
        # The channel keeps failing: the next scheduled run looks again, over a look-back that covers this one.
        logger.warning(
            "reconciliation skipped: breaker open", system=error.system, retry_after=error.retry_after_seconds
        )
        return {"channel": request.channel, "recovered": [], "skipped": "breaker_open"}
    metrics.add_dimension(name="channel", value=request.channel)
    metrics.add_metric(name=MISSED_ORDERS_RECOVERED, unit=MetricUnit.Count, value=len(recovered))
    return {"channel": request.channel, "recovered": [r.data.key for r in recovered]}
