"""The demo scenario: orders from all four channel kinds, delivered as platforms really deliver them.

Phases, each flushed shuffled (out of order) and followed by a quiet wait:
0. the warehouses report their stock and every SKU is listed on every channel (``scenario_inventory``);
1. creates: some delivered twice at once, some once more hours later on the controlled clock, a few lost;
2. updates and cancellations, reordered;
3. the late retries (the clock jumps ahead);
4. reconciliation of every channel with an API, which must find the lost ones;
5. after the sale: shipments (partial, multi-package, through an ERP outage), invoices, channel fulfillments,
   returns with restock and scrap, credit memos and refunds (``scenario_after_sale``);
6. an ERP outage of several minutes while orders keep coming: the breaker opens, records park, a probe closes it
   (``scenario_outage``);
7. a flash sale: more orders than units, from every channel at once;
8. a burst of 10,000 stock changes over 1,000 SKUs.
Hostile and broken requests go in along the way. ``Expected`` holds what the invariants check.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field

import httpx

from infra.local.sandboxes.bigcommerce import BigCommerceSandbox
from infra.local.sandboxes.shopify import ShopifySandbox
from infra.local.sandboxes.woocommerce import WooCommerceSandbox
from infra.local.scenario_after_sale import AfterSaleExpected, ship_and_return
from infra.local.scenario_inventory import InventoryExpected, burst, flash_sale
from infra.local.scenario_inventory import seed as seed_stock
from infra.local.scenario_orders import (
    SHOPIFY_BASE_ID,
    SHOPIFY_CREDIT_HOLD_CUSTOMER,
    b2b_order,
    bigcommerce_order,
    shopify_order,
    woocommerce_order,
)
from infra.local.scenario_outage import OutageExpected, erp_outage
from infra.local.stack import LocalStack
from infra.samples import compact, shopify_delivery, standard_webhooks_headers

LATE_RETRY_SECONDS = 3 * 3600  # within Shopify's 4 h retry horizon


@dataclass
class Expected:
    """What the scenario's deliveries should produce, by order key."""

    accepted: set[str] = field(default_factory=set)
    held: dict[str, str] = field(default_factory=dict)  # order key → reason code
    rejected: dict[str, str] = field(default_factory=dict)
    cancelled: set[str] = field(default_factory=set)
    lost_webhooks: set[str] = field(default_factory=set)  # reconciliation must bring these in
    hostile: list[int] = field(default_factory=list)
    sent_directly: list[int] = field(default_factory=list)  # statuses of deliveries made without a sandbox
    inventory: InventoryExpected = field(default_factory=InventoryExpected)
    after_sale: AfterSaleExpected | None = None
    outage: OutageExpected | None = None


def play(
    stack: LocalStack,
    orders_per_channel: int = 10,
    seed: int = 11,
    *,
    inventory_phases: bool = True,
    after_sale_phases: bool = True,
    outage_minutes: float = 0.0,
) -> Expected:
    """``inventory_phases``, ``after_sale_phases``: also those phases (the e2e tests run them on their own);
    ``outage_minutes``: how long the ERP is down in the back-pressure phase (0: no such phase)."""
    rng = random.Random(seed)
    expected = Expected(inventory=seed_stock(stack, rng, with_burst_skus=inventory_phases))
    _shopify_creates(stack, orders_per_channel, rng, expected)
    _bigcommerce_creates(stack, orders_per_channel, rng, expected)
    _woocommerce_creates(stack, orders_per_channel, rng, expected)
    _b2b_creates(stack, orders_per_channel, rng, expected)
    _flush_all(stack)
    stack.wait_until_quiet(timeout=120)
    _shopify_cancellations(stack, orders_per_channel, expected)
    _flush_all(stack)
    stack.wait_until_quiet(timeout=120)
    stack.clock.advance(LATE_RETRY_SECONDS)
    _flush_all(stack)
    expected.hostile = hostile_requests(stack)
    stack.wait_until_quiet(timeout=120)
    assert stack.router
    for rule in stack.scheduled_rules("Reconcile"):
        stack.router.fire(rule)
    stack.wait_until_quiet(timeout=120)
    if after_sale_phases:
        expected.after_sale = ship_and_return(stack, sorted(expected.accepted - expected.cancelled), rng)
    if outage_minutes > 0:
        expected.outage = erp_outage(stack, outage_minutes)
        expected.accepted.update(expected.outage.orders)
    if inventory_phases:
        flash_sale(stack, expected.inventory)
        burst(stack, expected.inventory, rng)
    return expected


def _delays(rng: random.Random) -> tuple[float, ...]:
    roll = rng.random()
    # A third delivered twice at once, a fifth again hours later (retries run on the platform's clock).
    return (0.0, 0.0) if roll < 0.33 else (0.0, LATE_RETRY_SECONDS) if roll < 0.53 else (0.0,)


def _shopify_creates(stack: LocalStack, count: int, rng: random.Random, expected: Expected) -> None:
    shopify = stack.sandboxes["shopify"]
    assert isinstance(shopify, ShopifySandbox)
    for number in range(count):
        key = f"shopify:{shopify.shop_domain}:{SHOPIFY_BASE_ID + number}"
        if number == 1:
            order = shopify_order(number, customer=SHOPIFY_CREDIT_HOLD_CUSTOMER)
            expected.held[key] = "credit_hold"
        elif number == 2:
            order = shopify_order(number, country="CU")
            expected.rejected[key] = "restricted_destination"
        else:
            order = shopify_order(number)
            expected.accepted.add(key)
        lost = number == count - 1
        shopify.emit_order("orders/create", order, delays=_delays(rng), delivered=not lost)
        if lost:
            expected.lost_webhooks.add(key)


def _shopify_cancellations(stack: LocalStack, count: int, expected: Expected) -> None:
    """Two accepted orders are cancelled in the channel; each cancel comes with an older update, reordered."""
    shopify = stack.sandboxes["shopify"]
    assert isinstance(shopify, ShopifySandbox)
    for number in (0, 3):
        if number >= count - 1:  # the last one's webhook is lost; reconciliation brings it in later
            continue
        key = f"shopify:{shopify.shop_domain}:{SHOPIFY_BASE_ID + number}"
        shopify.emit_order("orders/updated", shopify_order(number, hours_later=1), delays=(0.0, 0.0))
        shopify.emit_order("orders/cancelled", shopify_order(number, hours_later=2, cancelled=True))
        expected.cancelled.add(key)


def _bigcommerce_creates(stack: LocalStack, count: int, rng: random.Random, expected: Expected) -> None:
    store = stack.sandboxes["bigcommerce"]
    assert isinstance(store, BigCommerceSandbox)
    for number in range(count):
        order_id = 5000 + number
        store.add_order(*bigcommerce_order(order_id))
        lost = number == count - 1
        store.emit_order_event("store/order/created", order_id, delays=_delays(rng), delivered=not lost)
        key = f"bigcommerce:{store.store_hash}:{order_id}"
        expected.accepted.add(key)
        if lost:
            expected.lost_webhooks.add(key)


def _woocommerce_creates(stack: LocalStack, count: int, rng: random.Random, expected: Expected) -> None:
    shop = stack.sandboxes["woocommerce"]
    assert isinstance(shop, WooCommerceSandbox)
    shop.send_ping(11)
    store = shop.connection()["settings"]["store"]
    for number in range(count):
        order_id = 31000 + number
        lost = number == count - 1
        shop.emit_order(
            "order.created", woocommerce_order(order_id), delays=_delays(rng), delivered=not lost, stamp=True
        )
        key = f"woocommerce:{store}:{order_id}"
        expected.accepted.add(key)
        if lost:
            expected.lost_webhooks.add(key)


def _b2b_creates(stack: LocalStack, count: int, rng: random.Random, expected: Expected) -> None:
    """The portal posts to us itself: signed Standard Webhooks, each delivered twice under one webhook-id."""
    assert stack.api
    secret = stack.webhook_secret("b2b_portal")
    with httpx.Client(timeout=30) as client:
        for number in range(count):
            payload = b2b_order(4400 + number)
            body = compact(payload)
            msg_id = f"msg_{uuid.UUID(int=rng.getrandbits(128)).hex}"
            for _ in range(2):
                headers = {"content-type": "application/json", **standard_webhooks_headers(body, secret, msg_id)}
                response = client.post(f"{stack.api.url}/v1/webhooks/b2b_portal", headers=headers, content=body)
                expected.sent_directly.append(response.status_code)
            expected.accepted.add(f"b2b_portal:default:{payload['data']['id']}")


def _flush_all(stack: LocalStack) -> None:
    for sandbox in stack.sandboxes.values():
        sandbox.flush_webhooks(shuffle=True)


def hostile_requests(stack: LocalStack) -> list[int]:
    """What the internet also sends: a forged signature, garbage, an unknown platform. None may get in."""
    assert stack.api
    url = f"{stack.api.url}/v1/webhooks"
    body = compact(shopify_order(999))
    forged = shopify_delivery(body, secret="not-the-secret")  # noqa: S106 - a forger's guess
    garbage = b"{not json"
    requests = [
        (f"{url}/shopify", forged, body),
        (f"{url}/shopify", shopify_delivery(garbage, secret=stack.webhook_secret("shopify")), garbage),
        (f"{url}/magento", shopify_delivery(body, secret=stack.webhook_secret("shopify")), body),
        (f"{url}/b2b_portal", standard_webhooks_headers(body, "whsec_Zm9yZ2Vk", "msg_forged"), body),
    ]
    with httpx.Client(timeout=30) as client:
        return [client.post(u, headers=h, content=b).status_code for u, h, b in requests]
