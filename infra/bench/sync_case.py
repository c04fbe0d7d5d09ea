"""The availability sync's batch, on fakes: a whole SQS batch of ledger changes coalesced into one run per channel.

Mirrors ``functions.sync_availability.handler``: parse every record, run ``sync_availability`` once for the batch,
publish what it wrote. Its waits (coalescing, the lease) run on a fake clock, so only the work is timed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from functions.sync_availability.logic import SyncDeps, publication_events, sync_availability
from infra.bench.fakes import FakePublisher, InMemoryAvailabilityState
from infra.bench.memory_journey import Journey, World
from shared.channels.inventory import Listing, PushOutcome, StockUpdate
from shared.models.bus import parse_event
from shared.models.events import InventoryAdjusted, OrderAccepted, OrderCancelled, OrderHeld, OrderRejected

CHANNEL = "shopify"
# What the handler's queue takes (``functions.sync_availability.handler.TAKES``).
TAKES = (InventoryAdjusted, OrderAccepted, OrderHeld, OrderRejected, OrderCancelled)


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Channel:
    """A channel that lists every SKU and takes every write (the network is what the bench leaves out)."""

    platform = CHANNEL
    max_batch = 250

    def __init__(self) -> None:
        self.shown: dict[str, int] = {}

    def lookup(self, skus: Sequence[str]) -> Mapping[str, Listing | None]:
        return {sku: {"id": sku} for sku in skus}

    def set_available(self, updates: Sequence[StockUpdate]) -> PushOutcome:
        for update in updates:
            self.shown[update.sku] = update.quantity
        return PushOutcome(applied=[u.sku for u in updates], calls=1)


def sync_case(world: World, journeys: Sequence[Journey]) -> Callable[[], Callable[[dict[str, Any]], Mapping[str, Any]]]:
    def factory() -> Callable[[dict[str, Any]], Mapping[str, Any]]:
        ledger = world.ledger()
        for journey in journeys:  # the reservations the changes announce
            ledger.reserve(journey.order.key, journey.reservations, datetime.now(UTC))
        state, channel, clock = InMemoryAvailabilityState(), Channel(), Clock()

        def run(event: dict[str, Any]) -> Mapping[str, Any]:
            changes = []
            for record in event["Records"]:
                parsed = parse_event(record["body"], TAKES)
                assert isinstance(parsed, InventoryAdjusted)
                changes.append(parsed.data)
            deps = SyncDeps(
                channel=CHANNEL,
                inventory=world.config.inventory,
                ledger=ledger,
                state=state,
                api=lambda: channel,
                publisher=FakePublisher(),
                clock=clock,
                sleep=clock.sleep,
            )
            result = sync_availability(changes, deps)
            deps.publisher.publish(publication_events(CHANNEL, result, "bench"))
            return {"batchItemFailures": []}

        return run

    return factory
