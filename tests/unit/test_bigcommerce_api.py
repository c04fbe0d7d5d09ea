"""BigCommerce: the V2 order mapping on the samples, and BigCommerceApi on respx (paging, quota, status)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
import respx
from pydantic import ValidationError

from infra.samples import load_json
from shared.channels.base import RefundRequest
from shared.channels.bigcommerce.api import STATUS_IDS, BigCommerceApi
from shared.channels.bigcommerce.mapping import to_order
from shared.channels.bigcommerce.resources import BigCommerceOrder, BigCommerceOrderProduct, BigCommerceShippingAddress
from shared.connections import Connection
from shared.errors import DownstreamUnavailable, NotFound, RateLimited, ValidationFailed
from shared.models.lifecycle import ChannelStatus, Reason
from shared.models.money import Money
from shared.models.order import Address, Channel, FinancialStatus, Order
from shared.models.shipping import Package, Shipment, ShippedLine
from shared.outbound import OutboundClient

BASE = "https://api.bigcommerce.com"
STORE = "abc123xyz"
V2 = f"/stores/{STORE}/v2"
V3 = f"/stores/{STORE}/v3"
ORDER_ID = "1207"


def sample_order(**changes: Any) -> dict[str, Any]:
    order: dict[str, Any] = load_json("bigcommerce/order.json")
    order.update(changes)
    return order


def sample_products() -> list[dict[str, Any]]:
    products: list[dict[str, Any]] = load_json("bigcommerce/order_products.json")
    return products


def sample_addresses() -> list[dict[str, Any]]:
    addresses: list[dict[str, Any]] = load_json("bigcommerce/order_shipping_addresses.json")
    return addresses


def mapped(
    order: dict[str, Any], products: list[dict[str, Any]] | None = None, addresses: list[Any] | None = None
) -> Order:
    return to_order(
        BigCommerceOrder.model_validate(order),
        [BigCommerceOrderProduct.model_validate(p) for p in (sample_products() if products is None else products)],
        [
            BigCommerceShippingAddress.model_validate(a)
            for a in (sample_addresses() if addresses is None else addresses)
        ],
        store_hash=STORE,
    )


# -- mapping ----------------------------------------------------------------------------------------------------
def test_the_sample_order_maps_with_money_as_decimal() -> None:
    order = mapped(sample_order())
    assert (order.channel, order.store, order.external_id, order.order_number) == (
        Channel.BIGCOMMERCE,
        STORE,
        ORDER_ID,
        ORDER_ID,
    )
    assert order.currency == "USD"
    assert order.total is not None
    assert order.total.amount == Decimal("1555.3100")
    assert order.updated_at == datetime(2026, 11, 30, 15, 42, 19, tzinfo=UTC)
    assert order.placed_at == datetime(2026, 11, 30, 15, 42, 17, tzinfo=UTC)
    assert order.financial_status is FinancialStatus.PAID  # 11 Awaiting Fulfillment: payment confirmed
    assert order.cancelled_at is None
    assert [(line.line_id, line.sku, line.quantity) for line in order.lines] == [
        ("3301", "GLV-NIT-L-100", 40),
        ("3302", "TRL-55G-HD-100", 12),
        ("3303", "DSF-MS-1G", 24),
    ]
    gloves = order.lines[0]
    assert gloves.unit_price.amount == Decimal("11.5000")
    assert [(t.rate, t.amount.amount) for t in gloves.tax_lines] == [(Decimal("0.0750"), Decimal("34.5000"))]


def test_the_customer_is_the_account_and_the_billing_contact() -> None:
    customer = mapped(sample_order()).customer
    assert customer.external_id == "88"
    assert customer.email == "purchasing@riverside-facilities.example"
    assert customer.company == "Riverside Facilities Group LLC"
    guest = mapped(sample_order(customer_id=0)).customer
    assert guest.external_id is None


def test_the_shipping_address_takes_the_state_code_carriers_want() -> None:
    assert mapped(sample_order()).shipping_address == Address(
        name="Receiving Dock 3",
        company="Riverside Facilities Group LLC",
        line1="3800 Groveport Road",
        line2="Building C",
        city="Obetz",
        region_code="OH",
        postal_code="43207",
        country_code="US",
        phone="614-555-0188",
    )


def test_a_region_outside_the_code_table_keeps_its_name_and_blanks_are_none() -> None:
    address = dict(sample_addresses()[0], country_iso2="GB", state="Greater London", street_2="", company="")
    shipping = mapped(sample_order(), addresses=[address]).shipping_address
    assert shipping is not None
    assert (shipping.region_code, shipping.line2, shipping.company) == ("Greater London", None, None)
    assert mapped(sample_order(), addresses=[]).shipping_address is None


@pytest.mark.parametrize(
    ("status_id", "payment_status", "expected"),
    [
        (1, "", FinancialStatus.PENDING),
        (7, "pending", FinancialStatus.PENDING),
        (7, "authorized", FinancialStatus.AUTHORIZED),
        (10, "captured", FinancialStatus.PAID),
        (4, "refunded", FinancialStatus.REFUNDED),
        (14, "partially refunded", FinancialStatus.PARTIALLY_REFUNDED),
        (6, "declined", FinancialStatus.VOIDED),
        (12, "", FinancialStatus.UNKNOWN),
        (5, "void", FinancialStatus.UNKNOWN),
    ],
)
def test_status_says_what_it_can_about_the_money(
    status_id: int, payment_status: str, expected: FinancialStatus
) -> None:
    assert mapped(sample_order(status_id=status_id, payment_status=payment_status)).financial_status is expected


def test_a_cancelled_order_is_cancelled_as_of_its_last_change() -> None:
    order = mapped(sample_order(status_id=5, status="Cancelled"))
    assert order.cancelled_at == order.updated_at


def test_applied_discounts_keep_their_code() -> None:
    products = sample_products()
    products[0]["applied_discounts"] = [{"id": "coupon", "amount": "23.0000", "name": "B2B 5%", "code": "b2b5"}]
    line = mapped(sample_order(), products=products).lines[0]
    assert [(d.code, d.amount.amount) for d in line.discounts] == [("b2b5", Decimal("23.0000"))]


def test_rfc_2822_without_an_offset_is_refused() -> None:
    with pytest.raises(ValidationError):
        BigCommerceOrder.model_validate(sample_order(date_modified="Mon, 30 Nov 2026 15:42:19 -0000"))


# -- the API ----------------------------------------------------------------------------------------------------
class Clock:
    """Monotonic time that moves only when the API sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def api(clock: Clock) -> BigCommerceApi:
    conn = Connection(base_url=BASE, credentials={"access_token": "bc-token"}, settings={"store_hash": STORE})
    client = OutboundClient(
        "bigcommerce", conn, sleep=lambda _: None, is_retryable=lambda r: r.status_code in {500, 502, 503, 504}
    )
    return BigCommerceApi(conn, client=client, sleep=clock.sleep, monotonic=clock.monotonic)


@pytest.fixture
def store() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE + V2, assert_all_called=False) as router:
        yield router


def quota(left: int, reset_ms: int = 30_000) -> dict[str, str]:
    return {"X-Rate-Limit-Requests-Left": str(left), "X-Rate-Limit-Time-Reset-Ms": str(reset_ms)}


def test_fetch_order_reads_order_products_and_addresses(api: BigCommerceApi, store: respx.MockRouter) -> None:
    store.get(f"/orders/{ORDER_ID}").respond(200, json=sample_order())
    products = store.get(f"/orders/{ORDER_ID}/products").respond(200, json=sample_products())
    store.get(f"/orders/{ORDER_ID}/shipping_addresses").respond(200, json=sample_addresses())
    assert api.fetch_order(ORDER_ID) == mapped(sample_order())
    assert products.calls.last.request.url.params["limit"] == "250"
    assert products.calls.last.request.headers["x-auth-token"] == "bc-token"


def test_fetch_order_pages_through_a_long_order(api: BigCommerceApi, store: respx.MockRouter) -> None:
    line = sample_products()[0]
    lines = [dict(copy.deepcopy(line), id=5000 + n) for n in range(251)]
    store.get(f"/orders/{ORDER_ID}").respond(200, json=sample_order())
    store.get(f"/orders/{ORDER_ID}/products", params={"page": "1"}).respond(200, json=lines[:250])
    store.get(f"/orders/{ORDER_ID}/products", params={"page": "2"}).respond(200, json=lines[250:])
    store.get(f"/orders/{ORDER_ID}/shipping_addresses").respond(200, json=sample_addresses())
    assert len(api.fetch_order(ORDER_ID).lines) == 251


def test_fetch_order_of_a_missing_order_is_not_found(api: BigCommerceApi, store: respx.MockRouter) -> None:
    store.get(f"/orders/{ORDER_ID}").respond(404, json=[{"status": 404, "message": "Not found"}])
    with pytest.raises(NotFound):
        api.fetch_order(ORDER_ID)


def test_an_order_without_products_is_refused_naming_the_field(api: BigCommerceApi, store: respx.MockRouter) -> None:
    store.get(f"/orders/{ORDER_ID}").respond(200, json=sample_order())
    store.get(f"/orders/{ORDER_ID}/products").respond(204)
    store.get(f"/orders/{ORDER_ID}/shipping_addresses").respond(204)
    with pytest.raises(ValidationFailed) as caught:
        api.fetch_order(ORDER_ID)
    assert caught.value.details["field"] == "lines"


def stamps(first_id: int, count: int) -> list[dict[str, Any]]:
    return [sample_order(id=first_id + n, date_modified="Tue, 01 Dec 2026 09:00:00 +0000") for n in range(count)]


def test_list_updated_since_pages_in_id_order_until_a_short_page(api: BigCommerceApi, store: respx.MockRouter) -> None:
    orders = store.get("/orders")
    orders.side_effect = [httpx.Response(200, json=stamps(1, 250)), httpx.Response(200, json=stamps(251, 3))]
    refs = api.list_updated_since(datetime(2026, 12, 1, 8, 59, 59, 999_999, tzinfo=UTC))
    assert len(refs) == 253
    first, second = (call.request.url.params for call in orders.calls)
    assert dict(first) == {
        "min_date_modified": "2026-12-01T08:59:59+00:00",
        "sort": "id:asc",
        "limit": "250",
        "page": "1",
    }
    assert second["page"] == "2"
    assert refs[0].updated_at == datetime(2026, 12, 1, 9, tzinfo=UTC)
    assert (refs[0].store, refs[0].change, refs[0].observed_by) == (STORE, "updated", "reconciliation")


def test_list_updated_since_stops_at_204(api: BigCommerceApi, store: respx.MockRouter) -> None:
    orders = store.get("/orders")
    orders.side_effect = [httpx.Response(200, json=stamps(1, 250)), httpx.Response(204)]
    assert len(api.list_updated_since(datetime(2026, 12, 1, tzinfo=UTC))) == 250
    store.get("/orders").respond(204)
    assert api.list_updated_since(datetime(2026, 12, 1, tzinfo=UTC)) == []


def test_push_status_sets_the_status_and_appends_the_reasons(api: BigCommerceApi, store: respx.MockRouter) -> None:
    store.get(f"/orders/{ORDER_ID}").respond(200, json=sample_order(status_id=11, staff_notes="Call first"))
    put = store.put(f"/orders/{ORDER_ID}").respond(200, json=sample_order(status_id=12))
    reasons = [
        Reason(code="credit_limit", message="Over the credit limit"),
        Reason(code="moq", message="Below MOQ", line_id="3301"),
    ]
    api.push_status(ORDER_ID, ChannelStatus.ON_HOLD, reasons)
    assert json.loads(put.calls.last.request.content) == {
        "status_id": 12,
        "staff_notes": "Call first\n\nCrossdock: on hold.\n- credit_limit: Over the credit limit\n"
        "- moq: Below MOQ (line 3301)",
    }


@pytest.mark.parametrize("status", list(ChannelStatus))
def test_push_status_the_order_already_has_writes_nothing(
    api: BigCommerceApi, store: respx.MockRouter, status: ChannelStatus
) -> None:
    store.get(f"/orders/{ORDER_ID}").respond(200, json=sample_order(status_id=STATUS_IDS[status]))
    put = store.put(f"/orders/{ORDER_ID}")
    api.push_status(ORDER_ID, status, [Reason(code="x", message="y")])
    assert not put.called


@pytest.mark.parametrize("current", [2, 3, 4, 5, 9, 10, 14])
def test_a_late_decision_never_moves_an_order_back(api: BigCommerceApi, store: respx.MockRouter, current: int) -> None:
    store.get(f"/orders/{ORDER_ID}").respond(200, json=sample_order(status_id=current))
    put = store.put(f"/orders/{ORDER_ID}")
    api.push_status(ORDER_ID, ChannelStatus.ACCEPTED)
    assert not put.called


def test_accepting_without_reasons_sets_the_status_alone(api: BigCommerceApi, store: respx.MockRouter) -> None:
    store.get(f"/orders/{ORDER_ID}").respond(200, json=sample_order(status_id=12))
    put = store.put(f"/orders/{ORDER_ID}").respond(200, json=sample_order(status_id=11))
    api.push_status(ORDER_ID, ChannelStatus.ACCEPTED)
    assert json.loads(put.calls.last.request.content) == {"status_id": 11}


def test_a_spent_quota_waits_out_a_short_reset(api: BigCommerceApi, store: respx.MockRouter, clock: Clock) -> None:
    order = store.get(f"/orders/{ORDER_ID}")
    order.side_effect = [
        httpx.Response(200, json=sample_order(), headers=quota(0, reset_ms=1500)),
        httpx.Response(200, json=sample_order(), headers=quota(149)),
    ]
    api.push_status(ORDER_ID, ChannelStatus.ACCEPTED)  # already 11: one read
    assert clock.slept == []
    api.push_status(ORDER_ID, ChannelStatus.ACCEPTED)
    assert clock.slept == [pytest.approx(1.5)]


def test_a_spent_quota_with_a_long_reset_raises_before_calling(
    api: BigCommerceApi, store: respx.MockRouter, clock: Clock
) -> None:
    order = store.get(f"/orders/{ORDER_ID}").respond(200, json=sample_order(), headers=quota(0, reset_ms=30_000))
    api.push_status(ORDER_ID, ChannelStatus.ACCEPTED)
    with pytest.raises(RateLimited) as caught:
        api.push_status(ORDER_ID, ChannelStatus.ACCEPTED)
    assert caught.value.retry_after_seconds == pytest.approx(30.0)
    assert order.call_count == 1
    clock.now += 30
    api.push_status(ORDER_ID, ChannelStatus.ACCEPTED)
    assert order.call_count == 2


def test_a_429_waits_for_the_window_and_tries_once_more(
    api: BigCommerceApi, store: respx.MockRouter, clock: Clock
) -> None:
    limited = httpx.Response(429, json={"status": 429, "title": "Too many requests"}, headers=quota(0, reset_ms=800))
    store.get(f"/orders/{ORDER_ID}").side_effect = [limited, httpx.Response(200, json=sample_order())]
    api.push_status(ORDER_ID, ChannelStatus.ACCEPTED)
    assert clock.slept == [pytest.approx(0.8)]


def test_429s_beyond_a_short_wait_raise_rate_limited(api: BigCommerceApi, store: respx.MockRouter) -> None:
    store.get(f"/orders/{ORDER_ID}").respond(429, json={"status": 429}, headers=quota(0, reset_ms=12_000))
    with pytest.raises(RateLimited) as caught:
        api.push_status(ORDER_ID, ChannelStatus.ACCEPTED)
    assert caught.value.retry_after_seconds == pytest.approx(12.0)


def test_a_connection_without_a_store_hash_is_named() -> None:
    with pytest.raises(ValidationFailed) as caught:
        BigCommerceApi(Connection(base_url=BASE, credentials={"access_token": "t"}))
    assert caught.value.details["field"] == "settings.store_hash"


# -- create_fulfillment: one V2 shipment per shipment, found again by its comments ----------------------------------
@pytest.fixture
def bc() -> Iterator[respx.MockRouter]:
    """V2 and V3 both: routes are named by their path after the store."""
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        yield router


def shipment(*lines: tuple[str, int], tracking: tuple[str, ...] = ("1Z1", "1Z2")) -> Shipment:
    return Shipment(
        shipment_id="SHP-1",
        order_key=f"bigcommerce:{STORE}:{ORDER_ID}",
        reference_id="REL-1",
        facility="WH-EAST",
        carrier="UPS",
        service="Ground",
        packages=tuple(Package(tracking_number=number) for number in tracking),
        lines=tuple(ShippedLine(sku=sku, quantity=quantity) for sku, quantity in lines),
        shipped_at=datetime(2026, 12, 1, tzinfo=UTC),
    )


def bc_shipment(comments: str = "[crossdock shipment SHP-1]", tracking: str = "1Z1") -> dict[str, Any]:
    return {"id": 7, "order_id": 1207, "tracking_number": tracking, "comments": comments, "items": []}


def shipment_reads(bc: respx.MockRouter, *shipments: httpx.Response) -> respx.Route:
    bc.get(f"{V2}/orders/{ORDER_ID}/products").respond(200, json=sample_products())
    bc.get(f"{V2}/orders/{ORDER_ID}/shipping_addresses").respond(200, json=sample_addresses())
    listed = bc.get(f"{V2}/orders/{ORDER_ID}/shipments")
    listed.side_effect = list(shipments)
    return listed


def test_a_shipment_becomes_one_v2_shipment(api: BigCommerceApi, bc: respx.MockRouter) -> None:
    shipment_reads(bc, httpx.Response(204))
    post = bc.post(f"{V2}/orders/{ORDER_ID}/shipments").respond(201, json=bc_shipment())
    assert api.create_fulfillment(ORDER_ID, shipment(("GLV-NIT-L-100", 40), ("TRL-55G-HD-100", 2))) == "7"
    assert json.loads(post.calls.last.request.content) == {
        "order_address_id": 1502,
        "tracking_number": "1Z1",
        "shipping_method": "UPS Ground",
        "shipping_provider": "ups",
        "tracking_carrier": "ups",
        "comments": "[crossdock shipment SHP-1] Other packages: 1Z2",
        "items": [{"order_product_id": 3301, "quantity": 40}, {"order_product_id": 3302, "quantity": 2}],
    }


@pytest.mark.parametrize("found", [bc_shipment(), bc_shipment(comments="by hand", tracking="1Z1")])
def test_a_repeated_shipment_returns_the_one_it_made(
    api: BigCommerceApi, bc: respx.MockRouter, found: dict[str, Any]
) -> None:
    shipment_reads(bc, httpx.Response(200, json=[found]))
    post = bc.post(f"{V2}/orders/{ORDER_ID}/shipments")
    assert api.create_fulfillment(ORDER_ID, shipment(("GLV-NIT-L-100", 1))) == "7"
    assert not post.called


def test_a_timed_out_shipment_is_looked_for_before_anything_is_sent_again(
    api: BigCommerceApi, bc: respx.MockRouter
) -> None:
    shipment_reads(bc, httpx.Response(204), httpx.Response(200, json=[bc_shipment()]))
    post = bc.post(f"{V2}/orders/{ORDER_ID}/shipments").mock(side_effect=httpx.ReadTimeout("no answer"))
    assert api.create_fulfillment(ORDER_ID, shipment(("GLV-NIT-L-100", 1))) == "7"
    assert post.call_count == 1


def test_a_retry_after_a_hidden_commit_makes_no_second_shipment(api: BigCommerceApi, bc: respx.MockRouter) -> None:
    listed = shipment_reads(bc, httpx.Response(204), httpx.Response(204))  # the commit is not visible yet
    post = bc.post(f"{V2}/orders/{ORDER_ID}/shipments").mock(side_effect=httpx.ReadTimeout("no answer"))
    with pytest.raises(DownstreamUnavailable):
        api.create_fulfillment(ORDER_ID, shipment(("GLV-NIT-L-100", 1)))
    listed.side_effect = [httpx.Response(200, json=[bc_shipment()])]
    assert api.create_fulfillment(ORDER_ID, shipment(("GLV-NIT-L-100", 1))) == "7"  # the queue's retry
    assert post.call_count == 1


@pytest.mark.parametrize(
    ("lines", "field"),
    [((("GLV-NIT-L-100", 41),), "lines.0.quantity"), ((("GLV-NIT-L-100", 1), ("NOPE", 1)), "lines.1.sku")],
)
def test_lines_the_order_cannot_ship_are_refused_before_the_post(
    api: BigCommerceApi, bc: respx.MockRouter, lines: tuple[tuple[str, int], ...], field: str
) -> None:
    shipment_reads(bc, httpx.Response(204))
    post = bc.post(f"{V2}/orders/{ORDER_ID}/shipments")
    with pytest.raises(ValidationFailed) as caught:
        api.create_fulfillment(ORDER_ID, shipment(*lines))
    assert caught.value.details["field"] == field
    assert not post.called


def test_a_shipment_bigcommerce_refuses_is_validation_failed(api: BigCommerceApi, bc: respx.MockRouter) -> None:
    shipment_reads(bc, httpx.Response(204))
    message = [{"status": 400, "message": "Order product 3301 has fewer than 1 items left to ship."}]
    bc.post(f"{V2}/orders/{ORDER_ID}/shipments").respond(400, json=message)
    with pytest.raises(ValidationFailed):
        api.create_fulfillment(ORDER_ID, shipment(("GLV-NIT-L-100", 1)))


def test_a_shipment_for_a_missing_order_is_not_found(api: BigCommerceApi, bc: respx.MockRouter) -> None:
    bc.get(f"{V2}/orders/{ORDER_ID}/shipments").respond(404, json=[{"status": 404, "message": "Not found"}])
    with pytest.raises(NotFound):
        api.create_fulfillment(ORDER_ID, shipment(("GLV-NIT-L-100", 1)))


# -- refund: quoted, then by quantity or at order level, once per refund id -----------------------------------------
REASON = "[crossdock refund RMA-1:RCPT-1] RMA RMA-1"


def refund_request(amount: str, *, currency: str = "USD") -> RefundRequest:
    lines = (ShippedLine(sku="GLV-NIT-L-100", quantity=4),)
    return RefundRequest("RMA-1:RCPT-1", "RMA-1", Money(amount=amount, currency=currency), lines)


def quote(total: float) -> httpx.Response:
    methods = [
        [{"provider_id": "stripev3", "amount": total, "offline": False, "offline_provider": False}],
        [{"provider_id": "custom", "amount": total, "offline": True, "offline_provider": True}],
    ]
    return httpx.Response(201, json={"data": {"total_refund_amount": total, "refund_methods": methods}, "meta": {}})


def bc_refund(reason: str = REASON) -> dict[str, Any]:
    item = {"item_type": "PRODUCT", "item_id": 3301, "quantity": 4, "reason": reason}
    return {"id": 31, "order_id": 1207, "reason": reason, "total_amount": 49.45, "items": [item]}


def refund_reads(bc: respx.MockRouter, *refunds: httpx.Response, quotes: list[httpx.Response]) -> respx.Route:
    bc.get(f"{V2}/orders/{ORDER_ID}").respond(200, json=sample_order())
    bc.get(f"{V2}/orders/{ORDER_ID}/products").respond(200, json=sample_products())
    bc.post(f"{V3}/orders/{ORDER_ID}/payment_actions/refund_quotes").mock(side_effect=quotes)
    listed = bc.get(f"{V3}/orders/{ORDER_ID}/payment_actions/refunds")
    listed.side_effect = list(refunds)
    return listed


def no_refunds() -> httpx.Response:
    return httpx.Response(200, json={"data": [], "meta": {}})


def test_a_refund_worth_the_returned_lines_refunds_them_by_quantity(api: BigCommerceApi, bc: respx.MockRouter) -> None:
    refund_reads(bc, no_refunds(), quotes=[quote(49.45)])  # 4 x 12.3625 with tax
    post = bc.post(f"{V3}/orders/{ORDER_ID}/payment_actions/refunds").respond(201, json={"data": bc_refund()})
    assert api.refund(ORDER_ID, refund_request("49.45")) == "31"
    assert json.loads(post.calls.last.request.content) == {
        "items": [{"item_type": "PRODUCT", "item_id": 3301, "quantity": 4, "reason": REASON}],
        "payments": [{"provider_id": "stripev3", "amount": 49.45, "offline": False}],
    }


def test_a_credit_worth_something_else_is_refunded_at_order_level(api: BigCommerceApi, bc: respx.MockRouter) -> None:
    refund_reads(bc, no_refunds(), quotes=[quote(49.45), quote(44.5)])  # a restocking fee kept back
    post = bc.post(f"{V3}/orders/{ORDER_ID}/payment_actions/refunds").respond(201, json={"data": bc_refund()})
    api.refund(ORDER_ID, refund_request("44.50"))
    order_level = [{"item_type": "ORDER", "item_id": 1207, "amount": 44.5, "reason": REASON}]
    quoted = [json.loads(c.request.content) for c in bc.calls if c.request.url.path.endswith("/refund_quotes")]
    assert quoted[-1] == {"items": order_level}
    assert json.loads(post.calls.last.request.content) == {
        "items": order_level,
        "payments": [{"provider_id": "stripev3", "amount": 44.5, "offline": False}],
    }


def test_a_repeated_refund_returns_the_one_it_made(api: BigCommerceApi, bc: respx.MockRouter) -> None:
    refund_reads(bc, httpx.Response(200, json={"data": [bc_refund()]}), quotes=[])
    post = bc.post(f"{V3}/orders/{ORDER_ID}/payment_actions/refunds")
    assert api.refund(ORDER_ID, refund_request("49.45")) == "31"
    assert not post.called


def test_a_timed_out_refund_is_looked_for_before_anything_is_sent_again(
    api: BigCommerceApi, bc: respx.MockRouter
) -> None:
    found = httpx.Response(200, json={"data": [bc_refund()]})
    refund_reads(bc, no_refunds(), found, quotes=[quote(49.45)])
    post = bc.post(f"{V3}/orders/{ORDER_ID}/payment_actions/refunds").mock(side_effect=httpx.ReadTimeout("no"))
    assert api.refund(ORDER_ID, refund_request("49.45")) == "31"
    assert post.call_count == 1


def test_a_refund_bigcommerce_refuses_is_validation_failed(api: BigCommerceApi, bc: respx.MockRouter) -> None:
    refund_reads(bc, no_refunds(), quotes=[quote(49.45)])
    refused = {"data": [{"status": 422, "title": "The refund exceeds what is left to refund.", "type": "about:blank"}]}
    bc.post(f"{V3}/orders/{ORDER_ID}/payment_actions/refunds").respond(422, json=refused)
    with pytest.raises(ValidationFailed):
        api.refund(ORDER_ID, refund_request("49.45"))


def test_a_refund_in_another_currency_is_refused(api: BigCommerceApi, bc: respx.MockRouter) -> None:
    refund_reads(bc, no_refunds(), quotes=[])
    with pytest.raises(ValidationFailed) as caught:
        api.refund(ORDER_ID, refund_request("49.45", currency="CAD"))
    assert caught.value.details["field"] == "amount.currency"
