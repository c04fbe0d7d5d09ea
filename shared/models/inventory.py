"""Inventory: the ledger rows, what the warehouse and the ERP report, reservations, and the channel policies.

One ledger row per (sku, location), where a location is a warehouse id of the routing rules. Quantities are
whole units. ``version`` only ever grows, so a sum of versions tells which of two readings is newer.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, PositiveInt, model_validator

from shared.models.instants import AwareDatetime

MAX_REPORT_ITEMS = 2000


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StockLevel(_Model):
    """A ledger row. ``atp`` can go below 0 when a count finds less than was already reserved."""

    sku: str = Field(min_length=1, max_length=128)
    location: str = Field(min_length=1, max_length=64)
    on_hand: int = 0
    reserved: NonNegativeInt = 0
    in_transit: NonNegativeInt = 0
    safety_stock: NonNegativeInt = 0
    version: NonNegativeInt = 0
    on_hand_as_of: AwareDatetime | None = None
    in_transit_as_of: AwareDatetime | None = None
    # When the change that made this version happened at its source (the WMS count, the order): lag is from here.
    changed_at: AwareDatetime | None = None
    # Recent adjustments applied to this row, newest last (``applied_entry``): a redelivered one changes nothing,
    # and a count that arrives late is brought forward by the on-hand deltas newer than it.
    applied: tuple[str, ...] = ()

    @property
    def key(self) -> tuple[str, str]:
        return (self.sku, self.location)

    @property
    def atp(self) -> int:
        return self.on_hand - self.reserved - self.safety_stock


_SEPARATOR = "\x1f"  # the ASCII unit separator: no report id carries it


def applied_entry(report_id: str, as_of: datetime, on_hand_delta: int) -> str:
    return _SEPARATOR.join((report_id, as_of.isoformat(), str(on_hand_delta)))


def applied_ids(level: StockLevel) -> set[str]:
    return {entry.split(_SEPARATOR)[0] for entry in level.applied}


def on_hand_deltas_after(level: StockLevel, as_of: datetime) -> int:
    """The on-hand change of the adjustments applied to ``level`` that are newer than ``as_of``."""
    total = 0
    for entry in level.applied:
        parts = entry.split(_SEPARATOR)
        if len(parts) == 3 and datetime.fromisoformat(parts[1]) > as_of:
            total += int(parts[2])
    return total


class ReportKind(StrEnum):
    SNAPSHOT = "snapshot"  # absolute quantities as of ``as_of``
    ADJUSTMENT = "adjustment"  # deltas, each applied once per ``report_id``


class StockItem(_Model):
    """One SKU in a report: absolute values in a snapshot, deltas in an adjustment. Absent means unchanged."""

    sku: str = Field(min_length=1, max_length=128)
    on_hand: NonNegativeInt | None = None
    in_transit: NonNegativeInt | None = None
    safety_stock: NonNegativeInt | None = None
    on_hand_delta: int | None = None
    in_transit_delta: int | None = None


class StockReport(_Model):
    """What a WMS or the ERP says about stock at one of its facilities (mapped to a warehouse on apply)."""

    report_id: str = Field(min_length=1, max_length=200, description="Stable per report: redeliveries share it")
    source: Literal["wms", "erp"]
    facility: str = Field(min_length=1, max_length=64, description="The source system's own location id")
    kind: ReportKind
    as_of: AwareDatetime
    items: tuple[StockItem, ...] = Field(min_length=1, max_length=MAX_REPORT_ITEMS)

    @model_validator(mode="after")
    def _shape(self) -> StockReport:
        absolute = ("on_hand", "in_transit", "safety_stock")
        deltas = ("on_hand_delta", "in_transit_delta")
        for index, item in enumerate(self.items):
            wrong = deltas if self.kind is ReportKind.SNAPSHOT else absolute
            given = [name for name in wrong if getattr(item, name) is not None]
            if given:
                raise ValueError(f"items[{index}]: a {self.kind.value} cannot carry {given[0]}")
            right = absolute if self.kind is ReportKind.SNAPSHOT else deltas
            if all(getattr(item, name) is None for name in right):
                raise ValueError(f"items[{index}]: no quantity given")
        return self


class ReservationLine(_Model):
    """One order line's units held at one location until it ships or the order is cancelled."""

    line_id: str
    sku: str
    location: str
    quantity: PositiveInt


class Shortage(_Model):
    line_id: str
    sku: str
    location: str
    wanted: int
    available: int


class ReservationOutcome(_Model):
    """``reserved`` is all or nothing: when a line is short, no line of the order holds stock."""

    reserved: bool
    levels: tuple[StockLevel, ...] = ()
    shortages: tuple[Shortage, ...] = ()


class LevelChange(_Model):
    """A ledger row after a change, as ``InventoryAdjusted`` carries it."""

    sku: str
    location: str
    on_hand: int
    reserved: int
    in_transit: int
    safety_stock: int
    atp: int
    version: int
    changed_at: AwareDatetime | None = None

    @classmethod
    def of(cls, level: StockLevel) -> LevelChange:
        return cls(
            sku=level.sku,
            location=level.location,
            on_hand=level.on_hand,
            reserved=level.reserved,
            in_transit=level.in_transit,
            safety_stock=level.safety_stock,
            atp=level.atp,
            version=level.version,
            changed_at=level.changed_at,
        )


class InventoryChange(_Model):
    """Data of ``InventoryAdjusted``: the rows one input changed (a report, a reservation, a release)."""

    cause: str = Field(description="report, reservation or release")
    cause_id: str
    levels: tuple[LevelChange, ...] = Field(min_length=1)


class ChannelPolicy(_Model):
    """How much of the ledger one channel may promise. Per environment, in cdk.json."""

    locations: tuple[str, ...] = Field(min_length=1, description="Warehouse ids whose stock this channel sells")
    buffer: NonNegativeInt = Field(default=0, description="Units held back from the channel, per SKU")
    allocation_pct: int = Field(default=100, ge=0, le=100, description="Share of the pool the channel may show")
    max_listed: NonNegativeInt | None = Field(default=None, description="Never show more than this")
    include_in_transit: bool = False
    # Increases are shown only once they have stood this long (a count that reverses is never shown).
    increase_hold_seconds: NonNegativeInt = 0


class KitComponent(_Model):
    sku: str
    quantity: PositiveInt


class InventoryPolicy(_Model):
    channels: dict[str, ChannelPolicy] = Field(default_factory=dict)
    kits: dict[str, tuple[KitComponent, ...]] = Field(default_factory=dict)
    # Coalescing: a sync waits until no change came for ``quiet`` seconds, but never longer than ``max``.
    coalesce_quiet_seconds: float = Field(default=1.0, ge=0, le=60)
    coalesce_max_seconds: float = Field(default=10.0, ge=0, le=300)

    @model_validator(mode="after")
    def _kits(self) -> InventoryPolicy:
        for kit, components in self.kits.items():
            if not components:
                raise ValueError(f"kit {kit} has no components")
            nested = [c.sku for c in components if c.sku in self.kits]
            if nested or any(c.sku == kit for c in components):
                raise ValueError(f"kit {kit}: components must be stocked SKUs, not kits")
        return self

    def kits_containing(self, sku: str) -> list[str]:
        return sorted(kit for kit, components in self.kits.items() if any(c.sku == sku for c in components))


class PublishedLevel(_Model):
    sku: str
    quantity: NonNegativeInt
    basis: NonNegativeInt
    # From the source change (WMS count, order) to the channel's acknowledgment of the write.
    lag_ms: NonNegativeInt | None = None


class AvailabilityPublication(_Model):
    """Data of ``AvailabilityPublished``: what one sync pass wrote to one channel."""

    channel: str
    items: tuple[PublishedLevel, ...] = Field(min_length=1)
    calls: NonNegativeInt = Field(description="Channel API calls this pass made, lookups and retries included")
    changes: NonNegativeInt = Field(description="Ledger changes this pass coalesced")


class OversellPrevention(_Model):
    """Data of ``OversellPrevented``: an order the channel sold that stock could not cover, held instead."""

    order_key: str
    channel: str
    shortages: tuple[Shortage, ...] = Field(min_length=1)
