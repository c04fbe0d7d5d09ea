"""Crashes for the chaos run, inside a local Lambda worker: the process dies at the worst moments.

``CROSSDOCK_LOCAL_CRASHES`` (set only by ``make chaos``) holds two rates, e.g. ``outside=0.03,aws=0.01``:

- ``outside``: after a write to an outside system (ERP, WMS, channel) answered 2xx, before anything else: the
  side effect is committed and the record is not acknowledged, so it comes back;
- ``aws``: after an AWS write succeeded (a table write, an event, a message), i.e. part way through a batch.

Only SQS batches are crashed (``arm``): a consumer's record returns to its queue, which is the case to prove.
The worker dies with ``os._exit``, as a killed execution environment does: no ``finally``, no flush.
"""

from __future__ import annotations

import os
import random
from typing import Any

CRASH_EXIT_CODE = 75
ENV_VAR = "CROSSDOCK_LOCAL_CRASHES"
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_AWS_WRITES = frozenset(
    {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "PutEvents", "SendMessage", "SendMessageBatch"}
)


class _Crashes:
    def __init__(self, outside: float, aws: float) -> None:
        self.outside = outside
        self.aws = aws
        self.armed = False
        self._random = random.Random()

    def maybe(self, rate: float) -> None:
        if self.armed and rate > 0 and self._random.random() < rate:
            os._exit(CRASH_EXIT_CODE)


_crashes: _Crashes | None = None


def parse(value: str) -> tuple[float, float]:
    rates = dict(part.split("=", 1) for part in value.split(",") if "=" in part)
    return float(rates.get("outside", 0)), float(rates.get("aws", 0))


def install(value: str | None) -> None:
    """Patch httpx and botocore in this worker so calls can end in a crash; nothing when ``value`` is empty."""
    global _crashes
    if not value:
        return
    outside, aws = parse(value)
    _crashes = _Crashes(outside, aws)
    _patch_httpx(_crashes)
    _patch_botocore(_crashes)


def arm(event: Any) -> None:
    """Crash only inside SQS batches: the records of a crashed batch return to the queue."""
    if _crashes is None:
        return
    records = event.get("Records") if isinstance(event, dict) else None
    _crashes.armed = (
        isinstance(records, list)
        and bool(records)
        and all(isinstance(r, dict) and r.get("eventSource") == "aws:sqs" for r in records)
    )


def _patch_httpx(crashes: _Crashes) -> None:
    import httpx

    send = httpx.Client.send

    def send_then_maybe_crash(self: httpx.Client, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        response = send(self, request, **kwargs)
        if request.method in _WRITES and response.status_code < 300:
            crashes.maybe(crashes.outside)
        return response

    httpx.Client.send = send_then_maybe_crash  # type: ignore[method-assign]


def _patch_botocore(crashes: _Crashes) -> None:
    from botocore.client import BaseClient

    call = BaseClient._make_api_call  # type: ignore[attr-defined]

    def call_then_maybe_crash(self: BaseClient, operation_name: str, api_params: Any) -> Any:
        result = call(self, operation_name, api_params)
        if operation_name in _AWS_WRITES:
            crashes.maybe(crashes.aws)
        return result

    BaseClient._make_api_call = call_then_maybe_crash  # type: ignore[attr-defined]
