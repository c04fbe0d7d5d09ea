"""The inventory part of the demo report: the burst's channel calls, propagation lag, and the stock invariants.

- ``oversold``: units promised beyond stock: accepted flash-sale units beyond the units there were, plus, on
  every ledger row, units reserved beyond what is on hand.
- ``above ATP``: listed SKUs a channel shows more of than the ledger can promise, once the system is quiet.
- ``off ATP``: listed SKUs whose channel number is not the computed ATP once quiet (too low counts here too).
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from infra.config import cdk_context, load_config
from infra.local.sandboxes.bigcommerce import BigCommerceSandbox
from infra.local.sandboxes.shopify import ShopifySandbox
from infra.local.sandboxes.woocommerce import WooCommerceSandbox
from infra.local.scenario_inventory import InventoryExpected
from infra.local.stack import LocalStack
from shared.aws.inventory_ledger import DynamoInventoryLedger
from shared.models.availability import channel_availability, rows_needed


@dataclass
class InventoryReport:
    burst_changes: int = 0
    burst_seconds: float = 0.0
    burst_calls: dict[str, int] = field(default_factory=dict)
    lag_ms: list[int] = field(default_factory=list)
    flash_accepted: int = 0
    flash_held: int = 0
    oversold: int = 0
    above_atp: list[str] = field(default_factory=list)
    off_atp: list[str] = field(default_factory=list)
    prevented: int = 0


def collect_inventory(
    stack: LocalStack, expected: InventoryExpected, states: Mapping[str, str], published: list[dict[str, Any]]
) -> InventoryReport:
    report = InventoryReport(
        burst_changes=expected.burst_changes,
        burst_seconds=expected.burst_seconds,
        burst_calls=dict(expected.burst_calls),
    )
    for event in published:
        if event["detail-type"] == "AvailabilityPublished":
            report.lag_ms += [i["lag_ms"] for i in event["detail"]["data"]["items"] if i.get("lag_ms") is not None]
        report.prevented += event["detail-type"] == "OversellPrevented"
    flash = [states.get(key) for key in expected.flash_orders]
    report.flash_accepted = sum(1 for s in flash if s in ("accepted", "released"))
    report.flash_held = sum(1 for s in flash if s == "held")
    report.oversold = max(0, report.flash_accepted - expected.flash_units)
    compare_channels(stack, expected, report)
    return report


def compare_channels(stack: LocalStack, expected: InventoryExpected, report: InventoryReport) -> None:
    config = load_config(cdk_context()["crossdock"], stack.env)
    inventory = config.inventory
    ledger = DynamoInventoryLedger(inventory_table_name(stack), client=lambda: stack.client("dynamodb"))
    keys = set()
    for policy in inventory.channels.values():
        keys |= rows_needed(expected.listed, policy, inventory)
    levels = ledger.levels(keys)
    report.oversold += sum(max(0, level.reserved - level.on_hand) for level in levels.values())
    shown = _shown(stack)
    for channel, policy in sorted(inventory.channels.items()):
        for sku in expected.listed:
            atp = channel_availability(sku, levels, policy, inventory).quantity
            value = shown[channel].get(sku)
            if value is None or value != atp:
                report.off_atp.append(f"{channel} {sku}: shows {value}, ATP {atp}")
            if value is not None and value > atp:
                report.above_atp.append(f"{channel} {sku}: shows {value}, ATP {atp}")


def _shown(stack: LocalStack) -> dict[str, dict[str, int | None]]:
    shopify, bigcommerce = stack.sandboxes["shopify"], stack.sandboxes["bigcommerce"]
    woocommerce = stack.sandboxes["woocommerce"]
    assert isinstance(shopify, ShopifySandbox)
    assert isinstance(bigcommerce, BigCommerceSandbox)
    assert isinstance(woocommerce, WooCommerceSandbox)
    skus = {entry["sku"] for entry in shopify.inventory_history if entry.get("sku")}
    return {
        "shopify": {sku: shopify.available(sku) for sku in skus},
        "bigcommerce": {sku: bigcommerce.stock(sku) for sku in bigcommerce.catalog},
        "woocommerce": {p["sku"]: p["stock_quantity"] for p in woocommerce.products.values() if p.get("sku")},
    }


def inventory_table_name(stack: LocalStack) -> str:
    assert stack.provisioned
    return next(n for logical, n in stack.provisioned.tables.items() if logical.startswith("Inventory"))


def render_inventory(report: InventoryReport) -> list[str]:
    lines = ["Inventory"]
    lines += [f"  {'burst changes':<30}{report.burst_changes:>8}"]
    lines += [f"  {'burst seconds (to quiet)':<30}{report.burst_seconds:>8.1f}"]
    lines += [f"  {channel} burst calls: {calls}" for channel, calls in sorted(report.burst_calls.items())]
    if report.lag_ms:
        p50 = statistics.median(report.lag_ms)
        p99 = statistics.quantiles(report.lag_ms, n=100)[98] if len(report.lag_ms) > 1 else report.lag_ms[0]
        lines += [f"  {'propagation lag p50 / p99 ms':<30}{p50:>8.0f} / {p99:.0f}"]
    lines += [f"  {'flash sale accepted / held':<30}{report.flash_accepted:>8} / {report.flash_held}"]
    lines += [f"  {'oversell prevented (events)':<30}{report.prevented:>8}", ""]
    return lines
