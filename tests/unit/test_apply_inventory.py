"""The ledger writer: reports mapped to warehouses, redeliveries announced again, cancellations released,
shipments taken out and restocked returns put back."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import pytest

from functions.apply_inventory.logic import (
    ApplyDeps,
    apply_return,
    apply_shipment,
    apply_stock_report,
    release_cancelled,
)
from shared.errors import DownstreamUnavailable, ValidationFailed
from shared.ids import safe_ref
from shared.models.events import (
    InventoryAdjusted,
    OrderCancelled,
    ReturnReceived,
    ShipmentDispatched,
    StockReported,
    derive_id,
)
from shared.models.inventory import ReportKind, ReservationLine, StockItem, StockLevel, StockReport
from shared.models.returns import Condition, Disposition, ReceivedLine, ReturnReceipt
from shared.models.rules import RoutingRules, Warehouse
from shared.models.shipping import Package, Shipment, ShippedLine
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


# -- shipments and returns -------------------------------------------------------------------------------------
INTAKE = "crossdock.intake"
ORDER_KEY = make_order().key
SHIPPED_AT = T0 + timedelta(hours=2)


def shipped(*lines: tuple[str, int], shipment_id: str = "SH-1", facility: str = "1") -> ShipmentDispatched:
    shipment = Shipment(
        shipment_id=shipment_id,
        order_key=ORDER_KEY,
        reference_id="REL-1",
        facility=facility,
        carrier="UPS",
        packages=(Package(tracking_number=f"1Z{shipment_id}"),),
        lines=tuple(ShippedLine(sku=sku, quantity=quantity) for sku, quantity in lines),
        shipped_at=SHIPPED_AT,
    )
    return ShipmentDispatched.about(shipment, dedupe_key=f"wms:{shipment_id}", source=INTAKE)


def returned(*lines: tuple[str, int, Disposition], receipt_id: str = "RC-1", facility: str = "2") -> ReturnReceived:
    receipt = ReturnReceipt(
        receipt_id=receipt_id,
        rma_number="RMA-1",
        order_key=ORDER_KEY,
        facility=facility,
        lines=tuple(
            ReceivedLine(sku=sku, quantity=quantity, condition=Condition.NEW, disposition=disposition)
            for sku, quantity, disposition in lines
        ),
        received_at=SHIPPED_AT + timedelta(days=9),
    )
    return ReturnReceived.about(receipt, dedupe_key=f"wms:{receipt_id}", source=INTAKE)


class RecordingLedger(InMemoryLedger):
    """Records the ledger writes in the order they were made."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []

    def apply_report(self, report: StockReport, location: str) -> list[StockLevel]:
        self.writes.append(f"apply_report {report.report_id}")
        return super().apply_report(report, location)

    def release_shipped(
        self, order_key: str, shipment_id: str, location: str, quantities: Mapping[str, int], at: datetime
    ) -> list[StockLevel]:
        self.writes.append(f"release_shipped {shipment_id}")
        return super().release_shipped(order_key, shipment_id, location, quantities, at)


def held_order(ledger: InMemoryLedger) -> None:
    """GLV: 10 on hand at east, 4 of them held by the order (two lines), 1 by another order."""
    ledger.stock("GLV", "east", 10)
    ledger.stock("HAT", "east", 5)
    lines = [
        ReservationLine(line_id="L1", sku="GLV", location="east", quantity=3),
        ReservationLine(line_id="L2", sku="GLV", location="east", quantity=1),
        ReservationLine(line_id="L3", sku="HAT", location="east", quantity=2),
    ]
    assert ledger.reserve(ORDER_KEY, lines, T0).reserved
    assert ledger.reserve("other", [ReservationLine(line_id="L1", sku="GLV", location="east", quantity=1)], T0).reserved


def row(ledger: InMemoryLedger, sku: str, location: str = "east") -> tuple[int, int, int]:
    level = ledger.levels([(sku, location)])[(sku, location)]
    return (level.on_hand, level.reserved, level.atp)


def test_a_shipment_takes_its_units_off_the_shelf_first_then_gives_back_the_reservation() -> None:
    ledger = RecordingLedger()
    held_order(ledger)
    use = deps(ledger)
    event = shipped(("GLV", 3), ("HAT", 2))
    [adjusted] = apply_shipment(event, use)
    assert ledger.writes == ["apply_report ship:SH-1", "release_shipped SH-1"]
    assert (row(ledger, "GLV"), row(ledger, "HAT")) == ((7, 2, 5), (3, 0, 3))
    assert [(x.sku, x.location, x.on_hand, x.reserved) for x in adjusted.data.levels] == [
        ("GLV", "east", 7, 2),
        ("HAT", "east", 3, 0),
    ]
    assert (adjusted.data.cause, adjusted.data.cause_id) == ("shipment", "SH-1")
    assert adjusted.metadata.correlation_id == event.metadata.correlation_id == derive_id("order", ORDER_KEY)
    assert adjusted.metadata.source == "crossdock.inventory"
    assert use.publisher.events == [adjusted]  # type: ignore[attr-defined]
    assert [(x.line_id, x.quantity) for x in ledger.reservations(ORDER_KEY)] == [("L2", 1)]


def test_a_release_the_wms_ships_from_another_warehouse_gives_back_the_reservation_where_it_was_held() -> None:
    ledger = InMemoryLedger()
    ledger.stock("GLV", "east", 10)
    ledger.stock("GLV", "west", 10)
    line = ReservationLine(line_id="L1", sku="GLV", location="west", quantity=3)
    assert ledger.reserve(ORDER_KEY, [line], T0).reserved
    event = shipped(("GLV", 3), facility="1")  # released to west, shipped from east
    moved = event.data.model_copy(update={"reference_id": safe_ref(ORDER_KEY, "west")})
    [adjusted] = apply_shipment(ShipmentDispatched.about(moved, dedupe_key="wms:x", source=INTAKE), deps(ledger))
    assert (row(ledger, "GLV", "east"), row(ledger, "GLV", "west")) == ((7, 0, 7), (10, 0, 10))
    assert {(x.location, x.on_hand, x.reserved) for x in adjusted.data.levels} == {("east", 7, 0), ("west", 10, 0)}
    assert ledger.reservations(ORDER_KEY) == []


@pytest.mark.parametrize("after_commit", [False, True], ids=["before", "hidden-commit"])
def test_a_failure_between_the_two_steps_promises_too_little_and_the_redo_finishes(after_commit: bool) -> None:
    ledger = InMemoryLedger()
    held_order(ledger)
    use = deps(ledger)
    ledger.fail_next("release_shipped", DownstreamUnavailable("timeout"), after_commit=after_commit)
    with pytest.raises(DownstreamUnavailable):
        apply_shipment(shipped(("GLV", 3)), use)
    if not after_commit:
        # Out of on-hand and still held: ATP is 3 short for a while, never 3 over.
        assert row(ledger, "GLV") == (7, 5, 2)
    assert use.publisher.events == []  # type: ignore[attr-defined]
    [adjusted] = apply_shipment(shipped(("GLV", 3)), use)
    assert row(ledger, "GLV") == (7, 2, 5)
    assert [(x.on_hand, x.reserved) for x in adjusted.data.levels] == [(7, 2)]


def test_a_redelivered_shipment_changes_nothing_and_is_announced_again_under_the_same_ids() -> None:
    ledger = InMemoryLedger()
    held_order(ledger)
    use = deps(ledger)
    first = apply_shipment(shipped(("GLV", 3)), use)
    again = apply_shipment(shipped(("GLV", 3)), use)
    assert [e.metadata.event_id for e in again] == [e.metadata.event_id for e in first]
    assert again[0].data.levels == first[0].data.levels
    assert row(ledger, "GLV") == (7, 2, 5)


def test_a_count_older_than_the_shipment_keeps_it_and_a_newer_one_includes_it() -> None:
    ledger = InMemoryLedger()
    held_order(ledger)
    use = deps(ledger)
    apply_shipment(shipped(("GLV", 3)), use)
    apply_stock_report(report(StockItem(sku="GLV", on_hand=10), as_of=SHIPPED_AT - timedelta(minutes=1)), use)
    assert row(ledger, "GLV")[0] == 7  # counted before the truck left: the shipment still comes off
    later = report(StockItem(sku="GLV", on_hand=6), as_of=SHIPPED_AT + timedelta(minutes=1), report_id="snap-2")
    apply_stock_report(later, use)
    assert row(ledger, "GLV")[0] == 6  # counted after: the count is the truth


def test_a_shipment_from_an_unmapped_facility_is_refused_for_the_dlq_and_changes_nothing() -> None:
    ledger = RecordingLedger()
    held_order(ledger)
    with pytest.raises(ValidationFailed) as refused:
        apply_shipment(shipped(("GLV", 3), facility="9"), deps(ledger))
    assert refused.value.details == {"source": "wms", "facility": "9"}
    assert ledger.writes == []


def test_a_shipment_the_order_never_reserved_still_leaves_the_shelf() -> None:
    ledger = InMemoryLedger()
    ledger.stock("GLV", "west", 4)
    [adjusted] = apply_shipment(shipped(("GLV", 1), ("NEW", 2), facility="2"), deps(ledger))
    assert [(x.sku, x.on_hand, x.reserved) for x in adjusted.data.levels] == [("GLV", 3, 0), ("NEW", -2, 0)]


def test_restocked_returns_go_back_on_the_shelf_and_scrapped_ones_do_not() -> None:
    ledger = InMemoryLedger()
    ledger.stock("GLV", "west", 4)
    use = deps(ledger)
    event = returned(("GLV", 2, Disposition.RESTOCK), ("HAT", 1, Disposition.SCRAP), ("BAG", 1, Disposition.RESTOCK))
    [adjusted] = apply_return(event, use)
    assert [(x.sku, x.location, x.on_hand) for x in adjusted.data.levels] == [("GLV", "west", 6), ("BAG", "west", 1)]
    assert ledger.levels([("HAT", "west")]) == {}
    assert (adjusted.data.cause, adjusted.data.cause_id) == ("return", "RC-1")
    assert adjusted.metadata.correlation_id == event.metadata.correlation_id
    [again] = apply_return(event, use)  # redelivered: once on the shelf, announced again
    assert again.metadata.event_id == adjusted.metadata.event_id
    assert row(ledger, "GLV", "west")[0] == 6


def test_a_return_all_scrapped_touches_no_stock_even_from_an_unmapped_facility() -> None:
    ledger = RecordingLedger()
    use = deps(ledger)
    assert apply_return(returned(("GLV", 2, Disposition.SCRAP), facility="9"), use) == []
    assert ledger.writes == []
    assert use.publisher.events == []  # type: ignore[attr-defined]
    with pytest.raises(ValidationFailed):
        apply_return(returned(("GLV", 2, Disposition.RESTOCK), facility="9"), use)
