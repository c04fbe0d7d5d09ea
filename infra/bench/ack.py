"""Webhook ack latency on the local stack: how long ``POST /v1/webhooks/shopify`` takes to answer, client-side.

Each delivery is a new order (the real-format sample under a new id), signed as Shopify signs, sent one at a time
over one kept-alive connection, so the figure is the intake's own latency: API, signature, parse, idempotency
record, PutEvents, answer. The consumers are paused while it runs: on AWS they run on their own capacity, here
they would take the same two cores away from the intake. A few deliveries first warm the path and are not timed.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from infra.local.sandboxes.shopify import ShopifySandbox
from infra.local.scenario_orders import shopify_order
from infra.local.stack import LocalStack
from infra.samples import compact, shopify_delivery

WARM_UP = 5
FIRST_NUMBER = 50_000  # order numbers apart from every other phase's


def measure(stack: LocalStack, deliveries: int, *, resume: bool = True) -> list[float]:
    """ms per delivery, in the order sent; raises if any delivery is not acknowledged with a 2xx.

    ``resume``: the consumers take up their queues again afterwards (a stack about to stop need not: they would
    only start on the deliveries' orders and hold the stop up)."""
    assert stack.api
    shopify = stack.sandboxes["shopify"]
    assert isinstance(shopify, ShopifySandbox)
    secret = stack.webhook_secret("shopify")
    url = f"{stack.api.url}/v1/webhooks/shopify"
    # Side by side: each pause waits out its poller's long poll (up to 5 s), and there are a dozen and more.
    with ThreadPoolExecutor(max_workers=max(1, len(stack.pollers))) as pool:
        list(pool.map(lambda poller: poller.pause(), stack.pollers))
    try:
        latencies = []
        with httpx.Client(timeout=30) as client:
            for number in range(WARM_UP + deliveries):
                body = compact(shopify_order(FIRST_NUMBER + number))
                headers = {
                    "content-type": "application/json",
                    **shopify_delivery(body, secret=secret, shop=shopify.shop_domain),
                }
                started = time.perf_counter()
                response = client.post(url, headers=headers, content=body)
                elapsed_ms = (time.perf_counter() - started) * 1000
                if not 200 <= response.status_code < 300:
                    raise RuntimeError(f"the intake answered {response.status_code}: {response.text[:200]}")
                if number >= WARM_UP:
                    latencies.append(elapsed_ms)
        return latencies
    finally:
        if resume:
            for poller in stack.pollers:
                poller.resume()
