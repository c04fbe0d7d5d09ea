"""The channel inventory adapters on respx: request shapes, stale refusals, cost and quota waits, errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx

from shared.channels.bigcommerce.inventory import BigCommerceInventory
from shared.channels.inventory import StockUpdate, inventory_api_for, sku_chunks
from shared.channels.shopify.inventory import WAIT_MARGIN_SECONDS, ShopifyInventory
from shared.channels.woocommerce.inventory import WooCommerceInventory
from shared.connections import Connection
from shared.errors import RateLimited, Unauthorized, ValidationFailed
from shared.outbound import OutboundClient

SHOPIFY = "https://acme-supply.myshopify.com"
GRAPHQL = "/admin/api/2026-07/graphql.json"
LOCATION = "71579000001"
LOCATION_GID = f"gid://shopify/Location/{LOCATION}"
BIGCOMMERCE = "https://api.bigcommerce.com"
V3 = "/stores/abc123xyz/v3/inventory"
WOO = "https://orders.acme-supply.example"
PRODUCTS = "/wp-json/wc/v3/products"


class FakeTime:
    """``sleep`` and ``monotonic`` on one clock that moves only when slept on."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def monotonic(self) -> float:
        return self.now


def item_gid(number: int) -> str:
    return f"gid://shopify/InventoryItem/{number}"


def update(sku: str, number: int, quantity: int, expected: int | None = None, basis: int = 1) -> StockUpdate:
    listing = {"inventory_item_id": item_gid(number), "location_id": LOCATION_GID}
    return StockUpdate(sku=sku, listing=listing, quantity=quantity, expected=expected, basis=basis)


# -- the port ------------------------------------------------------------------------------------------------------
def test_sku_chunks_drop_repeats_and_respect_both_bounds() -> None:
    assert list(sku_chunks(["A", "B", "A", "C"], max_count=2, max_chars=100)) == [["A", "B"], ["C"]]
    assert list(sku_chunks(["AAAA", "BBBB", "CC"], max_count=10, max_chars=8)) == [["AAAA"], ["BBBB", "CC"]]
    assert list(sku_chunks([], max_count=10, max_chars=10)) == []


def test_inventory_api_for_picks_the_platforms_adapter() -> None:
    settings = {"shop_domain": "acme-supply.myshopify.com", "inventory_location_id": LOCATION, "store_hash": "abc"}
    credentials = {"access_token": "t", "consumer_key": "ck", "consumer_secret": "cs"}
    conn = Connection(base_url=SHOPIFY, credentials=credentials, settings=settings)
    assert isinstance(inventory_api_for("shopify", conn), ShopifyInventory)
    assert isinstance(inventory_api_for("bigcommerce", conn), BigCommerceInventory)
    assert isinstance(inventory_api_for("woocommerce", conn), WooCommerceInventory)


# -- Shopify -------------------------------------------------------------------------------------------------------
def shopify_connection(**settings: str) -> Connection:
    values = {"shop_domain": "acme-supply.myshopify.com", "inventory_location_id": LOCATION, **settings}
    return Connection(base_url=SHOPIFY, credentials={"access_token": "shpat_unit"}, settings=values)


def shopify(clock: FakeTime | None = None, **settings: str) -> ShopifyInventory:
    conn = shopify_connection(**settings)
    clock = clock or FakeTime()
    client = OutboundClient("shopify", conn, sleep=lambda _: None)
    return ShopifyInventory(conn, client=client, sleep=clock.sleep, monotonic=clock.monotonic)


def cost(requested: float = 10, available: float = 1990, restore: float = 50) -> dict[str, Any]:
    bucket = {"maximumAvailable": 2000.0, "currentlyAvailable": available, "restoreRate": restore}
    return {"cost": {"requestedQueryCost": requested, "actualQueryCost": requested, "throttleStatus": bucket}}


def graphql_answer(data: Any, **bucket: float) -> httpx.Response:
    return httpx.Response(200, json={"data": data, "extensions": cost(**bucket)})


def throttled(requested: float, available: float, restore: float = 50) -> httpx.Response:
    error = {"message": "Throttled", "extensions": {"code": "THROTTLED"}}
    extensions = cost(requested, available, restore)
    extensions["cost"]["actualQueryCost"] = None
    return httpx.Response(200, json={"errors": [error], "extensions": extensions})


def items_page(*nodes: dict[str, Any], after: str | None = None, **bucket: float) -> httpx.Response:
    page_info = {"hasNextPage": after is not None, "endCursor": after}
    return graphql_answer({"inventoryItems": {"nodes": list(nodes), "pageInfo": page_info}}, **bucket)


def node(sku: str, number: int, available: int | None) -> dict[str, Any]:
    level = None
    if available is not None:
        quantities = [{"name": "available", "quantity": available}]
        level = {"id": f"gid://shopify/InventoryLevel/{number}", "quantities": quantities}
    return {"id": item_gid(number), "sku": sku, "inventoryLevel": level}


def set_answer(*user_errors: dict[str, Any], **bucket: float) -> httpx.Response:
    group = None if user_errors else {"id": "gid://shopify/InventoryAdjustmentGroup/1"}
    payload = {"inventoryAdjustmentGroup": group, "userErrors": list(user_errors)}
    return graphql_answer({"inventorySetQuantities": payload}, **bucket)


def stale_error(index: int) -> dict[str, Any]:
    field = ["input", "quantities", str(index), "changeFromQuantity"]
    message = "The changeFromQuantity value does not match persisted value."
    return {"code": "CHANGE_FROM_QUANTITY_STALE", "field": field, "message": message}


@pytest.fixture
def admin() -> Iterator[respx.Route]:
    with respx.mock(base_url=SHOPIFY, assert_all_called=False) as router:
        yield router.post(GRAPHQL)


def sent(route: respx.Route) -> list[dict[str, Any]]:
    return [json.loads(call.request.content) for call in route.calls]


@pytest.mark.parametrize("settings", [{}, {"inventory_location_id": "gid://shopify/Location/1"}])
def test_shopify_needs_a_numeric_inventory_location(settings: dict[str, str]) -> None:
    values = {"shop_domain": "acme-supply.myshopify.com", **settings}
    conn = Connection(base_url=SHOPIFY, credentials={"access_token": "t"}, settings=values)
    with pytest.raises(ValidationFailed) as caught:
        ShopifyInventory(conn)
    assert caught.value.details["field"] == "settings.inventory_location_id"


def test_shopify_lookup_searches_by_sku_and_lists_only_items_stocked_at_the_location(admin: respx.Route) -> None:
    admin.side_effect = [items_page(node("GLV-L", 1, 40), node("GLV-L-XL", 9, 3), node("TRL-55", 2, None))]
    found = shopify().lookup(["GLV-L", "TRL-55", "it's", "GLV-L"])
    assert found == {
        "GLV-L": {"inventory_item_id": item_gid(1), "location_id": LOCATION_GID},
        "TRL-55": None,  # the item exists, but is not stocked where Crossdock sets quantities
        "it's": None,
    }
    (body,) = sent(admin)
    assert body["variables"] == {
        "first": 250,
        "after": None,
        "query": "sku:'GLV-L' OR sku:'TRL-55' OR sku:'it\\'s'",
        "locationId": LOCATION_GID,
    }
    assert "inventoryLevel(locationId: $locationId)" in body["query"]


def test_shopify_lookup_chunks_250_skus_and_follows_pages(admin: respx.Route) -> None:
    skus = [f"SKU-{n:04}" for n in range(300)]
    admin.side_effect = [items_page(after="c1"), items_page(node("SKU-0001", 1, 5)), items_page()]
    found = shopify().lookup(skus)
    bodies = sent(admin)
    assert [body["variables"]["query"].count(" OR ") + 1 for body in bodies] == [250, 250, 50]
    assert [body["variables"]["after"] for body in bodies] == [None, "c1", None]
    assert found["SKU-0001"] == {"inventory_item_id": item_gid(1), "location_id": LOCATION_GID}
    assert sum(listing is not None for listing in found.values()) == 1


def test_shopify_set_available_is_one_mutation_with_compare_and_set(admin: respx.Route) -> None:
    admin.side_effect = [set_answer()]
    outcome = shopify().set_available([update("A", 1, 12, expected=10, basis=41), update("B", 2, 0, basis=57)])
    assert (outcome.applied, outcome.stale, outcome.calls) == (["A", "B"], {}, 1)
    (body,) = sent(admin)
    assert body["variables"]["input"] == {
        "name": "available",
        "reason": "correction",
        "referenceDocumentUri": "crossdock://availability/57",
        "quantities": [
            {"inventoryItemId": item_gid(1), "locationId": LOCATION_GID, "quantity": 12, "changeFromQuantity": 10},
            {"inventoryItemId": item_gid(2), "locationId": LOCATION_GID, "quantity": 0, "changeFromQuantity": None},
        ],
    }


def test_shopify_set_available_takes_at_most_250(admin: respx.Route) -> None:
    with pytest.raises(ValueError, match="250"):
        shopify().set_available([update(f"S{n}", n + 1, 1) for n in range(251)])
    assert not admin.called
    assert shopify().set_available([]).calls == 0


def test_shopify_stale_applies_nothing_and_reports_what_the_channel_shows(admin: respx.Route) -> None:
    admin.side_effect = [set_answer(stale_error(1)), items_page(node("B", 2, 7), node("B", 99, 500))]
    outcome = shopify().set_available([update("A", 1, 12, expected=10), update("B", 2, 9, expected=10)])
    assert (outcome.applied, outcome.stale, outcome.calls) == ([], {"B": 7}, 2)
    reread = sent(admin)[1]["variables"]
    assert (reread["query"], reread["locationId"]) == ("sku:'B'", LOCATION_GID)


def test_shopify_other_user_errors_are_permanent_and_name_the_sku(admin: respx.Route) -> None:
    refused = {
        "code": "ITEM_NOT_STOCKED_AT_LOCATION",
        "field": ["input", "quantities", "1", "locationId"],
        "message": "The specified inventory item is not stocked at the location.",
    }
    admin.side_effect = [set_answer(stale_error(0), refused)]
    with pytest.raises(ValidationFailed) as caught:
        shopify().set_available([update("A", 1, 12, expected=10), update("B", 2, 9)])
    assert caught.value.message == refused["message"]
    assert caught.value.details["sku"] == "B"
    assert caught.value.details["code"] == "ITEM_NOT_STOCKED_AT_LOCATION"


def test_shopify_waits_before_a_call_the_bucket_cannot_hold(admin: respx.Route) -> None:
    clock = FakeTime()
    inventory = shopify(clock)
    admin.side_effect = [items_page(node("A", 1, 4), requested=252, available=5, restore=50), set_answer()]
    inventory.lookup(["A"])
    inventory.set_available([update(f"S{n}", n + 1, 1) for n in range(250)])  # costs 10 + 25
    assert clock.sleeps == [pytest.approx((35 - 5) / 50 + WAIT_MARGIN_SECONDS)]


def test_shopify_counts_the_refill_since_the_last_answer(admin: respx.Route) -> None:
    clock = FakeTime()
    inventory = shopify(clock)
    admin.side_effect = [items_page(node("A", 1, 4), available=5, restore=50), set_answer()]
    inventory.lookup(["A"])
    clock.now += 1.0  # 50 points back since
    inventory.set_available([update(f"S{n}", n + 1, 1) for n in range(250)])
    assert clock.sleeps == []


def test_shopify_a_throttled_answer_is_waited_out_and_retried(admin: respx.Route) -> None:
    clock = FakeTime()
    admin.side_effect = [throttled(requested=35, available=15, restore=50), set_answer()]
    outcome = shopify(clock).set_available([update(f"S{n}", n + 1, 1) for n in range(250)])
    assert (len(outcome.applied), outcome.calls) == (250, 2)
    assert clock.sleeps == [pytest.approx((35 - 15) / 50 + WAIT_MARGIN_SECONDS)]


def test_shopify_throttled_again_and_again_raises_rate_limited(admin: respx.Route) -> None:
    clock = FakeTime()
    admin.side_effect = [throttled(requested=11, available=0, restore=50) for _ in range(4)]
    inventory = shopify(clock)
    with pytest.raises(RateLimited) as caught:
        inventory.set_available([update("A", 1, 5)])
    assert admin.call_count == 4
    assert len(clock.sleeps) == 3
    assert caught.value.retry_after_seconds == pytest.approx(11 / 50 + WAIT_MARGIN_SECONDS)


def test_shopify_a_long_wait_is_left_to_the_queue(admin: respx.Route) -> None:
    clock = FakeTime()
    admin.side_effect = [items_page(node("A", 1, 4), available=0, restore=1)]
    inventory = shopify(clock)
    inventory.lookup(["A"])
    with pytest.raises(RateLimited) as caught:
        inventory.set_available([update("A", 1, 5)])
    assert caught.value.retry_after_seconds == pytest.approx(11 + WAIT_MARGIN_SECONDS)
    assert clock.sleeps == []
    assert admin.call_count == 1


@pytest.mark.parametrize(
    ("code", "error"), [("ACCESS_DENIED", Unauthorized), ("argumentLiteralsIncompatible", ValidationFailed)]
)
def test_shopify_top_level_errors_are_typed(admin: respx.Route, code: str, error: type[Exception]) -> None:
    admin.side_effect = [httpx.Response(200, json={"errors": [{"message": "no", "extensions": {"code": code}}]})]
    with pytest.raises(error):
        shopify().lookup(["A"])


# -- BigCommerce ---------------------------------------------------------------------------------------------------
def bigcommerce(clock: FakeTime | None = None, **settings: str) -> BigCommerceInventory:
    conn = Connection(
        base_url=BIGCOMMERCE,
        credentials={"access_token": "bc-token"},
        settings={"store_hash": "abc123xyz", **settings},
    )
    clock = clock or FakeTime()
    client = OutboundClient("bigcommerce", conn, sleep=clock.sleep)
    return BigCommerceInventory(conn, client=client, sleep=clock.sleep, monotonic=clock.monotonic)


def bc_items(*skus: str, page: int = 1, pages: int = 1, headers: dict[str, str] | None = None) -> httpx.Response:
    data = [{"identity": {"sku": sku, "variant_id": None, "product_id": 200 + n}} for n, sku in enumerate(skus)]
    meta = {"pagination": {"total": len(skus), "count": len(skus), "current_page": page, "total_pages": pages}}
    return httpx.Response(200, json={"data": data, "meta": meta}, headers=headers)


def bc_update(sku: str, quantity: int, location: str = "1") -> StockUpdate:
    return StockUpdate(sku, {"sku": sku, "location_id": location}, quantity, expected=3, basis=1)


@pytest.fixture
def store() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BIGCOMMERCE) as router:
        yield router


def test_bigcommerce_lookup_filters_by_sku_and_location(store: respx.MockRouter) -> None:
    route = store.get(f"{V3}/items").mock(side_effect=[bc_items("GLV-L", pages=2), bc_items("DSF-1G", page=2, pages=2)])
    found = bigcommerce(inventory_location_id="3").lookup(["GLV-L", "DSF-1G", "NOPE"])
    assert found == {
        "GLV-L": {"sku": "GLV-L", "location_id": "3"},
        "DSF-1G": {"sku": "DSF-1G", "location_id": "3"},
        "NOPE": None,
    }
    params = [dict(call.request.url.params) for call in route.calls]
    assert params[0] == {"sku:in": "GLV-L,DSF-1G,NOPE", "location_id:in": "3", "limit": "250", "page": "1"}
    assert params[1]["page"] == "2"
    assert route.calls[0].request.headers["x-auth-token"] == "bc-token"


def test_bigcommerce_sets_absolute_quantities_without_compare_and_set(store: respx.MockRouter) -> None:
    route = store.put(f"{V3}/adjustments/absolute").respond(200, json={"transaction_id": "t-1"})
    outcome = bigcommerce().set_available([bc_update("GLV-L", 480), bc_update("DSF-1G", 0)])
    assert (outcome.applied, outcome.stale, outcome.calls) == (["GLV-L", "DSF-1G"], {}, 1)
    assert json.loads(route.calls.last.request.content) == {
        "reason": "crossdock availability",
        "items": [
            {"location_id": 1, "sku": "GLV-L", "quantity": 480},
            {"location_id": 1, "sku": "DSF-1G", "quantity": 0},
        ],
    }


def test_bigcommerce_a_429_is_retried_after_its_retry_after(store: respx.MockRouter) -> None:
    clock = FakeTime()
    route = store.put(f"{V3}/adjustments/absolute").mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "1"}), httpx.Response(200, json={})]
    )
    outcome = bigcommerce(clock).set_available([bc_update("GLV-L", 480)])
    assert (outcome.applied, outcome.calls, route.call_count) == (["GLV-L"], 2, 2)
    assert clock.sleeps == [1.0]


def test_bigcommerce_waits_for_a_short_quota_reset(store: respx.MockRouter) -> None:
    clock = FakeTime()
    spent = {"X-Rate-Limit-Requests-Left": "0", "X-Rate-Limit-Time-Reset-Ms": "500"}
    store.get(f"{V3}/items").mock(side_effect=[bc_items("A", headers=spent)])
    store.put(f"{V3}/adjustments/absolute").respond(200, json={})
    inventory = bigcommerce(clock)
    inventory.lookup(["A"])
    inventory.set_available([bc_update("A", 1)])
    assert clock.sleeps == [0.5]


def test_bigcommerce_a_long_quota_reset_is_left_to_the_queue(store: respx.MockRouter) -> None:
    spent = {"X-Rate-Limit-Requests-Left": "0", "X-Rate-Limit-Time-Reset-Ms": "20000"}
    store.get(f"{V3}/items").mock(side_effect=[bc_items("A", headers=spent)])
    inventory = bigcommerce()
    inventory.lookup(["A"])
    with pytest.raises(RateLimited) as caught:
        inventory.set_available([bc_update("A", 1)])
    assert caught.value.retry_after_seconds == pytest.approx(20.0)


def test_bigcommerce_a_refused_payload_is_permanent(store: respx.MockRouter) -> None:
    problem = {"status": 422, "title": "Payload contains invalid fields", "errors": {"items.0": "unknown"}}
    store.put(f"{V3}/adjustments/absolute").respond(422, json=problem)
    with pytest.raises(ValidationFailed):
        bigcommerce().set_available([bc_update("A", 1)])


def test_bigcommerce_checks_its_settings() -> None:
    assert bigcommerce().location_id == 1
    with pytest.raises(ValidationFailed) as caught:
        bigcommerce(inventory_location_id="main")
    assert caught.value.details["field"] == "settings.inventory_location_id"
    with pytest.raises(ValueError, match="2000"):
        bigcommerce().set_available([bc_update(f"S{n}", 1) for n in range(2001)])


# -- WooCommerce ---------------------------------------------------------------------------------------------------
def woocommerce(clock: FakeTime | None = None) -> WooCommerceInventory:
    conn = Connection(base_url=WOO, credentials={"consumer_key": "ck_unit", "consumer_secret": "cs_unit"})
    return WooCommerceInventory(conn, client=OutboundClient("woocommerce", conn, sleep=(clock or FakeTime()).sleep))


def woo_update(sku: str, product_id: int, quantity: int) -> StockUpdate:
    return StockUpdate(sku, {"product_id": str(product_id)}, quantity, expected=None, basis=1)


@pytest.fixture
def shop() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=WOO, assert_all_called=False) as router:
        yield router


def test_woocommerce_lookup_asks_for_a_comma_list_of_skus(shop: respx.MockRouter) -> None:
    pages = {"X-WP-TotalPages": "2"}
    route = shop.get(PRODUCTS).mock(
        side_effect=[
            httpx.Response(200, json=[{"id": 412, "sku": "GLV-L"}], headers=pages),
            httpx.Response(200, json=[{"id": 418, "sku": "TRL-55"}, {"id": 5, "sku": "GLV-L-XL"}], headers=pages),
        ]
    )
    found = woocommerce().lookup(["GLV-L", "TRL-55", "NOPE"])
    assert found == {"GLV-L": {"product_id": "412"}, "TRL-55": {"product_id": "418"}, "NOPE": None}
    params = [dict(call.request.url.params) for call in route.calls]
    assert params[0] == {"sku": "GLV-L,TRL-55,NOPE", "per_page": "100", "orderby": "id", "order": "asc", "page": "1"}
    assert params[1]["page"] == "2"
    assert route.calls[0].request.headers["authorization"].startswith("Basic ")


def test_woocommerce_sets_stock_in_one_batch_and_leaves_out_what_it_refuses(shop: respx.MockRouter) -> None:
    error = {"code": "woocommerce_rest_product_invalid_id", "message": "Invalid ID.", "data": {"status": 400}}
    answer = {"update": [{"id": 412, "stock_quantity": 480}, {"id": 418, "error": error}]}
    route = shop.post(f"{PRODUCTS}/batch").respond(200, json=answer)
    outcome = woocommerce().set_available([woo_update("GLV-L", 412, 480), woo_update("TRL-55", 418, 0)])
    assert (outcome.applied, outcome.stale, outcome.calls) == (["GLV-L"], {}, 1)
    assert json.loads(route.calls.last.request.content) == {
        "update": [
            {"id": 412, "stock_quantity": 480, "manage_stock": True},
            {"id": 418, "stock_quantity": 0, "manage_stock": True},
        ]
    }


def test_woocommerce_a_429_is_retried_after_its_retry_after(shop: respx.MockRouter) -> None:
    clock = FakeTime()
    shop.post(f"{PRODUCTS}/batch").mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "2"}),
            httpx.Response(200, json={"update": [{"id": 412, "stock_quantity": 1}]}),
        ]
    )
    outcome = woocommerce(clock).set_available([woo_update("GLV-L", 412, 1)])
    assert (outcome.applied, outcome.calls, clock.sleeps) == (["GLV-L"], 2, [2.0])


def test_woocommerce_batches_take_at_most_100(shop: respx.MockRouter) -> None:
    with pytest.raises(ValueError, match="100"):
        woocommerce().set_available([woo_update(f"S{n}", n + 1, 1) for n in range(101)])
