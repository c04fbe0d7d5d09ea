"""WooCommerceApi on respx: fetch through the adapter's mapping, paging by X-WP-TotalPages, status plus one note."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx

from infra.samples import load_json
from shared.channels.woocommerce.api import STATUSES, WooCommerceApi
from shared.channels.woocommerce.mapping import to_order
from shared.channels.woocommerce.payloads import WooOrder
from shared.connections import Connection
from shared.errors import NotFound, RateLimited, Unauthorized, ValidationFailed
from shared.models.lifecycle import ChannelStatus, Reason
from shared.outbound import OutboundClient

SITE = "https://orders.acme-supply.example"
API = f"{SITE}/wp-json/wc/v3"
KEY, SECRET = "ck_unit", "cs_unit"
ORDER_ID = "30412"
HOLD = [Reason(code="credit_limit", message="Over the credit limit")]
HOLD_NOTE = "Crossdock: on hold.\n- credit_limit: Over the credit limit"


def sample(**changes: Any) -> dict[str, Any]:
    order: dict[str, Any] = load_json("woocommerce/order.json")
    order.update(changes)
    return order


def api(**settings: str) -> WooCommerceApi:
    conn = Connection(base_url=SITE, credentials={"consumer_key": KEY, "consumer_secret": SECRET}, settings=settings)
    return WooCommerceApi(conn, client=OutboundClient("woocommerce", conn, sleep=lambda _: None))


@pytest.fixture
def shop() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=API, assert_all_called=False) as router:
        yield router


def note(text: str, note_id: int = 1) -> dict[str, Any]:
    return {"id": note_id, "author": "system", "note": text, "customer_note": False}


def test_fetch_order_maps_through_the_adapters_mapping(shop: respx.MockRouter) -> None:
    route = shop.get(f"/orders/{ORDER_ID}").respond(200, json=sample())
    order = api().fetch_order(ORDER_ID)
    assert order == to_order(WooOrder.model_validate(sample()), "orders.acme-supply.example")
    expected = "Basic " + base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()
    assert route.calls.last.request.headers["authorization"] == expected


def test_the_store_setting_overrides_the_host() -> None:
    assert api().store == "orders.acme-supply.example"
    assert api(store="shop.example").store == "shop.example"


@pytest.mark.parametrize(("status", "error"), [(404, NotFound), (401, Unauthorized), (400, ValidationFailed)])
def test_fetch_errors_are_typed(shop: respx.MockRouter, status: int, error: type[Exception]) -> None:
    body = {"code": "woocommerce_rest_shop_order_invalid_id", "message": "Invalid ID.", "data": {"status": status}}
    shop.get(f"/orders/{ORDER_ID}").respond(status, json=body)
    with pytest.raises(error):
        api().fetch_order(ORDER_ID)


def test_a_429_is_retried_then_rate_limited(shop: respx.MockRouter) -> None:
    route = shop.get(f"/orders/{ORDER_ID}").respond(
        429, json={"code": "too_many_requests"}, headers={"Retry-After": "3"}
    )
    with pytest.raises(RateLimited) as caught:
        api().fetch_order(ORDER_ID)
    assert caught.value.retry_after_seconds == 3.0
    assert route.call_count == 3


def stamp(order_id: int, modified_gmt: str, status: str = "processing") -> dict[str, Any]:
    return {"id": order_id, "status": status, "date_modified_gmt": modified_gmt}


def test_list_updated_since_pages_and_keeps_at_or_after(shop: respx.MockRouter) -> None:
    pages = {"X-WP-Total": "3", "X-WP-TotalPages": "2"}
    route = shop.get("/orders")
    route.side_effect = [
        # The bound is a second early (modified_after is strict), so the first is from before ``since``.
        httpx.Response(200, json=[stamp(1, "2026-12-01T08:59:59"), stamp(2, "2026-12-01T09:00:00")], headers=pages),
        httpx.Response(200, json=[stamp(3, "2026-12-01T10:30:00")], headers=pages),
    ]
    refs = api().list_updated_since(datetime(2026, 12, 1, 9, 0, 0, 400_000, tzinfo=UTC))
    assert [(r.external_id, r.updated_at) for r in refs] == [
        ("2", datetime(2026, 12, 1, 9, tzinfo=UTC)),
        ("3", datetime(2026, 12, 1, 10, 30, tzinfo=UTC)),
    ]
    first, second = (dict(call.request.url.params) for call in route.calls)
    assert first == {
        "modified_after": "2026-12-01T08:59:59",
        "dates_are_gmt": "true",
        "orderby": "id",
        "order": "asc",
        "per_page": "100",
        "page": "1",
    }
    assert second["page"] == "2"
    assert {(r.store, r.change, r.observed_by) for r in refs} == {
        ("orders.acme-supply.example", "updated", "reconciliation")
    }


def test_list_updated_since_with_nothing_is_one_call(shop: respx.MockRouter) -> None:
    route = shop.get("/orders").respond(200, json=[], headers={"X-WP-Total": "0", "X-WP-TotalPages": "0"})
    assert api().list_updated_since(datetime(2026, 12, 1, tzinfo=UTC)) == []
    assert route.call_count == 1


class Store:
    """The order's status and notes as the REST API keeps them, and every write made to them."""

    def __init__(self, router: respx.MockRouter, status: str, notes: list[str] | None = None) -> None:
        self.status = status
        self.notes = list(notes or [])
        self.writes: list[tuple[str, Any]] = []
        router.get(f"/orders/{ORDER_ID}").mock(
            side_effect=lambda _: httpx.Response(200, json=sample(status=self.status))
        )
        router.put(f"/orders/{ORDER_ID}").mock(side_effect=self.update)
        router.get(f"/orders/{ORDER_ID}/notes").mock(
            side_effect=lambda _: httpx.Response(
                200, json=[note(t, i) for i, t in reversed(list(enumerate(self.notes)))]
            )
        )
        router.post(f"/orders/{ORDER_ID}/notes").mock(side_effect=self.add_note)

    def update(self, request: httpx.Request) -> httpx.Response:
        self.writes.append(("status", json.loads(request.content)))
        self.status = json.loads(request.content)["status"]
        return httpx.Response(200, json=sample(status=self.status))

    def add_note(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.writes.append(("note", body))
        self.notes.append(body["note"])
        return httpx.Response(201, json=note(body["note"]))


@pytest.mark.parametrize(("status", "woo_status"), list(STATUSES.items()))
def test_push_status_sets_the_status_and_adds_one_private_note(
    shop: respx.MockRouter, status: ChannelStatus, woo_status: str
) -> None:
    store = Store(shop, "pending")
    reasons = [Reason(code="why", message="Because")]
    api().push_status(ORDER_ID, status, reasons)
    api().push_status(ORDER_ID, status, reasons)  # the retry
    assert store.status == woo_status
    assert store.writes == [
        ("status", {"status": woo_status}),
        ("note", {"note": f"Crossdock: {status.value.replace('_', ' ')}.\n- why: Because", "customer_note": False}),
    ]


def test_a_rejection_fails_the_order_rather_than_cancelling_it(shop: respx.MockRouter) -> None:
    store = Store(shop, "on-hold")
    api().push_status(ORDER_ID, ChannelStatus.REJECTED, [Reason(code="restricted", message="Export restricted")])
    assert store.status == "failed"


def test_without_reasons_there_is_no_note(shop: respx.MockRouter) -> None:
    store = Store(shop, "on-hold")
    api().push_status(ORDER_ID, ChannelStatus.ACCEPTED)
    assert store.writes == [("status", {"status": "processing"})]


def test_a_retry_after_the_status_landed_but_its_note_did_not_adds_the_note(shop: respx.MockRouter) -> None:
    store = Store(shop, "on-hold", notes=["Order status changed from Pending payment to On hold."])
    api().push_status(ORDER_ID, ChannelStatus.ON_HOLD, HOLD)
    assert store.writes == [("note", {"note": HOLD_NOTE, "customer_note": False})]


def test_a_retry_with_the_note_in_place_writes_nothing(shop: respx.MockRouter) -> None:
    store = Store(shop, "on-hold", notes=[HOLD_NOTE, "Order status changed from Pending payment to On hold."])
    api().push_status(ORDER_ID, ChannelStatus.ON_HOLD, HOLD)
    assert store.writes == []


@pytest.mark.parametrize("current", ["completed", "refunded", "cancelled", "trash", "checkout-draft"])
def test_a_late_decision_never_moves_an_order_back(shop: respx.MockRouter, current: str) -> None:
    store = Store(shop, current)
    api().push_status(ORDER_ID, ChannelStatus.ON_HOLD, HOLD)
    assert store.writes == []


def test_missing_credentials_are_named() -> None:
    with pytest.raises(ValidationFailed) as caught:
        WooCommerceApi(Connection(base_url=SITE, credentials={"consumer_key": KEY}))
    assert caught.value.details["field"] == "credentials.consumer_secret"
