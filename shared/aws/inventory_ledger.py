"""Inventory table: the stock ledger and the order reservations, one table shared with the channel sync state.

Keys (``pk`` / ``sk``, strings):
- ledger row: ``SKU#<sku>`` / ``LOC#<location>``; quantities, ``version``, the ``*_as_of`` of the last snapshot
  of each quantity, ``changed_at``, and ``applied`` (the last 50 adjustment ids);
- reservation line: ``RES#<order key>`` / ``LINE#<line id>``; sku, location, quantity (what it still holds: a
  shipment lowers it), ``status`` (held or released), at. A released line can be held again (validation redone
  after a permanent ERP refusal was fixed);
- shipped marker: ``RES#<order key>`` / ``SHIPPED#<shipment id>``, written with the last of a shipment's release,
  so a redelivered shipment gives nothing back twice; a shipment too big for one transaction marks the SKUs of
  its earlier ones with ``SHIPPED#<shipment id><US><sku>``, so a redo after a failure between them finishes it.

Every row write is a full put conditioned on the version that was read (``attribute_not_exists`` for a new row),
in a transaction; a condition failure re-reads and recomputes, a bounded number of times. Two readers of a row
therefore never both write from the same reading, which is what keeps reservations within the stock.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, NoReturn, TypeVar

from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

from shared.aws import clients
from shared.aws.paging import query_all
from shared.errors import Conflict, DownstreamUnavailable, ValidationFailed
from shared.models.inventory import (
    ReportKind,
    ReservationLine,
    ReservationOutcome,
    Shortage,
    StockItem,
    StockLevel,
    StockReport,
    applied_entry,
    applied_ids,
    on_hand_deltas_after,
)
from shared.observability import logger

APPLIED_KEPT = 50
TRANSACTION_ITEMS = 100  # DynamoDB's limit per TransactWriteItems
# Each line is a reservation put and at most one row put.
MAX_RESERVATION_LINES = TRANSACTION_ITEMS // 2
ATTEMPTS = 10
HELD = "held"
RELEASED = "released"
LINE = "LINE#"
SHIPPED = "SHIPPED#"
_SEPARATOR = "\x1f"  # between shipment id and SKU in a marker's key: neither carries it
# Cancellation reasons a re-read can cure: a row moved under us, or another transaction held it.
_RETRY_REASONS = frozenset({"ConditionalCheckFailed", "TransactionConflict"})
T = TypeVar("T")


class DynamoInventoryLedger:
    def __init__(self, table_name: str, client: Callable[[], Any] = lambda: clients.client("dynamodb")) -> None:
        self._table = Table(table_name, client)

    # -- reads ----------------------------------------------------------------------------------------------
    def levels(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], StockLevel]:
        items = self._table.batch_get([row_key(sku, location) for sku, location in dict.fromkeys(keys)])
        return {level.key: level for level in map(level_of, items)}

    # -- reports --------------------------------------------------------------------------------------------
    def apply_report(self, report: StockReport, location: str) -> list[StockLevel]:
        """The rows whose quantities moved, or that were created. A newer count of the same values is written
        (its clock must be, or an older adjustment would apply on top) but not returned.

        Each transaction of 100 rows is atomic, the report is not: when a later one keeps conflicting, the
        earlier ones stay applied, and the redelivered report changes (and returns) only the rest.
        """
        merged = merge_items(report)
        changed: list[StockLevel] = []
        for chunk in chunked(list(merged), TRANSACTION_ITEMS):
            changed.extend(self._apply_chunk(report, location, {sku: merged[sku] for sku in chunk}))
        return changed

    def _apply_chunk(self, report: StockReport, location: str, items: dict[str, StockItem]) -> list[StockLevel]:
        for attempt in range(ATTEMPTS):
            rows = self.levels((sku, location) for sku in items)
            writes: list[tuple[StockLevel | None, StockLevel]] = []
            for sku, item in items.items():
                before = rows.get((sku, location))
                after = apply_item(before, sku, location, report, item)
                if after is not None:
                    writes.append((before, after))
            if not writes:
                return []
            if self._table.transact([put_row(before, after) for before, after in writes]):
                return [after for before, after in writes if before is None or quantities(before) != quantities(after)]
            backoff(attempt)
        logger.warning("stock report kept conflicting", report_id=report.report_id, location=location)
        raise Conflict("ledger rows kept changing", report_id=report.report_id)

    # -- reservations ---------------------------------------------------------------------------------------
    def reserve(self, order_key: str, lines: Sequence[ReservationLine], at: datetime) -> ReservationOutcome:
        check_lines(lines)
        if not lines:
            return ReservationOutcome(reserved=True)
        keys = list(dict.fromkeys((line.sku, line.location) for line in lines))
        for attempt in range(ATTEMPTS):
            known = self._reservations(order_key)
            rows = self.levels(keys)
            current = tuple(rows[key] for key in keys if key in rows)
            pending = [line for line in lines if line.line_id not in known or known[line.line_id].status != HELD]
            if not pending:
                return ReservationOutcome(reserved=True, levels=current)
            shortages = find_shortages(pending, rows)
            if shortages:
                return ReservationOutcome(reserved=False, levels=current, shortages=shortages)
            after = reserved_rows(pending, rows, at)
            writes = [put_reservation(order_key, line, at, line.line_id in known) for line in pending]
            writes += [put_row(rows[key], level) for key, level in after.items()]
            if self._table.transact(writes):
                rows.update(after)
                return ReservationOutcome(reserved=True, levels=tuple(rows[key] for key in keys if key in rows))
            backoff(attempt)
        logger.warning("reservation kept conflicting", order_key=order_key)
        raise Conflict("ledger rows kept changing", order_key=order_key)

    def release(self, order_key: str, at: datetime) -> list[StockLevel]:
        changed: dict[tuple[str, str], StockLevel] = {}
        for attempt in range(ATTEMPTS):
            holding = [line for line in self._reservations(order_key).values() if line.status == HELD]
            rows = self.levels({(line.sku, line.location) for line in holding})
            for chunk in release_chunks(holding):
                after = released_rows(chunk, rows, at)
                writes = [put_released(order_key, line, at) for line in chunk]
                writes += [put_row(rows[key], level) for key, level in after.items()]
                if not self._table.transact(writes):
                    break
                changed.update(after)
                rows.update(after)
            else:
                return list(changed.values())
            backoff(attempt)
        logger.warning("release kept conflicting", order_key=order_key)
        raise Conflict("ledger rows kept changing", order_key=order_key)

    def release_shipped(
        self, order_key: str, shipment_id: str, location: str, quantities: Mapping[str, int], at: datetime
    ) -> list[StockLevel]:
        """One transaction with the shipment's marker, unless it is too big: then SKUs go back whole, each with
        its own marker in the earlier transactions, and the shipment's marker comes with the last one.
        """
        changed: dict[tuple[str, str], StockLevel] = {}
        for attempt in range(ATTEMPTS):
            items = self._table.query(f"RES#{order_key}")
            done = shipped_skus(items, shipment_id)
            if done is None:
                return list(changed.values())
            holding = [line for line in lines_of(items).values() if line.status == HELD and line.location == location]
            takes = shipped_takes(holding, {sku: units for sku, units in quantities.items() if sku not in done})
            rows = self.levels((sku, location) for sku in takes)
            chunks = list(shipped_chunks(takes))
            for index, chunk in enumerate(chunks):
                given = [take for sku in chunk for take in takes[sku]]
                after = released_rows([replace(line, quantity=units) for line, units in given], rows, at)
                last = index == len(chunks) - 1
                skus = [None] if last else chunk
                writes = [put_shipped(order_key, shipment_id, sku, location, at) for sku in skus]
                writes += [put_taken(order_key, line, units, at) for line, units in given]
                writes += [put_row(rows[key], level) for key, level in after.items()]
                if not self._table.transact(writes):
                    break
                changed.update(after)
            else:
                return list(changed.values())
            backoff(attempt)
        logger.warning("shipment release kept conflicting", order_key=order_key, shipment_id=shipment_id)
        raise Conflict("ledger rows kept changing", order_key=order_key, shipment_id=shipment_id)

    def reservations(self, order_key: str) -> list[ReservationLine]:
        return [
            ReservationLine(line_id=line.line_id, sku=line.sku, location=line.location, quantity=line.quantity)
            for line in self._reservations(order_key).values()
            if line.status == HELD
        ]

    def _reservations(self, order_key: str) -> dict[str, HeldLine]:
        """Every reservation line of the order, held or released, by line id."""
        return lines_of(self._table.query(f"RES#{order_key}"))


# -- the ledger's rules, pure --------------------------------------------------------------------------------
@dataclass(frozen=True)
class HeldLine:
    line_id: str
    sku: str
    location: str
    quantity: int
    status: str


def merge_items(report: StockReport) -> dict[str, StockItem]:
    """One item per SKU: deltas add up, and the last absolute value given wins."""
    merged: dict[str, StockItem] = {}
    for item in report.items:
        previous = merged.get(item.sku)
        if previous is None:
            merged[item.sku] = item
        elif report.kind is ReportKind.SNAPSHOT:
            merged[item.sku] = StockItem(
                sku=item.sku,
                on_hand=_last(previous.on_hand, item.on_hand),
                in_transit=_last(previous.in_transit, item.in_transit),
                safety_stock=_last(previous.safety_stock, item.safety_stock),
            )
        else:
            merged[item.sku] = StockItem(
                sku=item.sku,
                on_hand_delta=_sum(previous.on_hand_delta, item.on_hand_delta),
                in_transit_delta=_sum(previous.in_transit_delta, item.in_transit_delta),
            )
    return merged


def apply_item(
    before: StockLevel | None, sku: str, location: str, report: StockReport, item: StockItem
) -> StockLevel | None:
    """The row after ``item``, or None when it changes nothing (then nothing is written)."""
    row = before or StockLevel(sku=sku, location=location)
    update: dict[str, Any] = {}
    as_of = report.as_of
    newer_on_hand = row.on_hand_as_of is None or as_of > row.on_hand_as_of
    newer_in_transit = row.in_transit_as_of is None or as_of > row.in_transit_as_of
    if report.kind is ReportKind.SNAPSHOT:
        if item.on_hand is not None and newer_on_hand:
            # Adjustments newer than this count already arrived: they are not in it, so they stay applied.
            update.update(on_hand=item.on_hand + on_hand_deltas_after(row, as_of), on_hand_as_of=as_of)
        # Safety stock has no clock of its own: it is part of the count that sets on_hand.
        if item.safety_stock is not None and newer_on_hand:
            update.update(safety_stock=item.safety_stock)
        if item.in_transit is not None and newer_in_transit:
            update.update(in_transit=item.in_transit, in_transit_as_of=as_of)
    elif report.report_id not in applied_ids(row):
        # A delta from before the last snapshot of its quantity is already in that snapshot's count.
        if item.on_hand_delta is not None and newer_on_hand:
            update.update(on_hand=row.on_hand + item.on_hand_delta)
        if item.in_transit_delta is not None and newer_in_transit:
            update.update(in_transit=max(0, row.in_transit + item.in_transit_delta))
        if update:
            entry = applied_entry(
                report.report_id, as_of, update["on_hand"] - row.on_hand if "on_hand" in update else 0
            )
            update.update(applied=(*row.applied, entry)[-APPLIED_KEPT:])
    after = row.model_copy(update=update)
    if after == row:  # a missing row stays missing rather than becoming an explicit zero
        return None
    return after.model_copy(update={"version": row.version + 1, "changed_at": as_of})


def quantities(level: StockLevel) -> tuple[int, int, int, int]:
    return (level.on_hand, level.reserved, level.in_transit, level.safety_stock)


def check_lines(lines: Sequence[ReservationLine]) -> None:
    if len(lines) > MAX_RESERVATION_LINES:
        raise ValidationFailed("too many lines to reserve at once", lines=len(lines), limit=MAX_RESERVATION_LINES)
    ids = [line.line_id for line in lines]
    if len(set(ids)) != len(ids):
        raise ValidationFailed("line ids repeat in one reservation", lines=len(lines))


def find_shortages(pending: Sequence[ReservationLine], rows: dict[tuple[str, str], StockLevel]) -> tuple[Shortage, ...]:
    """Lines whose location cannot cover every pending line of the same SKU there (a missing row has 0)."""
    wanted: dict[tuple[str, str], int] = {}
    for line in pending:
        wanted[(line.sku, line.location)] = wanted.get((line.sku, line.location), 0) + line.quantity
    available = {key: rows[key].atp if key in rows else 0 for key in wanted}
    return tuple(
        Shortage(
            line_id=line.line_id,
            sku=line.sku,
            location=line.location,
            wanted=line.quantity,
            available=max(0, available[(line.sku, line.location)]),
        )
        for line in pending
        if available[(line.sku, line.location)] < wanted[(line.sku, line.location)]
    )


def reserved_rows(
    pending: Sequence[ReservationLine], rows: dict[tuple[str, str], StockLevel], at: datetime
) -> dict[tuple[str, str], StockLevel]:
    after: dict[tuple[str, str], StockLevel] = {}
    for line in pending:
        row = after.get((line.sku, line.location)) or rows[(line.sku, line.location)]
        after[row.key] = row.model_copy(update={"reserved": row.reserved + line.quantity})
    return {key: _bumped(rows[key], level, at) for key, level in after.items()}


def released_rows(
    lines: Sequence[HeldLine], rows: dict[tuple[str, str], StockLevel], at: datetime
) -> dict[tuple[str, str], StockLevel]:
    after: dict[tuple[str, str], StockLevel] = {}
    for line in lines:
        key = (line.sku, line.location)
        if key not in rows:  # rows are never deleted; nothing to give back to
            continue
        row = after.get(key) or rows[key]
        after[key] = row.model_copy(update={"reserved": max(0, row.reserved - line.quantity)})
    return {key: _bumped(rows[key], level, at) for key, level in after.items()}


def release_chunks(lines: Sequence[HeldLine]) -> Iterator[list[HeldLine]]:
    """Lines packed into transactions: a line's status update, plus one put per row the chunk touches."""
    chunk: list[HeldLine] = []
    rows: set[tuple[str, str]] = set()
    for line in sorted(lines, key=lambda line: (line.sku, line.location, line.line_id)):
        key = (line.sku, line.location)
        if len(chunk) + len(rows | {key}) + 1 > TRANSACTION_ITEMS:
            yield chunk
            chunk, rows = [], set()
        chunk.append(line)
        rows.add(key)
    if chunk:
        yield chunk


def shipped_takes(holding: Sequence[HeldLine], quantities: Mapping[str, int]) -> dict[str, list[tuple[HeldLine, int]]]:
    """Per SKU, the held lines a shipment takes units from, and how many: in line id order, until it is covered."""
    takes: dict[str, list[tuple[HeldLine, int]]] = {}
    for line in sorted(holding, key=lambda line: line.line_id):
        left = quantities.get(line.sku, 0) - sum(units for _line, units in takes.get(line.sku, []))
        if left > 0:
            takes.setdefault(line.sku, []).append((line, min(left, line.quantity)))
    return takes


def shipped_chunks(takes: Mapping[str, list[tuple[HeldLine, int]]]) -> Iterator[list[str]]:
    """SKUs packed into transactions, each whole in one: its marker, its lines, its row. At least one chunk."""
    chunk: list[str] = []
    size = 0
    for sku in sorted(takes):
        items = len(takes[sku]) + 2
        if items > TRANSACTION_ITEMS:
            # A SKU goes back atomically with its marker or a redo could give it back twice. No order gets here:
            # it would need 99 held lines of one SKU at one warehouse.
            raise ValidationFailed("too many lines of one SKU to release at once", sku=sku, lines=len(takes[sku]))
        if chunk and size + items > TRANSACTION_ITEMS:
            yield chunk
            chunk, size = [], 0
        chunk.append(sku)
        size += items
    yield chunk


def _bumped(before: StockLevel, after: StockLevel, at: datetime) -> StockLevel:
    return after.model_copy(update={"version": before.version + 1, "changed_at": at})


def _last(previous: int | None, value: int | None) -> int | None:
    return value if value is not None else previous


def _sum(previous: int | None, value: int | None) -> int | None:
    return value if previous is None else previous if value is None else previous + value


def chunked(values: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def backoff(attempt: int) -> None:
    # Full jitter, small: the writers that collide are other invocations on the same few rows.
    time.sleep(random.uniform(0, min(0.2, 0.005 * 2**attempt)))  # noqa: S311


# -- items ---------------------------------------------------------------------------------------------------
def row_key(sku: str, location: str) -> dict[str, Any]:
    return {"pk": {"S": f"SKU#{sku}"}, "sk": {"S": f"LOC#{location}"}}


def iso(moment: datetime) -> str:
    """UTC with microseconds, fixed width: strings compare as the instants do."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def level_of(item: dict[str, Any]) -> StockLevel:
    def moment(name: str) -> datetime | None:
        return datetime.fromisoformat(item[name]["S"]) if name in item else None

    return StockLevel(
        sku=item["sku"]["S"],
        location=item["location"]["S"],
        on_hand=int(item["on_hand"]["N"]),
        reserved=int(item["reserved"]["N"]),
        in_transit=int(item["in_transit"]["N"]),
        safety_stock=int(item["safety_stock"]["N"]),
        version=int(item["version"]["N"]),
        on_hand_as_of=moment("on_hand_as_of"),
        in_transit_as_of=moment("in_transit_as_of"),
        changed_at=moment("changed_at"),
        applied=tuple(value["S"] for value in item.get("applied", {}).get("L", [])),
    )


def row_item(level: StockLevel) -> dict[str, Any]:
    item: dict[str, Any] = {
        **row_key(level.sku, level.location),
        "sku": {"S": level.sku},
        "location": {"S": level.location},
        "on_hand": {"N": str(level.on_hand)},
        "reserved": {"N": str(level.reserved)},
        "in_transit": {"N": str(level.in_transit)},
        "safety_stock": {"N": str(level.safety_stock)},
        "version": {"N": str(level.version)},
        "applied": {"L": [{"S": report_id} for report_id in level.applied]},
    }
    for name in ("on_hand_as_of", "in_transit_as_of", "changed_at"):
        value: datetime | None = getattr(level, name)
        if value is not None:
            item[name] = {"S": iso(value)}
    return item


def put_row(before: StockLevel | None, after: StockLevel) -> dict[str, Any]:
    put: dict[str, Any] = {"Item": row_item(after)}
    if before is None:
        put["ConditionExpression"] = "attribute_not_exists(pk)"
    else:
        put.update(
            ConditionExpression="#version = :version",
            ExpressionAttributeNames={"#version": "version"},
            ExpressionAttributeValues={":version": {"N": str(before.version)}},
        )
    return {"Put": put}


def put_reservation(order_key: str, line: ReservationLine, at: datetime, again: bool) -> dict[str, Any]:
    item = {
        "pk": {"S": f"RES#{order_key}"},
        "sk": {"S": f"LINE#{line.line_id}"},
        "sku": {"S": line.sku},
        "location": {"S": line.location},
        "quantity": {"N": str(line.quantity)},
        "status": {"S": HELD},
        "at": {"S": iso(at)},
    }
    if not again:
        return {"Put": {"Item": item, "ConditionExpression": "attribute_not_exists(pk)"}}
    return {
        "Put": {
            "Item": item,
            "ConditionExpression": "#status = :released",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {":released": {"S": RELEASED}},
        }
    }


def put_released(order_key: str, line: HeldLine, at: datetime) -> dict[str, Any]:
    return {
        "Update": {
            "Key": {"pk": {"S": f"RES#{order_key}"}, "sk": {"S": f"LINE#{line.line_id}"}},
            "UpdateExpression": "SET #status = :released, released_at = :at",
            "ConditionExpression": "#status = :held",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {":released": {"S": RELEASED}, ":held": {"S": HELD}, ":at": {"S": iso(at)}},
        }
    }


def put_taken(order_key: str, line: HeldLine, units: int, at: datetime) -> dict[str, Any]:
    """A shipment took ``units`` of a held line: released when none are left, else holding the rest."""
    if units >= line.quantity:
        return put_released(order_key, line, at)
    return {
        "Update": {
            "Key": {"pk": {"S": f"RES#{order_key}"}, "sk": {"S": f"{LINE}{line.line_id}"}},
            "UpdateExpression": "SET quantity = :left, shipped_at = :at",
            "ConditionExpression": "#status = :held AND quantity = :was",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {
                ":left": {"N": str(line.quantity - units)},
                ":was": {"N": str(line.quantity)},
                ":held": {"S": HELD},
                ":at": {"S": iso(at)},
            },
        }
    }


def put_shipped(order_key: str, shipment_id: str, sku: str | None, location: str, at: datetime) -> dict[str, Any]:
    """The shipment's marker, or with ``sku`` the marker of one SKU of a shipment that spans transactions."""
    item = {
        "pk": {"S": f"RES#{order_key}"},
        "sk": {"S": f"{SHIPPED}{shipment_id}" + ("" if sku is None else f"{_SEPARATOR}{sku}")},
        "shipment_id": {"S": shipment_id},
        "location": {"S": location},
        "at": {"S": iso(at)},
    }
    if sku is not None:
        item["sku"] = {"S": sku}
    return {"Put": {"Item": item, "ConditionExpression": "attribute_not_exists(pk)"}}


def lines_of(items: Iterable[dict[str, Any]]) -> dict[str, HeldLine]:
    """The reservation lines among an order's items, by line id."""
    return {
        line.line_id: line
        for line in (
            HeldLine(
                line_id=item["sk"]["S"].removeprefix(LINE),
                sku=item["sku"]["S"],
                location=item["location"]["S"],
                quantity=int(item["quantity"]["N"]),
                status=item["status"]["S"],
            )
            for item in items
            if item["sk"]["S"].startswith(LINE)
        )
    }


def shipped_skus(items: Iterable[dict[str, Any]], shipment_id: str) -> set[str] | None:
    """The SKUs ``shipment_id`` already gave back, from the order's markers; None when it is done."""
    whole = f"{SHIPPED}{shipment_id}"
    skus: set[str] = set()
    for item in items:
        key = item["sk"]["S"]
        if key == whole:
            return None
        if key.startswith(f"{whole}{_SEPARATOR}"):
            skus.add(item["sku"]["S"])
    return skus


# -- plumbing ------------------------------------------------------------------------------------------------
class Table:
    """Calls on one table, with DynamoDB's errors mapped to ours. Shared by the inventory table's adapters."""

    def __init__(self, name: str, client: Callable[[], Any]) -> None:
        self.name = name
        self._client = client

    def call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        try:
            result: dict[str, Any] = getattr(self._client(), operation)(TableName=self.name, **kwargs)
        except ClientError as error:
            unavailable(error)
        except BotoCoreError as error:
            broken(error)
        return result

    def conditional(self, operation: str, **kwargs: Any) -> bool:
        """A single-item write with a condition; False when the condition failed."""
        try:
            getattr(self._client(), operation)(TableName=self.name, **kwargs)
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return False
            unavailable(error)
        except BotoCoreError as error:
            broken(error)
        return True

    def query(self, pk: str) -> list[dict[str, Any]]:
        return query_all(
            self.call,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": pk}},
            ConsistentRead=True,
        )

    def batch_get(self, keys: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """Consistent reads of ``keys`` (no duplicates), 100 per call, until DynamoDB has answered for each."""
        items: list[dict[str, Any]] = []
        for chunk in chunked(keys, 100):
            request: dict[str, Any] = {self.name: {"Keys": list(chunk), "ConsistentRead": True}}
            for attempt in range(ATTEMPTS):
                answer = self._raw("batch_get_item", RequestItems=request)
                items.extend(answer.get("Responses", {}).get(self.name, []))
                request = answer.get("UnprocessedKeys") or {}
                if not request:
                    break
                backoff(attempt)
            else:
                raise DownstreamUnavailable("inventory table kept keys unprocessed", keys=len(chunk))
        return items

    def batch_write(self, requests: Sequence[dict[str, Any]]) -> None:
        """Puts and deletes, 25 per call, until DynamoDB has processed each."""
        for chunk in chunked(requests, 25):
            pending: dict[str, Any] = {self.name: list(chunk)}
            for attempt in range(ATTEMPTS):
                pending = self._raw("batch_write_item", RequestItems=pending).get("UnprocessedItems") or {}
                if not pending:
                    break
                backoff(attempt)
            else:
                raise DownstreamUnavailable("inventory table kept writes unprocessed", writes=len(chunk))

    def transact(self, writes: Sequence[dict[str, Any]]) -> bool:
        """One transaction; False when it was cancelled by a condition or a concurrent transaction (re-read)."""
        items = [{op: {"TableName": self.name, **body} for op, body in write.items()} for write in writes]
        try:
            # botocore fills ClientRequestToken once per call, so its own retries of a lost answer are idempotent.
            self._client().transact_write_items(TransactItems=items)
        except ClientError as error:
            if error_code(error) != "TransactionCanceledException":
                unavailable(error)
            reasons = {reason.get("Code") for reason in error.response.get("CancellationReasons", [])}
            reasons -= {None, "None"}
            if "ValidationError" in reasons:
                raise  # a malformed request is a bug, not an outage
            if reasons and reasons <= _RETRY_REASONS:
                return False
            raise DownstreamUnavailable("inventory transaction cancelled", reasons=sorted(reasons)) from error
        except BotoCoreError as error:
            broken(error)
        return True

    def _raw(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        try:
            result: dict[str, Any] = getattr(self._client(), operation)(**kwargs)
        except ClientError as error:
            unavailable(error)
        except BotoCoreError as error:
            broken(error)
        return result


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def broken(error: BotoCoreError) -> NoReturn:
    """No answer (a timeout, a dropped connection): retry later. A request botocore refuses to send is a bug."""
    if isinstance(error, ParamValidationError):
        raise error
    raise DownstreamUnavailable("inventory table unavailable", error=type(error).__name__) from error


def unavailable(error: ClientError) -> NoReturn:
    """Throttling, 5xx, a missing table: retry later. A malformed request surfaces as it is: it is a bug."""
    if error_code(error) == "ValidationException":
        raise error
    raise DownstreamUnavailable("inventory table unavailable", error=error_code(error)) from error
