"""Inventory phases of the demo: stock counted by the WMS, listings on every channel, a flash sale, a burst.

1. ``seed``: the WMS reports its counts (signed ``inventory.snapshot`` webhooks); every SKU is listed on the three
   channels showing 0, so the first sync writes what can really be promised.
2. ``flash_sale``: a few units of one SKU appear, every channel shows them, and more orders than units arrive
   from all channels at once. The reservation gate lets exactly as many through as there are units.
3. ``burst``: 10,000 stock changes over 1,000 SKUs in 100 adjustment webhooks. The syncs coalesce them into the
   fewest bulk writes each channel allows; the calls each channel took are counted.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import TypeVar

from infra.config import cdk_context, load_config
from infra.local.sandboxes.bigcommerce import BigCommerceSandbox
from infra.local.sandboxes.netsuite import SEED_ITEMS
from infra.local.sandboxes.shopify import ShopifySandbox
from infra.local.sandboxes.wms import WmsSandbox
from infra.local.sandboxes.woocommerce import WooCommerceSandbox
from infra.local.scenario_orders import (
    FLASH_SKU,
    SHOPIFY_BASE_ID,
    flash_bigcommerce_order,
    flash_shopify_order,
    flash_woocommerce_order,
)
from infra.local.stack import LocalStack

# The sample orders are large (40 boxes a line), so the warehouses hold 20 times the ERP's sample counts.
STOCK_FACTOR = 20
FC_EAST, FC_WEST = 1, 2
FLASH_UNITS = 5
FLASH_ORDERS = {"shopify": 5, "bigcommerce": 4, "woocommerce": 3}
BURST_SKUS = 1000
BURST_WEBHOOKS = 100
BURST_ITEMS_PER_WEBHOOK = 100
# Which sandbox routes (Shopify: GraphQL root fields) are inventory calls, per channel: the burst counts these.
INVENTORY_ROUTES = {
    "shopify": ("inventorySetQuantities", "inventoryItems", "inventoryItem"),
    "bigcommerce": ("get inventory items", "absolute adjustment"),
    "woocommerce": ("list products", "batch products"),
}


def burst_skus() -> list[str]:
    return [f"BRST-{number:04d}" for number in range(BURST_SKUS)]


@dataclass
class InventoryExpected:
    listed: list[str] = field(default_factory=list)
    flash_orders: dict[str, str] = field(default_factory=dict)  # order key → channel
    flash_units: int = FLASH_UNITS
    burst_changes: int = 0
    burst_calls: dict[str, int] = field(default_factory=dict)
    burst_seconds: float = 0.0


def seed(
    stack: LocalStack, rng: random.Random, *, with_burst_skus: bool = True, stock_factor: int = STOCK_FACTOR
) -> InventoryExpected:
    """Count the warehouses, list every SKU on every channel, and let the first sync run.

    ``with_burst_skus``: also the 1,000 SKUs the burst changes (the demo; the e2e tests bring their own);
    ``stock_factor``: the warehouses hold this many times the ERP's sample counts (more orders need more).
    """
    wms = _sandbox(stack, "wms", WmsSandbox)
    east = {item.sku: item.east * stock_factor for item in SEED_ITEMS if item.sku != FLASH_SKU}
    west = {item.sku: item.west * stock_factor for item in SEED_ITEMS if item.sku != FLASH_SKU}
    if with_burst_skus:
        east.update({sku: rng.randint(20, 200) for sku in burst_skus()})
    east[FLASH_SKU] = 0  # the flash sale's units arrive later
    kits = load_config(cdk_context()["crossdock"], stack.env).inventory.kits
    expected = InventoryExpected(listed=sorted(east) + sorted(kits))
    list_everywhere(stack, expected.listed)
    wms.set_stock(FC_EAST, east)
    wms.set_stock(FC_WEST, west)
    wms.flush_webhooks()
    stack.wait_until_quiet(timeout=120)
    return expected


def list_everywhere(stack: LocalStack, skus: list[str]) -> None:
    """The merchant's catalog: each SKU on each channel, showing 0 until Crossdock says otherwise. A SKU already
    listed on a channel is left as it is."""
    shopify = _sandbox(stack, "shopify", ShopifySandbox)
    bigcommerce = _sandbox(stack, "bigcommerce", BigCommerceSandbox)
    woocommerce = _sandbox(stack, "woocommerce", WooCommerceSandbox)
    for sku in skus:
        if shopify.inventory_item_id(sku) is None:
            shopify.add_inventory_item(sku, available=0)
        if sku not in bigcommerce.catalog:
            bigcommerce.add_catalog_item(sku, stock={1: 0})
        if woocommerce.stock(sku) is None:
            woocommerce.add_product(sku=sku, stock_quantity=0)


def flash_sale(stack: LocalStack, expected: InventoryExpected, round_: int = 0) -> None:
    """Units arrive; every channel shows them; more orders than units race for them from every channel.

    ``round_`` keeps the order ids of another sale on the same stack apart.
    """
    wms = _sandbox(stack, "wms", WmsSandbox)
    wms.adjust_stock(FC_EAST, {FLASH_SKU: FLASH_UNITS}, reason="received")
    wms.flush_webhooks()
    stack.wait_until_quiet(timeout=120)
    shopify = _sandbox(stack, "shopify", ShopifySandbox)
    bigcommerce = _sandbox(stack, "bigcommerce", BigCommerceSandbox)
    woocommerce = _sandbox(stack, "woocommerce", WooCommerceSandbox)
    for number in range(FLASH_ORDERS["shopify"]):
        number += 900 + 10 * round_
        shopify.emit_order("orders/create", flash_shopify_order(number))
        expected.flash_orders[f"shopify:{shopify.shop_domain}:{SHOPIFY_BASE_ID + number}"] = "shopify"
    for number in range(FLASH_ORDERS["bigcommerce"]):
        order_id = 5900 + 10 * round_ + number
        bigcommerce.add_order(*flash_bigcommerce_order(order_id))
        bigcommerce.emit_order_event("store/order/created", order_id)
        expected.flash_orders[f"bigcommerce:{bigcommerce.store_hash}:{order_id}"] = "bigcommerce"
    store = woocommerce.connection()["settings"]["store"]
    for number in range(FLASH_ORDERS["woocommerce"]):
        order_id = 39000 + 10 * round_ + number
        woocommerce.emit_order("order.created", flash_woocommerce_order(order_id), stamp=True)
        expected.flash_orders[f"woocommerce:{store}:{order_id}"] = "woocommerce"
    for sandbox in (shopify, bigcommerce, woocommerce):
        sandbox.flush_webhooks(shuffle=True)
    stack.wait_until_quiet(timeout=120)


def burst(stack: LocalStack, expected: InventoryExpected, rng: random.Random) -> None:
    """10,000 adjustments over 1,000 SKUs, in 100 webhooks: count what each channel was called for them."""
    wms = _sandbox(stack, "wms", WmsSandbox)
    before = inventory_calls(stack)
    skus = burst_skus()
    for _ in range(BURST_WEBHOOKS):
        on_hand = wms.stock(FC_EAST)
        deltas = {}
        for sku in rng.sample(skus, BURST_ITEMS_PER_WEBHOOK):
            change = rng.randint(-3, 5) or 1
            deltas[sku] = max(change, -on_hand.get(sku, 0))
        deltas = {sku: delta for sku, delta in deltas.items() if delta} or {skus[0]: 1}
        wms.adjust_stock(FC_EAST, deltas, reason="cycle_count")
        expected.burst_changes += len(deltas)
    started = time.monotonic()
    wms.flush_webhooks()
    stack.wait_until_quiet(timeout=180)
    expected.burst_seconds = time.monotonic() - started
    after = inventory_calls(stack)
    expected.burst_calls = {channel: after[channel] - before.get(channel, 0) for channel in after}


def inventory_calls(stack: LocalStack) -> dict[str, int]:
    """Inventory API calls each channel sandbox has answered (throttled and refused ones included)."""
    counts = {}
    for channel, routes in INVENTORY_ROUTES.items():
        calls = stack.sandboxes[channel].snapshot()["calls"]
        counts[channel] = sum(n for name, n in calls.items() if name in routes)
    return counts


SandboxT = TypeVar("SandboxT")


def _sandbox(stack: LocalStack, name: str, kind: type[SandboxT]) -> SandboxT:
    sandbox = stack.sandboxes[name]
    assert isinstance(sandbox, kind)
    return sandbox
