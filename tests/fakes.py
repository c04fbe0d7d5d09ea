"""Fakes for the ports: real behaviour in memory, so tests assert outcomes rather than calls."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyItemAlreadyExistsError,
    IdempotencyItemNotFoundError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord

from shared.errors import DownstreamUnavailable
from shared.models.events import EventEnvelope


class FakeSecrets:
    def __init__(self, **by_platform: Sequence[str]) -> None:
        self.by_platform = {k: [s.encode() for s in v] for k, v in by_platform.items()}

    def for_platform(self, platform: str) -> list[bytes]:
        if platform not in self.by_platform:
            raise DownstreamUnavailable("webhook secret unavailable", platform=platform)
        return self.by_platform[platform]


class FakePublisher:
    def __init__(self) -> None:
        self.events: list[EventEnvelope[Any]] = []
        self.failures_left = 0

    def publish(self, events: Sequence[EventEnvelope[Any]]) -> None:
        if self.failures_left:
            self.failures_left -= 1
            raise DownstreamUnavailable("event bus rejected entries", failed=len(events))
        self.events.extend(events)


class InMemoryPersistence(BasePersistenceLayer):
    """The DynamoDB layer's conditional-put semantics, in a dict."""

    def __init__(self) -> None:
        super().__init__()
        self.records: dict[str, DataRecord] = {}

    def _get_record(self, idempotency_key: str) -> DataRecord:
        try:
            return self.records[idempotency_key]
        except KeyError:
            raise IdempotencyItemNotFoundError from None

    def _put_record(self, data_record: DataRecord) -> None:
        existing = self.records.get(data_record.idempotency_key)
        now = dt.datetime.now().timestamp()
        if existing and not existing.is_expired and not _in_progress_expired(existing, now):
            raise IdempotencyItemAlreadyExistsError(old_data_record=existing)
        self.records[data_record.idempotency_key] = data_record

    def _update_record(self, data_record: DataRecord) -> None:
        self.records[data_record.idempotency_key] = data_record

    def _delete_record(self, data_record: DataRecord) -> None:
        self.records.pop(data_record.idempotency_key, None)


def _in_progress_expired(record: DataRecord, now: float) -> bool:
    expiry = record.in_progress_expiry_timestamp
    return record.status == "INPROGRESS" and expiry is not None and expiry < now * 1000


class FakeLambdaContext:
    """What Powertools reads from a Lambda context."""

    def __init__(self, function_name: str = "crossdock-test", timeout_ms: int = 5000) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
        self.memory_limit_in_mb = 256
        self.aws_request_id = "00000000-0000-4000-8000-000000000000"
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "2026/11/30/[$LATEST]0000"
        self._deadline = dt.datetime.now().timestamp() * 1000 + timeout_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int(self._deadline - dt.datetime.now().timestamp() * 1000))


class FakeOrderStore:
    """The orders table's conditions in memory: newest version wins, one timeline entry per event."""

    def __init__(self) -> None:
        self.states: dict[str, Any] = {}
        self.timeline: dict[str, list[Any]] = {}

    def apply_version(self, state: Any) -> bool:
        current = self.states.get(state.order_key)
        if current is not None and current.version >= state.version:
            return False
        self.states[state.order_key] = state
        return True

    def append(self, entry: Any) -> bool:
        entries = self.timeline.setdefault(entry.order_key, [])
        if any(e.event_id == entry.event_id for e in entries):
            return False
        entries.append(entry)
        return True
