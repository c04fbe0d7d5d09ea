"""The ledger writer: reports mapped to warehouses, redeliveries announced again, cancellations released."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from functions.apply_inventory.logic import ApplyDeps, apply_stock_report, release_cancelled
from shared.errors import ValidationFailed
from shared.models.events import InventoryAdjusted, OrderCancelled, StockReported
from shared.models.inventory import ReportKind, ReservationLine, StockItem, StockReport
from shared.models.rules import RoutingRules, Warehouse
from tests.fakes import FakePublisher
from tests.fakes_inventory import InMemoryLedger
from tests.unit.test_validate_order import make_order

LEVELS_PER_EVENT = InventoryAdjusted.LEVELS_PER_EVENT
T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
ROUTING = RoutingRules(
    warehouses=(
        Warehouse(id="east", erp_location="1", wms_facility="1", regions=("US",)),
        Warehouse(id="west", erp_location="2", wms_facility="2", regions=("*",)),
    )
)


def report(*items: StockItem, facility: str = "1", as_of: datetime = T0, report_id: str = "snap-1") -> StockReported:
    data = StockReport(
        report_id=report_id, source="wms", facility=facility, kind=ReportKind.SNAPSHOT, as_of=as_of, items=items
    )
    return StockReported.for_report(data, dedupe_key=report_id, source="crossdock.intake")


def deps(ledger: InMemoryLedger | None = None) -> ApplyDeps:
    return ApplyDeps(ledger=ledger or InMemoryLedger(), publisher=FakePublisher(), routing=ROUTING, clock=lambda: T0)


def test_a_snapshot_lands_on_the_warehouse_its_facility_maps_to() -> None:
    use = deps()
    [event] = apply_stock_report(report(StockItem(sku="A", on_hand=7), facility="2"), use)
    assert [(level.sku, level.location, level.on_hand) for level in event.data.levels] == [("A", "west", 7)]
    assert use.ledger.levels([("A", "west")])[("A", "west")].on_hand == 7
    assert use.publisher.events == [event]  # type: ignore[attr-defined]


def test_an_unmapped_facility_is_refused_for_the_dlq_with_its_reason() -> None:
    with pytest.raises(ValidationFailed) as refused:
        apply_stock_report(report(StockItem(sku="A", on_hand=7), facility="9"), deps())
    assert refused.value.details == {"source": "wms", "facility": "9"}


def test_a_redelivered_report_is_announced_again_under_the_same_event_id() -> None:
    use = deps()
    first = apply_stock_report(report(StockItem(sku="A", on_hand=7)), use)
    again = apply_stock_report(report(StockItem(sku="A", on_hand=7)), use)
    assert [e.metadata.event_id for e in again] == [e.metadata.event_id for e in first]
    assert again[0].data.levels == first[0].data.levels  # nothing changed twice


def test_an_older_snapshot_changes_nothing_and_announces_nothing() -> None:
    use = deps()
    apply_stock_report(report(StockItem(sku="A", on_hand=7)), use)
    old = report(StockItem(sku="A", on_hand=99), as_of=T0 - timedelta(minutes=5), report_id="snap-0")
    assert apply_stock_report(old, use) == []
    assert use.ledger.levels([("A", "east")])[("A", "east")].on_hand == 7


def test_a_report_half_applied_before_a_failure_is_announced_whole_on_redelivery() -> None:
    ledger = InMemoryLedger()
    use = deps(ledger)
    event = report(StockItem(sku="A", on_hand=7), StockItem(sku="B", on_hand=2))
    ledger.apply_report(event.data, "east")  # the first attempt wrote the ledger, then died before publishing
    [announced] = apply_stock_report(event, use)
    assert sorted((x.sku, x.on_hand) for x in announced.data.levels) == [("A", 7), ("B", 2)]


def test_a_big_report_goes_out_in_events_that_fit_the_bus() -> None:
    items = tuple(StockItem(sku=f"S{n:04d}", on_hand=n) for n in range(1000))
    events = apply_stock_report(report(*items), deps())
    assert [len(e.data.levels) for e in events] == [LEVELS_PER_EVENT, LEVELS_PER_EVENT, 1000 - 2 * LEVELS_PER_EVENT]
    assert all(len(e.model_dump_json()) < 200_000 for e in events)


def test_a_carried_out_cancellation_gives_the_units_back() -> None:
    ledger = InMemoryLedger()
    ledger.stock("GLV", "east", 5)
    order = make_order()  # one line of GLV
    line = ReservationLine(line_id="L-GLV", sku="GLV", location="east", quantity=3)
    assert ledger.reserve(order.key, [line], T0).reserved
    cancelled = OrderCancelled.for_order(order, dedupe_key=f"{order.key}:cancel", source="crossdock.orders")
    assert isinstance(cancelled, OrderCancelled)
    use = deps(ledger)
    [event] = release_cancelled(cancelled, use)
    assert isinstance(event, InventoryAdjusted)
    assert [(level.reserved, level.atp) for level in event.data.levels] == [(0, 5)]
    [again] = release_cancelled(cancelled, use)  # released once, announced again
    assert again.metadata.event_id == event.metadata.event_id
    assert again.data.levels == event.data.levels


def test_a_snapshot_of_safety_stock_alone_is_announced() -> None:
    use = deps()
    apply_stock_report(report(StockItem(sku="A", on_hand=7)), use)
    erp = StockReport(
        report_id="erp-1",
        source="erp",
        facility="1",
        kind=ReportKind.SNAPSHOT,
        as_of=T0 + timedelta(minutes=1),
        items=(StockItem(sku="A", safety_stock=4),),
    )
    [event] = apply_stock_report(StockReported.for_report(erp, dedupe_key="erp-1", source="crossdock.erp"), use)
    assert [(x.sku, x.safety_stock, x.atp) for x in event.data.levels] == [("A", 4, 3)]
