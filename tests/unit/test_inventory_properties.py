"""Properties of inventory: the pure ATP functions, reservations under concurrency, and the ledger's rules.

Concurrency runs on two engines. moto is not atomic under threads (a cancelled transaction puts back a deep copy
of the whole table, undoing what other threads wrote meanwhile), so on moto every call is serialized, which is
what DynamoDB guarantees per call, and threads still interleave between calls. DynamoDB Local, when Java and
its jar are there, runs the same property with no lock at all. A gate holds every order after its first read
until all have read, so each run starts with every order racing for the same rows.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.config import Config
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from shared.aws.availability_state import DynamoAvailabilityState
from shared.aws.inventory_ledger import DynamoInventoryLedger
from shared.models.availability import channel_availability, rows_needed
from shared.models.inventory import (
    ChannelPolicy,
    InventoryPolicy,
    KitComponent,
    ReportKind,
    ReservationLine,
    ReservationOutcome,
    StockItem,
    StockLevel,
    StockReport,
)
from shared.ports import DirtyMark, InventoryLedger, SentValue
from tests.fakes_inventory import InMemoryAvailabilityState, InMemoryLedger, moto_inventory_table

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
WH = "wh-1"
LOCATIONS = ("wh-1", "wh-2", "wh-3")
SKUS = ("A", "B", "C")


# -- (a) the pure ATP functions ------------------------------------------------------------------------------
@st.composite
def rows(draw: st.DrawFn, skus: Sequence[str] = SKUS) -> dict[tuple[str, str], StockLevel]:
    keys = draw(st.sets(st.tuples(st.sampled_from(skus), st.sampled_from(LOCATIONS)), max_size=9))
    return {
        (sku, location): StockLevel(
            sku=sku,
            location=location,
            on_hand=draw(st.integers(-5, 60)),
            reserved=draw(st.integers(0, 30)),
            in_transit=draw(st.integers(0, 20)),
            safety_stock=draw(st.integers(0, 10)),
            version=draw(st.integers(0, 50)),
        )
        for sku, location in sorted(keys)
    }


policies = st.builds(
    ChannelPolicy,
    locations=st.lists(st.sampled_from(LOCATIONS), min_size=1, max_size=3, unique=True).map(tuple),
    buffer=st.integers(0, 10),
    allocation_pct=st.integers(0, 100),
    max_listed=st.none() | st.integers(0, 40),
    include_in_transit=st.booleans(),
)
KIT = InventoryPolicy(kits={"KIT": (KitComponent(sku="A", quantity=2), KitComponent(sku="B", quantity=3))})


def pool(sku: str, levels: dict[tuple[str, str], StockLevel], policy: ChannelPolicy) -> int:
    return sum(
        max(0, level.atp) + (level.in_transit if policy.include_in_transit else 0)
        for location in policy.locations
        if (level := levels.get((sku, location))) is not None
    )


@given(levels=rows(), policy=policies, sku=st.sampled_from(SKUS))
def test_a_channel_never_shows_more_than_its_share_of_the_pool(
    levels: dict[tuple[str, str], StockLevel], policy: ChannelPolicy, sku: str
) -> None:
    shown = channel_availability(sku, levels, policy, InventoryPolicy()).quantity
    share = pool(sku, levels, policy) * policy.allocation_pct // 100
    assert 0 <= shown <= share <= pool(sku, levels, policy)
    assert shown >= min(share - policy.buffer, policy.max_listed if policy.max_listed is not None else share)
    if policy.max_listed is not None:
        assert shown <= policy.max_listed


@given(levels=rows(), policy=policies, sku=st.sampled_from(SKUS), more=st.integers(1, 10))
def test_more_buffer_or_less_allocation_never_shows_more(
    levels: dict[tuple[str, str], StockLevel], policy: ChannelPolicy, sku: str, more: int
) -> None:
    shown = channel_availability(sku, levels, policy, InventoryPolicy()).quantity
    buffered = policy.model_copy(update={"buffer": policy.buffer + more})
    smaller = policy.model_copy(update={"allocation_pct": max(0, policy.allocation_pct - more)})
    assert channel_availability(sku, levels, buffered, InventoryPolicy()).quantity <= shown
    assert channel_availability(sku, levels, smaller, InventoryPolicy()).quantity <= shown


@given(levels=rows(), policy=policies)
def test_a_kit_is_as_many_as_its_scarcest_component_makes(
    levels: dict[tuple[str, str], StockLevel], policy: ChannelPolicy
) -> None:
    whole = policy.model_copy(update={"buffer": 0, "allocation_pct": 100, "max_listed": None})
    kits = channel_availability("KIT", levels, whole, KIT).quantity
    assert kits == min(pool("A", levels, whole) // 2, pool("B", levels, whole) // 3)
    shown = channel_availability("KIT", levels, policy, KIT)
    assert shown.quantity <= kits
    assert shown.basis == sum(levels[key].version for key in rows_needed(["KIT"], policy, KIT) if key in levels)


@given(levels=rows(skus=("A", "B", "KIT")), policy=policies, sku=st.sampled_from(("A", "B", "KIT")))
def test_the_rows_needed_are_all_a_computation_reads(
    levels: dict[tuple[str, str], StockLevel], policy: ChannelPolicy, sku: str
) -> None:
    needed = rows_needed([sku], policy, KIT)
    only = {key: level for key, level in levels.items() if key in needed}
    assert channel_availability(sku, only, policy, KIT) == channel_availability(sku, levels, policy, KIT)


@given(data=st.data(), levels=rows(), policy=policies, sku=st.sampled_from(("A", "B", "KIT")))
def test_the_basis_grows_whenever_a_row_read_moves_on(
    data: st.DataObject, levels: dict[tuple[str, str], StockLevel], policy: ChannelPolicy, sku: str
) -> None:
    before = channel_availability(sku, levels, policy, KIT)
    needed = sorted(rows_needed([sku], policy, KIT))
    moved = data.draw(st.sets(st.sampled_from(needed), min_size=1))
    later = dict(levels)
    for key in moved:
        row = later.get(key) or StockLevel(sku=key[0], location=key[1])
        # Any change at all, quantities included, comes with a higher version.
        later[key] = row.model_copy(
            update={"version": row.version + data.draw(st.integers(1, 5)), "on_hand": data.draw(st.integers(-5, 60))}
        )
    assert channel_availability(sku, later, policy, KIT).basis > before.basis


# -- (b) reservations racing -----------------------------------------------------------------------------------
class Gate:
    """Holds each thread after its first read until every thread has read (or timed out)."""

    def __init__(self, parties: int) -> None:
        self._waiting = parties
        self._seen: set[int] = set()
        self._condition = threading.Condition()

    def after_read(self) -> None:
        with self._condition:
            if threading.get_ident() in self._seen:
                return
            self._seen.add(threading.get_ident())
            self._waiting -= 1
            self._condition.notify_all()
            assert self._condition.wait_for(lambda: self._waiting <= 0, timeout=10), "a thread never read"


class Racing:
    """A client whose reads go through ``gate``; with ``lock``, each call is atomic (moto needs it)."""

    def __init__(self, client: Any, gate: Gate | None, lock: threading.Lock | None) -> None:
        self._client = client
        self._gate = gate
        self._lock = lock
        self.cancelled = 0

    def __getattr__(self, name: str) -> Any:
        operation = getattr(self._client, name)

        def call(**kwargs: Any) -> Any:
            try:
                if self._lock is None:
                    return operation(**kwargs)
                with self._lock:
                    return operation(**kwargs)
            except Exception as error:
                if name == "transact_write_items":
                    self.cancelled += 1
                raise error
            finally:
                if name == "batch_get_item" and self._gate is not None:
                    self._gate.after_read()

        return call


orders_strategy = st.lists(
    st.lists(st.tuples(st.sampled_from(("A", "B")), st.integers(1, 6)), min_size=1, max_size=3),
    min_size=2,
    max_size=8,
)
stock_strategy = st.fixed_dictionaries({"A": st.integers(0, 15), "B": st.integers(0, 15)})


def race(
    make_ledger: Callable[[Gate], InventoryLedger],
    setup: InventoryLedger,
    stock: dict[str, int],
    orders: list[list[tuple[str, int]]],
) -> None:
    prefix = uuid.uuid4().hex[:8]  # DynamoDB Local keeps one table for every example
    sku = {name: f"{prefix}-{name}" for name in stock}
    setup.apply_report(
        StockReport(
            report_id=f"{prefix}-count", source="wms", facility="F", kind=ReportKind.SNAPSHOT, as_of=T0,
            items=tuple(StockItem(sku=sku[name], on_hand=units) for name, units in stock.items()),
        ),
        WH,
    )  # fmt: skip
    ledger = make_ledger(Gate(len(orders)))
    lines = [
        [ReservationLine(line_id=str(n), sku=sku[name], location=WH, quantity=q) for n, (name, q) in enumerate(order)]
        for order in orders
    ]
    with ThreadPoolExecutor(max_workers=len(orders)) as pool:
        outcomes: list[ReservationOutcome] = list(
            pool.map(lambda n: ledger.reserve(f"{prefix}-o{n}", lines[n], T0), range(len(orders)))
        )

    def units(order: list[tuple[str, int]], name: str) -> int:
        return sum(q for line_sku, q in order if line_sku == name)

    levels = setup.levels((sku[name], WH) for name in stock)
    for name, on_hand in stock.items():
        accepted = sum(units(order, name) for order, out in zip(orders, outcomes, strict=True) if out.reserved)
        assert accepted <= on_hand, "oversold"
        reserved = levels[(sku[name], WH)].reserved if (sku[name], WH) in levels else 0
        assert reserved == accepted
    for order, outcome in zip(orders, outcomes, strict=True):
        assert outcome.reserved == (not outcome.shortages)
        if not outcome.reserved:
            # Stock only went down during the race: what was short when read is short at the end too.
            left = {name: on_hand - levels[(sku[name], WH)].reserved for name, on_hand in stock.items()}
            assert any(left[name] < units(order, name) for name in stock)


def racing_ledger(client: Any, lock: threading.Lock | None) -> Callable[[Gate], InventoryLedger]:
    def make(gate: Gate) -> InventoryLedger:
        racing = Racing(client, gate, lock)
        return DynamoInventoryLedger("inventory", client=lambda: racing)

    return make


RACE_SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@RACE_SETTINGS
@given(stock=stock_strategy, orders=orders_strategy)
def test_racing_reservations_never_oversell_on_dynamodb_semantics(
    stock: dict[str, int], orders: list[list[tuple[str, int]]]
) -> None:
    with moto_inventory_table("inventory") as client:
        lock = threading.Lock()
        setup = DynamoInventoryLedger("inventory", client=lambda: Racing(client, None, lock))
        racing = racing_ledger(client, lock)
        race(racing, setup, stock, orders)


@RACE_SETTINGS
@given(stock=stock_strategy, orders=orders_strategy)
def test_racing_reservations_never_oversell_in_the_fake(
    stock: dict[str, int], orders: list[list[tuple[str, int]]]
) -> None:
    fake = InMemoryLedger()
    race(lambda gate: fake, fake, stock, orders)


@pytest.fixture(scope="module")
def dynamodb_local() -> Iterator[Any]:
    from infra.local.emulators import Emulators, dynamodb_local_jar

    if dynamodb_local_jar() is None:
        pytest.skip("DynamoDB Local is not installed (npm ci)")
    emulators = Emulators()
    try:
        try:
            emulators.start()
        except TimeoutError:
            # A loaded machine can keep Java from starting in time; the serialized moto run still covers this.
            pytest.skip("DynamoDB Local did not start in time")
        if emulators.dynamodb_engine != "DynamoDB Local":
            pytest.skip("DynamoDB Local needs Java")
        client = boto3.client(
            "dynamodb", endpoint_url=emulators.dynamodb_url, region_name="us-east-1",
            aws_access_key_id="local", aws_secret_access_key="local", config=Config(max_pool_connections=16),
        )  # fmt: skip
        client.create_table(
            TableName="inventory",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        yield client
    finally:
        emulators.stop()


@RACE_SETTINGS
@given(stock=stock_strategy, orders=orders_strategy)
def test_racing_reservations_never_oversell_on_dynamodb_local(
    dynamodb_local: Any, stock: dict[str, int], orders: list[list[tuple[str, int]]]
) -> None:
    setup = DynamoInventoryLedger("inventory", client=lambda: dynamodb_local)
    race(racing_ledger(dynamodb_local, None), setup, stock, orders)


def test_the_gate_makes_orders_collide() -> None:
    """The race above is a race: every order reads before any writes, so all but one retry at least once."""
    with moto_inventory_table("inventory") as client:
        lock = threading.Lock()
        racing = Racing(client, Gate(4), lock)
        DynamoInventoryLedger("inventory", client=lambda: client).apply_report(
            StockReport(
                report_id="r", source="wms", facility="F", kind=ReportKind.SNAPSHOT, as_of=T0,
                items=(StockItem(sku="A", on_hand=100),),
            ),
            WH,
        )  # fmt: skip
        ledger = DynamoInventoryLedger("inventory", client=lambda: racing)
        line = ReservationLine(line_id="1", sku="A", location=WH, quantity=1)
        with ThreadPoolExecutor(max_workers=4) as pool:
            assert all(pool.map(lambda n: ledger.reserve(f"o{n}", [line], T0).reserved, range(4)))
        assert racing.cancelled >= 3
        assert ledger.levels([("A", WH)])[("A", WH)].reserved == 4


# -- (c) the ledger as a state machine, adapter and fake in lockstep -------------------------------------------
def minutes(n: int) -> datetime:
    return T0 + timedelta(minutes=n)


class LedgerMachine(RuleBasedStateMachine):
    """DynamoInventoryLedger (moto) and InMemoryLedger take the same steps and must agree on every answer."""

    def __init__(self) -> None:
        super().__init__()
        self._table = moto_inventory_table("inventory")
        self.client = self._table.__enter__()
        self.dynamo = DynamoInventoryLedger("inventory", client=lambda: self.client)
        self.fake = InMemoryLedger()
        self.seen: dict[tuple[str, str], StockLevel] = {}

    def teardown(self) -> None:
        self._table.__exit__(None, None, None)

    def keys(self) -> list[tuple[str, str]]:
        return [(sku, location) for sku in SKUS for location in LOCATIONS[:2]]

    def agree(self, dynamo: Sequence[StockLevel], fake: Sequence[StockLevel]) -> None:
        assert sorted(dynamo, key=lambda level: level.key) == sorted(fake, key=lambda level: level.key)

    @initialize(stocked=st.booleans())
    def stock(self, stocked: bool) -> None:
        """Half the runs start with every row stocked, so that orders hold and then ship, not only run short."""
        if not stocked:
            return
        for location in LOCATIONS[:2]:
            report = StockReport(
                report_id="count-start", source="wms", facility="F", kind=ReportKind.SNAPSHOT,
                as_of=minutes(-1), items=tuple(StockItem(sku=sku, on_hand=20) for sku in SKUS),
            )  # fmt: skip
            self.agree(self.dynamo.apply_report(report, location), self.fake.apply_report(report, location))

    @rule(
        location=st.sampled_from(LOCATIONS[:2]),
        at=st.integers(0, 30),
        items=st.lists(
            st.builds(
                StockItem,
                sku=st.sampled_from(SKUS),
                on_hand=st.none() | st.integers(0, 20),
                in_transit=st.none() | st.integers(0, 10),
                safety_stock=st.none() | st.integers(0, 3),
            ).filter(lambda item: (item.on_hand, item.in_transit, item.safety_stock) != (None, None, None)),
            min_size=1,
            max_size=4,
        ),
    )
    def snapshot(self, location: str, at: int, items: list[StockItem]) -> None:
        report = StockReport(
            report_id=f"count-{at}", source="wms", facility="F", kind=ReportKind.SNAPSHOT, as_of=minutes(at),
            items=tuple(items),
        )  # fmt: skip
        self.agree(self.dynamo.apply_report(report, location), self.fake.apply_report(report, location))
        after = self.fake.levels(self.keys())  # the invariant checks that the adapter agrees
        for key, row in self.seen.items():
            if row.on_hand_as_of is not None and report.as_of <= row.on_hand_as_of:
                assert (after[key].on_hand, after[key].safety_stock) == (row.on_hand, row.safety_stock)
            if row.in_transit_as_of is not None and report.as_of <= row.in_transit_as_of:
                assert after[key].in_transit == row.in_transit

    @rule(
        location=st.sampled_from(LOCATIONS[:2]),
        at=st.integers(0, 30),
        report_id=st.sampled_from(("adj-1", "adj-2", "adj-3")),
        items=st.lists(
            st.builds(
                StockItem,
                sku=st.sampled_from(SKUS),
                on_hand_delta=st.none() | st.integers(-5, 8),
                in_transit_delta=st.none() | st.integers(-5, 5),
            ).filter(lambda item: (item.on_hand_delta, item.in_transit_delta) != (None, None)),
            min_size=1,
            max_size=4,
        ),
    )
    def adjustment(self, location: str, at: int, report_id: str, items: list[StockItem]) -> None:
        report = StockReport(
            report_id=report_id, source="wms", facility="F", kind=ReportKind.ADJUSTMENT, as_of=minutes(at),
            items=tuple(items),
        )  # fmt: skip
        self.agree(self.dynamo.apply_report(report, location), self.fake.apply_report(report, location))
        after = self.fake.levels(self.keys())
        for key, row in self.seen.items():
            if report_id in row.applied:
                assert after[key] == row

    @rule(
        order=st.sampled_from(("o1", "o2", "o3")),
        lines=st.lists(
            st.tuples(st.sampled_from(("1", "2", "3")), st.sampled_from(SKUS), st.sampled_from(LOCATIONS[:2])),
            min_size=1,
            max_size=3,
            unique_by=lambda line: line[0],
        ),
        quantity=st.integers(1, 6),
    )
    def reserve(self, order: str, lines: list[tuple[str, str, str]], quantity: int) -> None:
        wanted = [ReservationLine(line_id=i, sku=s, location=loc, quantity=quantity) for i, s, loc in lines]
        assert self.dynamo.reserve(order, wanted, minutes(40)) == self.fake.reserve(order, wanted, minutes(40))
        assert self.dynamo.reservations(order) == self.fake.reservations(order)

    @precondition(lambda self: bool(self.fake.orders))
    @rule(order=st.sampled_from(("o1", "o2", "o3")))
    def release(self, order: str) -> None:
        self.agree(self.dynamo.release(order, minutes(50)), self.fake.release(order, minutes(50)))
        assert self.dynamo.reservations(order) == self.fake.reservations(order) == []

    def holding(self) -> list[str]:
        return sorted(order for order in self.fake.orders if self.fake.reservations(order))

    @precondition(lambda self: bool(self.holding()))
    @rule(
        data=st.data(),
        shipment=st.sampled_from(("s1", "s2", "s3")),
        quantities=st.dictionaries(st.sampled_from(SKUS), st.integers(1, 8), min_size=1, max_size=3),
    )
    def release_shipped(self, data: st.DataObject, shipment: str, quantities: dict[str, int]) -> None:
        """Ship from where an order holds (a partial, a whole or an over-shipment, or one delivered again)."""
        order = data.draw(st.sampled_from(self.holding()))
        location = data.draw(st.sampled_from(sorted({line.location for line in self.fake.reservations(order)})))
        before = self.fake.reservations(order)
        done = shipment in self.fake.shipped.get(order, set())
        self.agree(
            self.dynamo.release_shipped(order, shipment, location, quantities, minutes(45)),
            self.fake.release_shipped(order, shipment, location, quantities, minutes(45)),
        )
        after = self.dynamo.reservations(order)
        assert after == self.fake.reservations(order)
        for sku in SKUS:
            here = [(line.sku, line.location) == (sku, location) for line in before]
            held_before = sum(line.quantity for line, hit in zip(before, here, strict=True) if hit)
            held_after = sum(line.quantity for line in after if (line.sku, line.location) == (sku, location))
            taken = 0 if done else min(held_before, quantities.get(sku, 0))
            assert held_after == held_before - taken
        # Elsewhere, nothing moves.
        assert [x for x in after if x.location != location] == [x for x in before if x.location != location]

    @invariant()
    def the_ledgers_agree_reserved_is_what_orders_hold_and_changes_come_with_versions(self) -> None:
        levels = self.dynamo.levels(self.keys())
        assert levels == self.fake.levels(self.keys())
        items = self.client.scan(TableName="inventory")["Items"]
        for key, level in levels.items():
            held = sum(
                int(item["quantity"]["N"])
                for item in items
                if item["pk"]["S"].startswith("RES#")
                and item.get("status", {}).get("S") == "held"
                and (item["sku"]["S"], item["location"]["S"]) == key
            )
            assert level.reserved == held == self.fake.held_units(*key)
            previous = self.seen.get(key)
            if previous is not None:
                assert level.version >= previous.version
                assert (level == previous) == (level.version == previous.version)
        assert set(self.seen) <= set(levels)  # rows are never deleted
        self.seen = levels


LedgerMachine.TestCase.settings = settings(max_examples=25, stateful_step_count=15, deadline=None)
TestLedgerMachine = LedgerMachine.TestCase


class SyncStateMachine(RuleBasedStateMachine):
    """DynamoAvailabilityState (moto) and InMemoryAvailabilityState in lockstep, with a sync's reads replayed late."""

    def __init__(self) -> None:
        super().__init__()
        self._table = moto_inventory_table("inventory")
        client = self._table.__enter__()
        self._client = lambda: client
        self.dynamo = DynamoAvailabilityState("inventory", client=self._client)
        self.fake = InMemoryAvailabilityState()
        self.readings: list[dict[str, DirtyMark]] = []
        self.marked_since_read: set[str] = set()

    def teardown(self) -> None:
        self._table.__exit__(None, None, None)

    @rule(skus=st.lists(st.sampled_from(SKUS), min_size=1, max_size=3), at=st.integers(0, 5))
    def mark(self, skus: list[str], at: int) -> None:
        # A coarse clock: marks often share a time, which must still tell a later mark from an earlier one.
        self.dynamo.mark_dirty("shop", skus, minutes(at))
        self.fake.mark_dirty("shop", skus, minutes(at))
        self.marked_since_read.update(skus)

    @rule()
    def read(self) -> None:
        marks = self.dynamo.dirty("shop")
        assert marks == self.fake.dirty("shop")
        self.readings.append(marks)
        self.marked_since_read = set()

    @precondition(lambda self: bool(self.readings))
    @rule(data=st.data())
    def clear(self, data: st.DataObject) -> None:
        """Clear some SKUs of the last reading; any SKU marked since that reading must still be dirty after."""
        reading = self.readings[-1]
        chosen = data.draw(st.lists(st.sampled_from(sorted(reading)), unique=True)) if reading else []
        marked_since = set(self.marked_since_read)
        self.dynamo.clear_dirty("shop", [reading[sku] for sku in chosen])
        self.fake.clear_dirty("shop", [reading[sku] for sku in chosen])
        after = _peek(self.fake)
        assert marked_since <= set(after)
        for sku in chosen:  # cleared, unless marked again since the reading
            assert (sku in after) == (sku in marked_since)

    @rule(sku=st.sampled_from(SKUS), quantity=st.integers(0, 9), basis=st.integers(0, 9), at=st.integers(0, 5))
    def sent(self, sku: str, quantity: int, basis: int, at: int) -> None:
        value = SentValue(sku=sku, quantity=quantity, basis=basis, at=minutes(at))
        assert self.dynamo.record_sent("shop", value) == self.fake.record_sent("shop", value)

    @rule(owner=st.sampled_from(("a", "b")), at=st.integers(0, 10), release=st.booleans())
    def lease(self, owner: str, at: int, release: bool) -> None:
        if release:
            self.dynamo.release_lease("shop", owner)
            self.fake.release_lease("shop", owner)
        else:
            assert self.dynamo.acquire("shop", owner, 120, minutes(at)) == self.fake.acquire(
                "shop", owner, 120, minutes(at)
            )

    @invariant()
    def they_agree(self) -> None:
        # Compared through fresh adapters: a read is what clear_dirty works from, so the check must not read.
        assert DynamoAvailabilityState("inventory", client=self._client).dirty("shop") == _peek(self.fake)
        assert self.dynamo.sent("shop", SKUS) == self.fake.sent("shop", SKUS)


def _peek(state: InMemoryAvailabilityState) -> dict[str, DirtyMark]:
    """The fake's marks, read without counting as the reading ``clear_dirty`` works from."""
    saved = dict(state._read)
    try:
        return state.dirty("shop")
    finally:
        state._read = saved


SyncStateMachine.TestCase.settings = settings(max_examples=25, stateful_step_count=15, deadline=None)
TestSyncStateMachine = SyncStateMachine.TestCase
