"""One channel's availability sync: coalescing, bulk writes, never older, held increases, compare-and-set."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from functions.sync_availability.logic import SyncDeps, publication_events, sync_availability
from shared.channels.inventory import Listing, PushOutcome, StockUpdate
from shared.errors import ValidationFailed
from shared.models.inventory import ChannelPolicy, InventoryChange, InventoryPolicy, KitComponent, LevelChange
from tests.fakes import FakePublisher
from tests.fakes_inventory import InMemoryAvailabilityState, InMemoryLedger

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class FakeChannel:
    """A channel with compare-and-set (like Shopify) that can sell units behind our back."""

    platform = "shopify"

    def __init__(self, listed: Sequence[str], max_batch: int = 250, compare: bool = True) -> None:
        self.max_batch = max_batch
        self.shown: dict[str, int] = dict.fromkeys(listed, 0)
        self.compare = compare
        self.writes: list[list[tuple[str, int]]] = []
        self.lookups = 0

    def lookup(self, skus: Sequence[str]) -> Mapping[str, Listing | None]:
        self.lookups += 1
        return {sku: ({"id": sku} if sku in self.shown else None) for sku in skus}

    def set_available(self, updates: Sequence[StockUpdate]) -> PushOutcome:
        assert len(updates) <= self.max_batch
        stale = {
            u.sku: self.shown[u.sku]
            for u in updates
            if self.compare and u.expected is not None and u.expected != self.shown[u.sku]
        }
        if stale:
            return PushOutcome(stale=stale, calls=1)
        self.writes.append([(u.sku, u.quantity) for u in updates])
        for update in updates:
            self.shown[update.sku] = update.quantity
        return PushOutcome(applied=[u.sku for u in updates], calls=1)


def policy(**changes: object) -> InventoryPolicy:
    channel = ChannelPolicy(locations=("east", "west"), **changes)  # type: ignore[arg-type]
    kits = {"KIT": (KitComponent(sku="A", quantity=2), KitComponent(sku="B", quantity=1))}
    return InventoryPolicy(channels={"shopify": channel}, kits=kits, coalesce_quiet_seconds=1, coalesce_max_seconds=5)


def changed(ledger: InMemoryLedger, *keys: tuple[str, str]) -> InventoryChange:
    levels = ledger.levels(keys)
    return InventoryChange(cause="report", cause_id="r", levels=tuple(LevelChange.of(levels[k]) for k in keys))


def make(
    ledger: InMemoryLedger, channel: FakeChannel, inventory: InventoryPolicy | None = None
) -> tuple[SyncDeps, Clock]:
    clock = Clock()
    deps = SyncDeps(
        channel="shopify",
        inventory=inventory or policy(),
        ledger=ledger,
        state=InMemoryAvailabilityState(),
        api=lambda: channel,
        publisher=FakePublisher(),
        clock=clock,
        sleep=clock.sleep,
    )
    return deps, clock


def test_many_changes_become_one_bulk_write_of_the_latest_values() -> None:
    ledger = InMemoryLedger()
    skus = [f"S{i:04d}" for i in range(600)]
    channel = FakeChannel(skus)
    deps, _ = make(ledger, channel)
    for round_ in range(3):
        for sku in skus:
            ledger.stock(sku, "east", 10 + round_)
    sync_availability([changed(ledger, *((s, "east") for s in skus))], deps)
    assert [len(w) for w in channel.writes] == [250, 250, 100]
    assert set(channel.shown.values()) == {12}


def test_locations_outside_the_policy_and_unlisted_skus_are_not_written() -> None:
    ledger = InMemoryLedger()
    ledger.stock("A", "north", 5)
    ledger.stock("Z", "east", 5)
    channel = FakeChannel(["A"])
    deps, _ = make(ledger, channel)
    sync_availability([changed(ledger, ("A", "north"), ("Z", "east"))], deps)
    assert channel.writes == []
    assert deps.state.dirty("shopify") == {}


def test_atp_subtracts_reservations_and_safety_stock_and_applies_the_policy() -> None:
    ledger = InMemoryLedger()
    ledger.stock("A", "east", 100, safety_stock=10)
    ledger.stock("A", "west", 3)
    channel = FakeChannel(["A"])
    deps, _ = make(ledger, channel, policy(allocation_pct=50, buffer=2, max_listed=40))
    sync_availability([changed(ledger, ("A", "east"), ("A", "west"))], deps)
    assert channel.shown["A"] == min(40, (90 + 3) * 50 // 100 - 2)


def test_kits_show_what_their_scarcest_component_allows() -> None:
    ledger = InMemoryLedger()
    ledger.stock("A", "east", 9)
    ledger.stock("B", "east", 100)
    channel = FakeChannel(["A", "B", "KIT"])
    deps, _ = make(ledger, channel)
    sync_availability([changed(ledger, ("A", "east"))], deps)
    assert channel.shown == {"A": 9, "B": 0, "KIT": 4}


def test_an_unchanged_value_is_not_written_again() -> None:
    ledger = InMemoryLedger()
    ledger.stock("A", "east", 5)
    channel = FakeChannel(["A"])
    deps, _ = make(ledger, channel)
    sync_availability([changed(ledger, ("A", "east"))], deps)
    ledger.stock("A", "east", 5)  # a new version, the same number
    sync_availability([changed(ledger, ("A", "east"))], deps)
    assert len(channel.writes) == 1


def test_an_increase_waits_for_its_hold_and_a_decrease_goes_out_at_once() -> None:
    ledger = InMemoryLedger()
    ledger.stock("A", "east", 5)
    channel = FakeChannel(["A"])
    deps, clock = make(ledger, channel, policy(increase_hold_seconds=60))
    sync_availability([changed(ledger, ("A", "east"))], deps)  # first value: nothing to compare with
    ledger.stock("A", "east", 9)
    result = sync_availability([changed(ledger, ("A", "east"))], deps)
    assert result.deferred == ["A"]
    assert channel.shown["A"] == 5
    clock.now += timedelta(seconds=61)
    sync_availability([], deps, sweep=True)
    assert channel.shown["A"] == 9
    ledger.stock("A", "east", 2)
    sync_availability([changed(ledger, ("A", "east"))], deps)
    assert channel.shown["A"] == 2


def test_a_stale_compare_and_set_is_redone_against_what_the_channel_shows() -> None:
    ledger = InMemoryLedger()
    ledger.stock("A", "east", 10)
    channel = FakeChannel(["A"])
    deps, _ = make(ledger, channel)
    sync_availability([changed(ledger, ("A", "east"))], deps)
    channel.shown["A"] = 7  # three sold on the storefront; the orders have not reached us
    ledger.stock("A", "east", 12)  # a count finds two more
    sync_availability([changed(ledger, ("A", "east"))], deps)
    assert channel.shown["A"] == 12
    assert len(channel.writes) == 2  # the first write, and the redo; the stale attempt changed nothing


def test_a_value_from_an_older_basis_is_never_written() -> None:
    ledger = InMemoryLedger()
    ledger.stock("A", "east", 10)
    channel = FakeChannel(["A"])
    deps, _ = make(ledger, channel)
    sync_availability([changed(ledger, ("A", "east"))], deps)
    [sent] = deps.state.sent("shopify", ["A"]).values()
    deps.state.record_sent("shopify", type(sent)("A", 3, sent.basis + 100, T0))  # someone wrote a newer one
    ledger.stock("A", "east", 11)
    sync_availability([changed(ledger, ("A", "east"))], deps)
    assert channel.shown["A"] == 10


def test_a_second_sync_of_the_same_channel_only_marks_and_the_holder_pushes_its_marks() -> None:
    ledger = InMemoryLedger()
    ledger.stock("A", "east", 10)
    channel = FakeChannel(["A", "B"])
    deps, clock = make(ledger, channel)
    assert deps.state.acquire("shopify", "holder", 600, clock())
    sync_availability([changed(ledger, ("A", "east"))], deps)  # the lease is taken: mark, return
    assert channel.writes == []
    assert "A" in deps.state.dirty("shopify")
    deps.state.release_lease("shopify", "holder")
    ledger.stock("B", "east", 4)
    sync_availability([changed(ledger, ("B", "east"))], deps)
    assert channel.writes == [[("A", 10), ("B", 4)]]  # one write for both


class LateMarks(InMemoryAvailabilityState):
    """Another run marks a SKU just as the holder lets go of the lease."""

    def __init__(self, clock: Clock) -> None:
        super().__init__()
        self.clock = clock
        self.late = ["B"]

    def release_lease(self, channel: str, owner: str) -> None:
        super().release_lease(channel, owner)
        if self.late:
            self.clock.now += timedelta(seconds=1)
            self.mark_dirty(channel, [self.late.pop()], self.clock())


def test_a_mark_made_as_the_holder_lets_go_is_pushed_by_the_holder() -> None:
    ledger = InMemoryLedger()
    ledger.stock("A", "east", 10)
    ledger.stock("B", "east", 3)
    channel = FakeChannel(["A", "B"])
    deps, clock = make(ledger, channel)
    deps.state = LateMarks(clock)
    sync_availability([changed(ledger, ("A", "east"))], deps)
    assert channel.shown == {"A": 10, "B": 3}
    assert deps.state.dirty("shopify") == {}


def test_the_publication_says_what_was_written_and_how_many_calls_it_took() -> None:
    ledger = InMemoryLedger()
    for sku in ("A", "B"):
        ledger.stock(sku, "east", 4)
    channel = FakeChannel(["A", "B"])
    deps, _ = make(ledger, channel)
    result = sync_availability([changed(ledger, ("A", "east"), ("B", "east"))], deps)
    [event] = publication_events("shopify", result, "run-1")
    assert {(i.sku, i.quantity) for i in event.data.items} == {("A", 4), ("B", 4)}
    assert event.data.calls == 2  # one lookup, one write
    assert event.data.changes == 2


def test_a_sku_the_channel_sold_itself_is_written_again_though_our_number_did_not_move() -> None:
    ledger = InMemoryLedger()
    ledger.stock("A", "east", 900)
    channel = FakeChannel(["A"])
    deps, _ = make(ledger, channel, policy(max_listed=500))
    sync_availability([changed(ledger, ("A", "east"))], deps)
    channel.shown["A"] = 488  # the storefront took 12 for an order; capped at 500, our number stays 500
    sync_availability([], deps, sold=["A"])
    assert channel.shown["A"] == 500


class RefusingChannel(FakeChannel):
    """Refuses one SKU the way Shopify refuses a quantity it cannot set: the whole write, naming the SKU."""

    def set_available(self, updates: Sequence[StockUpdate]) -> PushOutcome:
        if any(u.sku == "BAD" for u in updates):
            raise ValidationFailed("The specified inventory item could not be found.", sku="BAD")
        return super().set_available(updates)


def test_a_sku_the_channel_refuses_does_not_stop_the_others() -> None:
    ledger = InMemoryLedger()
    for sku in ("A", "BAD", "C"):
        ledger.stock(sku, "east", 5)
    channel = RefusingChannel(["A", "BAD", "C"])
    deps, _ = make(ledger, channel)
    sync_availability([changed(ledger, ("A", "east"), ("BAD", "east"), ("C", "east"))], deps)
    assert (channel.shown["A"], channel.shown["C"], channel.shown["BAD"]) == (5, 5, 0)
    assert deps.state.listings("shopify", ["BAD"]) == {"BAD": None}  # unlisted until looked up again
    assert deps.state.dirty("shopify") == {}
