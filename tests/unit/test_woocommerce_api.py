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
from shared.channels.base import RefundRequest
from shared.channels.woocommerce.api import STATUSES, WooCommerceApi
from shared.channels.woocommerce.mapping import to_order
from shared.channels.woocommerce.payloads import WooOrder
from shared.connections import Connection
from shared.errors import NotFound, RateLimited, Unauthorized, ValidationFailed
from shared.models.lifecycle import ChannelStatus, Reason
from shared.models.money import Money
from shared.models.shipping import Package, Shipment, ShippedLine
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


# -- shipments and refunds: a store that keeps notes, meta and refunds, and can lose an answer ----------------------
GLOVES, LINERS, CLEANER, TOWELS = "GLV-NIT-L-100", "TRL-55G-HD-100", "DSF-MS-1G", "PTW-HW8-NAT-6"  # 40, 12, 24, 15


class Shop:
    """One order as WooCommerce keeps it, every write made to it, and answers lost after the write landed."""

    def __init__(self, router: respx.MockRouter, status: str = "processing") -> None:
        self.order = sample(status=status, meta_data=[])
        self.notes: list[dict[str, Any]] = []
        self.refunds: list[dict[str, Any]] = []
        self.writes: list[tuple[str, Any]] = []
        self.lose_answer: set[str] = set()  # "note", "refund": commit, then time out
        router.get(f"/orders/{ORDER_ID}").mock(side_effect=lambda _: httpx.Response(200, json=self.order))
        router.put(f"/orders/{ORDER_ID}").mock(side_effect=self.update)
        router.get(f"/orders/{ORDER_ID}/notes").mock(side_effect=lambda _: httpx.Response(200, json=self.notes[::-1]))
        router.post(f"/orders/{ORDER_ID}/notes").mock(side_effect=self.add_note)
        router.get(f"/orders/{ORDER_ID}/refunds").mock(side_effect=self.list_refunds)
        router.post(f"/orders/{ORDER_ID}/refunds").mock(side_effect=self.add_refund)

    def update(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.writes.append(("order", body))
        self.order["status"] = body.get("status", self.order["status"])
        self.order["meta_data"] += body.get("meta_data", [])
        return httpx.Response(200, json=self.order)

    def add_note(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.writes.append(("note", body))
        self.notes.append(note(body["note"], note_id=900 + len(self.notes)) | {"customer_note": body["customer_note"]})
        return self._answer("note", 201, self.notes[-1])

    def list_refunds(self, request: httpx.Request) -> httpx.Response:
        assert request.url.params["per_page"] == "100"
        return httpx.Response(200, json=self.refunds[::-1], headers={"X-WP-TotalPages": "1"})

    def add_refund(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.writes.append(("refund", body))
        lines = [{"sku": GLOVES, "quantity": -item["quantity"]} for item in body["line_items"]]
        self.refunds.append(
            {"id": 40001 + len(self.refunds), "amount": body["amount"], "reason": body["reason"], "line_items": lines}
        )
        return self._answer("refund", 201, self.refunds[-1])

    def _answer(self, what: str, status: int, body: Any) -> httpx.Response:
        if what in self.lose_answer:
            self.lose_answer.discard(what)
            raise httpx.ReadTimeout("the answer was lost")
        return httpx.Response(status, json=body)

    def kinds(self) -> list[str]:
        return [kind for kind, _ in self.writes]


def shipment(shipment_id: str, *lines: tuple[str, int]) -> Shipment:
    return Shipment(
        shipment_id=shipment_id,
        order_key=f"woocommerce:orders.acme-supply.example:{ORDER_ID}",
        reference_id="REL-1",
        facility="WH-EAST",
        carrier="UPS",
        service="Ground",
        tracking_url="https://www.ups.com/track?tracknum=1Z1",
        packages=(Package(tracking_number="1Z1"), Package(tracking_number="1Z2")),
        lines=tuple(ShippedLine(sku=sku, quantity=quantity) for sku, quantity in lines),
        shipped_at=datetime(2026, 12, 1, tzinfo=UTC),
    )


EVERYTHING = ((GLOVES, 40), (LINERS, 12), (CLEANER, 24), (TOWELS, 15))


def test_a_shipment_is_one_customer_note_and_its_lines_in_the_meta(shop: respx.MockRouter) -> None:
    store = Shop(shop)
    assert api().create_fulfillment(ORDER_ID, shipment("SHP-1", (GLOVES, 40))) == "900"
    assert store.writes == [
        (
            "note",
            {
                "note": "Your order has shipped with UPS Ground.\nTracking: 1Z1, 1Z2\n"
                "https://www.ups.com/track?tracknum=1Z1\nRef: [crossdock shipment SHP-1]",
                "customer_note": True,
            },
        ),
        ("order", {"meta_data": [{"key": "_crossdock_shipment_SHP-1", "value": '{"GLV-NIT-L-100": 40}'}]}),
    ]
    assert store.order["status"] == "processing"  # more to ship


def test_the_shipment_that_ships_the_last_line_completes_the_order(shop: respx.MockRouter) -> None:
    store = Shop(shop)
    api().create_fulfillment(ORDER_ID, shipment("SHP-1", *EVERYTHING[:2]))
    api().create_fulfillment(ORDER_ID, shipment("SHP-2", *EVERYTHING[2:]))
    assert store.kinds() == ["note", "order", "note", "order", "order"]
    assert store.writes[-1] == ("order", {"status": "completed"})


def test_a_repeated_shipment_writes_nothing(shop: respx.MockRouter) -> None:
    store = Shop(shop)
    first = api().create_fulfillment(ORDER_ID, shipment("SHP-1", (GLOVES, 40)))
    assert api().create_fulfillment(ORDER_ID, shipment("SHP-1", (GLOVES, 40))) == first
    assert store.kinds() == ["note", "order"]


def test_a_lost_note_answer_is_found_among_the_notes_and_not_sent_again(shop: respx.MockRouter) -> None:
    store = Shop(shop)
    store.lose_answer.add("note")
    assert api().create_fulfillment(ORDER_ID, shipment("SHP-1", *EVERYTHING)) == "900"
    assert store.kinds() == ["note", "order", "order"]  # one note, the meta, completed


def test_a_retry_after_the_note_landed_records_the_lines_only(shop: respx.MockRouter) -> None:
    store = Shop(shop)
    store.notes.append(note("...\nRef: [crossdock shipment SHP-1]", note_id=900))  # the first attempt died here
    assert api().create_fulfillment(ORDER_ID, shipment("SHP-1", (GLOVES, 40))) == "900"
    assert store.kinds() == ["order"]


@pytest.mark.parametrize(
    ("lines", "field"), [(((GLOVES, 41),), "lines.0.quantity"), (((GLOVES, 1), ("NOPE", 1)), "lines.1.sku")]
)
def test_lines_the_order_cannot_ship_are_refused_before_any_write(
    shop: respx.MockRouter, lines: tuple[tuple[str, int], ...], field: str
) -> None:
    store = Shop(shop)
    with pytest.raises(ValidationFailed) as caught:
        api().create_fulfillment(ORDER_ID, shipment("SHP-1", *lines))
    assert caught.value.details["field"] == field
    assert store.writes == []


def test_a_cancelled_order_takes_no_shipment(shop: respx.MockRouter) -> None:
    store = Shop(shop, status="cancelled")
    with pytest.raises(ValidationFailed) as caught:
        api().create_fulfillment(ORDER_ID, shipment("SHP-1", (GLOVES, 1)))
    assert caught.value.details["field"] == "status"
    assert store.writes == []


def test_a_shipment_for_a_missing_order_is_not_found(shop: respx.MockRouter) -> None:
    body = {"code": "woocommerce_rest_shop_order_invalid_id", "message": "Invalid ID.", "data": {"status": 404}}
    shop.get(f"/orders/{ORDER_ID}").respond(404, json=body)
    with pytest.raises(NotFound):
        api().create_fulfillment(ORDER_ID, shipment("SHP-1", (GLOVES, 1)))


def refund_request(amount: str = "100.00", quantity: int = 4) -> RefundRequest:
    lines = (ShippedLine(sku=GLOVES, quantity=quantity), ShippedLine(sku=LINERS, quantity=2))
    return RefundRequest("RMA-1:RCPT-1", "RMA-1", Money(amount=amount, currency="USD"), lines)


def test_a_refund_records_the_credit_over_the_lines_without_paying_or_restocking(shop: respx.MockRouter) -> None:
    store = Shop(shop)
    assert api().refund(ORDER_ID, refund_request()) == "40001"
    # 4 gloves at (437.00 + 32.78) / 40 and 2 liners at (441.75 + 33.13) / 12: 46.98 and 79.15 of value.
    assert store.writes == [
        (
            "refund",
            {
                "amount": "100.00",
                "reason": "[crossdock refund RMA-1:RCPT-1] RMA RMA-1",
                "line_items": [
                    {"id": 8841, "quantity": 4, "refund_total": "37.25"},
                    {"id": 8842, "quantity": 2, "refund_total": "62.75"},
                ],
                "api_refund": False,
                "api_restock": False,
            },
        )
    ]


def test_a_repeated_refund_returns_the_one_it_made(shop: respx.MockRouter) -> None:
    store = Shop(shop)
    first = api().refund(ORDER_ID, refund_request())
    assert api().refund(ORDER_ID, refund_request()) == first
    assert store.kinds() == ["refund"]


def test_a_lost_refund_answer_is_found_among_the_refunds_and_not_sent_again(shop: respx.MockRouter) -> None:
    store = Shop(shop)
    store.lose_answer.add("refund")
    assert api().refund(ORDER_ID, refund_request()) == "40001"
    assert store.kinds() == ["refund"]


@pytest.mark.parametrize(
    ("request_", "field"), [(refund_request("2125.52"), "amount"), (refund_request(quantity=41), "lines.0.quantity")]
)
def test_a_refund_woocommerce_would_fail_is_refused_before_the_post(
    shop: respx.MockRouter, request_: RefundRequest, field: str
) -> None:
    store = Shop(shop)
    with pytest.raises(ValidationFailed) as caught:
        api().refund(ORDER_ID, request_)
    assert caught.value.details["field"] == field
    assert store.writes == []


def test_a_refund_woocommerce_refuses_is_validation_failed(shop: respx.MockRouter) -> None:
    Shop(shop)
    body = {"code": "woocommerce_rest_invalid_order_refund", "message": "Refund amount must be greater than zero."}
    shop.post(f"/orders/{ORDER_ID}/refunds").respond(400, json=body)
    with pytest.raises(ValidationFailed):
        api().refund(ORDER_ID, refund_request())
