"""In-memory inventory ledger and channel sync state, with the DynamoDB adapters' semantics.

Written apart from the adapters (no shared helpers), so the lockstep state machine in
``tests/unit/test_inventory_properties.py`` compares two implementations of one contract. Each call holds one
lock, so a call is atomic, as the adapters' conditional transactions make it.
"""

from __future__ import annotations

import copy
import functools
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any
from unittest.mock import patch

from shared.errors import ValidationFailed
from shared.models.inventory import (
    ReportKind,
    ReservationLine,
    ReservationOutcome,
    Shortage,
    StockLevel,
    StockReport,
    applied_entry,
    applied_ids,
    on_hand_deltas_after,
)
from shared.ports import DirtyMark, SentValue

APPLIED_KEPT = 50
MAX_RESERVATION_LINES = 50


@dataclass
class Held:
    line: ReservationLine
    status: str  # held or released
    at: datetime


class _Failures:
    """Errors to raise on the next calls of an operation; ``after_commit`` does the work first, then raises."""

    def __init__(self) -> None:
        self._failures: dict[str, list[tuple[Exception, bool]]] = {}

    def fail_next(self, operation: str, error: Exception, *, after_commit: bool = False) -> None:
        self._failures.setdefault(operation, []).append((error, after_commit))

    def _failure(self, operation: str, *, committed: bool) -> None:
        pending = self._failures.get(operation)
        if pending and pending[0][1] == committed:
            raise pending.pop(0)[0]


class InMemoryLedger(_Failures):
    def __init__(self, rows: Iterable[StockLevel] = ()) -> None:
        super().__init__()
        self._lock = threading.RLock()
        self.rows: dict[tuple[str, str], StockLevel] = {row.key: row for row in rows}
        self.orders: dict[str, dict[str, Held]] = {}  # order key → line id → its reservation
        self.shipped: dict[str, set[str]] = {}  # order key → the shipment ids whose units it gave back

    def stock(self, sku: str, location: str, on_hand: int, *, safety_stock: int = 0, in_transit: int = 0) -> None:
        """Test setup: a row with these quantities, one version on from what was there."""
        with self._lock:
            row = self.rows.get((sku, location)) or StockLevel(sku=sku, location=location)
            self.rows[row.key] = row.model_copy(
                update={
                    "on_hand": on_hand,
                    "safety_stock": safety_stock,
                    "in_transit": in_transit,
                    "version": row.version + 1,
                }
            )

    def levels(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], StockLevel]:
        with self._lock:
            self._failure("levels", committed=False)
            return {key: self.rows[key] for key in keys if key in self.rows}

    def apply_report(self, report: StockReport, location: str) -> list[StockLevel]:
        with self._lock:
            self._failure("apply_report", committed=False)
            changed = [level for sku in _skus(report) if (level := self._apply(report, sku, location)) is not None]
            self._failure("apply_report", committed=True)
            return changed

    def _apply(self, report: StockReport, sku: str, location: str) -> StockLevel | None:
        before = self.rows.get((sku, location))
        row = before or StockLevel(sku=sku, location=location)
        on_hand, in_transit, safety = row.on_hand, row.in_transit, row.safety_stock
        on_hand_as_of, in_transit_as_of, applied = row.on_hand_as_of, row.in_transit_as_of, row.applied
        counts_on_hand = row.on_hand_as_of is None or report.as_of > row.on_hand_as_of
        counts_in_transit = row.in_transit_as_of is None or report.as_of > row.in_transit_as_of
        items = [item for item in report.items if item.sku == sku]
        if report.kind is ReportKind.SNAPSHOT:
            for item in items:  # the last value given wins
                if counts_on_hand and item.on_hand is not None:
                    on_hand, on_hand_as_of = item.on_hand + on_hand_deltas_after(row, report.as_of), report.as_of
                if counts_on_hand and item.safety_stock is not None:
                    safety = item.safety_stock
                if counts_in_transit and item.in_transit is not None:
                    in_transit, in_transit_as_of = item.in_transit, report.as_of
        elif report.report_id not in applied_ids(row):
            on_hand_deltas = [item.on_hand_delta for item in items if item.on_hand_delta is not None]
            in_transit_deltas = [item.in_transit_delta for item in items if item.in_transit_delta is not None]
            if counts_on_hand and on_hand_deltas:
                on_hand += sum(on_hand_deltas)
            delta = sum(on_hand_deltas) if counts_on_hand else 0
            if counts_in_transit and in_transit_deltas:
                in_transit = max(0, in_transit + sum(in_transit_deltas))
            if (counts_on_hand and on_hand_deltas) or (counts_in_transit and in_transit_deltas):
                applied = (*applied, applied_entry(report.report_id, report.as_of, delta))[-APPLIED_KEPT:]
        state = (on_hand, in_transit, safety, on_hand_as_of, in_transit_as_of, applied)
        if state == (
            row.on_hand,
            row.in_transit,
            row.safety_stock,
            row.on_hand_as_of,
            row.in_transit_as_of,
            row.applied,
        ):
            return None
        after = StockLevel(
            sku=sku,
            location=location,
            on_hand=on_hand,
            reserved=row.reserved,
            in_transit=in_transit,
            safety_stock=safety,
            version=row.version + 1,
            on_hand_as_of=on_hand_as_of,
            in_transit_as_of=in_transit_as_of,
            changed_at=report.as_of,
            applied=applied,
        )
        self.rows[after.key] = after
        moved = (row.on_hand, row.in_transit, row.safety_stock) != (on_hand, in_transit, safety)
        return after if before is None or moved else None

    def reserve(self, order_key: str, lines: Sequence[ReservationLine], at: datetime) -> ReservationOutcome:
        if len(lines) > MAX_RESERVATION_LINES:
            raise ValidationFailed("too many lines to reserve at once", lines=len(lines))
        if len({line.line_id for line in lines}) != len(lines):
            raise ValidationFailed("line ids repeat in one reservation", lines=len(lines))
        with self._lock:
            self._failure("reserve", committed=False)
            keys = list(dict.fromkeys((line.sku, line.location) for line in lines))
            current = tuple(self.rows[key] for key in keys if key in self.rows)
            if not lines:
                return ReservationOutcome(reserved=True)
            held = {line_id: h for line_id, h in self.orders.get(order_key, {}).items() if h.status == "held"}
            pending = [line for line in lines if line.line_id not in held]
            wanted: dict[tuple[str, str], int] = {}
            for line in pending:
                wanted[(line.sku, line.location)] = wanted.get((line.sku, line.location), 0) + line.quantity
            atp = {key: self.rows[key].atp if key in self.rows else 0 for key in wanted}
            shortages = tuple(
                Shortage(
                    line_id=line.line_id,
                    sku=line.sku,
                    location=line.location,
                    wanted=line.quantity,
                    available=max(0, atp[(line.sku, line.location)]),
                )
                for line in pending
                if atp[(line.sku, line.location)] < wanted[(line.sku, line.location)]
            )
            if shortages:
                return ReservationOutcome(reserved=False, levels=current, shortages=shortages)
            for key, quantity in wanted.items():
                row = self.rows[key]
                self.rows[key] = row.model_copy(
                    update={"reserved": row.reserved + quantity, "version": row.version + 1, "changed_at": at}
                )
            order = self.orders.setdefault(order_key, {})
            for line in pending:
                order[line.line_id] = Held(line=line, status="held", at=at)
            self._failure("reserve", committed=True)
            return ReservationOutcome(reserved=True, levels=tuple(self.rows[key] for key in keys if key in self.rows))

    def release(self, order_key: str, at: datetime) -> list[StockLevel]:
        with self._lock:
            self._failure("release", committed=False)
            given: dict[tuple[str, str], int] = {}
            for held in self.orders.get(order_key, {}).values():
                if held.status == "held":
                    held.status = "released"
                    key = (held.line.sku, held.line.location)
                    given[key] = given.get(key, 0) + held.line.quantity
            changed = self._give_back(given, at)
            self._failure("release", committed=True)
            return changed

    def release_shipped(
        self, order_key: str, shipment_id: str, location: str, quantities: Mapping[str, int], at: datetime
    ) -> list[StockLevel]:
        with self._lock:
            self._failure("release_shipped", committed=False)
            done = self.shipped.setdefault(order_key, set())
            if shipment_id in done:
                return []
            done.add(shipment_id)
            order = self.orders.get(order_key, {})
            given: dict[tuple[str, str], int] = {}
            for sku, units in quantities.items():
                left = units
                for line_id in sorted(order):  # lines taken from in line id order
                    held = order[line_id]
                    if left <= 0 or held.status != "held" or (held.line.sku, held.line.location) != (sku, location):
                        continue
                    taken = min(left, held.line.quantity)
                    left -= taken
                    given[(sku, location)] = given.get((sku, location), 0) + taken
                    if taken == held.line.quantity:
                        held.status = "released"
                    else:
                        held.line = held.line.model_copy(update={"quantity": held.line.quantity - taken})
            changed = self._give_back(given, at)
            self._failure("release_shipped", committed=True)
            return changed

    def _give_back(self, given: Mapping[tuple[str, str], int], at: datetime) -> list[StockLevel]:
        """Lower each row's reserved units by what was given back; the rows that changed."""
        changed = []
        for key, quantity in given.items():
            if key in self.rows:
                row = self.rows[key]
                self.rows[key] = row.model_copy(
                    update={"reserved": max(0, row.reserved - quantity), "version": row.version + 1, "changed_at": at}
                )
                changed.append(self.rows[key])
        return changed

    def reservations(self, order_key: str) -> list[ReservationLine]:
        with self._lock:
            self._failure("reservations", committed=False)
            # In line id order, as DynamoDB's sort key gives them.
            held = self.orders.get(order_key, {})
            return [held[line_id].line for line_id in sorted(held) if held[line_id].status == "held"]

    def held_units(self, sku: str, location: str) -> int:
        """Units the held reservation lines of every order hold at one row."""
        with self._lock:
            return sum(
                held.line.quantity
                for order in self.orders.values()
                for held in order.values()
                if held.status == "held" and (held.line.sku, held.line.location) == (sku, location)
            )


def _skus(report: StockReport) -> list[str]:
    return list(dict.fromkeys(item.sku for item in report.items))


class InMemoryAvailabilityState(_Failures):
    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.RLock()
        self.marks: dict[str, dict[int, tuple[datetime, set[str], bool]]] = {}  # channel → mark items
        self._read: dict[str, set[int]] = {}
        self._next_mark = 0
        self.values: dict[str, dict[str, SentValue]] = {}
        self.known: dict[str, dict[str, dict[str, str] | None]] = {}
        self.leases: dict[str, tuple[str, float]] = {}

    def mark_dirty(self, channel: str, skus: Iterable[str], at: datetime, *, forced: bool = False) -> None:
        """One mark item per call, as the table keeps them."""
        with self._lock:
            self._failure("mark_dirty", committed=False)
            self._next_mark += 1
            self.marks.setdefault(channel, {})[self._next_mark] = (at, set(skus), forced)

    def dirty(self, channel: str) -> dict[str, DirtyMark]:
        with self._lock:
            self._failure("dirty", committed=False)
            items = self.marks.get(channel, {})
            self._read[channel] = set(items)
            found: dict[str, DirtyMark] = {}
            for at, skus, forced in items.values():
                for sku in skus:
                    mark = found.get(sku)
                    found[sku] = (
                        DirtyMark(sku=sku, first_at=at, last_at=at, forced=forced)
                        if mark is None
                        else DirtyMark(
                            sku=sku,
                            first_at=min(mark.first_at, at),
                            last_at=max(mark.last_at, at),
                            forced=mark.forced or forced,
                        )
                    )
            return found

    def clear_dirty(self, channel: str, marks: Iterable[DirtyMark]) -> None:
        """Out of the items the last ``dirty`` read only: a mark made since then stays, whatever its time."""
        with self._lock:
            self._failure("clear_dirty", committed=False)
            cleared = {mark.sku for mark in marks}
            items = self.marks.get(channel, {})
            for number in self._read.get(channel, set()) & set(items):
                _at, skus, _forced = items[number]
                skus -= cleared
                if not skus:
                    del items[number]

    def sent(self, channel: str, skus: Iterable[str]) -> dict[str, SentValue]:
        with self._lock:
            values = self.values.get(channel, {})
            return {sku: values[sku] for sku in skus if sku in values}

    def record_sent(self, channel: str, value: SentValue) -> bool:
        with self._lock:
            self._failure("record_sent", committed=False)
            values = self.values.setdefault(channel, {})
            if value.sku in values and values[value.sku].basis > value.basis:
                return False
            values[value.sku] = value
            return True

    def record_sent_many(self, channel: str, values: Iterable[SentValue]) -> None:
        with self._lock:
            self._failure("record_sent_many", committed=False)
            self.values.setdefault(channel, {}).update({value.sku: value for value in values})

    def listings(self, channel: str, skus: Iterable[str]) -> dict[str, dict[str, str] | None]:
        with self._lock:
            known = self.known.get(channel, {})
            return {sku: _copy(known[sku]) for sku in skus if sku in known}

    def save_listings(self, channel: str, listings: Mapping[str, dict[str, str] | None], at: datetime) -> None:
        with self._lock:
            self.known.setdefault(channel, {}).update({sku: _copy(ids) for sku, ids in listings.items()})

    def acquire(self, channel: str, owner: str, lease_seconds: int, at: datetime) -> bool:
        with self._lock:
            now = at.timestamp()
            holder = self.leases.get(channel)
            if holder is not None and holder[1] > now and holder[0] != owner:
                return False
            self.leases[channel] = (owner, now + lease_seconds)
            return True

    def release_lease(self, channel: str, owner: str) -> None:
        with self._lock:
            if channel in self.leases and self.leases[channel][0] == owner:
                del self.leases[channel]


def _copy(ids: dict[str, str] | None) -> dict[str, str] | None:
    return dict(ids) if ids is not None else None


@functools.cache
def _botocore_session() -> Any:
    """One session for every moto table: it loads DynamoDB's service model once, not once per example."""
    import botocore.session

    return botocore.session.get_session()


@contextmanager
def moto_inventory_table(name: str = "inventory") -> Iterator[Any]:
    """moto's DynamoDB with the inventory table (``pk``/``sk`` strings); yields a raw client.

    moto deep-copies the whole table once per transaction item, to roll back; the copies are all taken before the
    first write, so one per transaction is the same snapshot, and 100-row transactions on a 1,000-row table
    take milliseconds instead of seconds.
    """
    import boto3
    from moto import mock_aws
    from moto.dynamodb import models
    from moto.dynamodb.models.table import Table

    copies: dict[int, Any] = {}

    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        if isinstance(value, Table):
            if id(value) not in copies:
                copies[id(value)] = copy.deepcopy(value)
            return copies[id(value)]
        return copy.deepcopy(value, memo)

    original = models.DynamoDBBackend.transact_write_items

    def transact_write_items(backend: Any, transact_items: list[dict[str, Any]]) -> None:
        copies.clear()
        try:
            original(backend, transact_items)
        finally:
            copies.clear()

    with (
        mock_aws(),
        patch.object(models, "copy", SimpleNamespace(deepcopy=deepcopy)),
        patch.object(models.DynamoDBBackend, "transact_write_items", transact_write_items),
    ):
        client = boto3.session.Session(botocore_session=_botocore_session()).client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        yield client
