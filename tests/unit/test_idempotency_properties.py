"""Properties of idempotency: ``Once`` (a consumer's side effect) and the webhook intake's dedupe, as state machines.

A model keeps, per key, the record Powertools should hold: none, in progress until the invocation's deadline, or
done with its result until the window ends. Rules run the work under a key, again (a redelivery), once more from
inside the first run (a second consumer while the first is in flight), failing (the record is dropped), or killed
(a Lambda timeout: the in-progress record stays, and expires with the time the invocation had left), and move a
clock past deadlines and windows. ``Once`` runs on moto's DynamoDB and on ``InMemoryPersistence`` side by side.

Powertools reads the time only as ``dt.datetime.now()`` in its idempotency modules (``InMemoryPersistence`` too),
so a stand-in for ``dt`` there is the clock. It moves in whole seconds: the millisecond deadlines are then exact.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Self
from unittest.mock import patch

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
from aws_lambda_powertools.utilities.idempotency import base as idempotency_base
from aws_lambda_powertools.utilities.idempotency.persistence import base as persistence_base
from aws_lambda_powertools.utilities.idempotency.persistence import datarecord, dynamodb
from aws_lambda_powertools.utilities.typing import LambdaContext
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

import tests.fakes
from functions.receive_webhook.logic import Ack, IntakeDeps, receive_webhook
from infra.samples import compact, shopify_delivery, shopify_payload, woocommerce_delivery, woocommerce_payload
from shared.channels.base import WebhookRequest
from shared.errors import Conflict, DownstreamUnavailable
from shared.models.events import EventEnvelope
from shared.once import Once
from tests import tables
from tests.fakes import FakeSecrets, InMemoryPersistence
from tests.unit.stateful_support import moto_table

T0 = int(dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC).timestamp())
HOUR = 3600
WINDOW = 2 * HOUR  # Once's window here; short, so that waits cross it
READERS = (idempotency_base, persistence_base, dynamodb, datarecord, tests.fakes)
# Seconds an invocation has left when the work starts (0: killed at the timeout, Powertools issue 4759).
LEFT = st.sampled_from((0, 1, 30, 900))


class Clock:
    """Whole seconds since the epoch; ``installed`` makes it what Powertools (and the fake store) call now."""

    def __init__(self) -> None:
        self.seconds = T0
        clock = self

        class Now(dt.datetime):
            @classmethod
            def now(cls, tz: dt.tzinfo | None = None) -> Self:
                return cls.fromtimestamp(clock.seconds, tz=dt.UTC)

        self._module = SimpleNamespace(datetime=Now, timedelta=dt.timedelta, date=dt.date, time=dt.time)

    @contextmanager
    def installed(self) -> Iterator[None]:
        with ExitStack() as stack:
            for module in READERS:
                stack.enter_context(patch.object(module, "dt", self._module))
            yield


class Invocation(LambdaContext):
    """A Lambda context on the clock, with ``left`` seconds to go."""

    def __init__(self, clock: Clock, left: int) -> None:
        self._clock = clock
        self._deadline = clock.seconds + left

    def get_remaining_time_in_millis(self) -> int:  # type: ignore[override]
        return max(0, self._deadline - self._clock.seconds) * 1000


class Killed(BaseException):
    """The runtime stopping an invocation at its timeout: no ``except Exception`` runs, nothing is cleaned up.

    Raised before the other system is called: a kill after it is the adapters' look-up's to cover, not ``Once``'s.
    """


class Refused(Exception):
    """The other system said no before doing anything."""


# -- the model ------------------------------------------------------------------------------------------------
@dataclass
class Record:
    done: bool
    result: str | None
    expires: int  # seconds, as Powertools stores ``expiration``
    in_progress_until_ms: int | None = None

    def holds(self, now: int) -> bool:
        """Whether a new run is refused: Powertools' conditional put, negated."""
        if self.expires < now:
            return False
        return self.done or self.in_progress_until_ms is None or self.in_progress_until_ms >= now * 1000


# ("ran" | "repeat", result): the work ran now, or an earlier run's result came back; else ("conflict" | "failed" |
# "killed", None).
Outcome = tuple[str, str | None]


class Model:
    def __init__(self, window: Callable[[str], int]) -> None:
        self.window = window
        self.records: dict[str, Record] = {}
        self.done = Counter[str]()  # runs that completed, per key
        self.started: dict[str, int] = {}  # when the record now held was written

    def expect(self, key: str, how: str, now: int, left: int, result: str | None) -> Outcome:
        """What a run should answer, and the record it leaves."""
        held = self.records.get(key)
        if held is not None and held.holds(now):
            return ("repeat", held.result) if held.done else ("conflict", None)
        if held is not None:
            event("runs again: " + ("window over" if held.done else "crashed run expired"))
        self.started[key] = now
        if how == "fail":
            self.records.pop(key, None)
            return ("failed", None)
        if how == "kill":
            self.records[key] = Record(False, None, now + self.window(key), (now + left) * 1000)
            return ("killed", None)
        self.done[key] += 1
        self.records[key] = Record(True, result, now + self.window(key))
        return ("ran", result)

    def stored(self) -> list[tuple[str, int]]:
        return sorted(("COMPLETED" if r.done else "INPROGRESS", r.expires) for r in self.records.values())


# -- Once ---------------------------------------------------------------------------------------------------------
KEYS = ("k1", "k2", "quiet")  # "quiet" does its work and returns nothing (a status push)


@dataclass
class Engine:
    name: str
    once: Once
    stored: Callable[[], list[tuple[str, int]]]
    effects: dict[str, list[int]]


class OnceMachine(RuleBasedStateMachine):
    """``Once`` on moto's DynamoDB and on the in-memory fake: every answer as the model says, effects counted."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = Clock()
        self._stack = ExitStack()
        self._stack.enter_context(self.clock.installed())
        client = self._stack.enter_context(moto_table("idempotency", tables.IDEMPOTENCY))
        fake = InMemoryPersistence()
        self.engines = [
            Engine(
                "dynamodb",
                Once(DynamoDBPersistenceLayer(table_name="idempotency", boto3_client=client), "effect", WINDOW),
                lambda: _items(client),
                {key: [] for key in KEYS},
            ),
            Engine(
                "fake",
                Once(fake, "effect", WINDOW),
                # The raw status: ``DataRecord.status`` reads "EXPIRED" once the window is over, the table does not.
                lambda: sorted((r._status, int(r.expiry_timestamp or 0)) for r in fake.records.values()),
                {key: [] for key in KEYS},
            ),
        ]
        self.model = Model(lambda key: WINDOW)

    def teardown(self) -> None:
        self._stack.close()

    def effect(self, engine: Engine, key: str, how: str, then: Callable[[], None] | None = None) -> Callable[[], Any]:
        def work() -> str | None:
            if then is not None:
                then()
            if how == "fail":
                raise Refused("no")
            if how == "kill":
                raise Killed
            engine.effects[key].append(self.clock.seconds)
            return None if key == "quiet" else f"{key}/{len(engine.effects[key])}"

        return work

    def invoke(self, engine: Engine, key: str, left: int, work: Callable[[], Any]) -> Outcome:
        """``Once`` does not say whether the work ran now: "ran" stands for both, the effects tell them apart."""
        engine.once.register(Invocation(self.clock, left))
        try:
            return ("ran", engine.once(key, work))
        except Conflict:
            return ("conflict", None)
        except Refused:
            return ("failed", None)
        except Killed:
            return ("killed", None)

    def expect(self, key: str, how: str, left: int, label: str = "") -> Outcome:
        result = None if key == "quiet" else f"{key}/{self.model.done[key] + 1}"
        kind, value = self.model.expect(key, how, self.clock.seconds, left, result)
        event(f"{label or how}: {kind}")
        return ("ran" if kind == "repeat" else kind, value)

    def step(self, key: str, how: str, left: int) -> None:
        expected = self.expect(key, how, left)
        for engine in self.engines:
            assert self.invoke(engine, key, left, self.effect(engine, key, how)) == expected, engine.name

    @rule(key=st.sampled_from(KEYS), left=LEFT)
    def run(self, key: str, left: int) -> None:
        """A first delivery, or a redelivery: a repeat returns the first result and does nothing."""
        self.step(key, "ok", left)

    @rule(key=st.sampled_from(KEYS), left=LEFT)
    def fail(self, key: str, left: int) -> None:
        self.step(key, "fail", left)

    @rule(key=st.sampled_from(KEYS), left=LEFT)
    def kill(self, key: str, left: int) -> None:
        self.step(key, "kill", left)

    @rule(key=st.sampled_from(KEYS), left=LEFT, other=LEFT)
    def overlap(self, key: str, left: int, other: int) -> None:
        """A second consumer starts the same work while the first is in it: it gets ``Conflict`` and does nothing."""
        runs = self.model.done[key] + 1
        expected = self.expect(key, "ok", left, "overlap")
        for engine in self.engines:
            inner: list[Outcome] = []

            def second(engine: Engine = engine, inner: list[Outcome] = inner) -> None:
                inner.append(self.invoke(engine, key, other, self.effect(engine, key, "ok")))

            assert self.invoke(engine, key, left, self.effect(engine, key, "ok", then=second)) == expected
            assert inner == ([("conflict", None)] if self.model.done[key] == runs else []), engine.name

    @rule(seconds=st.sampled_from((1, 30, 31, 900, 901, WINDOW, WINDOW + 1)) | st.integers(0, 2 * WINDOW))
    def wait(self, seconds: int) -> None:
        self.clock.seconds += seconds

    @invariant()
    def each_record_stands_for_one_effect(self) -> None:
        for engine in self.engines:
            assert engine.stored() == self.model.stored(), engine.name
            for key in KEYS:
                runs = engine.effects[key]
                assert len(runs) == self.model.done[key], (engine.name, key)
                record = self.model.records.get(key)
                if record is not None and record.done:
                    # The effect ran when this record was written, and never again while it lives.
                    assert [t for t in runs if t >= self.model.started[key]] == [self.model.started[key]]


def _items(client: Any) -> list[tuple[str, int]]:
    items = client.scan(TableName="idempotency")["Items"]
    return sorted((item["status"]["S"], int(item["expiration"]["N"])) for item in items)


OnceMachine.TestCase.settings = settings(max_examples=25, stateful_step_count=15, deadline=None)
TestOnceMachine = OnceMachine.TestCase


# -- the webhook intake -------------------------------------------------------------------------------------------
SECRETS = {"shopify": "shpss_stateful", "woocommerce": "wc_stateful"}
SHOPIFY_BODY = compact(shopify_payload("orders_create"))
WOO_BODY = compact(woocommerce_payload())


def _shopify(event_id: str) -> Callable[[], WebhookRequest]:
    # A retry is a new delivery (new webhook id) of the same event id.
    return lambda: _request(shopify_delivery(SHOPIFY_BODY, secret=SECRETS["shopify"], event_id=event_id), SHOPIFY_BODY)


def _woo(topic: str) -> Callable[[], WebhookRequest]:
    return lambda: _request(woocommerce_delivery(WOO_BODY, secret=SECRETS["woocommerce"], topic=topic), WOO_BODY)


def _request(headers: dict[str, str], body: bytes) -> WebhookRequest:
    return WebhookRequest(headers={name.lower(): value for name, value in headers.items()}, body=body)


DELIVERIES: dict[str, tuple[str, Callable[[], WebhookRequest]]] = {
    "shopify-1": ("shopify", _shopify("evt-1")),
    "shopify-2": ("shopify", _shopify("evt-2")),
    "woo-created": ("woocommerce", _woo("order.created")),
    "woo-updated": ("woocommerce", _woo("order.updated")),
}
# Different windows: a store shared across platforms once kept the first platform's for all (the test below).
WINDOWS = {"shopify": 72 * HOUR, "woocommerce": 96 * HOUR}


class ScriptedPublisher:
    """The bus, doing next what the rule asked: publish, refuse, be killed mid-call, or see a second delivery."""

    def __init__(self) -> None:
        self.events: list[EventEnvelope[Any]] = []
        self.next: Callable[[], None] | None = None

    def publish(self, events: Sequence[EventEnvelope[Any]]) -> None:
        then, self.next = self.next, None
        if then is not None:
            then()
        self.events.extend(events)


def _intake(client: Any, publisher: ScriptedPublisher, windows: dict[str, int]) -> IntakeDeps:
    """The intake as its handler builds it: one persistence store for every platform."""
    return IntakeDeps(
        secrets=FakeSecrets(**{platform: [secret] for platform, secret in SECRETS.items()}),
        publisher=publisher,
        persistence=DynamoDBPersistenceLayer(table_name="idempotency", boto3_client=client),
        dedupe_windows=windows,
    )


class IntakeMachine(RuleBasedStateMachine):
    """``receive_webhook`` on moto's DynamoDB: one event on the bus per delivery key and window."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = Clock()
        self._stack = ExitStack()
        self._stack.enter_context(self.clock.installed())
        client = self._stack.enter_context(moto_table("idempotency", tables.IDEMPOTENCY))
        self.publisher = ScriptedPublisher()
        self.deps = _intake(client, self.publisher, WINDOWS)
        self.model = Model(lambda key: WINDOWS[DELIVERIES[key][0]])
        self.event_ids: dict[str, str] = {}
        self.client = client

    def teardown(self) -> None:
        self._stack.close()

    def deliver(self, key: str, left: int) -> Outcome:
        """One delivery: ("ran", key) when it published, ("repeat", key) when the intake answered a duplicate."""
        platform, request = DELIVERIES[key]
        try:
            ack = receive_webhook(platform, request(), self.deps, Invocation(self.clock, left))
        except Conflict:
            return ("conflict", None)
        except DownstreamUnavailable:
            return ("failed", None)
        except Killed:
            return ("killed", None)
        assert isinstance(ack, Ack)
        # Every answer for a key names the same event: the one the first delivery published.
        assert ack.event_id == self.event_ids.setdefault(key, ack.event_id)
        return ("repeat" if ack.duplicate else "ran", key)

    def step(self, key: str, how: str, left: int, then: Callable[[], None] | None = None) -> None:
        expected = self.model.expect(key, how, self.clock.seconds, left, key)
        event(f"{'overlap' if then else how}: {expected[0]}")
        self.publisher.next = {"fail": _refuse, "kill": _kill}.get(how, then)
        try:
            assert self.deliver(key, left) == expected
        finally:
            self.publisher.next = None  # unused when nothing was published

    @rule(key=st.sampled_from(sorted(DELIVERIES)), left=LEFT)
    def delivery(self, key: str, left: int) -> None:
        self.step(key, "ok", left)

    @rule(key=st.sampled_from(sorted(DELIVERIES)), left=LEFT)
    def bus_refuses(self, key: str, left: int) -> None:
        self.step(key, "fail", left)

    @rule(key=st.sampled_from(sorted(DELIVERIES)), left=LEFT)
    def killed_while_publishing(self, key: str, left: int) -> None:
        self.step(key, "kill", left)

    @rule(key=st.sampled_from(sorted(DELIVERIES)), left=LEFT, other=LEFT)
    def retried_while_publishing(self, key: str, left: int, other: int) -> None:
        """The platform retries while the first delivery is still publishing: 409, and nothing more published."""
        runs = self.model.done[key] + 1
        inner: list[Outcome] = []
        self.step(key, "ok", left, then=lambda: inner.append(self.deliver(key, other)))
        assert inner == ([("conflict", None)] if self.model.done[key] == runs else [])

    @rule(hours=st.sampled_from((1, 71, 72)) | st.integers(0, 100))
    def wait(self, hours: int) -> None:
        self.clock.seconds += hours * HOUR + 1  # a second past: 72 ends a 72 h window

    @invariant()
    def one_event_per_key_and_window(self) -> None:
        published = Counter(sent.metadata.event_id for sent in self.publisher.events)
        expected = Counter({self.event_ids[key]: n for key, n in self.model.done.items()})
        assert published == expected
        assert _items(self.client) == self.model.stored()


def _refuse() -> None:
    raise DownstreamUnavailable("event bus rejected entries")


def _kill() -> None:
    raise Killed


IntakeMachine.TestCase.settings = settings(max_examples=25, stateful_step_count=15, deadline=None)
TestIntakeMachine = IntakeMachine.TestCase


def test_each_platform_keeps_its_own_dedupe_window_in_a_warm_container() -> None:
    clock = Clock()
    with clock.installed(), moto_table("idempotency", tables.IDEMPOTENCY) as client:
        publisher = ScriptedPublisher()
        deps = _intake(client, publisher, {"shopify": 72 * HOUR, "woocommerce": 96 * HOUR})
        receive_webhook("shopify", DELIVERIES["shopify-1"][1](), deps, Invocation(clock, 30))
        receive_webhook("woocommerce", DELIVERIES["woo-created"][1](), deps, Invocation(clock, 30))
        clock.seconds += 80 * HOUR  # inside WooCommerce's 96 h window, past Shopify's 72 h
        again = receive_webhook("woocommerce", DELIVERIES["woo-created"][1](), deps, Invocation(clock, 30))
        assert isinstance(again, Ack)
        assert again.duplicate, "published a second time inside the platform's window"
        assert len(publisher.events) == 2
