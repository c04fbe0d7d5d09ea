"""The WooCommerce sandbox over real loopback HTTP: REST v3 orders, notes, stock batches and webhooks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from infra.local.sandboxes.woocommerce import WooCommerceSandbox
from infra.samples import load_json
from tests.integration.sandboxes.support import FrozenClock, Inbox

KEY = "ck_0123456789abcdef0123456789abcdef01234567"
SECRET = "cs_fedcba9876543210fedcba9876543210fedcba98"
WEBHOOK_SECRET = "wc test secret / with slash & 'quote'"
SITE = "https://orders.acme-supply.example"
START = 1_796_053_337.0  # 2026-11-30T15:42:17Z, the sample order's creation time
ORDER_ID = 30412
HTTP = httpx.Client(timeout=10)  # one keep-alive client: a new one per call costs ~50 ms of TLS setup


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[WooCommerceSandbox, Inbox, FrozenClock]]:
    # One server pair per module: stopping a server takes half a second, resetting one takes nothing.
    clock = FrozenClock(START)
    shop = WooCommerceSandbox(clock, webhook_secret=WEBHOOK_SECRET, consumer_key=KEY, consumer_secret=SECRET)
    inbox = Inbox(clock)
    shop.start()
    inbox.start()
    shop.webhook_targets = [f"{inbox.url}/webhooks/woocommerce"]
    yield shop, inbox, clock
    shop.stop()
    inbox.stop()
    HTTP.close()


@pytest.fixture
def shop(servers: tuple[WooCommerceSandbox, Inbox, FrozenClock]) -> WooCommerceSandbox:
    shop, inbox, _ = servers
    shop.reset()
    inbox.reset()
    shop.echo_webhooks = False
    shop.utc_offset = timedelta(0)
    shop.use_webhook_secret(WEBHOOK_SECRET)
    return shop


@pytest.fixture
def inbox(servers: tuple[WooCommerceSandbox, Inbox, FrozenClock], shop: WooCommerceSandbox) -> Inbox:
    return servers[1]


@pytest.fixture
def clock(servers: tuple[WooCommerceSandbox, Inbox, FrozenClock]) -> FrozenClock:
    return servers[2]


def api(
    shop: WooCommerceSandbox, method: str, path: str, *, auth: Any = (KEY, SECRET), **kwargs: Any
) -> httpx.Response:
    return HTTP.request(method, f"{shop.url}/wp-json/wc/v3{path}", auth=auth, **kwargs)


def state(shop: WooCommerceSandbox) -> dict[str, Any]:
    body: dict[str, Any] = HTTP.get(f"{shop.url}/_sandbox/state").json()
    return body


def sample(name: str = "order", **changes: Any) -> dict[str, Any]:
    order: dict[str, Any] = load_json(f"woocommerce/{name}.json")
    order.update(changes)
    return order


def gmt(epoch: float) -> str:
    """A date as the REST API writes its ``*_gmt`` fields."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def woo_signature(secret: str, body: bytes) -> str:
    """WC_Webhook::generate_signature: base64 of the raw HMAC-SHA256 of the body, keyed with the secret."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


# -- auth ---------------------------------------------------------------------------------------------------
def test_requests_need_consumer_credentials(shop: WooCommerceSandbox) -> None:
    shop.emit_order("order.created", sample(), delivered=False)
    anonymous = api(shop, "GET", "/orders", auth=None)
    assert anonymous.status_code == 401
    assert anonymous.json() == {
        "code": "woocommerce_rest_cannot_view",
        "message": "Sorry, you cannot list resources.",
        "data": {"status": 401},
    }
    wrong_secret = api(shop, "GET", f"/orders/{ORDER_ID}", auth=(KEY, "cs_wrong"))
    assert wrong_secret.status_code == 401
    assert wrong_secret.json()["code"] == "woocommerce_rest_authentication_error"
    assert api(shop, "PUT", f"/orders/{ORDER_ID}", auth=("ck_unknown", SECRET), json={}).status_code == 401

    in_query = HTTP.get(f"{shop.url}/wp-json/wc/v3/orders", params={"consumer_key": KEY, "consumer_secret": SECRET})
    assert in_query.status_code == 200
    assert api(shop, "GET", f"/orders/{ORDER_ID}").status_code == 200


# -- orders -------------------------------------------------------------------------------------------------
def test_an_order_comes_back_as_stored(shop: WooCommerceSandbox) -> None:
    shop.emit_order("order.created", sample(), delivered=False)
    order = api(shop, "GET", f"/orders/{ORDER_ID}").json()
    assert order == sample()
    assert [item["sku"] for item in order["line_items"]] == [
        "GLV-NIT-L-100",
        "TRL-55G-HD-100",
        "DSF-MS-1G",
        "PTW-HW8-NAT-6",
    ]
    assert order["coupon_lines"][0]["code"] == "b2b5"

    missing = api(shop, "GET", "/orders/999")
    assert missing.status_code == 404
    assert missing.json() == {
        "code": "woocommerce_rest_shop_order_invalid_id",
        "message": "Invalid ID.",
        "data": {"status": 404},
    }


def test_reconciliation_finds_orders_modified_after(shop: WooCommerceSandbox, clock: FrozenClock) -> None:
    shop.emit_order("order.created", sample(id=1), delivered=False, stamp=True)
    cutoff = gmt(clock.advance(600))  # GMT, and site time too at offset 0
    shop.emit_order("order.created", sample(id=2), delivered=False, stamp=True)
    clock.advance(600)
    shop.emit_order("order.created", sample(id=3), delivered=False, stamp=True)

    response = api(shop, "GET", "/orders", params={"modified_after": cutoff, "orderby": "modified", "order": "asc"})
    assert [o["id"] for o in response.json()] == [3]  # "after" is strict: order 2 sits on the cutoff
    assert response.headers["X-WP-Total"] == "1"
    assert response.headers["X-WP-TotalPages"] == "1"

    page = api(shop, "GET", "/orders", params={"per_page": 2, "orderby": "id", "order": "asc"})
    assert [o["id"] for o in page.json()] == [1, 2]
    assert page.headers["X-WP-TotalPages"] == "2"
    assert api(shop, "GET", "/orders", params={"per_page": 101}).json()["code"] == "rest_invalid_param"


def test_modified_after_is_site_time_unless_dates_are_gmt(shop: WooCommerceSandbox, clock: FrozenClock) -> None:
    shop.utc_offset = timedelta(hours=-5)  # a store in New York, in winter
    shop.emit_order("order.created", sample(), delivered=False, stamp=True)
    two_hours_ago = gmt(clock.now() - 7200)  # as GMT it is before the change; as New York time, long after
    as_site_time = {"modified_after": two_hours_ago}
    as_gmt = {**as_site_time, "dates_are_gmt": "true"}
    assert [o["id"] for o in api(shop, "GET", "/orders", params=as_site_time).json()] == []
    assert [o["id"] for o in api(shop, "GET", "/orders", params=as_gmt).json()] == [ORDER_ID]
    with_offset = {"modified_after": two_hours_ago + "+00:00"}  # an explicit zone is converted
    assert [o["id"] for o in api(shop, "GET", "/orders", params=with_offset).json()] == [ORDER_ID]


def test_status_update_stamps_the_order_and_adds_the_system_note(shop: WooCommerceSandbox, clock: FrozenClock) -> None:
    shop.emit_order("order.created", sample(), delivered=False)
    now = clock.advance(3600)
    response = api(shop, "PUT", f"/orders/{ORDER_ID}", json={"status": "processing"})
    assert response.status_code == 200
    order = response.json()
    assert order["status"] == "processing"
    assert order["date_modified_gmt"] == gmt(now)
    assert order["date_paid_gmt"] == order["date_modified_gmt"]
    assert order["is_editable"] is False

    snapshot = state(shop)
    assert snapshot["orders"][str(ORDER_ID)]["status"] == "processing"
    assert [n["note"] for n in snapshot["notes"][str(ORDER_ID)]] == ["Order status changed from On hold to Processing."]

    invalid = api(shop, "PUT", f"/orders/{ORDER_ID}", json={"status": "shipped"})
    assert invalid.status_code == 400
    assert invalid.json()["code"] == "rest_invalid_param"
    assert api(shop, "PUT", "/orders/999", json={"status": "completed"}).status_code == 400


def test_notes_are_created_and_listed(shop: WooCommerceSandbox) -> None:
    shop.emit_order("order.created", sample(), delivered=False)
    created = api(shop, "POST", f"/orders/{ORDER_ID}/notes", json={"note": "ERP sales order SO-55120 created."})
    assert created.status_code == 201
    note = created.json()
    assert note["author"] == "system"
    assert note["customer_note"] is False
    assert note["_links"]["up"] == [{"href": f"{SITE}/wp-json/wc/v3/orders/{ORDER_ID}"}]

    assert api(shop, "GET", f"/orders/{ORDER_ID}/notes").json()[0]["note"] == "ERP sales order SO-55120 created."
    assert api(shop, "POST", f"/orders/{ORDER_ID}/notes", json={}).json()["code"] == "rest_missing_callback_param"
    missing_order = api(shop, "POST", "/orders/999/notes", json={"note": "x"})
    assert missing_order.status_code == 404
    assert missing_order.json()["code"] == "woocommerce_rest_order_invalid_id"


# -- products -----------------------------------------------------------------------------------------------
def test_stock_batch_updates_products_and_reports_each_item(shop: WooCommerceSandbox) -> None:
    shop.add_product(412, sku="GLV-NIT-L-100", name="Nitrile Exam Gloves - Large, Box of 100", stock_quantity=10)
    shop.add_product(418, sku="TRL-55G-HD-100", name="Heavy-Duty Trash Liners 55 gal", stock_quantity=3)
    body = {"update": [{"id": 412, "stock_quantity": 480}, {"id": 418, "stock_quantity": 0}, {"id": 999}]}
    response = api(shop, "POST", "/products/batch", json=body)
    assert response.status_code == 200
    updated = response.json()["update"]
    assert [(p.get("id"), p.get("stock_quantity"), p.get("stock_status")) for p in updated[:2]] == [
        (412, 480, "instock"),
        (418, 0, "outofstock"),
    ]
    assert updated[2]["error"]["code"] == "woocommerce_rest_product_invalid_id"
    assert state(shop)["products"]["412"]["stock_quantity"] == 480


def test_stock_batches_are_capped_at_100_items(shop: WooCommerceSandbox) -> None:
    shop.add_product(412, sku="GLV-NIT-L-100", name="Nitrile Exam Gloves", stock_quantity=10)
    items = [{"id": 412, "stock_quantity": 5}] * 101
    response = api(shop, "POST", "/products/batch", json={"update": items})
    assert response.status_code == 413
    assert response.json() == {
        "code": "woocommerce_rest_request_entity_too_large",
        "message": "Unable to accept more than 100 items for this request.",
        "data": {"status": 413},
    }
    assert state(shop)["products"]["412"]["stock_quantity"] == 10
    assert api(shop, "POST", "/products/batch", json={"update": items[:100]}).status_code == 200


# -- webhooks -----------------------------------------------------------------------------------------------
def test_order_created_webhook_has_the_real_headers_and_signature(shop: WooCommerceSandbox, inbox: Inbox) -> None:
    order = sample()
    shop.emit_order("order.created", order)
    assert [d.status for d in shop.flush_webhooks()] == [200]

    (request,) = inbox.received
    assert request.headers["x-wc-webhook-signature"] == woo_signature(WEBHOOK_SECRET, request.body)
    # wp_json_encode with PHP's default flags: compact, "/" escaped as "\/", non-ASCII as \uXXXX.
    php_json = json.dumps(order, separators=(",", ":"), ensure_ascii=True).replace("/", "\\/").encode()
    assert request.body == php_json
    assert b"https:\\/\\/orders.acme-supply.example" in request.body
    expected = load_json("woocommerce/headers_order_created.json")
    for name in ("Content-Type", "User-Agent", "X-WC-Webhook-Source", "X-WC-Webhook-Topic", "X-WC-Webhook-ID"):
        assert request.headers[name.lower()] == expected[name]
    assert request.headers["x-wc-webhook-resource"] == "order"
    assert request.headers["x-wc-webhook-event"] == "created"
    assert len(request.headers["x-wc-webhook-delivery-id"]) == 32


def test_duplicates_share_the_body_but_not_the_delivery_id(shop: WooCommerceSandbox, inbox: Inbox) -> None:
    shop.emit_order("order.updated", sample("order_updated"), delays=(0.0, 0.0))
    shop.flush_webhooks()
    first, second = inbox.received
    assert first.body == second.body
    assert first.headers["x-wc-webhook-signature"] == second.headers["x-wc-webhook-signature"]
    assert first.headers["x-wc-webhook-delivery-id"] != second.headers["x-wc-webhook-delivery-id"]
    assert first.headers["x-wc-webhook-id"] == "12"  # one hook per topic


def test_the_ping_is_form_encoded_and_unsigned(shop: WooCommerceSandbox, inbox: Inbox) -> None:
    shop.send_ping(11)
    assert [d.status for d in shop.flush_webhooks()] == [200]
    (request,) = inbox.received
    assert request.body == b"webhook_id=11"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert not any(name.startswith("x-wc-webhook") for name in request.headers)


def test_a_lost_webhook_leaves_the_order_in_the_store(shop: WooCommerceSandbox) -> None:
    shop.emit_order("order.created", sample(), delivered=False)
    assert shop.pending_webhooks() == 0
    assert api(shop, "GET", "/orders").json()[0]["id"] == ORDER_ID


def test_deleted_sends_only_the_id_and_trashes_the_order(shop: WooCommerceSandbox, inbox: Inbox) -> None:
    shop.emit_order("order.created", sample(), delivered=False)
    shop.emit_order("order.deleted", sample())
    shop.flush_webhooks()
    assert inbox.received[0].body == b'{"id":30412}'
    assert api(shop, "GET", f"/orders/{ORDER_ID}").json()["status"] == "trash"


def test_failures_are_not_retried_and_end_up_disabling_the_hook(shop: WooCommerceSandbox, inbox: Inbox) -> None:
    inbox.status = 500
    for _ in range(7):  # the count climbs to 6; the seventh failure finds it above 5 and disables the hook
        shop.emit_order("order.updated", sample("order_updated"))
        shop.flush_webhooks()
    assert shop.pending_webhooks() == 0
    assert state(shop)["webhooks"]["12"]["status"] == "disabled"
    shop.emit_order("order.updated", sample("order_updated"))
    assert shop.pending_webhooks() == 0
    assert len(inbox.received) == 7


def test_api_edits_echo_as_order_updated(shop: WooCommerceSandbox, inbox: Inbox) -> None:
    shop.echo_webhooks = True
    shop.emit_order("order.created", sample(), delivered=False)
    api(shop, "PUT", f"/orders/{ORDER_ID}", json={"status": "completed"})
    shop.flush_webhooks()
    (request,) = inbox.received
    assert request.headers["x-wc-webhook-topic"] == "order.updated"
    assert json.loads(request.body)["status"] == "completed"
