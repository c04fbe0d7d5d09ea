"""The channel inventory adapters against their sandboxes over loopback HTTP: lookup, bulk sets, stale, 429s."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from infra.local.sandboxes.base import Faults, Sandbox
from infra.local.sandboxes.bigcommerce import BigCommerceSandbox
from infra.local.sandboxes.shopify import ShopifySandbox
from infra.local.sandboxes.woocommerce import WooCommerceSandbox
from shared.channels.bigcommerce.inventory import BigCommerceInventory
from shared.channels.inventory import Listing, StockUpdate
from shared.channels.shopify.inventory import ShopifyInventory
from shared.channels.woocommerce.inventory import WooCommerceInventory
from shared.connections import Connection
from shared.outbound import OutboundClient
from tests.integration.sandboxes.support import FrozenClock

START = 1_795_900_000.0
SKUS = [f"SKU-{n:04}" for n in range(1000)]


@pytest.fixture(scope="module")
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture(scope="module")
def servers(clock: FrozenClock) -> Iterator[dict[str, Sandbox]]:
    # One server each per module: stopping a server takes half a second, resetting one takes nothing.
    sandboxes: dict[str, Sandbox] = {
        "shopify": ShopifySandbox(clock),
        "bigcommerce": BigCommerceSandbox(clock),
        "woocommerce": WooCommerceSandbox(clock),
    }
    for sandbox in sandboxes.values():
        sandbox.start()
    yield sandboxes
    for sandbox in sandboxes.values():
        sandbox.stop()


@pytest.fixture
def sandboxes(servers: dict[str, Sandbox]) -> dict[str, Sandbox]:
    for sandbox in servers.values():
        sandbox.reset()
    return servers


class Sleeps:
    """The adapters' sleep: moves the sandbox clock, and can clear an injected fault once it was met."""

    def __init__(self, clock: FrozenClock, heal: Sandbox | None = None) -> None:
        self.clock = clock
        self.heal = heal
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.clock.advance(seconds)
        if self.heal is not None:
            self.heal.faults = Faults()


def connection(sandbox: Sandbox) -> Connection:
    return Connection.model_validate(sandbox.connection())


def shopify_inventory(sandbox: ShopifySandbox, sleeps: Sleeps) -> ShopifyInventory:
    conn = connection(sandbox)
    client = OutboundClient("shopify", conn, sleep=sleeps)
    return ShopifyInventory(conn, client=client, sleep=sleeps, monotonic=sleeps.clock.now)


def updates(listings: dict[str, Listing | None], quantity: int, expected: int | None, basis: int) -> list[StockUpdate]:
    return [
        StockUpdate(sku, listing, quantity, expected, basis) for sku, listing in listings.items() if listing is not None
    ]


def batches(items: list[StockUpdate], size: int) -> Iterator[list[StockUpdate]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def state(sandbox: Sandbox) -> dict[str, Any]:
    with sandbox.lock:
        return sandbox.snapshot()


# -- Shopify -------------------------------------------------------------------------------------------------------
def test_shopify_lists_a_sku_only_where_it_is_stocked(sandboxes: dict[str, Sandbox], clock: FrozenClock) -> None:
    shopify = sandboxes["shopify"]
    assert isinstance(shopify, ShopifySandbox)
    gloves = shopify.add_inventory_item("GLV-NIT-L-100", available=40)
    shopify.add_inventory_item("TRL-55G", available=3, location_id=shopify.location_id + 1)  # another location
    shopify.add_inventory_item("it's \\ odd", available=1)

    found = shopify_inventory(shopify, Sleeps(clock)).lookup(["GLV-NIT-L-100", "TRL-55G", "it's \\ odd", "NOPE"])

    location = f"gid://shopify/Location/{shopify.location_id}"
    assert found["GLV-NIT-L-100"] == {
        "inventory_item_id": f"gid://shopify/InventoryItem/{gloves}",
        "location_id": location,
    }
    assert found["TRL-55G"] is None
    assert found["it's \\ odd"] is not None
    assert found["NOPE"] is None
    assert state(shopify)["calls"]["inventoryItems"] == 1


def test_shopify_sets_1000_skus_in_four_mutations_without_being_throttled(
    sandboxes: dict[str, Sandbox], clock: FrozenClock
) -> None:
    shopify = sandboxes["shopify"]
    assert isinstance(shopify, ShopifySandbox)
    for sku in SKUS:
        shopify.add_inventory_item(sku, available=10)
    sleeps = Sleeps(clock)
    inventory = shopify_inventory(shopify, sleeps)
    listings = dict(inventory.lookup(SKUS))
    assert all(listings.values())

    outcomes = [inventory.set_available(batch) for batch in batches(updates(listings, 25, 10, basis=7), 250)]

    assert sum(len(outcome.applied) for outcome in outcomes) == 1000
    assert [outcome.calls for outcome in outcomes] == [1, 1, 1, 1]
    seen = state(shopify)
    assert seen["calls"]["inventorySetQuantities"] == 4
    assert seen["calls"]["inventoryItems"] == 4
    assert seen["throttled"] == {}
    assert sleeps.waits == []
    assert {shopify.available(sku) for sku in SKUS} == {25}
    pushed = [entry for entry in seen["inventory_history"] if entry["reference"] == "crossdock://availability/7"]
    assert len(pushed) == 1000
    assert pushed[0] == {
        "sku": SKUS[0],
        "location_id": shopify.location_id,
        "quantity": 25,
        "at": clock.now(),
        "reference": "crossdock://availability/7",
    }


def test_shopify_refuses_a_push_made_stale_by_a_storefront_order(
    sandboxes: dict[str, Sandbox], clock: FrozenClock
) -> None:
    shopify = sandboxes["shopify"]
    assert isinstance(shopify, ShopifySandbox)
    shopify.add_inventory_item("GLV-NIT-L-100", available=10)
    shopify.add_inventory_item("TRL-55G", available=5)
    inventory = shopify_inventory(shopify, Sleeps(clock))
    listings = dict(inventory.lookup(["GLV-NIT-L-100", "TRL-55G"]))
    order = {"id": 820982911946154508, "line_items": [{"id": 1, "sku": "GLV-NIT-L-100", "quantity": 3}]}
    shopify.emit_order("orders/create", order)
    shopify.emit_order("orders/create", order, delays=())  # the same order again takes no more stock
    assert shopify.available("GLV-NIT-L-100") == 7

    stale = inventory.set_available(
        [updates(listings, 12, 10, basis=8)[0], StockUpdate("TRL-55G", listings["TRL-55G"] or {}, 4, 5, 8)]
    )

    assert (stale.applied, stale.stale, stale.calls) == ([], {"GLV-NIT-L-100": 7}, 2)
    assert (shopify.available("GLV-NIT-L-100"), shopify.available("TRL-55G")) == (7, 5)  # all or nothing
    retried = inventory.set_available(
        [StockUpdate("GLV-NIT-L-100", listings["GLV-NIT-L-100"] or {}, 9, 7, 9), *updates(listings, 4, 5, 9)[1:]]
    )
    assert retried.applied == ["GLV-NIT-L-100", "TRL-55G"]
    history = [
        (e["quantity"], e["reference"]) for e in state(shopify)["inventory_history"] if e["sku"] == "GLV-NIT-L-100"
    ]
    assert history == [(10, "seed"), (7, f"gid://shopify/Order/{order['id']}"), (9, "crossdock://availability/9")]


def test_shopify_waits_out_a_bucket_spent_by_someone_else(sandboxes: dict[str, Sandbox], clock: FrozenClock) -> None:
    shopify = sandboxes["shopify"]
    assert isinstance(shopify, ShopifySandbox)
    for sku in SKUS[:250]:
        shopify.add_inventory_item(sku, available=10)
    sleeps = Sleeps(clock)
    inventory = shopify_inventory(shopify, sleeps)
    pushes = batches(updates(dict(inventory.lookup(SKUS[:250])), 30, None, basis=1), 125)

    shopify.drain_bucket(0)  # another function of the app spent it since our last answer
    assert len(inventory.set_available(next(pushes)).applied) == 125  # throttled once, waited out, retried
    assert len(inventory.set_available(next(pushes)).applied) == 125  # this one waited before asking

    assert state(shopify)["throttled"] == {"inventorySetQuantities": 1}
    assert len(sleeps.waits) == 2
    assert state(shopify)["calls"]["inventorySetQuantities"] == 3


def test_shopify_a_server_error_on_the_inventory_route_is_retried(
    sandboxes: dict[str, Sandbox], clock: FrozenClock
) -> None:
    shopify = sandboxes["shopify"]
    assert isinstance(shopify, ShopifySandbox)
    shopify.add_inventory_item("GLV-NIT-L-100", available=10)
    shopify.faults = Faults(error_rate=1.0)
    found = shopify_inventory(shopify, Sleeps(clock, heal=shopify)).lookup(["GLV-NIT-L-100"])
    assert found["GLV-NIT-L-100"] is not None
    assert state(shopify)["calls"]["graphql"] == 2


# -- BigCommerce ---------------------------------------------------------------------------------------------------
def bigcommerce_inventory(sandbox: BigCommerceSandbox, sleeps: Sleeps) -> BigCommerceInventory:
    conn = connection(sandbox)
    client = OutboundClient("bigcommerce", conn, sleep=sleeps)
    return BigCommerceInventory(conn, client=client, sleep=sleeps, monotonic=sleeps.clock.now)


def test_bigcommerce_looks_up_and_sets_1000_skus_in_one_adjustment(
    sandboxes: dict[str, Sandbox], clock: FrozenClock
) -> None:
    store = sandboxes["bigcommerce"]
    assert isinstance(store, BigCommerceSandbox)
    for sku in SKUS:
        store.add_catalog_item(sku, stock={1: 10, 2: 4})
    inventory = bigcommerce_inventory(store, Sleeps(clock))

    listings = dict(inventory.lookup([*SKUS, "NOPE"]))
    outcome = inventory.set_available(updates(listings, 25, 10, basis=3))

    assert listings["NOPE"] is None
    assert listings[SKUS[0]] == {"sku": SKUS[0], "location_id": "1"}
    assert (len(outcome.applied), outcome.calls) == (1000, 1)
    seen = state(store)
    assert seen["calls"]["absolute adjustment"] == 1
    assert seen["calls"]["get inventory items"] == 5  # 222 nine-character SKUs fit the 2,000-character URL budget
    assert {store.stock(sku, 1) for sku in SKUS} == {25}
    assert {store.stock(sku, 2) for sku in SKUS} == {4}
    pushed = [e for e in seen["inventory_history"] if e["reference"] == "crossdock availability"]
    assert len(pushed) == 1000
    assert pushed[0] == {
        "sku": SKUS[0],
        "location_id": 1,
        "quantity": 25,
        "at": clock.now(),
        "reference": "crossdock availability",
    }


def test_bigcommerce_a_429_with_retry_after_is_retried(sandboxes: dict[str, Sandbox], clock: FrozenClock) -> None:
    store = sandboxes["bigcommerce"]
    assert isinstance(store, BigCommerceSandbox)
    store.add_catalog_item("GLV-NIT-L-100", stock={1: 10})
    sleeps = Sleeps(clock, heal=store)
    inventory = bigcommerce_inventory(store, sleeps)
    listings = dict(inventory.lookup(["GLV-NIT-L-100"]))
    store.faults = Faults(rate_limit_rate=1.0, retry_after_seconds=1)

    outcome = inventory.set_available(updates(listings, 480, None, basis=1))

    assert (outcome.applied, outcome.calls) == (["GLV-NIT-L-100"], 2)
    assert sleeps.waits == [1.0]
    assert state(store)["calls"]["absolute adjustment"] == 2
    assert store.stock("GLV-NIT-L-100") == 480


# -- WooCommerce ---------------------------------------------------------------------------------------------------
def woocommerce_inventory(sandbox: WooCommerceSandbox, sleeps: Sleeps) -> WooCommerceInventory:
    conn = connection(sandbox)
    return WooCommerceInventory(conn, client=OutboundClient("woocommerce", conn, sleep=sleeps))


def test_woocommerce_looks_up_and_sets_1000_skus_in_batches_of_100(
    sandboxes: dict[str, Sandbox], clock: FrozenClock
) -> None:
    shop = sandboxes["woocommerce"]
    assert isinstance(shop, WooCommerceSandbox)
    for sku in SKUS:
        shop.add_product(sku=sku, stock_quantity=10)
    inventory = woocommerce_inventory(shop, Sleeps(clock))

    listings = dict(inventory.lookup([*SKUS, "NOPE"]))
    outcomes = [inventory.set_available(batch) for batch in batches(updates(listings, 25, None, basis=2), 100)]

    assert listings["NOPE"] is None
    assert sum(len(outcome.applied) for outcome in outcomes) == 1000
    seen = state(shop)
    assert seen["calls"]["list products"] == 11  # 100 SKUs a page, and "NOPE" alone on the last
    assert seen["calls"]["batch products"] == 10
    assert {shop.stock(sku) for sku in SKUS} == {25}
    pushed = [e for e in seen["inventory_history"] if e["reference"] == "products/batch"]
    assert len(pushed) == 1000
    assert pushed[0] == {
        "sku": SKUS[0],
        "location_id": None,
        "quantity": 25,
        "at": clock.now(),
        "reference": "products/batch",
    }


def test_woocommerce_leaves_out_a_product_deleted_since_the_lookup(
    sandboxes: dict[str, Sandbox], clock: FrozenClock
) -> None:
    shop = sandboxes["woocommerce"]
    assert isinstance(shop, WooCommerceSandbox)
    gone = shop.add_product(sku="GLV-NIT-L-100", stock_quantity=10)
    shop.add_product(sku="TRL-55G", stock_quantity=3)
    inventory = woocommerce_inventory(shop, Sleeps(clock))
    listings = dict(inventory.lookup(["GLV-NIT-L-100", "TRL-55G"]))
    del shop.products[gone]

    outcome = inventory.set_available(updates(listings, 0, None, basis=1))

    assert outcome.applied == ["TRL-55G"]
    assert shop.stock("TRL-55G") == 0


def test_woocommerce_a_429_with_retry_after_is_retried(sandboxes: dict[str, Sandbox], clock: FrozenClock) -> None:
    shop = sandboxes["woocommerce"]
    assert isinstance(shop, WooCommerceSandbox)
    shop.add_product(412, sku="GLV-NIT-L-100", stock_quantity=10)
    sleeps = Sleeps(clock, heal=shop)
    inventory = woocommerce_inventory(shop, sleeps)
    shop.faults = Faults(rate_limit_rate=1.0, retry_after_seconds=1)

    listings = dict(inventory.lookup(["GLV-NIT-L-100"]))
    outcome = inventory.set_available(updates(listings, 480, None, basis=1))

    assert listings == {"GLV-NIT-L-100": {"product_id": "412"}}
    assert (outcome.applied, sleeps.waits) == (["GLV-NIT-L-100"], [1.0])
    assert state(shop)["calls"]["list products"] == 2
    assert shop.stock("GLV-NIT-L-100") == 480
