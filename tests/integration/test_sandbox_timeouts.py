"""A sandbox's timeout faults over loopback: dropped before the write, or after it committed, and what the
outbound client makes of the second when the write is not safe to repeat."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from infra.local.clock import Clock
from infra.local.sandboxes.base import Faults, Request, Response, Sandbox
from shared.connections import Connection
from shared.errors import DownstreamUnavailable
from shared.outbound import OutboundClient


class Ledger(Sandbox):
    name = "ledger"

    def __init__(self) -> None:
        super().__init__(Clock())
        self.route("POST", "/entries", self.add, name="add entry")
        self.route("GET", "/entries", self.list, name="list entries")

    def reset_state(self) -> None:
        self.entries: list[Any] = []

    def add(self, request: Request) -> Response:
        with self.lock:
            self.entries.append(request.json())
        return Response(200, {"recorded": len(self.entries)})

    def list(self, request: Request) -> Response:
        return Response(200, {"entries": self.entries})


@pytest.fixture(scope="module")
def server() -> Iterator[Ledger]:
    # One server for the module: stopping one waits out its poll interval.
    sandbox = Ledger()
    sandbox.start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def ledger(server: Ledger) -> Ledger:
    server.reset()  # no entries, no faults, no counts
    return server


def _post(ledger: Ledger) -> httpx.Response:
    return httpx.post(f"{ledger.url}/entries", json={"amount": "12.50"}, timeout=10)


def test_no_faults_answers(ledger: Ledger) -> None:
    ledger.faults = Faults(timeout_rate=0.0, commit_then_timeout_rate=0.0)
    response = _post(ledger)
    assert response.status_code == 200
    assert ledger.entries == [{"amount": "12.50"}]
    assert not ledger.injected


def test_timeout_drops_the_request_before_it_runs(ledger: Ledger) -> None:
    httpx.post(f"{ledger.url}/_sandbox/faults", json={"timeout_rate": 1.0}, timeout=10).raise_for_status()
    with pytest.raises(httpx.TransportError):
        _post(ledger)
    assert ledger.entries == []
    assert ledger.injected == {"timeout": 1}


def test_commit_then_timeout_keeps_the_write_and_drops_the_answer(ledger: Ledger) -> None:
    ledger.faults = Faults(commit_then_timeout_rate=1.0)
    with pytest.raises(httpx.TransportError):
        _post(ledger)
    assert ledger.entries == [{"amount": "12.50"}]
    assert ledger.injected == {"timeout after commit": 1}


def test_commit_then_timeout_leaves_reads_answered(ledger: Ledger) -> None:
    ledger.faults = Faults(commit_then_timeout_rate=1.0)
    response = httpx.get(f"{ledger.url}/entries", timeout=10)
    assert response.status_code == 200
    assert not ledger.injected


def _client(ledger: Ledger) -> OutboundClient:
    return OutboundClient("ledger", Connection(base_url=ledger.url), timeout=10, sleep=lambda _: None)


def test_a_write_not_safe_to_repeat_may_have_committed(ledger: Ledger) -> None:
    ledger.faults = Faults(commit_then_timeout_rate=1.0)
    client = _client(ledger)
    try:
        with pytest.raises(DownstreamUnavailable) as raised:
            client.request("POST", "/entries", json={"amount": "12.50"}, idempotent=False)
    finally:
        client.close()
    assert raised.value.details["maybe_committed"] is True
    assert raised.value.details["system"] == "ledger"
    assert raised.value.retryable
    assert client.calls == 1  # never repeated: it landed once
    assert ledger.entries == [{"amount": "12.50"}]


def test_an_idempotent_write_is_retried_through_the_drop(ledger: Ledger) -> None:
    ledger.faults = Faults(commit_then_timeout_rate=1.0)
    client = _client(ledger)
    try:
        with pytest.raises(DownstreamUnavailable) as raised:
            client.request("POST", "/entries", json={"amount": "12.50"})
    finally:
        client.close()
    assert "maybe_committed" not in raised.value.details
    assert client.calls == 3
    assert len(ledger.entries) == 3  # the sandbox has no key to dedupe on: safe only for a keyed write
    assert ledger.injected == {"timeout after commit": 3}
