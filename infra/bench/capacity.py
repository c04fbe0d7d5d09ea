"""The AWS proxy, asking DynamoDB for its consumed capacity by table and index, for ``make bench``.

``AwsProxy`` counts the total units; this one also asks for ``ReturnConsumedCapacity: INDEXES`` and keeps the
units by table, index and operation, so the bench can say which writes dominate. A conditional write whose
condition fails answers 400 with no ConsumedCapacity, yet DynamoDB bills it: at least 1 write unit (the size of
the item it compared with, the DynamoDB guide says), and a cancelled transaction at least 2 per write it held
(a transactional write's price). Those minimums are counted here, apart from the consumed units.

DynamoDB Local (checked on its 2026-05-28 build) reports a transaction's items at the standard rate: two 1 KB
items in a TransactWriteItems come back as 2 units, where AWS bills 4 (a transactional read or write costs twice a
standard one). The units of TransactWriteItems and TransactGetItems are doubled here, in the total too.
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from typing import Any

from infra.local.aws_proxy import DYNAMODB_WRITES, AwsProxy, json_object, operation_of, with_capacity

_CAPACITY_OPERATIONS = DYNAMODB_WRITES | {"GetItem", "Query", "Scan", "TransactGetItems", "BatchGetItem"}
_TRANSACTION_WRITES = ("Put", "Update", "Delete")
_TRANSACTIONS = frozenset({"TransactWriteItems", "TransactGetItems"})
TRANSACTION_FACTOR = 2.0


class CapacityProxy(AwsProxy):
    def __init__(self) -> None:
        super().__init__()
        # (read|write, table, index or "", operation) → units
        self.units: defaultdict[tuple[str, str, str, str], float] = defaultdict(float)
        self.failed_writes: Counter[tuple[str, str]] = Counter()  # (table, operation) → billed minimum units
        # EventBridge bills an entry per 64 KB chunk: the largest entry says whether any took more than one.
        self.largest_event_bytes = 0
        self._tally_lock = threading.Lock()

    def reset(self) -> None:
        self.counts.reset()
        with self._tally_lock:
            self.units.clear()
            self.failed_writes.clear()
            self.largest_event_bytes = 0

    def handle(
        self, upstream: str, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        service, operation = operation_of(path, headers, body)
        if service == "dynamodb" and operation in _CAPACITY_OPERATIONS:
            body = with_capacity(body, "INDEXES")
        if operation == "PutEvents":
            largest = max((event_size(e) for e in json_object(body).get("Entries", [])), default=0)
            with self._tally_lock:
                self.largest_event_bytes = max(self.largest_event_bytes, largest)
        return super().handle(upstream, method, path, headers, body)

    def _count_reply(self, service: str, operation: str, status: int, request: bytes, reply: bytes) -> None:
        super()._count_reply(service, operation, status, request, reply)
        if service != "dynamodb":
            return
        if status >= 300:
            self._count_failed_write(operation, json_object(request), json_object(reply))
            return
        kind = "write" if operation in DYNAMODB_WRITES else "read"
        consumed = json_object(reply).get("ConsumedCapacity")
        entries = consumed if isinstance(consumed, list) else [consumed] if isinstance(consumed, dict) else []
        factor = TRANSACTION_FACTOR if operation in _TRANSACTIONS else 1.0
        with self._tally_lock:
            for entry in entries:
                for index, units in capacity_parts(entry):
                    self.units[(kind, str(entry.get("TableName", "")), index, operation)] += units * factor
        if factor != 1.0:  # the base proxy counted them at the standard rate: add the rest
            extra = sum(float(e.get("CapacityUnits", 0)) for e in entries) * (factor - 1)
            with self.counts.lock:
                if kind == "write":
                    self.counts.write_units += extra
                else:
                    self.counts.read_units += extra

    def _count_failed_write(self, operation: str, request: dict[str, Any], reply: dict[str, Any]) -> None:
        error = str(reply.get("__type", ""))
        if operation in ("PutItem", "UpdateItem", "DeleteItem") and error.endswith("ConditionalCheckFailedException"):
            with self._tally_lock:
                self.failed_writes[(str(request.get("TableName", "")), operation)] += 1
        elif operation == "TransactWriteItems" and error.endswith("TransactionCanceledException"):
            with self._tally_lock:
                for item in request.get("TransactItems", []):
                    for kind in _TRANSACTION_WRITES:
                        if kind in item:
                            self.failed_writes[(str(item[kind].get("TableName", "")), operation)] += 2

    def failed_write_units(self) -> float:
        with self._tally_lock:
            return float(sum(self.failed_writes.values()))


def event_size(entry: dict[str, Any]) -> int:
    """An entry's size as EventBridge counts it for billing: Time (14 bytes when set), Source, DetailType, Detail
    and each Resources ARN, in UTF-8."""
    size = 14 if entry.get("Time") else 0
    for key in ("Source", "DetailType", "Detail"):
        size += len(str(entry.get(key, "")).encode())
    return size + sum(len(str(arn).encode()) for arn in entry.get("Resources", []))


def capacity_parts(entry: dict[str, Any]) -> list[tuple[str, float]]:
    """One ConsumedCapacity entry split into (index, units): "" for the table itself, else the index's name. An
    engine that answers only the total gives one part, the table's."""
    parts: list[tuple[str, float]] = []
    table = entry.get("Table")
    if isinstance(table, dict):
        parts.append(("", float(table.get("CapacityUnits", 0))))
    for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        for name, index in (entry.get(key) or {}).items():
            parts.append((str(name), float(index.get("CapacityUnits", 0))))
    if not parts:
        parts.append(("", float(entry.get("CapacityUnits", 0))))
    return parts
