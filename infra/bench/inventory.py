"""Inventory on the local stack: channel calls per 10,000 stock changes over 1,000 SKUs, and propagation lag.

The demo's burst (``scenario_inventory.burst``: 100 WMS adjustment webhooks of about 100 changes each, over the
1,000 SKUs the seed listed) is played once the stack is quiet. Calls are what each channel sandbox answered on its
inventory routes; lag is each SKU's ``lag_ms`` in the ``AvailabilityPublished`` events the syncs published for the
burst (from the ledger change to the channel's answer), read from the stack's observer queue.
"""

from __future__ import annotations

import json
import random
from typing import Any

from infra.bench.figures import InventoryFigures
from infra.local.scenario_inventory import InventoryExpected, burst
from infra.local.stack import LocalStack


def measure(stack: LocalStack, rng: random.Random) -> InventoryFigures:
    drain_observer(stack)  # what came before the burst is not its lag
    expected = InventoryExpected()
    burst(stack, expected, rng)
    lags = [
        int(item["lag_ms"])
        for event in drain_observer(stack)
        if event.get("detail-type") == "AvailabilityPublished"
        for item in event["detail"]["data"]["items"]
        if item.get("lag_ms") is not None
    ]
    return InventoryFigures(
        changes=expected.burst_changes,
        calls=dict(expected.burst_calls),
        lag_ms=tuple(lags),
        seconds=expected.burst_seconds,
    )


def drain_observer(stack: LocalStack) -> list[dict[str, Any]]:
    """Every event the observer queue holds, removed from it."""
    assert stack.provisioned
    sqs = stack.client("sqs")
    url = stack.provisioned.observer_url
    events: list[dict[str, Any]] = []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return events
        events += [json.loads(m["Body"]) for m in messages]
        sqs.delete_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
        )
