"""The demo scenario: orders from the channels, delivered as platforms really deliver them.

Duplicates, retries hours late on the controlled clock, updates and cancellations out of order, plus
hostile and broken requests. What it expects is kept in ``Expected`` for the report's invariants.
"""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx

from infra.local.sandboxes.shopify import ShopifySandbox
from infra.local.stack import LocalStack
from infra.samples import compact, shopify_delivery, shopify_payload

LATE_RETRY_SECONDS = 3 * 3600  # within Shopify's 4 h retry horizon


@dataclass
class Expected:
    """What the scenario's deliveries should produce, for the invariants."""

    orders: dict[str, str] = field(default_factory=dict)  # order key → final status
    hostile: list[int] = field(default_factory=list)  # statuses the hostile requests got


def shopify_order(number: int, *, hours_later: int = 0, cancelled: bool = False) -> dict[str, Any]:
    """The real-format sample, made into order ``number``; later versions carry a later ``updated_at``."""
    base = shopify_payload("orders_cancelled" if cancelled else "orders_updated" if hours_later else "orders_create")
    order = copy.deepcopy(base)
    order["id"] = 7_124_853_400_000 + number
    order["name"] = f"#{2000 + number}"
    order["order_number"] = 2000 + number
    created = datetime.fromisoformat(shopify_payload("orders_create")["created_at"]) + timedelta(minutes=number)
    order["created_at"] = created.isoformat()
    order["updated_at"] = (created + timedelta(hours=hours_later)).isoformat()
    return order


def play_shopify(stack: LocalStack, orders: int, seed: int = 11) -> Expected:
    shopify = stack.sandboxes["shopify"]
    assert isinstance(shopify, ShopifySandbox)
    rng = random.Random(seed)  # a fixed seed: the same run every time
    expected = Expected()
    for number in range(orders):
        key = f"shopify:{shopify.shop_domain}:{7_124_853_400_000 + number}"
        roll = rng.random()
        # A third are delivered twice at once, a fifth again hours later (Shopify retries on its own clock).
        delays = (0.0, 0.0) if roll < 0.33 else (0.0, LATE_RETRY_SECONDS) if roll < 0.53 else (0.0,)
        shopify.emit_order("orders/create", shopify_order(number), delays=delays)
        expected.orders[key] = "received"
        if number % 4 == 0:
            # Updated, then cancelled: flushed shuffled, so the older update often lands last.
            shopify.emit_order("orders/updated", shopify_order(number, hours_later=1), delays=(0.0, 0.0))
            shopify.emit_order("orders/cancelled", shopify_order(number, hours_later=2, cancelled=True))
            expected.orders[key] = "cancelled"
    shopify.flush_webhooks(shuffle=True)
    stack.clock.advance(LATE_RETRY_SECONDS)
    shopify.flush_webhooks(shuffle=True)
    expected.hostile = hostile_requests(stack)
    return expected


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
    ]
    with httpx.Client(timeout=30) as client:
        return [client.post(u, headers=h, content=b).status_code for u, h, b in requests]
