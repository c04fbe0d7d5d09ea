"""The ports logic depends on. Adapters in ``shared.aws`` implement them; tests pass fakes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from shared.models.events import EventEnvelope
from shared.models.inventory import ReservationLine, ReservationOutcome, StockLevel, StockReport


class EventPublisher(Protocol):
    def publish(self, events: Sequence[EventEnvelope[Any]]) -> None: ...


class SecretSource(Protocol):
    def for_platform(self, platform: str) -> Sequence[bytes]: ...


class InventoryLedger(Protocol):
    """The stock ledger, one row per (sku, location). Every write is conditional on the row's version.

    Implemented by ``shared.aws.inventory_ledger.DynamoInventoryLedger``; ``tests.fakes`` has an in-memory one.
    """

    def levels(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], StockLevel]:
        """The rows that exist among ``keys`` (a missing row is absent, not zero)."""

    def apply_report(self, report: StockReport, location: str) -> list[StockLevel]:
        """Apply a report to its rows at ``location``; the rows that changed, after the change.

        A snapshot older than what a row has applied (per quantity) changes nothing there; an adjustment whose
        ``report_id`` a row already applied changes nothing there, and neither does one older than the row's
        last snapshot of that quantity (the snapshot counted it).
        """

    def reserve(self, order_key: str, lines: Sequence[ReservationLine], at: datetime) -> ReservationOutcome:
        """Hold every line's units, or none: a line whose location's ATP is short fails the whole order.

        Idempotent per (order, line): a line already reserved is not reserved twice, and counts as held.
        """

    def reservations(self, order_key: str) -> list[ReservationLine]:
        """The lines the order still holds (released ones are not listed)."""

    def release(self, order_key: str, at: datetime) -> list[StockLevel]:
        """Give back every unit the order still holds (a cancellation); the rows that changed. Idempotent."""

    def release_shipped(
        self, order_key: str, shipment_id: str, location: str, quantities: Mapping[str, int], at: datetime
    ) -> list[StockLevel]:
        """Give back the order's held units at ``location`` that a shipment took (SKU → units shipped).

        Once per ``shipment_id``, atomically with marking it done: a redelivery changes nothing. A SKU the order
        holds fewer units of than shipped gives back what it holds (a line shipped in parts gives back each part).
        On-hand is not touched here: the shipment's stock leaves through ``apply_report`` (an adjustment).
        """


@dataclass(frozen=True)
class DirtyMark:
    sku: str
    first_at: datetime
    last_at: datetime
    # Write even if the value is what we last wrote: the channel changed its own count (it sold, it restocked).
    forced: bool = False


@dataclass(frozen=True)
class SentValue:
    sku: str
    quantity: int
    basis: int
    at: datetime


class AvailabilityState(Protocol):
    """What one channel's sync remembers: SKUs to push, values pushed, channel ids, and who is syncing."""

    def mark_dirty(self, channel: str, skus: Iterable[str], at: datetime, *, forced: bool = False) -> None: ...

    def dirty(self, channel: str) -> dict[str, DirtyMark]: ...

    def clear_dirty(self, channel: str, marks: Iterable[DirtyMark]) -> None:
        """Clear marks not touched since they were read (a mark made meanwhile stays for the next pass)."""

    def sent(self, channel: str, skus: Iterable[str]) -> dict[str, SentValue]: ...

    def record_sent(self, channel: str, value: SentValue) -> bool:
        """Record a pushed value unless one from a newer basis is recorded; False means it was older."""

    def record_sent_many(self, channel: str, values: Iterable[SentValue]) -> None:
        """Record pushed values in bulk, unconditionally: for the lease holder, which compared bases first."""

    def listings(self, channel: str, skus: Iterable[str]) -> dict[str, dict[str, str] | None]:
        """Known channel ids per SKU; ``None`` means the channel was asked and does not list it."""

    def save_listings(self, channel: str, listings: Mapping[str, dict[str, str] | None], at: datetime) -> None: ...

    def acquire(self, channel: str, owner: str, lease_seconds: int, at: datetime) -> bool:
        """Take the channel's sync lease, if free or expired: one sync per channel at a time."""

    def release_lease(self, channel: str, owner: str) -> None: ...
