"""Inventory-to-availability on the local stack: the reservation gate, late and doubled counts, bulk pushes."""

from __future__ import annotations

import random

from infra.config import cdk_context, load_config
from infra.local.report import order_statuses
from infra.local.report_inventory import InventoryReport, compare_channels
from infra.local.sandboxes.bigcommerce import BigCommerceSandbox
from infra.local.sandboxes.shopify import ShopifySandbox
from infra.local.sandboxes.wms import WmsSandbox
from infra.local.sandboxes.woocommerce import WooCommerceSandbox
from infra.local.scenario_inventory import (
    FC_EAST,
    FLASH_UNITS,
    InventoryExpected,
    flash_sale,
    inventory_calls,
    list_everywhere,
)
from infra.local.stack import LocalStack

LATE = 600.0  # seconds on the controlled clock


def sandboxes(stack: LocalStack) -> tuple[WmsSandbox, ShopifySandbox, BigCommerceSandbox, WooCommerceSandbox]:
    wms, shopify = stack.sandboxes["wms"], stack.sandboxes["shopify"]
    bigcommerce, woocommerce = stack.sandboxes["bigcommerce"], stack.sandboxes["woocommerce"]
    assert isinstance(wms, WmsSandbox)
    assert isinstance(shopify, ShopifySandbox)
    assert isinstance(bigcommerce, BigCommerceSandbox)
    assert isinstance(woocommerce, WooCommerceSandbox)
    return wms, shopify, bigcommerce, woocommerce


def shown(stack: LocalStack, sku: str) -> dict[str, int | None]:
    _, shopify, bigcommerce, woocommerce = sandboxes(stack)
    return {
        "shopify": shopify.available(sku),
        "bigcommerce": bigcommerce.stock(sku),
        "woocommerce": woocommerce.stock(sku),
    }


def at_atp(stack: LocalStack, skus: list[str]) -> InventoryReport:
    report = InventoryReport()
    compare_channels(stack, InventoryExpected(listed=skus), report)
    return report


def test_orders_racing_for_the_last_units_never_take_more_than_there_are(local_stack: LocalStack) -> None:
    expected = InventoryExpected()
    flash_sale(local_stack, expected, round_=1)
    every = order_statuses(local_stack)
    states = {key: every.get(key) for key in expected.flash_orders}
    accepted = [key for key, state in states.items() if state in ("accepted", "released")]
    held = [key for key, state in states.items() if state == "held"]
    assert len(expected.flash_orders) > FLASH_UNITS
    assert len(accepted) == FLASH_UNITS
    assert len(held) == len(expected.flash_orders) - FLASH_UNITS
    report = at_atp(local_stack, ["RSP-N95-20-FS"])
    assert (report.oversold, report.off_atp) == (0, [])
    assert set(shown(local_stack, "RSP-N95-20-FS").values()) == {0}


def test_late_and_doubled_stock_reports_never_roll_a_channel_back(local_stack: LocalStack) -> None:
    wms, shopify, bigcommerce, woocommerce = sandboxes(local_stack)
    sku = "E2E-ORDERING-1"
    list_everywhere(local_stack, [sku])
    wms.set_stock(FC_EAST, {sku: 10}, delays=(LATE, LATE))  # the older count, delivered twice and late
    wms.set_stock(FC_EAST, {sku: 3}, delays=(0.0, 0.0))  # the newer count, delivered twice now
    wms.flush_webhooks()
    local_stack.wait_until_quiet(timeout=60)
    assert set(shown(local_stack, sku).values()) == {3}
    local_stack.clock.advance(LATE + 1)
    wms.flush_webhooks()  # the old count arrives at last
    adjustment = wms.adjust_stock(FC_EAST, {sku: -1}, delays=(0.0, 0.0))
    wms.adjust_stock(FC_EAST, {sku: -1}, adjustment_id=adjustment)  # the WMS announces it again
    wms.flush_webhooks(shuffle=True)
    local_stack.wait_until_quiet(timeout=60)
    assert set(shown(local_stack, sku).values()) == {2}
    for history in (shopify.inventory_history, bigcommerce.inventory_history, woocommerce.inventory_history):
        values = [entry["quantity"] for entry in history if entry["sku"] == sku]
        assert values == [0, 3, 2], values  # listed at 0, then only ever newer numbers
    assert at_atp(local_stack, [sku]).off_atp == []


def test_a_burst_of_changes_reaches_each_channel_in_bulk(local_stack: LocalStack) -> None:
    wms, _, _, _ = sandboxes(local_stack)
    rng = random.Random(3)
    skus = [f"E2E-BURST-{n:04d}" for n in range(1000)]
    list_everywhere(local_stack, skus)
    wms.set_stock(FC_EAST, dict.fromkeys(skus, 50))
    wms.flush_webhooks()
    local_stack.wait_until_quiet(timeout=120)
    before = inventory_calls(local_stack)
    changes = 0
    for _ in range(20):
        deltas = {sku: rng.choice((-2, -1, 1, 3)) for sku in rng.sample(skus, 100)}
        wms.adjust_stock(FC_EAST, deltas)
        changes += len(deltas)
    wms.flush_webhooks()
    local_stack.wait_until_quiet(timeout=120)
    after = inventory_calls(local_stack)
    calls = {channel: after[channel] - before[channel] for channel in after}
    assert changes == 2000
    # 1,000 SKUs at most: Shopify takes 250 a call, BigCommerce 2,000, WooCommerce 100. The deliveries coalesce
    # into one push per channel when the changes pause; on a loaded machine they may pause once on the way, so
    # two pushes are allowed. One call per change (2,000) is what the bulk writes prevent.
    assert calls["shopify"] <= 2 * 4, calls
    assert calls["bigcommerce"] <= 2 * 1, calls
    assert calls["woocommerce"] <= 2 * 10, calls
    assert at_atp(local_stack, skus).off_atp == []
    config = load_config(cdk_context()["crossdock"], local_stack.env)
    assert config.inventory.channels  # the policies the comparison used
