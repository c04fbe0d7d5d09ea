"""What the bench measures on the local stack, as plain data: the stack's modules fill it, the report reads it."""

from __future__ import annotations

from dataclasses import dataclass, field

from infra.bench.usage import WindowCounts

PER_CHANGES = 10_000


@dataclass(frozen=True)
class JourneyFigures:
    counts: WindowCounts
    units_by_table: dict[str, dict[str, float]]  # read|write → "table[/index] operation" → units in the window
    statuses: dict[str, int]  # journey status at the end → orders
    shipments: int
    largest_event_bytes: int
    events_by_type: dict[str, int]  # what reached the bus in the window, by detail-type
    order_seconds: float  # first webhook → quiet
    ship_seconds: float  # first shipment webhook → quiet
    notes: list[str] = field(default_factory=list)

    @property
    def orders_per_second(self) -> float:
        return self.counts.orders / (self.order_seconds + self.ship_seconds)


@dataclass(frozen=True)
class InventoryFigures:
    changes: int
    calls: dict[str, int]  # channel → inventory calls for the burst
    lag_ms: tuple[int, ...]
    seconds: float  # the burst, first webhook to quiet

    def calls_per_10k_changes(self) -> dict[str, float]:
        return {channel: round(calls * PER_CHANGES / self.changes, 1) for channel, calls in sorted(self.calls.items())}


@dataclass(frozen=True)
class StackFigures:
    journey: JourneyFigures
    inventory: InventoryFigures
    ack_ms: tuple[float, ...]
    schedules_per_month: dict[str, float]  # disabled scheduled rules: firings a month
    queues_with_mappings: int
    dynamodb_engine: str
    phase_seconds: dict[str, float] = field(default_factory=dict)
    load_average_1m: float = 0.0
