"""The Shopify sandbox over real loopback HTTP: Admin GraphQL, cost throttling and signed order webhooks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from infra.local.sandboxes.shopify import ShopifySandbox
from infra.samples import compact, load_json, shopify_payload
from shared.signatures import hmac_sha256_b64
from tests.integration.sandboxes.support import FrozenClock, Inbox

SECRET = "shpss_test_secret"
TOKEN = "shpat_test_token"
START = 1_795_900_000.0  # 2026-11-28T…Z, the day of the sample orders
ITEM, OTHER_ITEM, LOCATION = 44001, 44002, 71001
MIN_ORDER_ID = 7124853309745

ORDERS = """
query Recent($first: Int!, $after: String, $query: String) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    edges { cursor node { id legacyResourceId name updatedAt } }
    pageInfo { hasNextPage endCursor }
  }
}"""
ORDER = (
    "query One($id: ID!) { order(id: $id) { id name updatedAt cancelledAt tags fulfillmentOrders { nodes { id } } } }"
)
TAGS_ADD = (
    "mutation Tag($id: ID!, $tags: [String!]!) { tagsAdd(id: $id, tags: $tags) { node { id } userErrors { message } } }"
)
ORDER_CANCEL = """
mutation Cancel($id: ID!) {
  orderCancel(orderId: $id, reason: CUSTOMER, refund: false, restock: true) {
    job { id } orderCancelUserErrors { code field message } userErrors { field message }
  }
}"""
FULFILLMENT_CREATE = """
mutation Ship($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id status trackingInfo { company number url } } userErrors { field message }
  }
}"""
SET_QUANTITIES = """
mutation Set($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) {
    inventoryAdjustmentGroup { id changes { name delta quantityAfterChange } }
    userErrors { code field message }
  }
}"""


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[ShopifySandbox, Inbox]]:
    # One server pair per module: stopping a server takes half a second, resetting one takes nothing.
    clock = FrozenClock(START)
    shopify, inbox = ShopifySandbox(clock, webhook_secret=SECRET), Inbox(clock)
    shopify.start()
    inbox.start()
    shopify.webhook_targets = [f"{inbox.url}/webhooks/shopify"]
    yield shopify, inbox
    shopify.stop()
    inbox.stop()


@pytest.fixture
def shopify(servers: tuple[ShopifySandbox, Inbox]) -> ShopifySandbox:
    for sandbox in servers:
        sandbox.reset()
    return servers[0]


@pytest.fixture
def inbox(servers: tuple[ShopifySandbox, Inbox], shopify: ShopifySandbox) -> Inbox:
    return servers[1]


def order(number: int, updated_at: str) -> dict[str, Any]:
    payload = shopify_payload()
    payload.update(
        id=MIN_ORDER_ID + number,
        admin_graphql_api_id=f"gid://shopify/Order/{MIN_ORDER_ID + number}",
        name=f"#{1001 + number}",
        updated_at=updated_at,
    )
    return payload


def graphql(sandbox: ShopifySandbox, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    response = httpx.post(
        f"{sandbox.url}/admin/api/2026-07/graphql.json",
        headers={"X-Shopify-Access-Token": TOKEN},
        json={"query": query, "variables": variables or {}},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def state(sandbox: ShopifySandbox) -> dict[str, Any]:
    body: dict[str, Any] = httpx.get(f"{sandbox.url}/_sandbox/state").json()
    return body


def quantity(item: int, expected: int | None, new: int) -> dict[str, Any]:
    return {
        "inventoryItemId": f"gid://shopify/InventoryItem/{item}",
        "locationId": f"gid://shopify/Location/{LOCATION}",
        "quantity": new,
        "changeFromQuantity": expected,
    }


def set_quantities(quantities: list[dict[str, Any]]) -> dict[str, Any]:
    return {"input": {"name": "available", "reason": "correction", "quantities": quantities}}


# -- Admin GraphQL ------------------------------------------------------------------------------------------------
def test_graphql_needs_an_access_token(shopify: ShopifySandbox) -> None:
    response = httpx.post(f"{shopify.url}/admin/api/2026-07/graphql.json", json={"query": ORDER})
    assert response.status_code == 401
    assert response.json() == {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}


def test_orders_page_by_cursor_and_filter_on_updated_at(shopify: ShopifySandbox) -> None:
    for number, hour in enumerate([9, 13, 11, 15, 14]):
        shopify.emit_order("orders/create", order(number, f"2026-11-28T{hour:02}:00:00-05:00"), delivered=False)
    variables: dict[str, Any] = {"first": 2, "query": "updated_at:>='2026-11-28T16:00:00Z'"}
    pages = []
    while True:
        body = graphql(shopify, ORDERS, variables)
        connection = body["data"]["orders"]
        pages.append([edge["node"]["name"] for edge in connection["edges"]])
        if not connection["pageInfo"]["hasNextPage"]:
            break
        variables["after"] = connection["pageInfo"]["endCursor"]
    # 11:00-05:00 is 16:00Z, so the 09:00 order is left out; the rest come oldest update first.
    assert pages == [["#1003", "#1002"], ["#1005", "#1004"]]
    assert body["extensions"]["cost"]["requestedQueryCost"] == 4
    node = connection["edges"][0]["node"]
    assert node == {
        "id": f"gid://shopify/Order/{MIN_ORDER_ID + 4}",
        "legacyResourceId": str(MIN_ORDER_ID + 4),
        "name": "#1005",
        "createdAt": "2026-11-28T14:14:03Z",
        "updatedAt": "2026-11-28T19:00:00Z",
        "cancelledAt": None,
        "tags": ["B2B", "Net 30", "Wholesale"],
    }


def test_unknown_search_fields_are_ignored_with_a_warning(shopify: ShopifySandbox) -> None:
    shopify.emit_order("orders/create", order(0, "2026-11-28T09:00:00-05:00"), delivered=False)
    body = graphql(shopify, ORDERS, {"first": 5, "query": "updatd_at:>2026-11-01"})
    assert len(body["data"]["orders"]["edges"]) == 1
    assert body["extensions"]["search"][0]["warnings"] == [
        {"field": "updatd_at", "message": "Invalid search field for this query."}
    ]


def test_unknown_root_field_is_an_error_in_a_200(shopify: ShopifySandbox) -> None:
    body = graphql(shopify, "{ draftOrders(first: 1) { edges { node { id } } } }")
    assert "data" not in body
    assert body["errors"][0]["message"] == "Field 'draftOrders' doesn't exist on type 'QueryRoot'"
    assert body["errors"][0]["extensions"]["code"] == "undefinedField"
    assert "throttleStatus" in body["extensions"]["cost"]


def test_tags_cancel_and_fulfilment_show_in_state(shopify: ShopifySandbox) -> None:
    shopify.emit_order("orders/create", order(0, "2026-11-28T09:00:00-05:00"), delivered=False)
    shopify.emit_order("orders/create", order(1, "2026-11-28T09:00:00-05:00"), delivered=False)
    first, second = (f"gid://shopify/Order/{MIN_ORDER_ID + n}" for n in (0, 1))

    tagged = graphql(shopify, TAGS_ADD, {"id": first, "tags": ["erp-synced", "B2B"]})["data"]["tagsAdd"]
    assert tagged == {"node": {"id": first}, "userErrors": []}
    cancelled = graphql(shopify, ORDER_CANCEL, {"id": first})["data"]["orderCancel"]
    assert cancelled["orderCancelUserErrors"] == []
    assert cancelled["job"]["id"].startswith("gid://shopify/Job/")

    fulfillment_order = graphql(shopify, ORDER, {"id": second})["data"]["order"]["fulfillmentOrders"]["nodes"][0]
    tracking = {"company": "Estes", "number": "PRO-0088123", "url": "https://www.estes-express.com/track"}
    shipped = graphql(
        shopify,
        FULFILLMENT_CREATE,
        {
            "fulfillment": {
                "lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fulfillment_order["id"]}],
                "trackingInfo": tracking,
            }
        },
    )["data"]["fulfillmentCreate"]
    assert shipped["userErrors"] == []
    assert shipped["fulfillment"]["status"] == "SUCCESS"
    assert shipped["fulfillment"]["trackingInfo"] == [tracking]

    seen = state(shopify)
    assert seen["orders"][str(MIN_ORDER_ID)]["tags"] == ["B2B", "erp-synced", "Net 30", "Wholesale"]
    assert seen["orders"][str(MIN_ORDER_ID)]["cancelled_at"] is not None
    assert seen["orders"][str(MIN_ORDER_ID + 1)]["fulfillment_status"] == "fulfilled"
    assert [f["order_id"] for f in seen["fulfillments"]] == [MIN_ORDER_ID + 1]
    assert seen["mutations"] == {"tagsAdd": 1, "orderCancel": 1, "fulfillmentCreate": 1}


def test_cancelling_twice_is_a_user_error(shopify: ShopifySandbox) -> None:
    shopify.emit_order("orders/create", order(0, "2026-11-28T09:00:00-05:00"), delivered=False)
    graphql(shopify, ORDER_CANCEL, {"id": f"gid://shopify/Order/{MIN_ORDER_ID}"})
    again = graphql(shopify, ORDER_CANCEL, {"id": f"gid://shopify/Order/{MIN_ORDER_ID}"})["data"]["orderCancel"]
    assert again["job"] is None
    assert again["orderCancelUserErrors"][0]["code"] == "INVALID"


def test_inventory_set_quantities_moves_available_and_on_hand(shopify: ShopifySandbox) -> None:
    shopify.set_inventory(ITEM, LOCATION, available=40, on_hand=45)
    body = graphql(shopify, SET_QUANTITIES, set_quantities([quantity(ITEM, 40, 32)]))
    result = body["data"]["inventorySetQuantities"]
    assert result["userErrors"] == []
    assert [
        (c["name"], c["delta"], c["quantityAfterChange"]) for c in result["inventoryAdjustmentGroup"]["changes"]
    ] == [
        ("available", -8, 32),
        ("on_hand", -8, 37),
    ]
    assert body["extensions"]["cost"]["actualQueryCost"] == 11
    assert state(shopify)["inventory"] == [
        {"inventory_item_id": ITEM, "location_id": LOCATION, "available": 32, "on_hand": 37}
    ]


def test_more_than_250_quantities_are_refused(shopify: ShopifySandbox) -> None:
    shopify.set_inventory(ITEM, LOCATION, available=40)
    body = graphql(shopify, SET_QUANTITIES, set_quantities([quantity(ITEM, None, 1)] * 251))
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "MAX_INPUT_SIZE_EXCEEDED"
    assert shopify.inventory[(ITEM, LOCATION)]["available"] == 40


def test_stale_change_from_quantity_applies_nothing(shopify: ShopifySandbox) -> None:
    shopify.set_inventory(ITEM, LOCATION, available=40)
    shopify.set_inventory(OTHER_ITEM, LOCATION, available=7)
    body = graphql(shopify, SET_QUANTITIES, set_quantities([quantity(ITEM, 40, 30), quantity(OTHER_ITEM, 9, 0)]))
    result = body["data"]["inventorySetQuantities"]
    assert result["inventoryAdjustmentGroup"] is None
    assert result["userErrors"] == [
        {
            "code": "CHANGE_FROM_QUANTITY_STALE",
            "field": ["input", "quantities", "1", "changeFromQuantity"],
            "message": "The changeFromQuantity value does not match persisted value.",
        }
    ]
    assert shopify.inventory[(ITEM, LOCATION)]["available"] == 40
    assert shopify.inventory[(OTHER_ITEM, LOCATION)]["available"] == 7


def test_throttled_when_the_bucket_is_empty_until_the_clock_restores_it(shopify: ShopifySandbox) -> None:
    costs = [graphql(shopify, ORDERS, {"first": 250})["extensions"]["cost"] for _ in range(7)]
    assert costs[-1]["throttleStatus"]["currentlyAvailable"] == 2000 - 7 * 2  # 2 + 0 orders each
    shopify.drain_bucket(points_left=100)
    throttled = graphql(shopify, ORDERS, {"first": 250})
    assert throttled["errors"] == [
        {
            "message": "Throttled",
            "extensions": {"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"},
        }
    ]
    assert throttled["extensions"]["cost"]["actualQueryCost"] is None
    assert throttled["extensions"]["cost"]["throttleStatus"] == {
        "maximumAvailable": 2000.0,
        "currentlyAvailable": 100,
        "restoreRate": 100.0,
    }
    shopify.clock.advance(2)  # 100 + 200 points restored: enough for the 252 requested
    assert "data" in graphql(shopify, ORDERS, {"first": 250})


def test_faults_answer_in_shopify_words(shopify: ShopifySandbox) -> None:
    url = f"{shopify.url}/admin/api/2026-07/graphql.json"
    httpx.post(f"{shopify.url}/_sandbox/faults", json={"rate_limit_rate": 1.0, "retry_after_seconds": 2})
    limited = httpx.post(url, headers={"X-Shopify-Access-Token": TOKEN}, json={"query": ORDER})
    assert limited.status_code == 429
    assert limited.json()["errors"].startswith("Exceeded 2 calls per second for api client.")
    httpx.post(f"{shopify.url}/_sandbox/faults", json={"error_rate": 1.0})
    failed = httpx.post(url, headers={"X-Shopify-Access-Token": TOKEN}, json={"query": ORDER})
    assert failed.status_code in {500, 502, 503}
    assert failed.json() == {
        "errors": {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}[failed.status_code]
    }


def test_rest_order_is_the_stored_resource_with_its_own_request_bucket(shopify: ShopifySandbox) -> None:
    shopify.emit_order("orders/create", shopify_payload(), delivered=False)
    url = f"{shopify.url}/admin/api/2026-07/orders/{MIN_ORDER_ID}.json"
    headers = {"X-Shopify-Access-Token": TOKEN}
    assert httpx.get(url).status_code == 401
    found = httpx.get(url, headers=headers)
    assert found.status_code == 200
    assert found.json() == {"order": shopify_payload()}
    assert found.headers["X-Shopify-Shop-Api-Call-Limit"] == "1/40"
    missing = httpx.get(f"{shopify.url}/admin/api/2026-07/orders/1.json", headers=headers)
    assert (missing.status_code, missing.json()) == (404, {"errors": "Not Found"})
    for _ in range(38):
        httpx.get(url, headers=headers)
    limited = httpx.get(url, headers=headers)
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "2.0"
    assert limited.json()["errors"].startswith("Exceeded 2 calls per second")
    shopify.clock.advance(1)  # two requests leak out per second
    assert httpx.get(url, headers=headers).status_code == 200


# -- webhooks -----------------------------------------------------------------------------------------------------
def test_duplicate_deliveries_are_signed_share_the_event_id_and_get_fresh_webhook_ids(
    shopify: ShopifySandbox, inbox: Inbox
) -> None:
    event_id = shopify.emit_order("orders/create", shopify_payload(), delays=(0, 0))
    assert [d.status for d in shopify.flush_webhooks()] == [200, 200]
    first, second = inbox.received
    for request in (first, second):
        expected = base64.b64encode(hmac.new(SECRET.encode(), request.body, hashlib.sha256).digest()).decode()
        assert request.headers["x-shopify-hmac-sha256"] == expected
        assert request.headers["x-shopify-event-id"] == event_id
        assert request.headers["x-shopify-topic"] == "orders/create"
        assert request.headers["x-shopify-shop-domain"] == "acme-supply.myshopify.com"
        assert request.headers["x-shopify-api-version"] == "2026-07"
        assert json.loads(request.body) == shopify_payload()
    assert first.headers["x-shopify-webhook-id"] != second.headers["x-shopify-webhook-id"]
    assert first.body == second.body == compact(shopify_payload())  # compact JSON, as Shopify sends it


def test_header_names_are_cased_as_shopify_sends_them(shopify: ShopifySandbox) -> None:
    shopify.emit_order("orders/create", shopify_payload())
    headers = shopify.delivery_headers(shopify.outbox[0])
    assert set(headers) == set(load_json("shopify/headers_orders_create.json"))
    assert headers["X-Shopify-Triggered-At"].endswith("Z")


def test_a_late_retry_arrives_only_after_the_clock_moves(shopify: ShopifySandbox, inbox: Inbox) -> None:
    shopify.emit_order("orders/updated", load_json("shopify/orders_updated.json"), delays=(0, 3600))
    assert len(shopify.flush_webhooks()) == 1
    assert shopify.pending_webhooks() == 1
    shopify.clock.advance(3599)
    assert shopify.flush_webhooks() == []
    shopify.clock.advance(1)
    assert len(shopify.flush_webhooks()) == 1
    assert len({r.headers["x-shopify-event-id"] for r in inbox.received}) == 1
    assert state(shopify)["webhooks"]["statuses"] == [200, 200]


def test_a_lost_webhook_leaves_the_order_for_reconciliation(shopify: ShopifySandbox) -> None:
    shopify.emit_order("orders/create", shopify_payload(), delivered=False)
    assert shopify.pending_webhooks() == 0
    edges = graphql(shopify, ORDERS, {"first": 10})["data"]["orders"]["edges"]
    assert [edge["node"]["legacyResourceId"] for edge in edges] == [str(MIN_ORDER_ID)]


def test_an_apps_own_cancel_echoes_back_under_one_event_id(shopify: ShopifySandbox, inbox: Inbox) -> None:
    shopify.emit_order("orders/create", shopify_payload(), delivered=False)
    graphql(shopify, ORDER_CANCEL, {"id": f"gid://shopify/Order/{MIN_ORDER_ID}"})
    shopify.flush_webhooks()
    topics = [r.headers["x-shopify-topic"] for r in inbox.received]
    assert topics == ["orders/cancelled", "orders/updated"]
    assert len({r.headers["x-shopify-event-id"] for r in inbox.received}) == 1
    assert json.loads(inbox.received[0].body)["cancel_reason"] == "customer"


def test_each_attempt_is_signed_with_the_secret_of_the_moment(shopify: ShopifySandbox, inbox: Inbox) -> None:
    shopify.emit_order("orders/create", shopify_payload(), delays=(0, 60))
    shopify.flush_webhooks()
    shopify.use_webhook_secret("shpss_rotated")
    try:
        shopify.clock.advance(60)
        shopify.flush_webhooks()
    finally:
        shopify.use_webhook_secret(SECRET)
    signatures = [r.headers["x-shopify-hmac-sha256"] for r in inbox.received]
    body = inbox.received[0].body
    assert signatures == [hmac_sha256_b64(SECRET.encode(), body), hmac_sha256_b64(b"shpss_rotated", body)]


def test_a_partial_shipment_leaves_the_rest_to_ship(shopify: ShopifySandbox) -> None:
    shopify.emit_order("orders/create", shopify_payload(), delivered=False)
    found = graphql(shopify, ORDER, {"id": f"gid://shopify/Order/{MIN_ORDER_ID}"})["data"]["order"]
    fulfillment_order = found["fulfillmentOrders"]["nodes"][0]
    gloves = fulfillment_order["lineItems"]["nodes"][0]  # 12 cases of GLV-NIT4-L-CS

    def ship(count: int) -> dict[str, Any]:
        group = {
            "fulfillmentOrderId": fulfillment_order["id"],
            "fulfillmentOrderLineItems": [{"id": gloves["id"], "quantity": count}],
        }
        result = graphql(shopify, FULFILLMENT_CREATE, {"fulfillment": {"lineItemsByFulfillmentOrder": [group]}})
        created: dict[str, Any] = result["data"]["fulfillmentCreate"]
        return created

    assert ship(5)["userErrors"] == []
    assert ship(8)["userErrors"][0]["message"] == "Invalid fulfillment order line item quantity requested."
    assert shopify.orders[MIN_ORDER_ID]["fulfillment_status"] == "partial"
    assert shopify.orders[MIN_ORDER_ID]["line_items"][0]["fulfillable_quantity"] == 7
    assert shopify.fulfillment_orders[int(fulfillment_order["id"].rsplit("/", 1)[1])]["status"] == "IN_PROGRESS"
