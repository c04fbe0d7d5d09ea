"""The sandbox framework: routes, inspection, fault knobs and the webhook outbox, over real loopback HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from infra.local.clock import Clock
from infra.local.sandboxes.base import Request, Response, Sandbox


class Echo(Sandbox):
    name = "echo"

    def __init__(self, clock: Clock) -> None:
        super().__init__(clock)
        self.route("POST", "/things/{thing_id}", self.put_thing, name="put thing")

    def reset_state(self) -> None:
        self.things: dict[str, Any] = {}

    def snapshot(self) -> dict[str, Any]:
        return {"things": self.things}

    def put_thing(self, request: Request) -> Response:
        self.things[request.params["thing_id"]] = request.json()
        return Response(201, {"id": request.params["thing_id"]})


@pytest.fixture
def echo() -> Iterator[Echo]:
    sandbox = Echo(Clock())
    sandbox.start()
    yield sandbox
    sandbox.stop()


def test_state_is_inspectable(echo: Echo) -> None:
    assert httpx.post(f"{echo.url}/things/a", json={"n": 1}).status_code == 201
    state = httpx.get(f"{echo.url}/_sandbox/state").json()
    assert state["things"] == {"a": {"n": 1}}
    assert state["calls"] == {"put thing": 1}


def test_outage_window_on_the_controlled_clock(echo: Echo) -> None:
    now = echo.clock.now()
    httpx.post(f"{echo.url}/_sandbox/faults", json={"outages": [[now, now + 60]]})
    assert httpx.post(f"{echo.url}/things/a", json={}).status_code == 503
    echo.clock.advance(61)
    assert httpx.post(f"{echo.url}/things/a", json={}).status_code == 201


def test_rate_limit_answers_429_with_retry_after(echo: Echo) -> None:
    httpx.post(f"{echo.url}/_sandbox/faults", json={"rate_limit_rate": 1.0, "retry_after_seconds": 7})
    response = httpx.post(f"{echo.url}/things/a", json={})
    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"
    assert echo.things == {}


def test_error_rate_is_a_5xx(echo: Echo) -> None:
    httpx.post(f"{echo.url}/_sandbox/faults", json={"error_rate": 1.0})
    assert httpx.post(f"{echo.url}/things/a", json={}).status_code in {500, 502, 503}


def test_bad_fault_settings_are_rejected(echo: Echo) -> None:
    with pytest.raises(Exception, match="error_rate"):
        echo.dispatch(Request("POST", "/_sandbox/faults", {}, {}, b'{"error_rate": 3}'))


def test_webhooks_wait_for_the_clock(echo: Echo) -> None:
    received: list[bytes] = []
    target = Echo(echo.clock)
    target.route("POST", "/hook", lambda r: (received.append(r.body), Response(200))[1])
    target.start()
    try:
        echo.webhook_targets = [f"{target.url}/hook"]
        echo.send_webhook({"x": "1"}, b"first", delays=(0, 0, 3600))
        assert len(echo.flush_webhooks()) == 2
        assert received == [b"first", b"first"]
        assert echo.pending_webhooks() == 1
        echo.clock.advance(3600)
        assert [d.status for d in echo.flush_webhooks()] == [200]
        assert echo.pending_webhooks() == 0
    finally:
        target.stop()
