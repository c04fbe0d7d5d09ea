"""Stuck orders against DynamoDB's API (moto): the sparse open-status index, and the detector run in-process."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import cast

import boto3
import pytest
from aws_lambda_powertools.utilities.typing import LambdaContext
from moto import mock_aws

from functions.detect_stuck_orders import handler
from shared.aws import clients
from shared.aws.breaker_store import DynamoBreakerStore
from shared.aws.order_store import DynamoOrderStore
from shared.metrics import OPEN_BREAKERS, STUCK_ORDERS
from shared.models.operations import StuckPolicy
from shared.models.order_state import OrderStatus, OrderVersion
from tests import tables
from tests.conftest import JsonLogs
from tests.fakes import FakeLambdaContext

NOW = datetime.now(UTC)


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> Iterator[DynamoOrderStore]:
    with mock_aws():
        clients.reset()
        tables.create(boto3.client("dynamodb"), "orders", tables.ORDERS)
        tables.create(boto3.client("dynamodb"), "operations", tables.OPERATIONS)
        monkeypatch.setenv("ORDERS_TABLE_NAME", "orders")
        monkeypatch.setenv("OPS_TABLE_NAME", "operations")
        monkeypatch.setenv("CONNECTED_SYSTEMS", json.dumps(["netsuite", "shopify", "wms"]))
        handler.env.cache_clear()
        yield DynamoOrderStore("orders")
        handler.env.cache_clear()
        clients.reset()


def placed(
    store: DynamoOrderStore, external_id: str, status: OrderStatus, minutes_ago: float, now: datetime = NOW
) -> str:
    key = f"shopify:acme.myshopify.com:{external_id}"
    store.apply_version(
        OrderVersion(
            order_key=key, channel="shopify", store="acme.myshopify.com", external_id=external_id,
            version=1, correlation_id=f"c-{external_id}", last_event_id=f"e-{external_id}",
        )
    )  # fmt: skip
    assert store.advance_status(key, status, now - timedelta(minutes=minutes_ago))
    return key


def keys(store: DynamoOrderStore, status: OrderStatus, before: datetime = NOW) -> list[str]:
    return [o.order_key for o in store.open_since(status, before)]


def test_an_order_is_open_under_its_current_status_only(store: DynamoOrderStore) -> None:
    key = placed(store, "1001", OrderStatus.RECEIVED, 30)
    [found] = store.open_since(OrderStatus.RECEIVED, NOW)
    assert (found.order_key, found.status, found.correlation_id) == (key, OrderStatus.RECEIVED, "c-1001")
    assert found.since == NOW - timedelta(minutes=30)
    assert keys(store, OrderStatus.RECEIVED, before=NOW - timedelta(minutes=31)) == []  # not that old yet
    store.advance_status(key, OrderStatus.ACCEPTED, NOW - timedelta(minutes=20))
    assert keys(store, OrderStatus.RECEIVED) == []
    assert keys(store, OrderStatus.ACCEPTED) == [key]


@pytest.mark.parametrize("final", [OrderStatus.REJECTED, OrderStatus.FULFILLED, OrderStatus.CANCELLED])
def test_a_final_status_takes_the_order_out_of_the_index(store: DynamoOrderStore, final: OrderStatus) -> None:
    key = placed(store, "1002", OrderStatus.RECEIVED, 30)
    store.advance_status(key, final, NOW - timedelta(minutes=25))
    assert all(keys(store, OrderStatus(status)) == [] for status in ("received", "accepted", "held", "shipped"))
    state = store.get(key)
    assert state is not None
    assert state.status is final


def test_times_in_any_offset_compare_as_instants(store: DynamoOrderStore) -> None:
    # A time with another offset is stored in UTC: string order in the index is time order.
    east = timezone(timedelta(hours=5))
    key = placed(store, "1003", OrderStatus.RECEIVED, 0)
    store.advance_status(key, OrderStatus.SHIPPED, (NOW - timedelta(minutes=61)).astimezone(east))
    assert keys(store, OrderStatus.SHIPPED, before=NOW - timedelta(minutes=60)) == [key]
    assert keys(store, OrderStatus.SHIPPED, before=NOW - timedelta(minutes=62)) == []


def test_the_detector_emits_stuck_orders_per_status_and_names_them(
    store: DynamoOrderStore, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], json_logs: JsonLogs
) -> None:
    policy = StuckPolicy(after_minutes={"received": 15, "shipped": 60, "released": 2880})
    monkeypatch.setenv("STUCK_POLICY", policy.model_dump_json())
    now = datetime.now(UTC)  # the detector reads the clock
    late = placed(store, "2001", OrderStatus.RECEIVED, 20, now)
    placed(store, "2002", OrderStatus.RECEIVED, 5, now)  # within its SLA
    done = placed(store, "2003", OrderStatus.SHIPPED, 120, now)
    store.advance_status(done, OrderStatus.FULFILLED, now - timedelta(minutes=100))  # finished: never stuck
    capsys.readouterr()
    result = handler.lambda_handler({}, cast(LambdaContext, FakeLambdaContext()))
    assert result == {"stuck": 1, "per_status": {"received": 1, "released": 0, "shipped": 0}, "open_breakers": []}
    documents = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    emitted = {}
    for document in documents:
        if STUCK_ORDERS not in document:
            continue
        [directive] = document["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == "Crossdock"
        assert directive["Metrics"] == [{"Name": STUCK_ORDERS, "Unit": "Count"}]
        assert sorted(directive["Dimensions"][0]) == ["service", "status"]
        emitted[document["status"]] = document[STUCK_ORDERS]
    assert emitted == {"received": [1.0], "released": [0.0], "shipped": [0.0]}
    [line] = [r for r in json_logs.records() if r["message"] == "orders stuck"]
    assert line["count"] == 1
    assert isinstance(line["orders"], list)
    [named] = line["orders"]
    assert named["order_key"] == late
    assert named["correlation_id"] == "c-2001"
    assert named["status"] == "received"
    assert 5 <= named["overdue_minutes"] <= 5.5


def test_the_detector_flags_each_connected_systems_breaker(
    store: DynamoOrderStore, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], json_logs: JsonLogs
) -> None:
    monkeypatch.setenv("STUCK_POLICY", StuckPolicy(after_minutes={"received": 15}).model_dump_json())
    assert DynamoBreakerStore("operations").open("netsuite", time.time(), 300, 5, "netsuite unavailable")
    capsys.readouterr()
    result = handler.lambda_handler({}, cast(LambdaContext, FakeLambdaContext()))
    assert result["open_breakers"] == ["netsuite"]
    documents = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    emitted = {}
    for document in documents:
        [directive] = document["_aws"]["CloudWatchMetrics"]
        if directive["Metrics"] != [{"Name": OPEN_BREAKERS, "Unit": "Count"}]:
            continue
        assert sorted(directive["Dimensions"][0]) == ["service", "system"]  # the set the alarms name
        emitted[document["system"]] = document[OPEN_BREAKERS]
    assert emitted == {"netsuite": [1.0], "shopify": [0.0], "wms": [0.0]}
    [line] = [r for r in json_logs.records() if r["message"] == "breakers open"]
    assert line["systems"] == ["netsuite"]
