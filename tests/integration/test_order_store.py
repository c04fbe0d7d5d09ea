"""The orders table adapter against DynamoDB's API (moto): the conditions hold where it matters."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from moto import mock_aws

from shared.aws.order_store import DynamoOrderStore
from shared.models.order_state import OrderStatus, OrderVersion, TimelineEntry
from shared.models.returns import ReturnAuthorization, ReturnLine
from shared.models.shipping import Package, Shipment, ShippedLine
from tests import tables

KEY = "shopify:acme.myshopify.com:1001"


@pytest.fixture
def store() -> Iterator[DynamoOrderStore]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        tables.create(client, "orders", tables.ORDERS)
        yield DynamoOrderStore("orders", client=lambda: client)


def version(v: int) -> OrderVersion:
    return OrderVersion(
        order_key=KEY, channel="shopify", store="acme.myshopify.com", external_id="1001",
        version=v, correlation_id="c", last_event_id=f"e{v}",
    )  # fmt: skip


def test_versions_only_move_newer(store: DynamoOrderStore) -> None:
    assert store.apply_version(version(2))
    assert not store.apply_version(version(1))
    assert not store.apply_version(version(2))
    state = store.get(KEY)
    assert state is not None
    assert state.version == 2


def test_statuses_only_move_forward(store: DynamoOrderStore) -> None:
    now = datetime.now(UTC)
    assert store.advance_status(KEY, OrderStatus.RELEASED, now)
    assert not store.advance_status(KEY, OrderStatus.HELD, now)
    state = store.get(KEY)
    assert state is not None
    assert state.status is OrderStatus.RELEASED


def test_a_cancellation_request_is_seen_and_kept(store: DynamoOrderStore) -> None:
    store.apply_version(version(1))
    store.request_cancel(KEY, datetime.now(UTC))
    store.request_cancel(KEY, datetime.now(UTC))
    state = store.get(KEY)
    assert state is not None
    assert state.cancel_requested
    assert state.cancelling


def test_timeline_once_per_event_in_time_order_and_found_without_the_store(store: DynamoOrderStore) -> None:
    store.apply_version(version(1))
    start = datetime.now(UTC)
    for offset, event_id in ((2, "b"), (1, "a"), (3, "b")):
        entry = TimelineEntry(
            order_key=KEY, event_id=event_id, what=event_id, at=start + timedelta(seconds=offset),
            system="test", ids={},
        )  # fmt: skip
        store.append(entry)
    assert [e.event_id for e in store.timeline(KEY)] == ["a", "b"]
    [found] = store.find("shopify", "1001")
    assert found.order_key == KEY


def rma(number: str, quantity: int = 1) -> ReturnAuthorization:
    now = datetime.now(UTC)
    return ReturnAuthorization(
        rma_number=number,
        order_key=KEY,
        request_id=number,
        lines=(ReturnLine(sku="GLV", quantity=quantity, reason_code="damaged"),),
        authorized_at=now,
        expires_at=now + timedelta(days=30),
    )


def test_rmas_are_saved_only_on_the_count_they_were_checked_against(store: DynamoOrderStore) -> None:
    assert store.save_return(rma("RMA-1"), known=0)
    assert not store.save_return(rma("RMA-2"), known=0)  # a racing RMA checked against no RMAs: refused
    assert not store.save_return(rma("RMA-1"), known=1)  # the same RMA twice
    assert store.save_return(rma("RMA-2"), known=1)
    assert store.order_for("RMA-2") == KEY
    done = rma("RMA-2").model_copy(update={"erp_return_authorization_id": "RA-9"})
    store.complete_return(done)
    assert {r.rma_number: r.erp_return_authorization_id for r in store.returns(KEY)} == {"RMA-1": None, "RMA-2": "RA-9"}


def test_a_voided_rma_frees_its_place_in_the_count(store: DynamoOrderStore) -> None:
    assert store.save_return(rma("RMA-1"), known=0)
    assert store.void_return(rma("RMA-1"))
    assert not store.void_return(rma("RMA-1"))
    assert store.returns(KEY) == []
    assert store.save_return(rma("RMA-3"), known=0)


def test_shipments_are_kept_once_per_id_and_references_resolve(store: DynamoOrderStore) -> None:
    shipment = Shipment(
        shipment_id="500001",
        order_key=KEY,
        reference_id="ref-east",
        facility="1",
        carrier="UPS",
        packages=(Package(tracking_number="1Z1"),),
        lines=(ShippedLine(sku="GLV", quantity=2),),
        shipped_at=datetime.now(UTC),
    )
    assert store.record_shipment(shipment)
    assert not store.record_shipment(shipment)
    assert store.shipments(KEY) == [shipment]
    store.remember_reference("ref-east", KEY)
    assert store.order_for("ref-east") == KEY
    assert store.order_for("ref-unknown") is None
