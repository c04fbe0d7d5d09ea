"""One channel's availability sync: a whole SQS batch of ledger changes at once, so they coalesce. Wiring only.

Its queue also hears the decisions on the channel's own orders: the channel took stock for each when it sold it
(and gives it back on a cancellation), so the SKUs are written again even if our number did not move.

Records are parsed one by one (a bad one goes to the DLQ with its reason); the good ones drive one sync run.
A run that fails returns them to the queue; their SKUs are already marked, so nothing waits on them alone.
A run the channel's breaker stopped acknowledges them: the marks stay, and the sweep pushes them once it closes.
A message ``{"sweep": true}`` (the schedule) runs a pass with no new change: held increases, failed writes.
"""

from __future__ import annotations

import functools
import json
import time
from typing import Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.sync_availability.env import SyncAvailabilityEnv
from functions.sync_availability.logic import SyncDeps, publication_events, sync_availability
from shared.aws.availability_state import DynamoAvailabilityState
from shared.aws.dead_letters import SqsDeadLetters
from shared.aws.event_bus import EventBridgePublisher
from shared.aws.inventory_ledger import DynamoInventoryLedger
from shared.aws.systems import connected_inventory
from shared.channels.inventory import ChannelInventory
from shared.connections import Connected
from shared.consumer import dead_letter
from shared.env import load_env
from shared.errors import CircuitOpen, CrossdockError
from shared.metrics import CHANNEL_CALLS_PER_CHANGE, INVENTORY_PROPAGATION_LAG
from shared.models.bus import parse_event
from shared.models.events import (
    EventEnvelope,
    InventoryAdjusted,
    OrderAccepted,
    OrderCancelled,
    OrderHeld,
    OrderRejected,
)
from shared.models.inventory import InventoryChange
from shared.observability import logger

metrics = Metrics()
# Ledger changes, and the channel's own orders: it took stock for them itself, so our number is written again.
TAKES = (InventoryAdjusted, OrderAccepted, OrderHeld, OrderRejected, OrderCancelled)
# Left for the function to finish its bookkeeping after the last channel call.
RESERVE_SECONDS = 10.0


@functools.cache
def env() -> SyncAvailabilityEnv:
    return load_env(SyncAvailabilityEnv)


@functools.cache
def channel_api() -> Connected[ChannelInventory]:
    return connected_inventory(env(), env().CHANNEL)


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = env()
    logger.append_keys(channel=settings.CHANNEL)
    dead_letters = SqsDeadLetters(settings.DLQ_URL)
    changes: list[InventoryChange] = []
    sold: set[str] = set()
    ids: list[str] = []
    sweep = False
    for record in event.get("Records", []):
        body = record.get("body", "")
        if _is_sweep(body):
            sweep = True
        else:
            try:
                parsed = parse_event(body, TAKES)
            except CrossdockError as error:
                logger.warning("record failed", message_id=record.get("messageId"), reason=error.message)
                dead_letter(body, str(record.get("eventSourceARN", "")), error, dead_letters)
                continue
            if isinstance(parsed, InventoryAdjusted):
                changes.append(parsed.data)
            else:
                sold.update(_skus_of(parsed))
        ids.append(record["messageId"])
    deps = SyncDeps(
        channel=settings.CHANNEL,
        inventory=settings.INVENTORY_POLICY,
        ledger=DynamoInventoryLedger(settings.INVENTORY_TABLE_NAME),
        state=DynamoAvailabilityState(settings.INVENTORY_TABLE_NAME),
        api=channel_api(),
        publisher=EventBridgePublisher(settings.EVENT_BUS_NAME),
        budget_seconds=max(1.0, context.get_remaining_time_in_millis() / 1000 - RESERVE_SECONDS),
        lease_seconds=int(context.get_remaining_time_in_millis() / 1000) + 1,
        sleep=time.sleep,
    )
    try:
        result = sync_availability(changes, deps, sweep=sweep, sold=sold)
        deps.publisher.publish(publication_events(settings.CHANNEL, result, context.aws_request_id))
    except CircuitOpen as error:
        # The changes are marked dirty before any channel call, and the scheduled sweep pushes the marks:
        # acknowledging the records loses nothing, and keeps them from burning their receives into the DLQ.
        logger.info("sync deferred: breaker open", system=error.system, retry_after=error.retry_after_seconds)
        return {"batchItemFailures": []}
    except CrossdockError as error:
        logger.warning(
            "sync failed", error_class=error.error_class.value, retryable=error.retryable, reason=error.message
        )
        return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in ids]}
    logger.info("availability synced", pushed=len(result.published), deferred=len(result.deferred), calls=result.calls)
    metrics.add_dimension(name="channel", value=settings.CHANNEL)
    if result.changes:
        metrics.add_metric(name=CHANNEL_CALLS_PER_CHANGE, unit=MetricUnit.Count, value=result.calls / result.changes)
    for lag in result.lags_ms:
        metrics.add_metric(name=INVENTORY_PROPAGATION_LAG, unit=MetricUnit.Milliseconds, value=lag)
    return {"batchItemFailures": []}


def _skus_of(event: EventEnvelope[Any]) -> set[str]:
    order = event.data if isinstance(event, OrderCancelled) else event.data.order
    return {line.sku for line in order.lines if line.sku}


def _is_sweep(body: str) -> bool:
    try:
        value = json.loads(body)
    except ValueError:
        return False
    return isinstance(value, dict) and value.get("sweep") is True
