"""The channel API clients against the sandboxes over real loopback HTTP, seeded with the samples in events/.

Each platform: fetch an order (the claim check), list only the recently changed ones (reconciliation), push
every status and see it in ``/_sandbox/state``, push again and see nothing change, and recover from throttling
once the sandbox's clock has moved on.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from infra.local.sandboxes.bigcommerce import BigCommerceSandbox
from infra.local.sandboxes.shopify import ShopifySandbox
from infra.local.sandboxes.woocommerce import WooCommerceSandbox
from infra.samples import load_json, shopify_payload
from shared.channels.bigcommerce.api import STATUS_IDS, BigCommerceApi
from shared.channels.shopify.api import STATUS_TAGS, ShopifyApi
from shared.channels.shopify.mapping import to_order as shopify_order
from shared.channels.shopify.payloads import ShopifyOrder
from shared.channels.woocommerce.api import STATUSES, WooCommerceApi
from shared.channels.woocommerce.mapping import to_order as woo_order
from shared.channels.woocommerce.payloads import WooOrder
from shared.connections import Connection
from shared.errors import NotFound, RateLimited
from shared.models.lifecycle import ChannelStatus, Reason
from shared.models.order import FinancialStatus
from shared.outbound import OutboundClient
from tests.integration.sandboxes.support import FrozenClock

START = 1_796_053_337.0  # 2026-11-30T15:42:17Z, the BigCommerce and WooCommerce samples' creation time
SHOP = "acme-supply.myshopify.com"
SHOPIFY_TOKEN = "shpat_channel_api_test"
STORE_HASH = "abc123xyz"
BC_TOKEN = "bc_channel_api_test"
WC_KEY = "ck_channel_api_test_0123456789abcdef01234567"
WC_SECRET = "cs_channel_api_test_0123456789abcdef01234567"
WC_STORE = "orders.acme-supply.example"
HOLD = (Reason(code="credit_limit", message="Order exceeds the account's credit limit"),)
EVERY_STATUS = [ChannelStatus.ON_HOLD, ChannelStatus.ACCEPTED, ChannelStatus.REJECTED, ChannelStatus.CANCELLED]
HTTP = httpx.Client(timeout=10)


def state(url: str) -> dict[str, Any]:
    body: dict[str, Any] = HTTP.get(f"{url}/_sandbox/state").json()
    return body


def client(system: str, connection: Connection) -> OutboundClient:
    # No real sleeping between retries: the sandboxes' clocks only move when a test moves them.
    return OutboundClient(system, connection, sleep=lambda _: None)


# -- Shopify -------------------------------------------------------------------------------------------------------
SHOPIFY_START = 1_795_900_000.0  # 2026-11-28, the day of the Shopify samples


@pytest.fixture(scope="module")
def shopify_server() -> Iterator[ShopifySandbox]:
    sandbox = ShopifySandbox(FrozenClock(SHOPIFY_START), access_token=SHOPIFY_TOKEN, bucket_size=1000, restore_rate=50)
    sandbox.start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def shopify(shopify_server: ShopifySandbox) -> ShopifySandbox:
    shopify_server.clock = FrozenClock(SHOPIFY_START)  # every test starts at the same moment
    shopify_server.reset()
    # Three orders; two were updated on the 28th after noon (shop time), one the day before.
    for number, updated_at in enumerate(
        ["2026-11-27T09:00:00-05:00", "2026-11-28T13:42:51-05:00", "2026-11-28T16:05:38-05:00"]
    ):
        payload = shopify_payload("orders_updated")
        payload.update(id=payload["id"] + number, name=f"#{1001 + number}", updated_at=updated_at)
        shopify_server.emit_order("orders/updated", payload, delivered=False)
    return shopify_server


def shopify_api(sandbox: ShopifySandbox) -> ShopifyApi:
    conn = Connection(base_url=sandbox.url, credentials={"access_token": SHOPIFY_TOKEN}, settings={"shop_domain": SHOP})
    return ShopifyApi(conn, client=client("shopify", conn))


def shopify_id(number: int) -> str:
    return str(shopify_payload("orders_updated")["id"] + number)


def test_shopify_fetch_is_the_stored_order_mapped_as_its_webhook_is(shopify: ShopifySandbox) -> None:
    order = shopify_api(shopify).fetch_order(shopify_id(1))
    stored = ShopifyOrder.model_validate(shopify.orders[int(shopify_id(1))])
    assert order == shopify_order(stored, shop_domain=SHOP)
    assert order.financial_status is FinancialStatus.PAID
    assert state(shopify.url)["calls"]["rest order"] == 1
    with pytest.raises(NotFound):
        shopify_api(shopify).fetch_order("999")


def test_shopify_lists_only_the_orders_updated_since(shopify: ShopifySandbox) -> None:
    since = datetime(2026, 11, 28, 12, tzinfo=timezone(timedelta(hours=-5)))
    refs = shopify_api(shopify).list_updated_since(since)
    assert sorted(ref.external_id for ref in refs) == [shopify_id(1), shopify_id(2)]
    assert {ref.key for ref in refs} == {f"shopify:{SHOP}:{shopify_id(n)}" for n in (1, 2)}


def test_shopify_pages_through_more_than_a_page(shopify: ShopifySandbox) -> None:
    base = shopify_payload("orders_updated")
    for number in range(3, 105):
        shopify.emit_order("orders/updated", {**base, "id": base["id"] + number}, delivered=False)
    refs = shopify_api(shopify).list_updated_since(datetime(2026, 11, 28, tzinfo=UTC))
    assert len(refs) == 104  # 102 new ones and the two recent seeds, over two pages
    assert state(shopify.url)["calls"]["graphql"] == 2


def crossdock_tags(sandbox: ShopifySandbox, order_id: str) -> list[str]:
    tags: list[str] = state(sandbox.url)["orders"][order_id]["tags"]
    return [tag for tag in tags if tag.startswith("crossdock:")]


@pytest.mark.parametrize("status", EVERY_STATUS)
def test_shopify_push_tags_once_and_again_changes_nothing(shopify: ShopifySandbox, status: ChannelStatus) -> None:
    api, order_id = shopify_api(shopify), shopify_id(1)
    api.push_status(order_id, ChannelStatus.ON_HOLD, HOLD)  # where orders usually start
    api.push_status(order_id, status, HOLD)
    assert crossdock_tags(shopify, order_id) == [STATUS_TAGS[status]]
    before = state(shopify.url)
    api.push_status(order_id, status, HOLD)
    after = state(shopify.url)
    assert after["mutations"] == before["mutations"]
    assert after["orders"][order_id] == before["orders"][order_id]  # tags and updated_at untouched
    assert "B2B" in after["orders"][order_id]["tags"]  # the merchant's own tags stay
    assert "orderCancel" not in after["mutations"]


def test_shopify_throttling_recovers_once_the_bucket_refills(shopify: ShopifySandbox) -> None:
    api = shopify_api(shopify)
    shopify.drain_bucket(points_left=2)
    with pytest.raises(RateLimited) as caught:
        api.list_updated_since(datetime(2026, 11, 28, tzinfo=UTC))
    assert caught.value.retry_after_seconds == pytest.approx((102 - 2) / 50)
    shopify.clock.advance(caught.value.retry_after_seconds or 0)
    assert len(api.list_updated_since(datetime(2026, 11, 28, tzinfo=UTC))) == 2


def test_shopify_rest_bucket_rate_limits_until_it_leaks(shopify: ShopifySandbox) -> None:
    api = shopify_api(shopify)
    with shopify.lock:
        shopify.rest_bucket.available = 0
    with pytest.raises(RateLimited) as caught:
        api.fetch_order(shopify_id(0))
    assert caught.value.retry_after_seconds == 2.0
    shopify.clock.advance(1)  # two requests leak back a second
    assert api.fetch_order(shopify_id(0)).external_id == shopify_id(0)


# -- BigCommerce ---------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def bigcommerce_server() -> Iterator[BigCommerceSandbox]:
    sandbox = BigCommerceSandbox(FrozenClock(START), store_hash=STORE_HASH, access_token=BC_TOKEN)
    sandbox.start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def bigcommerce(bigcommerce_server: BigCommerceSandbox) -> BigCommerceSandbox:
    bigcommerce_server.clock = FrozenClock(START)  # every test starts at the same moment
    bigcommerce_server.reset()
    bigcommerce_server.echo_webhooks = False
    bigcommerce_server.add_sample_order(1200)  # an hour older than the others
    bigcommerce_server.clock.advance(3600)
    bigcommerce_server.add_sample_order()  # 1207
    bigcommerce_server.add_sample_order(1208)
    return bigcommerce_server


def bigcommerce_api(sandbox: BigCommerceSandbox) -> BigCommerceApi:
    conn = Connection(base_url=sandbox.url, credentials={"access_token": BC_TOKEN}, settings={"store_hash": STORE_HASH})
    # The quota resets on the sandbox's clock, so the client measures the wait on it too.
    return BigCommerceApi(conn, client=client("bigcommerce", conn), monotonic=sandbox.clock.now)


def test_bigcommerce_fetch_assembles_order_products_and_address(bigcommerce: BigCommerceSandbox) -> None:
    order = bigcommerce_api(bigcommerce).fetch_order("1207")
    assert order.key == f"bigcommerce:{STORE_HASH}:1207"
    assert [line.sku for line in order.lines] == ["GLV-NIT-L-100", "TRL-55G-HD-100", "DSF-MS-1G"]
    assert order.shipping_address is not None
    assert (order.shipping_address.city, order.shipping_address.region_code) == ("Obetz", "OH")
    assert order.updated_at == datetime.fromtimestamp(START + 3600, UTC)
    assert order.customer.external_id == "88"
    calls = state(bigcommerce.url)["calls"]
    assert (calls["get order"], calls["get order products"], calls["get shipping addresses"]) == (1, 1, 1)


def test_bigcommerce_lists_only_the_orders_modified_since(bigcommerce: BigCommerceSandbox) -> None:
    since = datetime.fromtimestamp(START + 1800, UTC)
    refs = bigcommerce_api(bigcommerce).list_updated_since(since)
    assert sorted(ref.external_id for ref in refs) == ["1207", "1208"]
    assert all(ref.updated_at == datetime.fromtimestamp(START + 3600, UTC) for ref in refs)
    nothing = bigcommerce_api(bigcommerce).list_updated_since(datetime.fromtimestamp(START + 7200, UTC))
    assert nothing == []  # the sandbox's 204


@pytest.mark.parametrize("status", EVERY_STATUS)
def test_bigcommerce_push_sets_the_status_once(bigcommerce: BigCommerceSandbox, status: ChannelStatus) -> None:
    api = bigcommerce_api(bigcommerce)
    api.push_status("1207", ChannelStatus.ON_HOLD, HOLD)
    api.push_status("1207", status, HOLD)
    before = state(bigcommerce.url)
    assert before["orders"]["1207"]["status_id"] == STATUS_IDS[status]
    assert before["orders"]["1207"]["staff_notes"].count("Crossdock: on hold.") == 1
    api.push_status("1207", status, HOLD)
    after = state(bigcommerce.url)
    assert after["status_history"] == before["status_history"]
    assert after["orders"]["1207"] == before["orders"]["1207"]
    assert after["calls"].get("update order") == before["calls"].get("update order")


def test_bigcommerce_never_moves_a_shipped_order_back(bigcommerce: BigCommerceSandbox) -> None:
    bigcommerce.set_order_status(1207, 2)  # Shipped, in the control panel
    bigcommerce_api(bigcommerce).push_status("1207", ChannelStatus.ON_HOLD, HOLD)
    assert state(bigcommerce.url)["orders"]["1207"]["status_id"] == 2


def test_bigcommerce_quota_backs_off_until_the_window_resets(bigcommerce: BigCommerceSandbox) -> None:
    api = bigcommerce_api(bigcommerce)
    bigcommerce.quota.quota = 2
    api.push_status("1207", ChannelStatus.ACCEPTED)  # already Awaiting Fulfillment: one read
    api.push_status("1208", ChannelStatus.ACCEPTED)  # the last request of the window
    calls = state(bigcommerce.url)["calls"]["get order"]
    with pytest.raises(RateLimited) as caught:
        api.fetch_order("1207")
    assert caught.value.retry_after_seconds == pytest.approx(30.0)
    assert state(bigcommerce.url)["calls"]["get order"] == calls  # it did not spend a doomed request
    bigcommerce.quota.quota = 150  # a fetch takes three requests; the next window has room for them
    bigcommerce.clock.advance(caught.value.retry_after_seconds or 0)
    assert api.fetch_order("1207").external_id == "1207"


# -- WooCommerce ---------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def woocommerce_server() -> Iterator[WooCommerceSandbox]:
    sandbox = WooCommerceSandbox(FrozenClock(START), consumer_key=WC_KEY, consumer_secret=WC_SECRET)
    sandbox.start()
    yield sandbox
    sandbox.stop()


def woo_sample(order_id: int) -> dict[str, Any]:
    order: dict[str, Any] = load_json("woocommerce/order.json")
    return {**order, "id": order_id, "number": str(order_id)}


@pytest.fixture
def woocommerce(woocommerce_server: WooCommerceSandbox) -> WooCommerceSandbox:
    woocommerce_server.clock = FrozenClock(START)  # every test starts at the same moment
    woocommerce_server.reset()
    woocommerce_server.echo_webhooks = False
    woocommerce_server.emit_order("order.created", woo_sample(30400), delivered=False, stamp=True)
    woocommerce_server.clock.advance(3600)
    woocommerce_server.emit_order("order.created", woo_sample(30412), delivered=False, stamp=True)
    woocommerce_server.emit_order("order.created", woo_sample(30413), delivered=False, stamp=True)
    return woocommerce_server


def woocommerce_api(sandbox: WooCommerceSandbox) -> WooCommerceApi:
    conn = Connection(
        base_url=sandbox.url,
        credentials={"consumer_key": WC_KEY, "consumer_secret": WC_SECRET},
        settings={"store": WC_STORE},  # the sandbox answers on 127.0.0.1; the store is the site's host
    )
    return WooCommerceApi(conn, client=client("woocommerce", conn))


def crossdock_notes(sandbox: WooCommerceSandbox, order_id: int) -> list[str]:
    notes = state(sandbox.url)["notes"][str(order_id)]
    return [note["note"] for note in notes if note["note"].startswith("Crossdock:")]


def test_woocommerce_fetch_maps_as_the_webhook_adapter_does(woocommerce: WooCommerceSandbox) -> None:
    order = woocommerce_api(woocommerce).fetch_order("30412")
    assert order == woo_order(WooOrder.model_validate(woocommerce.orders[30412]), WC_STORE)
    assert order.key == f"woocommerce:{WC_STORE}:30412"


def test_woocommerce_lists_only_the_orders_modified_since(woocommerce: WooCommerceSandbox) -> None:
    api = woocommerce_api(woocommerce)
    recent = datetime.fromtimestamp(START + 3600, UTC)  # exactly when the two recent ones changed: included
    assert sorted(ref.external_id for ref in api.list_updated_since(recent)) == ["30412", "30413"]
    assert api.list_updated_since(recent + timedelta(seconds=1)) == []


def test_woocommerce_pages_by_total_pages(woocommerce: WooCommerceSandbox) -> None:
    for order_id in range(31000, 31150):
        woocommerce.emit_order("order.created", woo_sample(order_id), delivered=False, stamp=True)
    refs = woocommerce_api(woocommerce).list_updated_since(datetime.fromtimestamp(START + 3600, UTC))
    assert len(refs) == 152
    assert state(woocommerce.url)["calls"]["list orders"] == 2


@pytest.mark.parametrize("status", EVERY_STATUS)
def test_woocommerce_push_sets_the_status_and_one_note(woocommerce: WooCommerceSandbox, status: ChannelStatus) -> None:
    api = woocommerce_api(woocommerce)
    reasons = (Reason(code="decided", message=f"ERP says {status.value}"),)
    api.push_status("30412", status, reasons)
    before = state(woocommerce.url)
    assert before["orders"]["30412"]["status"] == STATUSES[status]
    api.push_status("30412", status, reasons)
    after = state(woocommerce.url)
    assert after["orders"]["30412"] == before["orders"]["30412"]
    assert after["notes"] == before["notes"]
    # One note, even for a hold on an order already on hold (a bank transfer): the reasons are news there too.
    heading = status.value.replace("_", " ")
    assert crossdock_notes(woocommerce, 30412) == [f"Crossdock: {heading}.\n- decided: ERP says {status.value}"]


def test_woocommerce_rejection_fails_the_order_and_keeps_it(woocommerce: WooCommerceSandbox) -> None:
    woocommerce_api(woocommerce).push_status("30412", ChannelStatus.REJECTED, HOLD)
    order = state(woocommerce.url)["orders"]["30412"]
    assert order["status"] == "failed"
    assert crossdock_notes(woocommerce, 30412) == [
        "Crossdock: rejected.\n- credit_limit: Order exceeds the account's credit limit"
    ]


def test_woocommerce_429_is_rate_limited_then_recovers(woocommerce: WooCommerceSandbox) -> None:
    api = woocommerce_api(woocommerce)
    HTTP.post(f"{woocommerce.url}/_sandbox/faults", json={"rate_limit_rate": 1.0, "retry_after_seconds": 5})
    with pytest.raises(RateLimited) as caught:
        api.fetch_order("30412")
    assert caught.value.retry_after_seconds == 5.0
    HTTP.post(f"{woocommerce.url}/_sandbox/faults", json={})
    assert api.fetch_order("30412").external_id == "30412"
