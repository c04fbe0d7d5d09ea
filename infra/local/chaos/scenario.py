"""The chaos run's traffic: orders from every channel kind, their shipments, and returns of some of them.

Every platform event is delivered 1-3 times, some copies hours late, each flush shuffled, and a delivery that got
no 2xx is retried as the platform retries it. ``ChaosExpected`` holds what the checker holds Crossdock to.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from infra.local.chaos.platforms import REAL_RETRY_SECONDS, Deliveries, copies, is_ack, is_retried
from infra.local.sandboxes.bigcommerce import BigCommerceSandbox
from infra.local.sandboxes.shopify import ShopifySandbox
from infra.local.sandboxes.wms import WmsSandbox
from infra.local.sandboxes.woocommerce import WooCommerceSandbox
from infra.local.scenario_after_sale import authorize_return, releases_of, shipped_quantities
from infra.local.scenario_inventory import InventoryExpected
from infra.local.scenario_inventory import seed as seed_stock
from infra.local.scenario_orders import SHOPIFY_BASE_ID, b2b_order, bigcommerce_order, shopify_order, woocommerce_order
from infra.local.stack import LocalStack
from infra.samples import compact, standard_webhooks_headers
from shared.outbound import retry_after_seconds

API_ATTEMPTS = 8  # a caller of our returns API retries a 429 / 5xx this many times
MAX_BACKOFF_SECONDS = 8.0  # its longest wait between tries: 39 s in all, past the dev breaker's longest opening


@dataclass
class ReturnRequest:
    rma_number: str
    order_key: str
    receipt_fc: int


@dataclass
class ChaosExpected:
    inventory: InventoryExpected
    orders: list[str] = field(default_factory=list)  # order keys, every one to be accepted
    shipments: dict[str, str] = field(default_factory=dict)  # shipment id → order key
    returns: list[ReturnRequest] = field(default_factory=list)
    unauthorized_returns: list[str] = field(default_factory=list)  # the returns API never said 201


def place_orders(
    stack: LocalStack, per_channel: int, rng: random.Random, deliveries: Deliveries, expected: ChaosExpected
) -> None:
    shopify, bigcommerce, woocommerce = _channels(stack)
    woocommerce.send_ping(21)
    store = woocommerce.connection()["settings"]["store"]
    for number in range(per_channel):
        delays = copies(rng)
        deliveries.note_copies(delays)
        shopify.emit_order("orders/create", shopify_order(number), delays=delays)
        expected.orders.append(f"shopify:{shopify.shop_domain}:{SHOPIFY_BASE_ID + number}")

        delays = copies(rng)
        deliveries.note_copies(delays)
        bigcommerce.add_order(*bigcommerce_order(5000 + number))
        bigcommerce.emit_order_event("store/order/created", 5000 + number, delays=delays)
        expected.orders.append(f"bigcommerce:{bigcommerce.store_hash}:{5000 + number}")

        delays = copies(rng)
        deliveries.note_copies(delays)
        woocommerce.emit_order("order.created", woocommerce_order(31000 + number), delays=delays, stamp=True)
        expected.orders.append(f"woocommerce:{store}:{31000 + number}")
    deliveries.flush(stack)
    for number in range(per_channel):
        expected.orders.append(_post_b2b(stack, 4400 + number, rng, deliveries))


def ship_all(
    stack: LocalStack, rng: random.Random, partial_share: float, deliveries: Deliveries, expected: ChaosExpected
) -> None:
    """Every release ships: some in two parts; each ``order.shipped`` delivered 1-3 times."""
    wms = _wms(stack)
    for key in expected.orders:
        for order in releases_of(wms, key):
            parts = [_first_half(order)] if rng.random() < partial_share else []
            for partial in [*parts, None]:
                if partial == {}:
                    continue
                delays = copies(rng)
                deliveries.note_copies(delays)
                shipped = wms.ship(order["id"], partial_lines=partial, delays=delays)
                expected.shipments[str(shipped["id"])] = key
    deliveries.flush(stack)


def return_some(
    stack: LocalStack, rng: random.Random, share: float, deliveries: Deliveries, expected: ChaosExpected
) -> None:
    """A share of the shipped orders on channels with an API come back: one unit restocked, one scrapped."""
    wms = _wms(stack)
    shopify = _channels(stack)[0]
    shipped_keys = sorted({k for k in expected.shipments.values() if not k.startswith("b2b_portal:")})
    for key in [k for k in shipped_keys if rng.random() < share]:
        order = releases_of(wms, key)[0]
        sku, units = max(shipped_quantities(wms, order).items(), key=lambda item: item[1])
        if key.startswith("shopify:"):
            shopify.mark_paid(int(key.rsplit(":", 1)[-1]))  # paid by card, so the refund sends money back
        rma = _authorize(stack, key, sku, min(2, units), deliveries)
        if rma is None:
            expected.unauthorized_returns.append(key)
            continue
        items = [{"sku": sku, "quantity": 1, "action": "restock", "condition": "new"}]
        if units >= 2:
            items.append({"sku": sku, "quantity": 1, "action": "dispose", "condition": "damaged"})
        fc_id = int(order.get("location_id") or 1)
        delays = copies(rng)
        deliveries.note_copies(delays)
        wms.complete_return(rma, order_id=order["id"], items=items, fc_id=fc_id, delays=delays)
        expected.returns.append(ReturnRequest(rma, key, fc_id))
    deliveries.flush(stack)


def seed(stack: LocalStack, rng: random.Random, per_channel: int) -> InventoryExpected:
    # The sample orders take 40 boxes a line: enough stock that every order is accepted, whatever the count.
    return seed_stock(stack, rng, with_burst_skus=False, stock_factor=max(20, 3 * per_channel))


def _post_b2b(stack: LocalStack, number: int, rng: random.Random, deliveries: Deliveries) -> str:
    """The portal posts itself: signed Standard Webhooks, 1-3 copies under one webhook-id, each retried until a
    2xx. A Standard Webhooks sender retries for days, the first retry 5 s after a failure and the rest minutes
    to hours apart; here a few times, ``REAL_RETRY_SECONDS`` apart. Half a second apart, all eight retries fell
    inside the intake's 5 s in-progress window after a crash or a lost delete, got 409 and gave up: the order
    never got in, which no real sender would allow."""
    assert stack.api
    secret = stack.webhook_secret("b2b_portal")
    payload = b2b_order(number)
    body = compact(payload)
    msg_id = f"msg_chaos_{number}"
    delays = copies(rng)
    deliveries.note_copies(delays)
    with httpx.Client(timeout=30) as client:
        for _ in delays:
            for _attempt in range(API_ATTEMPTS):
                headers = {"content-type": "application/json", **standard_webhooks_headers(body, secret, msg_id)}
                status = _post(client, f"{stack.api.url}/v1/webhooks/b2b_portal", headers, body)
                deliveries.note_attempt(status)
                if not is_retried(status):
                    break
                time.sleep(REAL_RETRY_SECONDS)
            else:
                deliveries.given_up += 1
    return f"b2b_portal:default:{payload['data']['id']}"


def _post(client: httpx.Client, url: str, headers: dict[str, str], body: bytes) -> int:
    try:
        return client.post(url, headers=headers, content=body).status_code
    except httpx.HTTPError:
        return 0


def _authorize(stack: LocalStack, order_key: str, sku: str, quantity: int, deliveries: Deliveries) -> str | None:
    """Authorize a return through ``POST /v1/returns`` as a client would: retried on 409 / 429 / 5xx with the same
    request id (the API's idempotency key), backing off (1, 2, 4, then 8 s) or as ``Retry-After`` says; any other
    4xx is a refusal. Retried 1 s apart, a client gave up inside one 14 s stretch of an open ERP breaker."""
    delay = 1.0
    for _ in range(API_ATTEMPTS):
        try:
            lines = [(sku, quantity, "damaged")]
            response: Any = authorize_return(stack, order_key, f"{order_key}:chaos-return", lines)
            status = int(response.status_code)
        except httpx.HTTPError:
            status, response = 0, None
        deliveries.note_attempt(status)
        if is_ack(status) and response is not None:
            return str(response.json()["rma_number"])
        if status not in (0, 409, 429) and status < 500:
            return None
        time.sleep(max(delay, retry_after_seconds(response) or 0.0))
        delay = min(delay * 2, MAX_BACKOFF_SECONDS)
    return None


def _first_half(order: dict[str, Any]) -> dict[str, int]:
    product = order["products"][0]
    quantity = int(product["quantity"])
    return {product["reference_id"]: quantity // 2} if quantity >= 2 else {}


def _channels(stack: LocalStack) -> tuple[ShopifySandbox, BigCommerceSandbox, WooCommerceSandbox]:
    shopify, bigcommerce, woocommerce = (stack.sandboxes[n] for n in ("shopify", "bigcommerce", "woocommerce"))
    assert isinstance(shopify, ShopifySandbox)
    assert isinstance(bigcommerce, BigCommerceSandbox)
    assert isinstance(woocommerce, WooCommerceSandbox)
    return shopify, bigcommerce, woocommerce


def _wms(stack: LocalStack) -> WmsSandbox:
    wms = stack.sandboxes["wms"]
    assert isinstance(wms, WmsSandbox)
    return wms
