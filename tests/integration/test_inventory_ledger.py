"""The inventory table adapters against DynamoDB's API (moto): ordering, idempotency, all-or-nothing, conflicts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError, ParamValidationError

from shared.aws import inventory_ledger
from shared.aws.availability_state import DynamoAvailabilityState
from shared.aws.inventory_ledger import DynamoInventoryLedger, row_key
from shared.errors import Conflict, DownstreamUnavailable, ValidationFailed
from shared.models.inventory import ReportKind, ReservationLine, StockItem, StockReport, applied_ids
from shared.ports import SentValue
from tests.fakes_inventory import moto_inventory_table

TABLE = "inventory"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
WH = "wh-east"


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


class Wrapped:
    """The moto client, with hooks run before an operation (a concurrent writer, a throttle)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.before: dict[str, Callable[[dict[str, Any]], dict[str, Any] | None]] = {}
        self.calls: dict[str, int] = {}

    def __getattr__(self, name: str) -> Any:
        operation = getattr(self.client, name)

        def call(**kwargs: Any) -> Any:
            self.calls[name] = self.calls.get(name, 0) + 1
            hook = self.before.get(name)
            if hook is not None:
                answer = hook(kwargs)
                if answer is not None:
                    return answer
            return operation(**kwargs)

        return call


@dataclass
class Inventory:
    raw: Any
    client: Wrapped
    ledger: DynamoInventoryLedger
    state: DynamoAvailabilityState

    def reservation_items(self, order_key: str) -> list[dict[str, Any]]:
        answer = self.raw.query(
            TableName=TABLE,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"RES#{order_key}"}},
        )
        return list(answer["Items"])

    def bump(self, sku: str, location: str = WH, reserved: int = 0) -> None:
        """A concurrent writer: another invocation moved the row on."""
        self.raw.update_item(
            TableName=TABLE,
            Key=row_key(sku, location),
            UpdateExpression="SET version = version + :one, reserved = reserved + :reserved",
            ExpressionAttributeValues={":one": {"N": "1"}, ":reserved": {"N": str(reserved)}},
        )


@pytest.fixture
def inv(monkeypatch: pytest.MonkeyPatch) -> Iterator[Inventory]:
    monkeypatch.setattr(inventory_ledger, "backoff", lambda attempt: None)
    with moto_inventory_table(TABLE) as raw:
        wrapped = Wrapped(raw)
        yield Inventory(
            raw=raw,
            client=wrapped,
            ledger=DynamoInventoryLedger(TABLE, client=lambda: wrapped),
            state=DynamoAvailabilityState(TABLE, client=lambda: wrapped),
        )


def snapshot(as_of: datetime, *items: StockItem, report_id: str = "snap") -> StockReport:
    return StockReport(
        report_id=f"{report_id}-{as_of.isoformat()}", source="wms", facility="F1",
        kind=ReportKind.SNAPSHOT, as_of=as_of, items=items,
    )  # fmt: skip


def adjustment(as_of: datetime, *items: StockItem, report_id: str = "adj") -> StockReport:
    return StockReport(
        report_id=report_id, source="wms", facility="F1", kind=ReportKind.ADJUSTMENT, as_of=as_of, items=items
    )


def line(line_id: str, sku: str, quantity: int, location: str = WH) -> ReservationLine:
    return ReservationLine(line_id=line_id, sku=sku, location=location, quantity=quantity)


def stock(inv: Inventory, **on_hand: int) -> None:
    inv.ledger.apply_report(snapshot(at(0), *(StockItem(sku=s, on_hand=q) for s, q in on_hand.items())), WH)


# -- reports ---------------------------------------------------------------------------------------------------
def test_a_snapshot_creates_rows_and_an_older_one_changes_nothing_per_quantity(inv: Inventory) -> None:
    [row] = inv.ledger.apply_report(snapshot(at(10), StockItem(sku="A", on_hand=10, safety_stock=2)), WH)
    assert (row.on_hand, row.safety_stock, row.version, row.on_hand_as_of, row.changed_at) == (10, 2, 1, at(10), at(10))
    assert row.in_transit_as_of is None
    # Older on_hand and safety stock are ignored; in_transit has never been counted, so the old count is news.
    [row] = inv.ledger.apply_report(snapshot(at(5), StockItem(sku="A", on_hand=3, safety_stock=0, in_transit=4)), WH)
    assert (row.on_hand, row.safety_stock, row.in_transit, row.version) == (10, 2, 4, 2)
    assert (row.on_hand_as_of, row.in_transit_as_of) == (at(10), at(5))
    # The same snapshot again, and one exactly as old: nothing to do, nothing written.
    assert inv.ledger.apply_report(snapshot(at(10), StockItem(sku="A", on_hand=7)), WH) == []
    assert inv.ledger.levels([("A", WH)])[("A", WH)].version == 2
    [row] = inv.ledger.apply_report(snapshot(at(11), StockItem(sku="A", on_hand=8)), WH)
    assert (row.on_hand, row.safety_stock, row.in_transit, row.version) == (8, 2, 4, 3)


def test_a_newer_count_of_the_same_value_moves_the_clock_but_reports_no_change(inv: Inventory) -> None:
    stock(inv, A=5)
    assert inv.ledger.apply_report(snapshot(at(10), StockItem(sku="A", on_hand=5)), WH) == []
    row = inv.ledger.levels([("A", WH)])[("A", WH)]
    # Written all the same: an adjustment from between the two counts must now be ignored.
    assert (row.on_hand_as_of, row.version) == (at(10), 2)
    assert inv.ledger.apply_report(adjustment(at(5), StockItem(sku="A", on_hand_delta=-1)), WH) == []
    assert inv.ledger.levels([("A", WH)])[("A", WH)].on_hand == 5


def test_adjustments_apply_once_per_report_id(inv: Inventory) -> None:
    stock(inv, A=10)
    report = adjustment(at(1), StockItem(sku="A", on_hand_delta=-3), StockItem(sku="B", on_hand_delta=4))
    changed = inv.ledger.apply_report(report, WH)
    got = sorted((row.sku, row.on_hand, applied_ids(row)) for row in changed)
    assert got == [("A", 7, {"adj"}), ("B", 4, {"adj"})]
    assert inv.ledger.apply_report(report, WH) == []
    levels = inv.ledger.levels([("A", WH), ("B", WH), ("C", WH)])
    assert (levels[("A", WH)].on_hand, levels[("B", WH)].on_hand) == (7, 4)
    assert ("C", WH) not in levels  # a missing row is absent, not zero


def test_an_adjustment_older_than_the_last_count_of_its_quantity_is_ignored(inv: Inventory) -> None:
    inv.ledger.apply_report(snapshot(at(10), StockItem(sku="A", on_hand=10)), WH)
    # on_hand was counted after this adjustment happened; in_transit never was, so its delta applies.
    [row] = inv.ledger.apply_report(adjustment(at(5), StockItem(sku="A", on_hand_delta=-3, in_transit_delta=6)), WH)
    assert (row.on_hand, row.in_transit, applied_ids(row)) == (10, 6, {"adj"})
    assert inv.ledger.apply_report(adjustment(at(6), StockItem(sku="A", on_hand_delta=-3), report_id="a2"), WH) == []
    [row] = inv.ledger.apply_report(adjustment(at(11), StockItem(sku="A", on_hand_delta=-3), report_id="a3"), WH)
    assert row.on_hand == 7


def test_only_the_last_50_adjustment_ids_are_kept(inv: Inventory) -> None:
    for n in range(55):
        inv.ledger.apply_report(adjustment(at(n), StockItem(sku="A", on_hand_delta=1), report_id=f"r{n}"), WH)
    row = inv.ledger.levels([("A", WH)])[("A", WH)]
    ids = [entry.split("\x1f")[0] for entry in row.applied]
    assert (row.on_hand, len(ids), ids[0], ids[-1]) == (55, 50, "r5", "r54")


def test_a_sku_repeated_in_one_report_sums_deltas_and_keeps_the_last_count(inv: Inventory) -> None:
    report = adjustment(
        at(1), StockItem(sku="A", on_hand_delta=2), StockItem(sku="A", on_hand_delta=3, in_transit_delta=1)
    )
    [row] = inv.ledger.apply_report(report, WH)
    assert (row.on_hand, row.in_transit, row.version) == (5, 1, 1)
    counted = snapshot(at(2), StockItem(sku="A", on_hand=9, safety_stock=1), StockItem(sku="A", on_hand=4))
    [row] = inv.ledger.apply_report(counted, WH)
    assert (row.on_hand, row.safety_stock, row.version) == (4, 1, 2)


def test_a_report_of_a_thousand_skus_spans_transactions_and_applies_once(inv: Inventory) -> None:
    skus = [f"SKU-{n:04}" for n in range(1000)]
    changed = inv.ledger.apply_report(snapshot(at(1), *(StockItem(sku=s, on_hand=n) for n, s in enumerate(skus))), WH)
    assert len(changed) == 1000
    assert inv.client.calls["transact_write_items"] == 10
    assert inv.client.calls["batch_get_item"] == 10
    deltas = adjustment(at(2), *(StockItem(sku=s, on_hand_delta=1) for s in skus))
    assert len(inv.ledger.apply_report(deltas, WH)) == 1000
    assert inv.ledger.apply_report(deltas, WH) == []
    levels = inv.ledger.levels((s, WH) for s in skus)
    assert [levels[(s, WH)].on_hand for s in skus] == [n + 1 for n in range(1000)]
    assert {level.version for level in levels.values()} == {2}


def test_a_row_moved_between_read_and_write_is_read_again(inv: Inventory) -> None:
    stock(inv, A=10)
    inv.client.calls.clear()

    def concurrent_reservation(request: dict[str, Any]) -> None:
        del inv.client.before["transact_write_items"]
        inv.bump("A", reserved=4)

    inv.client.before["transact_write_items"] = concurrent_reservation
    [row] = inv.ledger.apply_report(adjustment(at(1), StockItem(sku="A", on_hand_delta=-1)), WH)
    assert (row.on_hand, row.reserved, row.version) == (9, 4, 3)
    assert inv.client.calls["transact_write_items"] == 2
    assert inv.ledger.levels([("A", WH)])[("A", WH)] == row


def test_a_row_that_never_stops_moving_is_a_retryable_conflict(inv: Inventory) -> None:
    stock(inv, A=10)
    inv.client.calls.clear()
    inv.client.before["transact_write_items"] = lambda request: inv.bump("A")
    with pytest.raises(Conflict) as raised:
        inv.ledger.apply_report(adjustment(at(1), StockItem(sku="A", on_hand_delta=-1)), WH)
    assert raised.value.retryable
    assert inv.client.calls["transact_write_items"] == inventory_ledger.ATTEMPTS


def throttled(operation: str) -> Callable[[dict[str, Any]], None]:
    def hook(request: dict[str, Any]) -> None:
        raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow"}}, operation)

    return hook


def refuse(request: dict[str, Any]) -> None:
    raise ClientError({"Error": {"Code": "ValidationException", "Message": "bad"}}, "TransactWriteItems")


def test_throttling_is_retryable_and_a_malformed_request_surfaces(inv: Inventory) -> None:
    inv.client.before["batch_get_item"] = throttled("BatchGetItem")
    with pytest.raises(DownstreamUnavailable):
        inv.ledger.levels([("A", WH)])
    del inv.client.before["batch_get_item"]
    stock(inv, A=1)
    cancelled = {
        "Error": {"Code": "TransactionCanceledException", "Message": "cancelled"},
        "CancellationReasons": [{"Code": "ThrottlingError"}],
    }

    def throttle(request: dict[str, Any]) -> None:
        raise ClientError(cancelled, "TransactWriteItems")  # type: ignore[arg-type]

    inv.client.before["transact_write_items"] = throttle
    with pytest.raises(DownstreamUnavailable):
        inv.ledger.reserve("o1", [line("1", "A", 1)], at(1))
    # A request DynamoDB or botocore refuses is a bug: it surfaces as it is rather than being retried.
    inv.client.before["transact_write_items"] = refuse
    with pytest.raises(ClientError) as refused:
        inv.ledger.reserve("o1", [line("1", "A", 1)], at(1))
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ParamValidationError):
        DynamoInventoryLedger("", client=lambda: inv.raw).levels([("A", WH)])


def test_unprocessed_keys_are_asked_again(inv: Inventory) -> None:
    stock(inv, A=1, B=2, C=3)
    first = True

    def partial(request: dict[str, Any]) -> dict[str, Any] | None:
        nonlocal first
        if not first:
            return None
        first = False
        keys = request["RequestItems"][TABLE]["Keys"]
        answer = inv.raw.batch_get_item(RequestItems={TABLE: {"Keys": keys[:1], "ConsistentRead": True}})
        answer["UnprocessedKeys"] = {TABLE: {"Keys": keys[1:], "ConsistentRead": True}}
        return dict(answer)

    inv.client.calls.clear()
    inv.client.before["batch_get_item"] = partial
    levels = inv.ledger.levels([("A", WH), ("B", WH), ("C", WH), ("A", WH)])
    assert {key: level.on_hand for key, level in levels.items()} == {("A", WH): 1, ("B", WH): 2, ("C", WH): 3}
    assert inv.client.calls["batch_get_item"] == 2


# -- reservations ----------------------------------------------------------------------------------------------
def test_a_reservation_holds_once_per_line(inv: Inventory) -> None:
    stock(inv, A=10, B=5)
    outcome = inv.ledger.reserve("o1", [line("1", "A", 3), line("2", "A", 2), line("3", "B", 5)], at(1))
    assert outcome.reserved
    assert {(level.sku, level.reserved, level.atp, level.version) for level in outcome.levels} == {
        ("A", 5, 5, 2),
        ("B", 5, 0, 2),
    }
    assert all(level.changed_at == at(1) for level in outcome.levels)
    again = inv.ledger.reserve("o1", [line("1", "A", 3), line("2", "A", 2), line("3", "B", 5)], at(2))
    assert again.reserved
    assert again.levels == outcome.levels
    # A new line of the same order is held; the known ones are not held twice.
    more = inv.ledger.reserve("o1", [line("1", "A", 3), line("4", "A", 1)], at(3))
    assert more.reserved
    assert [(level.reserved, level.version) for level in more.levels] == [(6, 3)]
    assert len(inv.reservation_items("o1")) == 4


def test_a_short_line_fails_the_whole_order_and_writes_nothing(inv: Inventory) -> None:
    stock(inv, A=10, B=3)
    inv.ledger.apply_report(snapshot(at(1), StockItem(sku="B", on_hand=3, safety_stock=1)), WH)
    outcome = inv.ledger.reserve(
        "o1", [line("1", "A", 4), line("2", "B", 1), line("3", "B", 2), line("4", "Z", 1)], at(2)
    )
    assert not outcome.reserved
    # B has 2 to promise: each line alone fits, together they do not; Z has no row at all.
    assert [(s.line_id, s.wanted, s.available) for s in outcome.shortages] == [("2", 1, 2), ("3", 2, 2), ("4", 1, 0)]
    levels = inv.ledger.levels([("A", WH), ("B", WH)])
    assert (levels[("A", WH)].reserved, levels[("A", WH)].version) == (0, 1)
    assert levels[("B", WH)].reserved == 0
    assert inv.reservation_items("o1") == []


def test_a_concurrent_reservation_between_read_and_write_is_seen_on_the_retry(inv: Inventory) -> None:
    stock(inv, A=5)
    other = DynamoInventoryLedger(TABLE, client=lambda: inv.raw)

    def concurrent_order(request: dict[str, Any]) -> None:
        del inv.client.before["transact_write_items"]
        assert other.reserve("o2", [line("1", "A", 3)], at(1)).reserved

    inv.client.before["transact_write_items"] = concurrent_order
    outcome = inv.ledger.reserve("o1", [line("1", "A", 3)], at(1))
    assert not outcome.reserved
    assert [(s.wanted, s.available) for s in outcome.shortages] == [(3, 2)]
    assert inv.ledger.levels([("A", WH)])[("A", WH)].reserved == 3
    assert inv.reservation_items("o1") == []


def test_the_same_order_reserved_twice_at_once_holds_once(inv: Inventory) -> None:
    stock(inv, A=5)
    other = DynamoInventoryLedger(TABLE, client=lambda: inv.raw)

    def redelivery(request: dict[str, Any]) -> None:
        del inv.client.before["transact_write_items"]
        assert other.reserve("o1", [line("1", "A", 3)], at(1)).reserved

    inv.client.before["transact_write_items"] = redelivery
    assert inv.ledger.reserve("o1", [line("1", "A", 3)], at(1)).reserved
    assert inv.ledger.levels([("A", WH)])[("A", WH)].reserved == 3


def test_release_gives_back_once(inv: Inventory) -> None:
    stock(inv, A=10, B=10)
    inv.ledger.reserve("o1", [line("1", "A", 3), line("2", "B", 2), line("3", "A", 1)], at(1))
    inv.ledger.reserve("o2", [line("1", "A", 2)], at(1))
    assert [(held.line_id, held.quantity) for held in inv.ledger.reservations("o1")] == [("1", 3), ("2", 2), ("3", 1)]
    changed = inv.ledger.release("o1", at(2))
    assert sorted((row.sku, row.reserved, row.version, row.changed_at) for row in changed) == [
        ("A", 2, 4, at(2)),
        ("B", 0, 3, at(2)),
    ]
    assert inv.ledger.reservations("o1") == []
    assert inv.ledger.release("o1", at(3)) == []
    assert inv.ledger.release("never-reserved", at(3)) == []
    assert inv.ledger.levels([("A", WH)])[("A", WH)].reserved == 2
    assert [held.line_id for held in inv.ledger.reservations("o2")] == ["1"]


def test_a_released_order_can_be_held_again_once(inv: Inventory) -> None:
    """Validation redone after a permanent ERP refusal was fixed: the released lines hold again, once."""
    stock(inv, A=10)
    inv.ledger.reserve("o1", [line("1", "A", 3)], at(1))
    inv.ledger.release("o1", at(2))
    outcome = inv.ledger.reserve("o1", [line("1", "A", 4), line("2", "A", 1)], at(3))
    assert outcome.reserved
    assert [(level.reserved, level.version) for level in outcome.levels] == [(5, 4)]
    assert inv.ledger.reserve("o1", [line("1", "A", 4), line("2", "A", 1)], at(4)).levels == outcome.levels
    assert {(held.line_id, held.quantity) for held in inv.ledger.reservations("o1")} == {("1", 4), ("2", 1)}


def test_a_release_between_read_and_write_is_read_again(inv: Inventory) -> None:
    stock(inv, A=10)
    inv.ledger.reserve("o1", [line("1", "A", 3)], at(1))
    other = DynamoInventoryLedger(TABLE, client=lambda: inv.raw)

    def concurrent_release(request: dict[str, Any]) -> None:
        del inv.client.before["transact_write_items"]
        assert [row.reserved for row in other.release("o1", at(2))] == [0]

    inv.client.before["transact_write_items"] = concurrent_release
    assert inv.ledger.release("o1", at(2)) == []
    assert inv.ledger.levels([("A", WH)])[("A", WH)].reserved == 0


def test_reservation_limits(inv: Inventory) -> None:
    stock(inv, **{f"S{n}": 1 for n in range(50)})
    fits = [line(str(n), f"S{n}", 1) for n in range(inventory_ledger.MAX_RESERVATION_LINES)]
    assert inv.ledger.reserve("o1", fits, at(1)).reserved
    assert len(inv.ledger.release("o1", at(2))) == len(fits) == 50
    with pytest.raises(ValidationFailed):
        inv.ledger.reserve("o2", [line(str(n), f"S{n % 50}", 1) for n in range(51)], at(1))
    with pytest.raises(ValidationFailed):
        inv.ledger.reserve("o3", [line("1", "S1", 1), line("1", "S2", 1)], at(1))
    assert inv.ledger.reserve("o4", [], at(1)).reserved


# -- shipments -------------------------------------------------------------------------------------------------
def held(inv: Inventory, order_key: str) -> list[tuple[str, str, int]]:
    return [(x.line_id, x.sku, x.quantity) for x in inv.ledger.reservations(order_key)]


def reserved(inv: Inventory, *skus: str, location: str = WH) -> list[int]:
    levels = inv.ledger.levels((sku, location) for sku in skus)
    return [levels[(sku, location)].reserved for sku in skus]


def test_a_partial_shipment_gives_back_what_it_took_line_by_line(inv: Inventory) -> None:
    stock(inv, A=10, B=5)
    inv.ledger.apply_report(snapshot(at(0), StockItem(sku="A", on_hand=10)), "wh-west")
    lines = [line("1", "A", 4), line("2", "A", 2), line("3", "B", 3), line("4", "A", 1, location="wh-west")]
    assert inv.ledger.reserve("o1", lines, at(1)).reserved
    changed = inv.ledger.release_shipped("o1", "S1", WH, {"A": 5, "B": 3}, at(2))
    assert sorted((row.sku, row.reserved, row.version, row.changed_at) for row in changed) == [
        ("A", 1, 3, at(2)),
        ("B", 0, 3, at(2)),
    ]
    # Line 1 shipped whole, line 2 in part; the west line is another warehouse's and stays.
    assert held(inv, "o1") == [("2", "A", 1), ("4", "A", 1)]
    assert reserved(inv, "A", location="wh-west") == [1]
    assert inv.ledger.levels([("A", WH)])[("A", WH)].on_hand == 10  # on-hand leaves through an adjustment


def test_a_shipment_delivered_twice_gives_back_once(inv: Inventory) -> None:
    stock(inv, A=10)
    inv.ledger.reserve("o1", [line("1", "A", 6)], at(1))
    assert [row.reserved for row in inv.ledger.release_shipped("o1", "S1", WH, {"A": 2}, at(2))] == [4]
    inv.client.calls.clear()
    assert inv.ledger.release_shipped("o1", "S1", WH, {"A": 2}, at(3)) == []
    assert "transact_write_items" not in inv.client.calls
    assert (reserved(inv, "A"), held(inv, "o1")) == ([4], [("1", "A", 4)])
    assert inv.ledger.release_shipped("o1", "S1", WH, {"A": 4}, at(3)) == []  # once per shipment, whatever it says
    # The next shipment of the same order is a new one.
    assert [row.reserved for row in inv.ledger.release_shipped("o1", "S2", WH, {"A": 4}, at(4))] == [0]
    assert held(inv, "o1") == []


def test_a_cancellation_after_a_partial_shipment_gives_back_only_the_rest(inv: Inventory) -> None:
    stock(inv, A=10, B=10)
    inv.ledger.reserve("o1", [line("1", "A", 5), line("2", "B", 2)], at(1))
    inv.ledger.reserve("o2", [line("1", "A", 3)], at(1))
    inv.ledger.release_shipped("o1", "S1", WH, {"A": 3}, at(2))
    changed = inv.ledger.release("o1", at(3))
    assert sorted((row.sku, row.reserved) for row in changed) == [("A", 3), ("B", 0)]  # o2's 3 stay held
    assert held(inv, "o1") == []
    assert held(inv, "o2") == [("1", "A", 3)]


def test_shipping_more_than_the_order_holds_gives_back_only_what_it_holds(inv: Inventory) -> None:
    stock(inv, A=10)
    inv.ledger.reserve("o1", [line("1", "A", 2)], at(1))
    inv.ledger.reserve("o2", [line("1", "A", 3)], at(1))
    assert [row.reserved for row in inv.ledger.release_shipped("o1", "S1", WH, {"A": 9, "Z": 1}, at(2))] == [3]
    assert inv.ledger.release_shipped("never-reserved", "S2", WH, {"A": 1}, at(2)) == []
    assert reserved(inv, "A") == [3]


def test_a_reservation_between_read_and_write_of_a_shipment_is_read_again(inv: Inventory) -> None:
    stock(inv, A=10)
    inv.ledger.reserve("o1", [line("1", "A", 4)], at(1))
    other = DynamoInventoryLedger(TABLE, client=lambda: inv.raw)

    def concurrent_order(request: dict[str, Any]) -> None:
        del inv.client.before["transact_write_items"]
        assert other.reserve("o2", [line("1", "A", 5)], at(2)).reserved

    inv.client.calls.clear()
    inv.client.before["transact_write_items"] = concurrent_order
    [row] = inv.ledger.release_shipped("o1", "S1", WH, {"A": 4}, at(3))
    assert (row.reserved, row.version) == (5, 4)
    assert inv.client.calls["transact_write_items"] == 2
    assert held(inv, "o2") == [("1", "A", 5)]


def test_a_shipment_between_read_and_write_of_a_reservation_is_read_again(inv: Inventory) -> None:
    stock(inv, A=10)
    inv.ledger.reserve("o1", [line("1", "A", 4)], at(1))
    other = DynamoInventoryLedger(TABLE, client=lambda: inv.raw)

    def concurrent_shipment(request: dict[str, Any]) -> None:
        del inv.client.before["transact_write_items"]
        assert [row.reserved for row in other.release_shipped("o1", "S1", WH, {"A": 4}, at(2))] == [0]

    inv.client.calls.clear()
    inv.client.before["transact_write_items"] = concurrent_shipment
    outcome = inv.ledger.reserve("o2", [line("1", "A", 5)], at(3))
    assert [(row.reserved, row.version) for row in outcome.levels] == [(5, 4)]
    assert inv.client.calls["transact_write_items"] == 2
    assert (reserved(inv, "A"), held(inv, "o1")) == ([5], [])


def test_a_cancellation_between_read_and_write_of_a_shipment_leaves_nothing_to_take(inv: Inventory) -> None:
    stock(inv, A=10)
    inv.ledger.reserve("o1", [line("1", "A", 4)], at(1))
    inv.ledger.reserve("o2", [line("1", "A", 1)], at(1))
    other = DynamoInventoryLedger(TABLE, client=lambda: inv.raw)

    def concurrent_cancel(request: dict[str, Any]) -> None:
        del inv.client.before["transact_write_items"]
        other.release("o1", at(2))

    inv.client.before["transact_write_items"] = concurrent_cancel
    assert inv.ledger.release_shipped("o1", "S1", WH, {"A": 4}, at(3)) == []
    assert reserved(inv, "A") == [1]
    assert inv.ledger.release_shipped("o1", "S1", WH, {"A": 4}, at(4)) == []  # marked done all the same


def test_a_shipment_too_big_for_one_transaction_finishes_on_the_redo_without_giving_back_twice(
    inv: Inventory,
) -> None:
    skus = [f"S{n:02}" for n in range(60)]  # a marker, a line and a row each: two transactions
    stock(inv, **dict.fromkeys(skus, 5))
    inv.ledger.reserve("o1", [line(str(n), sku, 2) for n, sku in enumerate(skus[:50])], at(1))
    inv.ledger.reserve("o1", [line(str(n), sku, 2) for n, sku in enumerate(skus[50:], start=50)], at(1))
    inv.ledger.reserve("o2", [line(str(n), sku, 1) for n, sku in enumerate(skus[:50])], at(1))
    calls = 0

    def second_fails(request: dict[str, Any]) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            throttled("TransactWriteItems")(request)

    inv.client.before["transact_write_items"] = second_fails
    with pytest.raises(DownstreamUnavailable):
        inv.ledger.release_shipped("o1", "S1", WH, dict.fromkeys(skus, 2), at(2))
    assert 0 < len(held(inv, "o1")) < 60  # the first transaction stands
    changed = inv.ledger.release_shipped("o1", "S1", WH, dict.fromkeys(skus, 2), at(3))
    assert 0 < len(changed) < 60  # only the rest
    assert held(inv, "o1") == []
    assert reserved(inv, *skus) == [1] * 50 + [0] * 10


# -- channel sync state ----------------------------------------------------------------------------------------
def test_a_dirty_mark_touched_after_it_was_read_survives_the_clear(inv: Inventory) -> None:
    inv.state.mark_dirty("shop", ["A", "B", "C", "A"], at(1))
    inv.state.mark_dirty("shop", ["A"], at(2))
    marks = inv.state.dirty("shop")
    assert sorted(marks) == ["A", "B", "C"]
    assert (marks["A"].first_at, marks["A"].last_at) == (at(1), at(2))
    # Touched meanwhile, once with the very same time (a clock that repeats), once with an older one.
    inv.state.mark_dirty("shop", ["A"], at(2))
    inv.state.mark_dirty("shop", ["B"], at(0))
    inv.state.clear_dirty("shop", marks.values())
    left = inv.state.dirty("shop")
    assert sorted(left) == ["A", "B"]
    assert (left["A"].first_at, left["B"].first_at) == (at(2), at(0))  # only the marks made since are left
    inv.state.clear_dirty("shop", left.values())
    assert inv.state.dirty("shop") == {}
    assert inv.state.dirty("other") == {}


def test_a_burst_of_marks_costs_a_write_per_marking_run_not_per_sku(inv: Inventory) -> None:
    inv.client.calls.clear()
    inv.state.mark_dirty("shop", [f"SKU-{n:04}" for n in range(4500)], at(1))
    assert inv.client.calls["put_item"] == 3  # 2,000 SKUs an item


def test_marks_are_read_back_across_pages(inv: Inventory) -> None:
    skus = [f"SKU-{n:03}" for n in range(120)]
    for sku in skus:
        inv.state.mark_dirty("shop", [sku], at(1))
    # Small pages, as DynamoDB cuts them at 1 MB.
    inv.client.before["query"] = lambda request: inv.raw.query(**request, Limit=50)
    inv.client.calls.clear()
    marks = inv.state.dirty("shop")
    assert sorted(marks) == skus
    assert inv.client.calls["query"] == 3
    inv.state.clear_dirty("shop", marks.values())
    assert inv.state.dirty("shop") == {}


def test_a_sent_value_from_an_older_basis_is_refused(inv: Inventory) -> None:
    assert inv.state.record_sent("shop", SentValue(sku="A", quantity=5, basis=7, at=at(1)))
    assert not inv.state.record_sent("shop", SentValue(sku="A", quantity=9, basis=6, at=at(2)))
    assert inv.state.record_sent("shop", SentValue(sku="A", quantity=5, basis=7, at=at(3)))
    assert inv.state.record_sent("shop", SentValue(sku="B", quantity=0, basis=1, at=at(3)))
    assert inv.state.sent("shop", ["A", "B", "C"]) == {
        "A": SentValue(sku="A", quantity=5, basis=7, at=at(3)),
        "B": SentValue(sku="B", quantity=0, basis=1, at=at(3)),
    }
    assert inv.state.sent("other", ["A"]) == {}


def test_listings_remember_ids_and_unlisted_skus(inv: Inventory) -> None:
    listings: dict[str, dict[str, str] | None] = {f"S{n}": {"item": str(n), "loc": "7"} for n in range(30)}
    listings["GONE"] = None
    now = datetime.now(UTC)
    inv.state.save_listings("shop", listings, now)
    assert inv.state.listings("shop", [*listings, "UNKNOWN"]) == listings
    # "Not listed" is forgotten after an hour: the merchant may have listed it since.
    inv.state.save_listings("shop", {"GONE": None}, now - timedelta(hours=2))
    assert inv.state.listings("shop", ["GONE"]) == {}
    inv.state.save_listings("shop", {"GONE": {"item": "99"}}, at(2))
    assert inv.state.listings("shop", ["GONE"]) == {"GONE": {"item": "99"}}


def test_one_sync_per_channel_until_the_lease_runs_out(inv: Inventory) -> None:
    assert inv.state.acquire("shop", "a", 60, at(0))
    assert not inv.state.acquire("shop", "b", 60, at(0.5))
    assert inv.state.acquire("other", "b", 60, at(0.5))
    assert inv.state.acquire("shop", "a", 60, at(0.9))  # the holder renews: now until 1.9
    assert not inv.state.acquire("shop", "b", 60, at(1.5))
    inv.state.release_lease("shop", "b")  # not b's to release
    assert not inv.state.acquire("shop", "b", 60, at(1.5))
    assert inv.state.acquire("shop", "b", 60, at(1.9))  # expired
    inv.state.release_lease("shop", "a")  # a's lease ran out and was taken: releasing it does nothing
    assert not inv.state.acquire("shop", "a", 60, at(2))
    inv.state.release_lease("shop", "b")
    assert inv.state.acquire("shop", "a", 60, at(2))


def test_a_count_that_arrives_after_a_newer_adjustment_keeps_the_adjustment(inv: Inventory) -> None:
    inv.ledger.apply_report(snapshot(at(0), StockItem(sku="A", on_hand=100), report_id="count-0"), "east")
    inv.ledger.apply_report(adjustment(at(3), StockItem(sku="A", on_hand_delta=-5), report_id="adj-3"), "east")
    # A count that found 10 short, reported late.
    inv.ledger.apply_report(snapshot(at(2), StockItem(sku="A", on_hand=90), report_id="count-2"), "east")
    [level] = inv.ledger.levels([("A", "east")]).values()
    assert level.on_hand == 90 - 5  # the late count, plus the adjustment it could not know
    redelivered = adjustment(at(3), StockItem(sku="A", on_hand_delta=-5), report_id="adj-3")
    inv.ledger.apply_report(redelivered, "east")
    assert inv.ledger.levels([("A", "east")])[("A", "east")].on_hand == 85
