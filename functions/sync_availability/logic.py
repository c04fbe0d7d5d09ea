"""Publish one channel's available-to-promise: coalesced, in bulk, never older than what it already shows.

1. Every ledger change marks the channel's affected SKUs dirty (kits included). Marks are durable, so a change
   is never lost even when this run fails: the next run, or the scheduled sweep, pushes it.
2. One sync per channel runs at a time (a lease), so two runs never race each other's writes.
3. The lease holder waits until no change has come for ``coalesce_quiet_seconds`` (never more than
   ``coalesce_max_seconds`` after the oldest mark), then computes ATP for every dirty SKU from the ledger and
   writes the ones that moved, as many per call as the channel takes.
4. A value is written only if it was computed from a newer ledger basis than the one last written. Decreases go
   out at once; an increase waits until it has stood ``increase_hold_seconds``.
5. Where the channel compares and sets (Shopify), a stale value means the channel changed it itself (it takes
   stock for each order it sells): the write is redone once against what it shows. Our number still wins: the
   ledger counts every order we accepted, and an order it cannot cover is held at the reservation gate.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from shared.channels.inventory import ChannelInventory, PushOutcome, StockUpdate
from shared.errors import ValidationFailed
from shared.models.availability import Availability, affected_skus, channel_availability, rows_needed
from shared.models.events import AvailabilityPublished, EventMetadata, derive_id
from shared.models.inventory import (
    AvailabilityPublication,
    ChannelPolicy,
    InventoryChange,
    InventoryPolicy,
    PublishedLevel,
    StockLevel,
)
from shared.observability import logger
from shared.ports import AvailabilityState, DirtyMark, EventPublisher, InventoryLedger, SentValue

SOURCE = "crossdock.availability"
MAX_PASSES = 5
MAX_ROUNDS = 3  # lease rounds per run: late marks, then the sweep


@dataclass
class SyncDeps:
    channel: str
    inventory: InventoryPolicy
    ledger: InventoryLedger
    state: AvailabilityState
    api: Callable[[], ChannelInventory]
    publisher: EventPublisher
    # Seconds this run may spend; waits (lease, coalescing) never go past it.
    budget_seconds: float = 60.0
    lease_seconds: int = 120
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    sleep: Callable[[float], None] = field(default=lambda seconds: None)
    owner: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def policy(self) -> ChannelPolicy:
        return self.inventory.channels[self.channel]


@dataclass
class SyncResult:
    published: list[PublishedLevel] = field(default_factory=list)
    deferred: list[str] = field(default_factory=list)
    calls: int = 0
    changes: int = 0

    @property
    def lags_ms(self) -> list[int]:
        return [p.lag_ms for p in self.published if p.lag_ms is not None]


def sync_availability(
    changes: Sequence[InventoryChange], deps: SyncDeps, *, sweep: bool = False, sold: Iterable[str] = ()
) -> SyncResult:
    """Mark what ``changes`` touched, then push everything dirty for the channel (``sweep``: even if nothing new).

    ``sold``: SKUs of orders the channel itself took (or gave back): it moved its own count, so ours is written
    again even if it is the number we wrote last.

    A run that finds another holding the lease only marks and returns: the holder reads the marks while it waits
    for changes to pause, and looks again after letting go, so a mark is never left behind.
    """
    started = deps.clock()
    policy = deps.policy
    touched = {level.sku for change in changes for level in change.levels if level.location in policy.locations}
    skus = affected_skus(touched, deps.inventory)
    if skus:
        deps.state.mark_dirty(deps.channel, skus, started)
    sold = set(sold)
    if sold:
        deps.state.mark_dirty(deps.channel, sold, started, forced=True)
    result = SyncResult(changes=sum(len(change.levels) for change in changes))
    if not skus and not sold and not sweep:
        return result
    for _round in range(MAX_ROUNDS):
        if not deps.state.acquire(deps.channel, deps.owner, deps.lease_seconds, deps.clock()):
            logger.info("another sync holds the channel; it pushes these", channel=deps.channel, marked=len(skus))
            break
        try:
            _flush(deps, started, result)
        finally:
            deps.state.release_lease(deps.channel, deps.owner)
        # Marked while we held the lease, by a run that found it taken: ours to push (held increases wait).
        late = [sku for sku in deps.state.dirty(deps.channel) if sku not in result.deferred]
        if not late or _elapsed(deps, started) > deps.budget_seconds * 0.75:
            break
    return result


def _flush(deps: SyncDeps, started: datetime, result: SyncResult) -> None:
    """Push until nothing is due (held increases stay marked for a later pass or the sweep)."""
    for _pass in range(MAX_PASSES):
        marks = _settled_marks(deps, started)
        due = {sku: mark for sku, mark in marks.items() if sku not in result.deferred}
        if not due:
            return
        _push(due, deps, result)


def _settled_marks(deps: SyncDeps, started: datetime) -> dict[str, DirtyMark]:
    """The dirty marks once changes have paused (coalescing), or at the latest when waiting would cost too much."""
    while True:
        marks = deps.state.dirty(deps.channel)
        if not marks:
            return marks
        now = deps.clock()
        quiet_left = deps.inventory.coalesce_quiet_seconds - _seconds(now, max(m.last_at for m in marks.values()))
        oldest_left = deps.inventory.coalesce_max_seconds - _seconds(now, min(m.first_at for m in marks.values()))
        budget_left = deps.budget_seconds * 0.75 - _elapsed(deps, started)
        wait = min(quiet_left, oldest_left, budget_left)
        if wait <= 0:
            return marks
        deps.sleep(wait)


def _push(marks: Mapping[str, DirtyMark], deps: SyncDeps, result: SyncResult) -> None:
    api = deps.api()
    listings = _listings(sorted(marks), deps, api, result)
    listed = sorted(sku for sku, listing in listings.items() if listing)
    levels = deps.ledger.levels(rows_needed(listed, deps.policy, deps.inventory))
    sent = deps.state.sent(deps.channel, listed)
    now = deps.clock()
    updates: list[StockUpdate] = []
    done: list[DirtyMark] = [mark for sku, mark in marks.items() if not listings.get(sku)]
    for sku in listed:
        availability = channel_availability(sku, levels, deps.policy, deps.inventory)
        last = sent.get(sku)
        if last is not None and last.basis > availability.basis:
            done.append(marks[sku])  # a newer value is already out; never send an older one
        elif last is not None and last.quantity == availability.quantity and not marks[sku].forced:
            done.append(marks[sku])  # the channel already shows it: no call, and no write to remember it
        elif _held_increase(availability, last, marks[sku], deps, now):
            result.deferred.append(sku)
        else:
            expected = last.quantity if last is not None else None
            updates.append(StockUpdate(sku, listings[sku] or {}, availability.quantity, expected, availability.basis))
    pushed = _write(updates, api, deps, result)
    done.extend(marks[sku] for sku in pushed)
    _record(pushed, updates, levels, deps, result)
    deps.state.clear_dirty(deps.channel, done)


def _held_increase(
    availability: Availability, last: SentValue | None, mark: DirtyMark, deps: SyncDeps, now: datetime
) -> bool:
    hold = deps.policy.increase_hold_seconds
    increasing = last is not None and availability.quantity > last.quantity
    return increasing and hold > 0 and _seconds(now, mark.first_at) < hold


def _listings(
    skus: Sequence[str], deps: SyncDeps, api: ChannelInventory, result: SyncResult
) -> dict[str, dict[str, str] | None]:
    known = deps.state.listings(deps.channel, skus)
    unknown = [sku for sku in skus if sku not in known]
    if unknown:
        found = api.lookup(unknown)
        result.calls += -(-len(unknown) // api.max_batch)
        fresh = {sku: found.get(sku) for sku in unknown}
        deps.state.save_listings(deps.channel, fresh, deps.clock())
        known = {**known, **fresh}
    return dict(known)


def _write(updates: Sequence[StockUpdate], api: ChannelInventory, deps: SyncDeps, result: SyncResult) -> list[str]:
    """Write in the channel's largest batches; redo a stale batch once from what the channel shows."""
    pushed: list[str] = []
    for start in range(0, len(updates), api.max_batch):
        chunk = list(updates[start : start + api.max_batch])
        try:
            outcome = api.set_available(chunk)
        except ValidationFailed as refused:
            chunk = _without_refused(chunk, refused, deps)
            outcome = api.set_available(chunk) if chunk else PushOutcome()
        result.calls += outcome.calls
        if outcome.stale:
            logger.info("channel showed other values", channel=deps.channel, stale=len(outcome.stale))
            chunk = [_rebase(update, outcome.stale.get(update.sku)) for update in chunk]
            outcome = api.set_available(chunk)
            result.calls += outcome.calls
        if outcome.stale:
            # Moved again meanwhile: the marks stay, and the next pass (or the sweep) tries from fresh reads.
            logger.warning("channel values kept moving", channel=deps.channel, stale=len(outcome.stale))
        by_sku = {update.sku: update for update in chunk}
        pushed.extend(outcome.applied)
        at = deps.clock()
        written = [SentValue(sku, by_sku[sku].quantity, by_sku[sku].basis, at) for sku in outcome.applied]
        deps.state.record_sent_many(deps.channel, written)
    return pushed


def _without_refused(chunk: list[StockUpdate], refused: ValidationFailed, deps: SyncDeps) -> list[StockUpdate]:
    """Take the SKU the channel refused out of the batch, so one bad listing does not stop the channel.

    It is forgotten as unlisted, and looked up again later (the merchant may fix it). A refusal that names no
    SKU refuses the batch: it is raised, and the run's records go back to the queue.
    """
    sku = refused.details.get("sku")
    if not isinstance(sku, str) or sku not in {update.sku for update in chunk}:
        raise refused
    logger.error("channel refused a SKU", channel=deps.channel, sku=sku, reason=refused.message)
    deps.state.save_listings(deps.channel, {sku: None}, deps.clock())
    return [update for update in chunk if update.sku != sku]


def _rebase(update: StockUpdate, shown: int | None) -> StockUpdate:
    """Compare against what the channel shows now, not what we last wrote."""
    if shown is None:
        return update
    return StockUpdate(update.sku, update.listing, update.quantity, shown, update.basis)


def _record(
    pushed: Iterable[str],
    updates: Sequence[StockUpdate],
    levels: Mapping[tuple[str, str], StockLevel],
    deps: SyncDeps,
    result: SyncResult,
) -> None:
    """Publication and propagation lag: from the newest source change behind each value to the channel's ack."""
    by_sku = {update.sku: update for update in updates}
    acked = deps.clock()
    for sku in pushed:
        update = by_sku[sku]
        rows = rows_needed([sku], deps.policy, deps.inventory)
        changed = [at for key in rows if key in levels and (at := levels[key].changed_at) is not None]
        lag = max(0, int(_seconds(acked, max(changed)) * 1000)) if changed else None
        result.published.append(PublishedLevel(sku=sku, quantity=update.quantity, basis=update.basis, lag_ms=lag))


def publication_events(channel: str, result: SyncResult, run_id: str) -> list[AvailabilityPublished]:
    """``AvailabilityPublished`` for a run's writes, in chunks that fit an event."""
    events = []
    for index, start in enumerate(range(0, len(result.published), 1000)):
        items = tuple(result.published[start : start + 1000])
        metadata = EventMetadata(
            event_id=derive_id(AvailabilityPublished.detail_type, channel, run_id, str(index)),
            correlation_id=derive_id("availability", channel),
            occurred_at=datetime.now(UTC),
            source=SOURCE,
        )
        data = AvailabilityPublication(channel=channel, items=items, calls=result.calls, changes=result.changes)
        events.append(AvailabilityPublished(metadata=metadata, data=data))
    return events


def _seconds(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds()


def _elapsed(deps: SyncDeps, started: datetime) -> float:
    return _seconds(deps.clock(), started)
