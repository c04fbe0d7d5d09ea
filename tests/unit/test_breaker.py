"""The breaker on a fake store and a fake clock: when it opens, what it costs, the one probe, and failing open."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from shared.breaker import Breaker, BreakerState
from shared.connections import Connection
from shared.errors import CircuitOpen, DownstreamUnavailable, RateLimited, ValidationFailed
from shared.models.operations import BreakerPolicy
from shared.outbound import OutboundClient
from tests.conftest import JsonLogs

POLICY = BreakerPolicy(
    failure_threshold=3, window_seconds=60, cooldown_seconds=30, max_cooldown_seconds=100, check_every_seconds=2
)
DOWN = DownstreamUnavailable("netsuite unavailable", system="netsuite")


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeBreakerStore:
    """``BreakerStore`` in memory, with the same conditions as the DynamoDB one; counts every call."""

    def __init__(self) -> None:
        self.items: dict[str, BreakerState] = {}
        self.calls: list[str] = []
        self.broken = False

    def _enter(self, name: str, system: str) -> BreakerState:
        self.calls.append(name)
        if self.broken:
            raise DownstreamUnavailable("operations table unavailable")
        return self.items.get(system, BreakerState(system=system))

    def read(self, system: str) -> BreakerState:
        return self._enter("read", system)

    def record_failure(self, system: str, now: float, window_seconds: int, error: str) -> BreakerState:
        state = self._enter("record_failure", system)
        if state.window_started is not None and state.window_started.timestamp() > now - window_seconds:
            update: dict[str, object] = {"failures": state.failures + 1}
        else:
            update = {"failures": 1, "window_started": at(now)}
        self.items[system] = state.model_copy(update={**update, "last_error": error})
        return self.items[system]

    def open(self, system: str, now: float, open_seconds: int, failures: int, error: str) -> bool:
        state = self._enter("open", system)
        if state.is_open:
            return False
        self.items[system] = state.model_copy(
            update={
                "state": "open",
                "opened_at": at(now),
                "open_until": at(now + open_seconds),
                "cooldown_seconds": open_seconds,
                "failures": failures,
                "last_error": error,
                "probe_until": None,
            }
        )
        return True

    def take_probe(self, system: str, now: float, lease_seconds: int) -> BreakerState | None:
        state = self._enter("take_probe", system)
        due = state.open_until is not None and state.open_until.timestamp() <= now
        free = state.probe_until is None or state.probe_until.timestamp() <= now
        if not (state.is_open and due and free):
            return None
        self.items[system] = state.model_copy(update={"probe_until": at(now + lease_seconds)})
        return self.items[system]

    def reopen(self, system: str, now: float, open_seconds: int, error: str) -> bool:
        state = self._enter("reopen", system)
        if not state.is_open:
            return False
        self.items[system] = state.model_copy(
            update={
                "open_until": at(now + open_seconds),
                "cooldown_seconds": open_seconds,
                "last_error": error,
                "probe_until": None,
            }
        )
        return True

    def close(self, system: str) -> BreakerState | None:
        state = self._enter("close", system)
        if not state.is_open:
            return None
        self.items[system] = BreakerState(system=system, last_error=state.last_error)
        return state

    def states(self) -> list[BreakerState]:
        return list(self.items.values())


def at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store() -> FakeBreakerStore:
    return FakeBreakerStore()


def breaker(store: FakeBreakerStore, clock: Clock, policy: BreakerPolicy = POLICY) -> Breaker:
    return Breaker("netsuite", store, policy, now=clock)


def trip(b: Breaker, times: int = POLICY.failure_threshold, error: DownstreamUnavailable | RateLimited = DOWN) -> None:
    for _ in range(times):
        b.before_call()
        b.failed(error)


def messages(json_logs: JsonLogs, message: str) -> list[dict[str, object]]:
    return [r for r in json_logs.records() if r["message"] == message]


def test_opens_at_the_threshold_and_stops_calls(store: FakeBreakerStore, clock: Clock, json_logs: JsonLogs) -> None:
    b = breaker(store, clock)
    trip(b, POLICY.failure_threshold - 1)
    b.before_call()  # still closed
    b.failed(DOWN)
    with pytest.raises(CircuitOpen) as stopped:
        b.before_call()
    assert stopped.value.system == "netsuite"
    assert stopped.value.retry_after_seconds == pytest.approx(30)
    [opened] = messages(json_logs, "breaker opened")
    assert opened["system"] == "netsuite"
    assert opened["failures"] == 3
    assert opened["open_seconds"] == 30
    assert store.items["netsuite"].is_open


def test_failures_outside_the_window_start_it_over(store: FakeBreakerStore, clock: Clock) -> None:
    b = breaker(store, clock)
    trip(b, 2)
    clock.advance(61)
    trip(b, 2)
    b.before_call()
    assert store.items["netsuite"].failures == 2
    assert not store.items["netsuite"].is_open


def test_an_open_breaker_is_trusted_until_due_with_no_store_call(store: FakeBreakerStore, clock: Clock) -> None:
    b = breaker(store, clock)
    trip(b)
    calls = len(store.calls)
    for _ in range(50):  # a busy consumer's batch: every record after the first costs nothing
        clock.advance(0.5)
        with pytest.raises(CircuitOpen):
            b.before_call()
    assert len(store.calls) == calls


def test_a_closed_breaker_reads_at_most_every_check_and_never_writes_on_success(
    store: FakeBreakerStore, clock: Clock
) -> None:
    b = breaker(store, clock)
    for _ in range(10):
        b.before_call()
        b.succeeded()
        clock.advance(0.5)
    assert store.calls == ["read", "read", "read"]  # at 0 s, 2 s and 4 s


def test_one_probe_across_containers_and_its_success_closes(
    store: FakeBreakerStore, clock: Clock, json_logs: JsonLogs
) -> None:
    first, second = breaker(store, clock), breaker(store, clock)
    trip(first)
    clock.advance(30)
    first.before_call()  # the probe
    with pytest.raises(CircuitOpen) as waiting:
        second.before_call()
    assert waiting.value.retry_after_seconds == pytest.approx(POLICY.probe_lease_seconds)
    clock.advance(1.5)
    first.succeeded()
    assert not store.items["netsuite"].is_open
    [closed] = messages(json_logs, "breaker closed")
    assert closed == closed | {"system": "netsuite", "open_for_seconds": 31.5}
    first.before_call()  # closed: it calls
    first.succeeded()
    clock.advance(POLICY.probe_lease_seconds)
    second.before_call()  # the other container sees it closed once its wait is over
    second.succeeded()
    assert len(messages(json_logs, "breaker closed")) == 1


def test_a_failed_probe_doubles_the_cooldown_up_to_the_max(
    store: FakeBreakerStore, clock: Clock, json_logs: JsonLogs
) -> None:
    b = breaker(store, clock)
    trip(b)
    waits = []
    for _ in range(3):
        clock.advance(store.items["netsuite"].cooldown_seconds or 0)
        b.before_call()  # the probe
        b.failed(DOWN)
        with pytest.raises(CircuitOpen) as stopped:
            b.before_call()
        waits.append(round(stopped.value.retry_after_seconds))
    assert waits == [60, 100, 100]
    assert [r["open_seconds"] for r in messages(json_logs, "breaker probe failed")] == [60, 100, 100]
    assert len(messages(json_logs, "breaker opened")) == 1  # one outage, however many probes


def test_a_probe_from_a_container_with_an_old_state_doubles_the_stored_cooldown(
    store: FakeBreakerStore, clock: Clock
) -> None:
    first, second = breaker(store, clock), breaker(store, clock)
    trip(first)
    with pytest.raises(CircuitOpen):
        second.before_call()  # the second container reads it open with the first cooldown (30 s) and waits
    for _ in range(2):  # the first container's probes fail: 60 s, then 100 s
        clock.advance(store.items["netsuite"].cooldown_seconds or 0)
        first.before_call()
        first.failed(DOWN)
    assert store.items["netsuite"].cooldown_seconds == 100
    clock.advance(100)
    second.before_call()  # its state is 30 s old news; it takes the probe
    second.failed(DOWN)
    assert store.items["netsuite"].cooldown_seconds == 100  # not 2 x 30
    with pytest.raises(CircuitOpen) as stopped:
        second.before_call()
    assert stopped.value.retry_after_seconds == pytest.approx(100)


def test_a_rate_limit_opens_for_at_least_its_retry_after(store: FakeBreakerStore, clock: Clock) -> None:
    b = breaker(store, clock)
    trip(b, error=RateLimited("shopify rate limited", retry_after_seconds=120.5))
    with pytest.raises(CircuitOpen) as stopped:
        b.before_call()
    assert stopped.value.retry_after_seconds == pytest.approx(121)
    assert store.items["netsuite"].cooldown_seconds == 121


def test_only_availability_failures_count(store: FakeBreakerStore, clock: Clock) -> None:
    b = breaker(store, clock)
    b.before_call()
    for _ in range(5):
        b.failed(ValidationFailed("refused"))
        b.failed(CircuitOpen("open", system="netsuite", retry_after_seconds=5))
    assert store.calls == ["read"]


def test_a_failing_store_fails_open(store: FakeBreakerStore, clock: Clock, json_logs: JsonLogs) -> None:
    store.broken = True
    b = breaker(store, clock)
    for _ in range(5):
        b.before_call()
        b.failed(DOWN)
        clock.advance(3)
    b.before_call()
    b.succeeded()
    assert messages(json_logs, "breaker store unavailable")
    assert not messages(json_logs, "breaker opened")


def test_the_outbound_client_stops_calling_an_open_system_and_a_probe_answer_closes_it(
    store: FakeBreakerStore, clock: Clock
) -> None:
    answers = iter([503] * 3 * 3 + [404])  # three calls of three attempts each, then the probe's answer
    hits: list[str] = []

    def respond(request: httpx.Request) -> httpx.Response:
        hits.append(request.url.path)
        return httpx.Response(next(answers))

    b = breaker(store, clock)
    client = OutboundClient(
        "netsuite",
        Connection(base_url="https://erp.test"),
        sleep=lambda _: None,
        transport=httpx.MockTransport(respond),
        breaker=b,
    )
    for _ in range(3):
        with pytest.raises(DownstreamUnavailable):
            client.request("GET", "/record")
    with pytest.raises(CircuitOpen):
        client.request("GET", "/record")
    assert len(hits) == 9  # the open breaker made no call
    clock.advance(30)
    assert client.request("GET", "/record").status_code == 404  # a 4xx: the system is up
    assert not store.items["netsuite"].is_open
