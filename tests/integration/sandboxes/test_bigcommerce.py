"""The BigCommerce sandbox over real loopback HTTP: V2 orders, V3 inventory, the request quota, signed webhooks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from infra.local.sandboxes.bigcommerce import BigCommerceSandbox
from infra.samples import load_json
from tests.integration.sandboxes.support import FrozenClock, Inbox

STORE = "teststore1"
TOKEN = "bc_test_access_token"
CLIENT_SECRET = "bc_test_client_secret"
START = 1_796_053_337.0  # 2026-11-30T15:42:17Z, the sample order's creation time
SAMPLE_ID = 1207
HTTP = httpx.Client(timeout=10)  # one keep-alive client: a new one per call costs ~50 ms of TLS setup


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[BigCommerceSandbox, Inbox, FrozenClock]]:
    # One server pair per module: stopping a server takes half a second, resetting one takes nothing.
    clock = FrozenClock(START)
    store = BigCommerceSandbox(
        clock, store_hash=STORE, access_token=TOKEN, client_secret=CLIENT_SECRET, rate_limit_quota=1000
    )
    inbox = Inbox(clock)
    store.start()
    inbox.start()
    store.webhook_targets = [f"{inbox.url}/webhooks/bigcommerce"]
    yield store, inbox, clock
    store.stop()
    inbox.stop()
    HTTP.close()


@pytest.fixture
def store(servers: tuple[BigCommerceSandbox, Inbox, FrozenClock]) -> BigCommerceSandbox:
    store, inbox, _ = servers
    store.reset()
    inbox.reset()
    store.echo_webhooks = False
    store.use_webhook_secret(CLIENT_SECRET)
    store.quota.quota = 1000
    return store


@pytest.fixture
def inbox(servers: tuple[BigCommerceSandbox, Inbox, FrozenClock], store: BigCommerceSandbox) -> Inbox:
    return servers[1]


@pytest.fixture
def clock(servers: tuple[BigCommerceSandbox, Inbox, FrozenClock]) -> FrozenClock:
    return servers[2]


def api(store: BigCommerceSandbox, method: str, path: str, *, token: str = TOKEN, **kwargs: Any) -> httpx.Response:
    headers = {"X-Auth-Token": token, "Accept": "application/json"}
    return HTTP.request(method, f"{store.url}/stores/{STORE}{path}", headers=headers, **kwargs)


def state(store: BigCommerceSandbox) -> dict[str, Any]:
    body: dict[str, Any] = HTTP.get(f"{store.url}/_sandbox/state").json()
    return body


def rfc2822(epoch: float) -> str:
    return format_datetime(datetime.fromtimestamp(epoch, UTC))


def standard_webhooks_signature(secret: str, msg_id: str, timestamp: str, body: bytes) -> str:
    """Recomputed from the spec, as BigCommerce's docs verify: ``Webhook(base64(client_secret))``.

    The library strips ``whsec_`` (absent here) and base64-decodes the secret, so the key is the secret's bytes.
    """
    key = base64.b64decode(base64.b64encode(secret.encode()))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


# -- auth ---------------------------------------------------------------------------------------------------
def test_requests_need_the_access_token(store: BigCommerceSandbox) -> None:
    store.add_sample_order()
    for token in ("", "wrong-token"):
        response = api(store, "GET", f"/v2/orders/{SAMPLE_ID}", token=token)
        assert response.status_code == 401
        assert response.json() == [{"status": 401, "message": "No valid credential was supplied."}]
    v3 = api(store, "PUT", "/v3/inventory/adjustments/absolute", token="wrong-token", json={"items": []})
    assert v3.status_code == 401
    assert v3.json()["status"] == 401
    assert "title" in v3.json()
    assert api(store, "GET", f"/v2/orders/{SAMPLE_ID}").status_code == 200


def test_another_store_hash_is_not_found(store: BigCommerceSandbox) -> None:
    store.add_sample_order()
    response = HTTP.get(f"{store.url}/stores/otherstore/v2/orders/{SAMPLE_ID}", headers={"X-Auth-Token": TOKEN})
    assert response.status_code == 404


# -- V2 orders ----------------------------------------------------------------------------------------------
def test_order_products_and_addresses_in_v2_shapes(store: BigCommerceSandbox, clock: FrozenClock) -> None:
    store.add_sample_order()
    order = api(store, "GET", f"/v2/orders/{SAMPLE_ID}").json()
    sample = load_json("bigcommerce/order.json")
    assert set(order) == set(sample)
    assert order["status_id"] == 11
    assert order["status"] == "Awaiting Fulfillment"
    assert order["date_modified"] == rfc2822(clock.now())
    assert order["products"]["resource"] == f"/orders/{SAMPLE_ID}/products"
    assert order["billing_address"]["company"] == "Riverside Facilities Group LLC"

    products = api(store, "GET", order["products"]["resource"].replace("/orders", "/v2/orders")).json()
    assert [p["sku"] for p in products] == ["GLV-NIT-L-100", "TRL-55G-HD-100", "DSF-MS-1G"]
    assert sum(p["quantity"] for p in products) == order["items_total"]
    assert all(p["order_address_id"] == 1502 for p in products)

    for path in ("shipping_addresses", "shippingaddresses"):  # the order's own link uses the second spelling
        addresses = api(store, "GET", f"/v2/orders/{SAMPLE_ID}/{path}").json()
        assert [a["id"] for a in addresses] == [1502]
        assert addresses[0]["shipping_method"] == "Freight (LTL)"


def test_a_missing_order_is_404_in_the_v2_error_shape(store: BigCommerceSandbox) -> None:
    response = api(store, "GET", "/v2/orders/999")
    assert response.status_code == 404
    assert response.json() == [{"status": 404, "message": "The requested resource was not found."}]


def test_reconciliation_lists_orders_modified_since(store: BigCommerceSandbox, clock: FrozenClock) -> None:
    store.add_sample_order(1207)
    cutoff = clock.advance(600)
    store.add_sample_order(1208)
    clock.advance(600)
    store.add_sample_order(1209)

    since = api(store, "GET", "/v2/orders", params={"min_date_modified": rfc2822(cutoff)})
    assert since.status_code == 200
    assert [o["id"] for o in since.json()] == [1208, 1209]  # the bound is inclusive

    iso = datetime.fromtimestamp(cutoff + 1, UTC).isoformat()
    assert [o["id"] for o in api(store, "GET", "/v2/orders", params={"min_date_modified": iso}).json()] == [1209]
    newest_first = api(store, "GET", "/v2/orders", params={"sort": "date_modified:desc", "limit": 2})
    assert [o["id"] for o in newest_first.json()] == [1209, 1208]
    assert api(store, "GET", "/v2/orders", params={"min_date_modified": rfc2822(clock.now() + 1)}).status_code == 204
    assert api(store, "GET", "/v2/orders", params={"limit": 251}).status_code == 413


def test_status_update_is_recorded_and_dated(store: BigCommerceSandbox, clock: FrozenClock) -> None:
    store.add_sample_order()
    clock.advance(120)
    response = api(store, "PUT", f"/v2/orders/{SAMPLE_ID}", json={"status_id": 9})
    assert response.status_code == 200
    assert response.json()["status"] == "Awaiting Shipment"
    assert response.json()["date_modified"] == rfc2822(clock.now())

    history = state(store)["status_history"]
    assert [(h["previous_status_id"], h["new_status_id"], h["source"]) for h in history] == [(11, 9, "api")]
    assert api(store, "PUT", f"/v2/orders/{SAMPLE_ID}", json={"status_id": 99}).status_code == 400
    assert api(store, "PUT", f"/v2/orders/{SAMPLE_ID}", json={"status": "Shipped"}).status_code == 400


def test_shipment_ships_lines_and_moves_the_status(store: BigCommerceSandbox) -> None:
    store.add_sample_order()
    partial = {
        "order_address_id": 1502,
        "tracking_number": "1Z999AA10123456784",
        "shipping_provider": "ups",
        "items": [{"order_product_id": 3301, "quantity": 40}],
    }
    created = api(store, "POST", f"/v2/orders/{SAMPLE_ID}/shipments", json=partial)
    assert created.status_code == 201
    assert created.json()["items"] == [{"order_product_id": 3301, "product_id": 212, "quantity": 40}]
    assert api(store, "GET", f"/v2/orders/{SAMPLE_ID}").json()["status_id"] == 3  # Partially Shipped

    too_many = dict(partial, items=[{"order_product_id": 3301, "quantity": 1}])
    assert api(store, "POST", f"/v2/orders/{SAMPLE_ID}/shipments", json=too_many).status_code == 400
    rest = dict(partial, items=[{"order_product_id": 3302, "quantity": 12}, {"order_product_id": 3303, "quantity": 24}])
    assert api(store, "POST", f"/v2/orders/{SAMPLE_ID}/shipments", json=rest).status_code == 201

    snapshot = state(store)
    assert [s["tracking_number"] for s in snapshot["shipments"][str(SAMPLE_ID)]] == ["1Z999AA10123456784"] * 2
    assert snapshot["orders"][str(SAMPLE_ID)]["status"] == "Shipped"
    assert snapshot["orders"][str(SAMPLE_ID)]["items_shipped"] == 76
    assert [h["new_status_id"] for h in snapshot["status_history"]] == [3, 2]
    assert len(api(store, "GET", f"/v2/orders/{SAMPLE_ID}/shipments").json()) == 2


def test_a_shipment_needs_an_address_and_items(store: BigCommerceSandbox) -> None:
    store.add_sample_order()
    response = api(store, "POST", f"/v2/orders/{SAMPLE_ID}/shipments", json={"items": []})
    assert response.status_code == 400
    assert "order_address_id" in response.json()[0]["message"]
    assert api(store, "GET", f"/v2/orders/{SAMPLE_ID}/shipments").status_code == 204


# -- V3 inventory -------------------------------------------------------------------------------------------
def test_absolute_adjustments_set_stock_per_location(store: BigCommerceSandbox) -> None:
    store.add_catalog_item("GLV-NIT-L-100", product_id=212, variant_id=845, stock={1: 10})
    store.add_catalog_item("DSF-MS-1G", product_id=230)
    body = {
        "reason": "ERP stock sync",
        "items": [
            {"location_id": 1, "sku": "GLV-NIT-L-100", "quantity": 480},
            {"location_id": 2, "variant_id": 845, "quantity": 12},
            {"location_id": 1, "product_id": 230, "quantity": 96},
        ],
    }
    response = api(store, "PUT", "/v3/inventory/adjustments/absolute", json=body)
    assert response.status_code == 200
    assert response.json()["transaction_id"]
    assert state(store)["inventory"] == {"GLV-NIT-L-100": {"1": 480, "2": 12}, "DSF-MS-1G": {"1": 96}}

    items = api(store, "GET", "/v3/inventory/items", params={"sku:in": "GLV-NIT-L-100"}).json()["data"]
    assert [(loc["location_id"], loc["available_to_sell"]) for loc in items[0]["locations"]] == [(1, 480), (2, 12)]


def test_adjustments_are_capped_and_all_or_nothing(store: BigCommerceSandbox) -> None:
    store.add_catalog_item("GLV-NIT-L-100", product_id=212, variant_id=845, stock={1: 10})
    item = {"location_id": 1, "sku": "GLV-NIT-L-100", "quantity": 5}
    over_cap = api(store, "PUT", "/v3/inventory/adjustments/absolute", json={"items": [item] * 2001})
    assert over_cap.status_code == 422
    assert over_cap.json()["status"] == 422
    assert api(store, "PUT", "/v3/inventory/adjustments/absolute", json={"items": [item] * 2000}).status_code == 200

    unknown = [dict(item, quantity=7), {"location_id": 1, "sku": "NOPE-1", "quantity": 1}]
    response = api(store, "PUT", "/v3/inventory/adjustments/absolute", json={"items": unknown})
    assert response.status_code == 422
    assert "items.1" in response.json()["errors"]
    assert state(store)["inventory"]["GLV-NIT-L-100"] == {"1": 5}  # the valid first item was not applied


# -- the request quota --------------------------------------------------------------------------------------
def test_quota_runs_out_then_refills_on_the_clock(store: BigCommerceSandbox, clock: FrozenClock) -> None:
    store.add_sample_order()
    store.quota.quota = 3
    lefts = [api(store, "GET", f"/v2/orders/{SAMPLE_ID}").headers["X-Rate-Limit-Requests-Left"] for _ in range(3)]
    assert lefts == ["2", "1", "0"]

    clock.advance(10)
    limited = api(store, "GET", f"/v2/orders/{SAMPLE_ID}")
    assert limited.status_code == 429
    assert limited.headers["X-Rate-Limit-Requests-Quota"] == "3"
    assert limited.headers["X-Rate-Limit-Time-Window-Ms"] == "30000"
    assert limited.headers["X-Rate-Limit-Time-Reset-Ms"] == "20000"

    clock.advance(20)
    recovered = api(store, "GET", f"/v2/orders/{SAMPLE_ID}")
    assert recovered.status_code == 200
    assert recovered.headers["X-Rate-Limit-Requests-Left"] == "2"


def test_unauthenticated_requests_do_not_spend_the_quota(store: BigCommerceSandbox) -> None:
    store.quota.quota = 1
    assert api(store, "GET", "/v2/orders", token="bad").status_code == 401
    assert api(store, "GET", "/v2/orders").status_code == 204


# -- webhooks -----------------------------------------------------------------------------------------------
def test_order_created_webhook_is_thin_and_signed(store: BigCommerceSandbox, inbox: Inbox, clock: FrozenClock) -> None:
    store.add_sample_order()
    event = store.emit_order_event("store/order/created", SAMPLE_ID)
    assert [d.status for d in store.flush_webhooks()] == [200]

    (request,) = inbox.received
    payload = json.loads(request.body)
    assert payload == {
        "scope": "store/order/created",
        "store_id": store.store_id,
        "data": {"type": "order", "id": SAMPLE_ID},
        "hash": event.payload["hash"],
        "created_at": int(clock.now()),
        "producer": f"stores/{STORE}",
    }
    assert list(payload) == list(load_json("bigcommerce/webhook_order_created.json"))
    headers = request.headers
    assert headers["webhook-id"] == event.webhook_id
    # Signed with the wall time of the attempt, so a receiver's ±5 min check holds whatever the scenario clock says.
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 5
    expected = standard_webhooks_signature(CLIENT_SECRET, event.webhook_id, headers["webhook-timestamp"], request.body)
    assert headers["webhook-signature"] == expected


def test_a_retry_keeps_id_and_hash_and_is_signed_afresh(
    store: BigCommerceSandbox, inbox: Inbox, clock: FrozenClock
) -> None:
    store.add_sample_order()
    store.emit_order_event("store/order/updated", SAMPLE_ID, delays=(0.0, 60.0))
    store.flush_webhooks()
    clock.advance(60)
    store.flush_webhooks()

    first, retry = inbox.received
    assert first.body == retry.body
    assert first.headers["webhook-id"] == retry.headers["webhook-id"]
    assert int(retry.headers["webhook-timestamp"]) >= int(first.headers["webhook-timestamp"])
    assert abs(int(retry.headers["webhook-timestamp"]) - time.time()) < 5
    for request in (first, retry):
        h = request.headers
        signature = standard_webhooks_signature(CLIENT_SECRET, h["webhook-id"], h["webhook-timestamp"], request.body)
        assert h["webhook-signature"] == signature


def test_distinct_events_get_distinct_ids_and_hashes(store: BigCommerceSandbox) -> None:
    store.add_sample_order()
    one = store.emit_order_event("store/order/updated", SAMPLE_ID, delivered=False)
    two = store.emit_order_event("store/order/updated", SAMPLE_ID, delivered=False)
    assert one.webhook_id != two.webhook_id
    assert one.payload["hash"] != two.payload["hash"]


def test_a_lost_webhook_leaves_the_order_for_reconciliation(store: BigCommerceSandbox) -> None:
    store.add_sample_order()
    store.emit_order_event("store/order/created", SAMPLE_ID, delivered=False)
    assert store.pending_webhooks() == 0
    assert state(store)["webhook_events"][0]["delivered"] is False
    assert api(store, "GET", "/v2/orders").json()[0]["id"] == SAMPLE_ID


def test_status_updated_carries_both_statuses(store: BigCommerceSandbox, inbox: Inbox) -> None:
    store.add_sample_order()
    store.set_order_status(SAMPLE_ID, 5)
    store.emit_order_event("store/order/statusUpdated", SAMPLE_ID)
    store.flush_webhooks()
    data = json.loads(inbox.received[0].body)["data"]
    assert data == {"type": "order", "id": SAMPLE_ID, "status": {"previous_status_id": 11, "new_status_id": 5}}


def test_api_changes_echo_as_webhooks(store: BigCommerceSandbox, inbox: Inbox) -> None:
    store.echo_webhooks = True
    store.add_sample_order()
    api(store, "PUT", f"/v2/orders/{SAMPLE_ID}", json={"status_id": 9})
    api(store, "PUT", f"/v2/orders/{SAMPLE_ID}", json={"staff_notes": "picked"})
    store.flush_webhooks()
    scopes = [json.loads(r.body)["scope"] for r in inbox.received]
    assert scopes == ["store/order/updated", "store/order/statusUpdated", "store/order/updated"]


def test_a_rotated_secret_signs_the_next_delivery(store: BigCommerceSandbox, inbox: Inbox) -> None:
    store.add_sample_order()
    store.emit_order_event("store/order/created", SAMPLE_ID)
    store.use_webhook_secret("bc_rotated_client_secret")
    store.flush_webhooks()
    (request,) = inbox.received
    h = request.headers
    expected = standard_webhooks_signature(
        "bc_rotated_client_secret", h["webhook-id"], h["webhook-timestamp"], request.body
    )
    assert h["webhook-signature"] == expected
