"""Publish contract events to EventBridge, treating a partial failure as the failure it is."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from shared.aws import clients
from shared.errors import DownstreamUnavailable, PayloadTooLarge
from shared.models.events import EventEnvelope
from shared.observability import logger

MAX_ENTRIES_PER_CALL = 10
MAX_ENTRY_BYTES = 256 * 1024


class EventBridgePublisher:
    def __init__(self, bus_name: str, client: Callable[[], Any] = lambda: clients.client("events")) -> None:
        self._bus_name = bus_name
        self._client = client

    def publish(self, events: Sequence[EventEnvelope[Any]]) -> None:
        # A call takes 10 entries and 256 KB in all, so big events (inventory changes) go in smaller calls.
        batch: list[dict[str, Any]] = []
        batch_bytes = 0
        for event in events:
            entry, size = self._entry(event)
            if batch and (len(batch) == MAX_ENTRIES_PER_CALL or batch_bytes + size > MAX_ENTRY_BYTES):
                self._put(batch)
                batch, batch_bytes = [], 0
            batch.append(entry)
            batch_bytes += size
        if batch:
            self._put(batch)

    def _entry(self, event: EventEnvelope[Any]) -> tuple[dict[str, Any], int]:
        detail = event.model_dump_json()
        entry = {
            "EventBusName": self._bus_name,
            "Source": event.metadata.source,
            "DetailType": event.detail_type,
            "Detail": detail,
        }
        # EventBridge counts source, detail-type and detail against its 256 KB entry limit.
        size = len(detail.encode()) + len(event.metadata.source) + len(event.detail_type)
        if size > MAX_ENTRY_BYTES:
            raise PayloadTooLarge("event too large for the bus", bytes=size, limit=MAX_ENTRY_BYTES)
        return entry, size

    def _put(self, entries: list[dict[str, Any]]) -> None:
        try:
            response = self._client().put_events(Entries=entries)
        except (ClientError, BotoCoreError) as error:
            raise DownstreamUnavailable("event bus unavailable", error=type(error).__name__) from error
        failed = response.get("FailedEntryCount", 0)
        if failed:
            codes = sorted({r.get("ErrorCode", "") for r in response.get("Entries", []) if r.get("ErrorCode")})
            logger.error("put events partially failed", failed=failed, total=len(entries), error_codes=codes)
            raise DownstreamUnavailable("event bus rejected entries", failed=failed, error_codes=codes)
