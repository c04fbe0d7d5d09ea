"""Stuck orders: past their status's SLA at a given time, counted per status, named in one log line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from functions.detect_stuck_orders.logic import MAX_LISTED, detect_stuck_orders, open_breakers
from shared.breaker import BreakerState
from shared.models.operations import StuckPolicy
from shared.models.order_state import OrderStatus
from shared.stuck import OpenOrder, find_stuck
from tests.conftest import JsonLogs
from tests.unit.test_breaker import FakeBreakerStore

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
POLICY = StuckPolicy(after_minutes={"received": 15, "released": 2880, "shipped": 60})


class FakeOpenOrders:
    """The open-status index in memory: every order's current status and since when."""

    def __init__(self, *orders: OpenOrder) -> None:
        self.orders = list(orders)
        self.asked: list[tuple[OrderStatus, datetime]] = []

    def open_since(self, status: OrderStatus, before: datetime) -> list[OpenOrder]:
        self.asked.append((status, before))
        return [o for o in self.orders if o.status is status and o.since < before]


def open_order(key: str, status: OrderStatus, minutes_ago: float) -> OpenOrder:
    return OpenOrder(
        order_key=key, status=status, since=NOW - timedelta(minutes=minutes_ago), correlation_id=f"c-{key}"
    )


def test_only_orders_past_their_status_sla_are_stuck_oldest_first() -> None:
    orders = FakeOpenOrders(
        open_order("a", OrderStatus.RECEIVED, 20),  # 5 minutes over
        open_order("b", OrderStatus.RECEIVED, 10),  # within the SLA
        open_order("c", OrderStatus.SHIPPED, 90),  # 30 minutes over
        open_order("d", OrderStatus.RELEASED, 60),  # released has two days
        open_order("e", OrderStatus.ACCEPTED, 600),  # no SLA for accepted in this policy: never stuck
    )
    stuck = find_stuck(orders, POLICY, NOW)
    assert [(s.order_key, s.status, s.sla_minutes, s.overdue_minutes) for s in stuck] == [
        ("c", OrderStatus.SHIPPED, 60, 30.0),
        ("a", OrderStatus.RECEIVED, 15, 5.0),
    ]
    assert stuck[0].correlation_id == "c-c"
    # One question per status with an SLA, each with its own cut-off.
    assert sorted(orders.asked) == sorted(
        [
            (OrderStatus.RECEIVED, NOW - timedelta(minutes=15)),
            (OrderStatus.RELEASED, NOW - timedelta(minutes=2880)),
            (OrderStatus.SHIPPED, NOW - timedelta(minutes=60)),
        ]
    )


def test_within_also_lists_the_orders_about_to_be_stuck() -> None:
    orders = FakeOpenOrders(open_order("soon", OrderStatus.RECEIVED, 12), open_order("later", OrderStatus.RECEIVED, 5))
    assert find_stuck(orders, POLICY, NOW) == []
    [soon] = find_stuck(orders, POLICY, NOW, within=timedelta(minutes=5))
    assert soon.order_key == "soon"
    assert soon.overdue_minutes == -3.0  # three minutes left


def test_the_detector_counts_every_sla_status_zeros_included_and_names_the_orders(json_logs: JsonLogs) -> None:
    orders = FakeOpenOrders(open_order("a", OrderStatus.RECEIVED, 20), open_order("c", OrderStatus.SHIPPED, 90))
    detection = detect_stuck_orders(orders, POLICY, NOW)
    assert detection.per_status == {"received": 1, "released": 0, "shipped": 1}
    [line] = [r for r in json_logs.records() if r["message"] == "orders stuck"]
    assert line["level"] == "WARNING"
    assert line["count"] == 2
    assert line["orders"] == [
        {
            "order_key": "c",
            "status": "shipped",
            "since": (NOW - timedelta(minutes=90)).isoformat(),
            "overdue_minutes": 30.0,
            "correlation_id": "c-c",
        },
        {
            "order_key": "a",
            "status": "received",
            "since": (NOW - timedelta(minutes=20)).isoformat(),
            "overdue_minutes": 5.0,
            "correlation_id": "c-a",
        },
    ]


def test_a_long_list_is_capped_in_the_log_but_counted_in_full(json_logs: JsonLogs) -> None:
    many = [open_order(f"o{n}", OrderStatus.RECEIVED, 30 + n) for n in range(MAX_LISTED + 5)]
    detection = detect_stuck_orders(FakeOpenOrders(*many), POLICY, NOW)
    assert detection.per_status["received"] == MAX_LISTED + 5
    [line] = [r for r in json_logs.records() if r["message"] == "orders stuck"]
    assert line["count"] == MAX_LISTED + 5
    assert isinstance(line["orders"], list)
    assert len(line["orders"]) == MAX_LISTED
    assert line["orders"][0]["order_key"] == f"o{MAX_LISTED + 4}"  # the oldest first


def test_nothing_stuck_says_so(json_logs: JsonLogs) -> None:
    detection = detect_stuck_orders(FakeOpenOrders(), POLICY, NOW)
    assert detection.per_status == {"received": 0, "released": 0, "shipped": 0}
    assert [r["message"] for r in json_logs.records()] == ["no stuck orders"]


# -- breakers --------------------------------------------------------------------------------------------------------
def test_every_connected_system_gets_a_breaker_flag_and_the_open_ones_are_named(json_logs: JsonLogs) -> None:
    store = FakeBreakerStore()
    opened = BreakerState(system="netsuite", state="open", opened_at=NOW, last_error="netsuite unavailable")
    store.items = {"netsuite": opened, "shopify": BreakerState(system="shopify", failures=2)}
    flags = open_breakers(store, ["wms", "shopify", "netsuite"])
    assert flags == {"netsuite": True, "shopify": False, "wms": False}  # never opened: 0, so the alarm has data
    [line] = [r for r in json_logs.records() if r["message"] == "breakers open"]
    assert line["level"] == "WARNING"
    assert line["systems"] == ["netsuite"]
    assert line["since"] == {"netsuite": NOW.isoformat()}


def test_no_open_breaker_logs_nothing(json_logs: JsonLogs) -> None:
    assert open_breakers(FakeBreakerStore(), ["netsuite"]) == {"netsuite": False}
    assert json_logs.records() == []
