"""``api_for``: one API client per channel that has an API; NotFound for one that only sends to us."""

from __future__ import annotations

import pytest

from shared.channels.bigcommerce.api import BigCommerceApi
from shared.channels.registry import api_for
from shared.channels.shopify.api import ShopifyApi
from shared.channels.woocommerce.api import WooCommerceApi
from shared.connections import Connection
from shared.errors import NotFound

CONNECTION = Connection(
    base_url="https://example.invalid",
    credentials={"access_token": "t", "consumer_key": "ck", "consumer_secret": "cs"},
    settings={"shop_domain": "acme.myshopify.com", "store_hash": "abc123"},
)


@pytest.mark.parametrize(
    ("platform", "kind"), [("shopify", ShopifyApi), ("bigcommerce", BigCommerceApi), ("woocommerce", WooCommerceApi)]
)
def test_each_channel_with_an_api_gets_its_client(platform: str, kind: type) -> None:
    api = api_for(platform, CONNECTION)
    assert isinstance(api, kind)
    assert api.platform == platform


@pytest.mark.parametrize("platform", ["b2b_portal", "magento"])
def test_a_channel_without_an_api_is_not_found(platform: str) -> None:
    with pytest.raises(NotFound):
        api_for(platform, CONNECTION)
