"""Channels that read their own throttles tell the breaker: a throttle they give up on counts as a failure, and a
throttled answer (a 429 waited out, Shopify's THROTTLED in a 200) never counts as the channel answering."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import respx

from shared.breaker import Breaker
from shared.channels.bigcommerce.api import BigCommerceApi
from shared.channels.bigcommerce.inventory import BigCommerceInventory
from shared.channels.shopify.api import ShopifyApi
from shared.channels.shopify.inventory import ShopifyInventory
from shared.connections import Connection
from shared.errors import CrossdockError, RateLimited
from shared.models.lifecycle import ChannelStatus
from shared.models.operations import BreakerPolicy
from tests.unit.test_bigcommerce_api import sample_order
from tests.unit.test_breaker import Clock, FakeBreakerStore
from tests.unit.test_channel_inventory import (
    GRAPHQL,
    LOCATION,
    FakeTime,
    bc_items,
    bc_update,
    items_page,
    node,
    set_answer,
    throttled,
    update,
)
from tests.unit.test_shopify_api import tags_answer

SHOPIFY = "https://acme-supply.myshopify.com"
BIGCOMMERCE = "https://api.bigcommerce.com"
STORE = "abc123xyz"
THROTTLED_200 = {"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}]}


class RecordingBreaker(Breaker):
    """Lets every call through and records what the client told it."""

    def __init__(self) -> None:
        super().__init__("channel", FakeBreakerStore())
        self.seen: list[str] = []

    def before_call(self) -> None:
        self.seen.append("call")

    def succeeded(self) -> None:
        self.seen.append("succeeded")

    def failed(self, error: CrossdockError) -> None:
        self.seen.append(f"failed: {error.message}")


def shopify_connection() -> Connection:
    settings = {"shop_domain": "acme-supply.myshopify.com", "inventory_location_id": LOCATION}
    return Connection(base_url=SHOPIFY, credentials={"access_token": "shpat_unit"}, settings=settings)


def bigcommerce_connection() -> Connection:
    return Connection(base_url=BIGCOMMERCE, credentials={"access_token": "bc-token"}, settings={"store_hash": STORE})


def quota(left: int, reset_ms: int) -> dict[str, str]:
    return {"X-Rate-Limit-Requests-Left": str(left), "X-Rate-Limit-Time-Reset-Ms": str(reset_ms)}


@pytest.fixture
def shop() -> Iterator[respx.Route]:
    with respx.mock(base_url=SHOPIFY) as router:
        yield router.post(GRAPHQL)


@pytest.fixture
def store() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BIGCOMMERCE) as router:
        yield router


# -- Shopify ---------------------------------------------------------------------------------------------------------
def test_shopify_orders_a_throttled_200_is_a_failure_not_an_answer(shop: respx.Route) -> None:
    breaker = RecordingBreaker()
    shop.respond(200, json=THROTTLED_200)
    with pytest.raises(RateLimited):
        ShopifyApi(shopify_connection(), breaker=breaker).push_status("7124853309745", ChannelStatus.ACCEPTED)
    assert breaker.seen == ["call", "failed: shopify throttled"]


def test_shopify_orders_a_real_answer_still_succeeds(shop: respx.Route) -> None:
    breaker = RecordingBreaker()
    shop.mock(return_value=tags_answer(["crossdock:accepted"]))
    ShopifyApi(shopify_connection(), breaker=breaker).push_status("7124853309745", ChannelStatus.ACCEPTED)
    assert breaker.seen == ["call", "succeeded"]


def test_shopify_inventory_throttled_answers_waited_out_are_neither(shop: respx.Route) -> None:
    breaker, clock = RecordingBreaker(), FakeTime()
    shop.side_effect = [throttled(requested=11, available=0), set_answer()]
    inventory = ShopifyInventory(shopify_connection(), breaker=breaker, sleep=clock.sleep, monotonic=clock.monotonic)
    inventory.set_available([update("A", 1, 5)])
    assert breaker.seen == ["call", "call", "succeeded"]


def test_shopify_inventory_throttled_to_the_end_counts_one_failure(shop: respx.Route) -> None:
    breaker, clock = RecordingBreaker(), FakeTime()
    shop.side_effect = [throttled(requested=11, available=0) for _ in range(4)]
    inventory = ShopifyInventory(shopify_connection(), breaker=breaker, sleep=clock.sleep, monotonic=clock.monotonic)
    with pytest.raises(RateLimited):
        inventory.set_available([update("A", 1, 5)])
    assert breaker.seen == ["call"] * 4 + ["failed: shopify throttled"]


def test_shopify_inventory_a_spent_cost_bucket_counts_before_calling(shop: respx.Route) -> None:
    breaker, clock = RecordingBreaker(), FakeTime()
    shop.side_effect = [items_page(node("A", 1, 4), available=0, restore=1)]
    inventory = ShopifyInventory(shopify_connection(), breaker=breaker, sleep=clock.sleep, monotonic=clock.monotonic)
    inventory.lookup(["A"])
    with pytest.raises(RateLimited):
        inventory.set_available([update("A", 1, 5)])  # 11 s to wait: left to the queue
    assert breaker.seen == ["call", "succeeded", "failed: shopify cost bucket spent"]


# -- BigCommerce -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("reset_ms", "message"), [(500, "bigcommerce rate limited"), (12_000, "bigcommerce quota spent")]
)
def test_bigcommerce_orders_429s_it_gives_up_on_count_and_never_succeed(
    store: respx.MockRouter, reset_ms: int, message: str
) -> None:
    breaker, clock = RecordingBreaker(), FakeTime()
    store.get(f"/stores/{STORE}/v2/orders/1207").respond(429, json={"status": 429}, headers=quota(0, reset_ms))
    api = BigCommerceApi(bigcommerce_connection(), breaker=breaker, sleep=clock.sleep, monotonic=clock.monotonic)
    with pytest.raises(RateLimited):
        api.push_status("1207", ChannelStatus.ACCEPTED)
    calls = 2 if reset_ms <= 2000 else 1  # a short reset is waited out once
    assert breaker.seen == ["call"] * calls + [f"failed: {message}"]


def test_bigcommerce_orders_a_429_waited_out_then_an_answer_succeeds_once(store: respx.MockRouter) -> None:
    breaker, clock = RecordingBreaker(), FakeTime()
    store.get(f"/stores/{STORE}/v2/orders/1207").mock(
        side_effect=[
            httpx.Response(429, json={"status": 429}, headers=quota(0, 500)),
            httpx.Response(200, json=sample_order()),
        ]
    )
    api = BigCommerceApi(bigcommerce_connection(), breaker=breaker, sleep=clock.sleep, monotonic=clock.monotonic)
    api.push_status("1207", ChannelStatus.ACCEPTED)  # already 11: one read
    assert breaker.seen == ["call", "call", "succeeded"]


def test_bigcommerce_inventory_a_long_quota_reset_counts(store: respx.MockRouter) -> None:
    breaker, clock = RecordingBreaker(), FakeTime()
    store.get(f"/stores/{STORE}/v3/inventory/items").mock(return_value=bc_items("A", headers=quota(0, 20_000)))
    inventory = BigCommerceInventory(
        bigcommerce_connection(), breaker=breaker, sleep=clock.sleep, monotonic=clock.monotonic
    )
    inventory.lookup(["A"])
    with pytest.raises(RateLimited):
        inventory.set_available([bc_update("A", 1)])
    assert breaker.seen == ["call", "succeeded", "failed: bigcommerce quota spent"]


# -- a real breaker: a throttled probe goes on, and only a real answer closes it -------------------------------------
POLICY = BreakerPolicy(failure_threshold=1, window_seconds=60, cooldown_seconds=30, max_cooldown_seconds=120)


def open_breaker(clock: Clock) -> tuple[Breaker, FakeBreakerStore]:
    store = FakeBreakerStore()
    breaker = Breaker("shopify", store, POLICY, now=clock)
    breaker.before_call()
    breaker.failed(RateLimited("shopify throttled", system="shopify"))
    clock.advance(POLICY.cooldown_seconds)  # due: the next call is the probe
    return breaker, store


def test_a_probe_throttled_then_answered_closes_the_breaker_on_the_answer(shop: respx.Route) -> None:
    clock, time = Clock(), FakeTime()
    breaker, store = open_breaker(clock)
    answers = iter([throttled(requested=11, available=0), set_answer()])
    open_when_called: list[bool] = []

    def answer(request: httpx.Request) -> httpx.Response:
        open_when_called.append(store.items["shopify"].is_open)
        return next(answers)

    shop.side_effect = answer
    inventory = ShopifyInventory(shopify_connection(), breaker=breaker, sleep=time.sleep, monotonic=time.monotonic)
    inventory.set_available([update("A", 1, 5)])
    assert open_when_called == [True, True]  # the throttled answer closed nothing, and the probe went on
    assert not store.items["shopify"].is_open


def test_a_probe_throttled_to_the_end_reopens_the_breaker(shop: respx.Route) -> None:
    clock, time = Clock(), FakeTime()
    breaker, store = open_breaker(clock)
    shop.side_effect = [throttled(requested=11, available=0) for _ in range(4)]
    inventory = ShopifyInventory(shopify_connection(), breaker=breaker, sleep=time.sleep, monotonic=time.monotonic)
    with pytest.raises(RateLimited):
        inventory.set_available([update("A", 1, 5)])
    state = store.items["shopify"]
    assert (state.is_open, state.cooldown_seconds, state.probe_until) == (True, 60, None)  # doubled, lease given back
