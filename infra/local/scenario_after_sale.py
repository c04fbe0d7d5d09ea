"""The demo's after-sale phases: ship what was released, invoice it, tell the channels; then returns.

- Shipments: a partial shipment (pick, pack, ship part, then the rest), a multi-package one, the others whole.
  Some ``order.shipped`` webhooks are delivered twice under one id, and one is sent again as a new event.
- The carrier reports in transit and delivered for one shipment (and a pre-scan status that is ignored).
- An ERP outage while shipments arrive: they wait in their queue (no DLQ) and flow once the ERP is back.
- Returns through ``POST /v1/returns``: one restocked and one scrapped unit (credited 100 % and 50 %: a partial
  refund), a partial return of one unit, a duplicated ``return.completed``, and requests the rules refuse (more
  than shipped, an unknown reason, a shipment outside the return window).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from infra.local.iam import signed
from infra.local.sandboxes.base import Faults
from infra.local.sandboxes.bigcommerce import BigCommerceSandbox
from infra.local.sandboxes.carrier import CarrierSandbox
from infra.local.sandboxes.netsuite import NetSuiteSandbox
from infra.local.sandboxes.shopify import ShopifySandbox
from infra.local.sandboxes.wms import WmsSandbox
from infra.local.sandboxes.woocommerce import WooCommerceSandbox
from infra.local.scenario_orders import (
    SHOPIFY_BASE_ID,
    b2b_order,
    bigcommerce_order,
    shopify_order,
    woocommerce_order,
)
from infra.local.stack import LocalStack
from infra.samples import compact, standard_webhooks_headers
from shared.ids import erp_external_id

OUTAGE_SECONDS = 20.0
# Channels with an API first: the partial shipment and the returns then end in a channel refund.
CHANNEL_ORDER = ("shopify", "bigcommerce", "woocommerce", "b2b_portal")
OLD_SHIPMENT_DAYS = 45  # past the 30-day return window


@dataclass
class ReturnCase:
    rma_number: str
    order_key: str
    received: list[dict[str, Any]]  # what the warehouse received: sku, quantity, action, condition


@dataclass
class AfterSaleExpected:
    shipments: dict[str, str] = field(default_factory=dict)  # shipment id → order key
    partial: set[str] = field(default_factory=set)  # order keys shipped in more than one shipment
    multi_package: set[str] = field(default_factory=set)  # shipment ids with several packages
    during_outage: set[str] = field(default_factory=set)  # shipment ids shipped while the ERP was down
    duplicates_sent: int = 0
    outage: tuple[float, float] = (0.0, 0.0)
    returns: list[ReturnCase] = field(default_factory=list)
    refused: list[tuple[str, int, str]] = field(default_factory=list)  # (case, status, error)
    journey_order: str | None = None  # the order whose timeline shows the whole journey


def ship_and_return(
    stack: LocalStack,
    order_keys: list[str],
    rng: random.Random,
    per_channel: int = 2,
    outage_seconds: float = OUTAGE_SECONDS,
) -> AfterSaleExpected:
    """``order_keys``: accepted, released, not cancelled. Ships ``per_channel`` orders of each channel kind."""
    wms, carrier, netsuite = _sandboxes(stack)
    expected = AfterSaleExpected()
    chosen = _choose(order_keys, per_channel)
    releases = {key: releases_of(wms, key) for key in chosen}
    chosen = [key for key in chosen if releases[key]]
    if len(chosen) < 5:
        raise RuntimeError(f"the after-sale phase needs 5 released orders, found {len(chosen)}")
    partial_key, multi_key, outage_keys, old_key, rest = chosen[0], chosen[1], chosen[2:4], chosen[4], chosen[5:]

    # 1. Pick, pack and a partial shipment, then the rest; a three-box shipment; the others whole.
    for order in releases[partial_key]:
        wms.pick(order["id"])
        wms.pack(order["id"])
        first = _ship(wms, order, expected, partial_key, partial=_half(order), delays=(0.0, 0.0))
        _ship(wms, order, expected, partial_key)
        expected.partial.add(partial_key)
        expected.duplicates_sent += 1
        carrier.follow(first)
        tracking = first["tracking"]["tracking_number"]
        for tag in ("InfoReceived", "InTransit", "Delivered"):
            carrier.update(tracking, tag)
        wms.deliver(first["id"])
    for order in releases[multi_key]:
        shipped = _ship(wms, order, expected, multi_key, packages=3)
        expected.multi_package.add(str(shipped["id"]))
        wms.reannounce(shipped["id"])  # the same shipment as a new event
        expected.duplicates_sent += 1
    for key in rest:
        for order in releases[key]:
            _ship(wms, order, expected, key, delays=(0.0, 0.0) if rng.random() < 0.3 else (0.0,))
    # A shipment from long ago, for a return out of its window: the clock is turned back for it, then forward.
    stack.clock.advance(-OLD_SHIPMENT_DAYS * 86400)
    for order in releases[old_key]:
        _ship(wms, order, expected, old_key)
    stack.clock.advance(OLD_SHIPMENT_DAYS * 86400)
    _flush(stack)
    stack.wait_until_quiet(timeout=120)

    # 2. The ERP goes down while two more orders ship: they wait, then flow.
    start = stack.clock.now()
    expected.outage = (start, start + outage_seconds)
    netsuite.faults = Faults(outages=[expected.outage])
    for key in outage_keys:
        for order in releases[key]:
            shipped = _ship(wms, order, expected, key)
            expected.during_outage.add(str(shipped["id"]))
    _flush(stack)
    time.sleep(max(0.0, expected.outage[1] - stack.clock.now()))
    netsuite.faults = Faults()
    stack.wait_until_quiet(timeout=180)

    # 3. Returns, and what the rules refuse.
    expected.journey_order = partial_key
    _returns(stack, wms, expected, partial_key, releases[partial_key], restock_and_scrap=True)
    _returns(stack, wms, expected, multi_key, releases[multi_key], restock_and_scrap=False)
    _refused(stack, wms, expected, outage_keys[0], releases[outage_keys[0]], old_key, releases[old_key])
    _flush(stack)
    stack.wait_until_quiet(timeout=120)
    return expected


def place_orders(stack: LocalStack, first: int, per_channel: int, *, wait: bool = True) -> list[str]:
    """Orders from every channel kind, numbered from ``first`` (apart from the scenario's): their order keys.

    ``wait``: until the stack is quiet (not while the ERP is down: parked records keep it busy).
    """
    assert stack.api
    shopify, bigcommerce, woocommerce = (stack.sandboxes[n] for n in ("shopify", "bigcommerce", "woocommerce"))
    assert isinstance(shopify, ShopifySandbox)
    assert isinstance(bigcommerce, BigCommerceSandbox)
    assert isinstance(woocommerce, WooCommerceSandbox)
    woocommerce.send_ping(12)  # a hook is saved before it delivers
    store = woocommerce.connection()["settings"]["store"]
    secret = stack.webhook_secret("b2b_portal")
    keys = []
    for number in range(first, first + per_channel):
        shopify.emit_order("orders/create", shopify_order(number))
        keys.append(f"shopify:{shopify.shop_domain}:{SHOPIFY_BASE_ID + number}")
        bigcommerce.add_order(*bigcommerce_order(5000 + number))
        bigcommerce.emit_order_event("store/order/created", 5000 + number)
        keys.append(f"bigcommerce:{bigcommerce.store_hash}:{5000 + number}")
        woocommerce.emit_order("order.created", woocommerce_order(31000 + number), stamp=True)
        keys.append(f"woocommerce:{store}:{31000 + number}")
        payload = b2b_order(4400 + number)
        body = compact(payload)
        headers = {"content-type": "application/json", **standard_webhooks_headers(body, secret, f"msg_{number}")}
        httpx.post(f"{stack.api.url}/v1/webhooks/b2b_portal", headers=headers, content=body, timeout=30)
        keys.append(f"b2b_portal:default:{payload['data']['id']}")
    _flush(stack)
    if wait:
        stack.wait_until_quiet(timeout=120)
    return keys


def _sandboxes(stack: LocalStack) -> tuple[WmsSandbox, CarrierSandbox, NetSuiteSandbox]:
    wms, carrier, netsuite = stack.sandboxes["wms"], stack.sandboxes["carrier"], stack.sandboxes["netsuite"]
    assert isinstance(wms, WmsSandbox)
    assert isinstance(carrier, CarrierSandbox)
    assert isinstance(netsuite, NetSuiteSandbox)
    return wms, carrier, netsuite


def _choose(order_keys: list[str], per_channel: int) -> list[str]:
    """A few orders of each channel kind, interleaved so that every case meets more than one channel."""
    by_channel: dict[str, list[str]] = {kind: [] for kind in CHANNEL_ORDER}
    for key in sorted(order_keys):
        by_channel.setdefault(key.split(":", 1)[0], []).append(key)
    rounds = [[keys[i] for keys in by_channel.values() if i < len(keys)] for i in range(per_channel)]
    return [key for batch in rounds for key in batch]


def releases_of(wms: WmsSandbox, order_key: str) -> list[dict[str, Any]]:
    prefix = erp_external_id(order_key) + "-"
    return sorted(
        (o for o in wms.orders.values() if str(o["reference_id"]).startswith(prefix) and o["status"] != "Cancelled"),
        key=lambda o: int(o["id"]),
    )


def _half(order: dict[str, Any]) -> dict[str, int]:
    """Part of an order: half of the first product (at least one unit), so the rest ships later."""
    product = order["products"][0]
    quantity = int(product["quantity"])
    if quantity < 2 and len(order["products"]) < 2:
        return {}
    return {product["reference_id"]: max(1, quantity // 2)}


def _ship(
    wms: WmsSandbox,
    order: dict[str, Any],
    expected: AfterSaleExpected,
    order_key: str,
    *,
    partial: dict[str, int] | None = None,
    packages: int = 1,
    delays: tuple[float, ...] = (0.0,),
) -> dict[str, Any]:
    shipped = wms.ship(order["id"], partial_lines=partial or None, packages=[{}] * packages, delays=delays)
    expected.shipments[str(shipped["id"])] = order_key
    if len(delays) > 1:
        expected.duplicates_sent += 1
    return shipped


def _flush(stack: LocalStack) -> None:
    for sandbox in stack.sandboxes.values():
        sandbox.flush_webhooks(shuffle=True)


def shipped_quantities(wms: WmsSandbox, order: dict[str, Any]) -> dict[str, int]:
    quantities: dict[str, int] = {}
    for shipment in wms.snapshot()["shipments"].values():
        if shipment["order_id"] == order["id"] and shipment["status"] == "Completed":
            for product in shipment["products"]:
                sku = product["reference_id"]
                units = sum(int(item["quantity"]) for item in product["inventory_items"])
                quantities[sku] = quantities.get(sku, 0) + units
    return quantities


def authorize_return(stack: LocalStack, order_key: str, request_id: str, lines: list[tuple[str, int, str]]) -> Any:
    assert stack.api
    channel, rest = order_key.split(":", 1)
    store, external_id = rest.rsplit(":", 1)
    body = {
        "channel": channel,
        "store": store,
        "external_id": external_id,
        "request_id": request_id,
        "lines": [{"sku": sku, "quantity": quantity, "reason_code": reason} for sku, quantity, reason in lines],
    }
    return signed("POST", f"{stack.api.url}/v1/returns", body)


def _returns(
    stack: LocalStack,
    wms: WmsSandbox,
    expected: AfterSaleExpected,
    order_key: str,
    orders: list[dict[str, Any]],
    *,
    restock_and_scrap: bool,
) -> None:
    order = orders[0]
    if order_key.startswith("shopify:"):
        # The buyer paid by card (the sample order is on net terms): the refund then sends money back.
        shopify = stack.sandboxes["shopify"]
        assert isinstance(shopify, ShopifySandbox)
        shopify.mark_paid(int(order_key.rsplit(":", 1)[-1]))
    shipped = shipped_quantities(wms, order)
    sku, units = max(shipped.items(), key=lambda item: item[1])
    quantity = 2 if restock_and_scrap and units >= 2 else 1
    response = authorize_return(stack, order_key, f"{order_key}:return-1", [(sku, quantity, "damaged")])
    if response.status_code != 201:
        raise RuntimeError(f"the returns API refused a valid return: {response.status_code} {response.text}")
    rma = response.json()["rma_number"]
    if restock_and_scrap and quantity == 2:
        items = [
            {"sku": sku, "quantity": 1, "action": "restock", "condition": "new"},
            {"sku": sku, "quantity": 1, "action": "dispose", "condition": "damaged"},
        ]
    else:
        items = [{"sku": sku, "quantity": quantity, "action": "restock", "condition": "new"}]
    # Delivered twice under one webhook-id; the warehouse puts restocked units back where the order shipped from.
    fc_id = int(order.get("location_id") or 1)
    wms.complete_return(rma, order_id=order["id"], items=items, fc_id=fc_id, delays=(0.0, 0.0))
    expected.duplicates_sent += 1
    expected.returns.append(ReturnCase(rma_number=rma, order_key=order_key, received=items))


def _refused(
    stack: LocalStack,
    wms: WmsSandbox,
    expected: AfterSaleExpected,
    order_key: str,
    orders: list[dict[str, Any]],
    old_key: str,
    old_orders: list[dict[str, Any]],
) -> None:
    """Requests the rules refuse, each with its reason; nothing of them may reach the ERP."""
    sku, units = next(iter(shipped_quantities(wms, orders[0]).items()))
    old_sku, _ = next(iter(shipped_quantities(wms, old_orders[0]).items()))
    cases = [
        ("more than shipped", order_key, [(sku, units + 1, "damaged")]),
        ("unknown reason", order_key, [(sku, 1, "changed_my_mind")]),
        ("outside the window", old_key, [(old_sku, 1, "defective")]),
    ]
    for case, key, lines in cases:
        response = authorize_return(stack, key, f"refused-{case.replace(' ', '-')}", lines)
        expected.refused.append((case, response.status_code, str(response.json().get("error", ""))))
