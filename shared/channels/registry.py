"""Platform name → adapter. The intake looks platforms up here and nowhere else."""

from __future__ import annotations

from shared.breaker import Breaker
from shared.carrier.adapter import CarrierWebhookAdapter
from shared.channels.b2b_portal.adapter import B2BPortalAdapter
from shared.channels.base import ChannelApi, WebhookAdapter
from shared.channels.bigcommerce.adapter import BigCommerceAdapter
from shared.channels.shopify.adapter import ShopifyAdapter
from shared.channels.woocommerce.adapter import WooCommerceAdapter
from shared.connections import Connection
from shared.errors import NotFound
from shared.wms.webhook import WmsWebhookAdapter

_ADAPTERS: dict[str, WebhookAdapter] = {
    adapter.platform: adapter
    for adapter in (
        ShopifyAdapter(),
        BigCommerceAdapter(),
        WooCommerceAdapter(),
        B2BPortalAdapter(),
        WmsWebhookAdapter(),
        CarrierWebhookAdapter(),
    )
}


def adapter_for(platform: str) -> WebhookAdapter:
    try:
        return _ADAPTERS[platform]
    except KeyError:
        raise NotFound("unknown platform", platform=platform) from None


def platforms() -> list[str]:
    return sorted(_ADAPTERS)


# Channels we call back (claim checks, reconciliation, status); the others only send to us.
API_PLATFORMS = frozenset({"shopify", "bigcommerce", "woocommerce"})


def api_for(platform: str, connection: Connection, breaker: Breaker | None = None) -> ChannelApi:
    """The channel's own API, for claim checks, reconciliation and status pushes.

    A channel with no API to call (a B2B portal only sends to us) raises ``NotFound``, as an unknown one does.
    The clients are imported here, not at the top: the webhook intake imports this module and needs no HTTP
    client on its cold start.
    """
    if platform == "shopify":
        from shared.channels.shopify.api import ShopifyApi

        return ShopifyApi(connection, breaker=breaker)
    if platform == "bigcommerce":
        from shared.channels.bigcommerce.api import BigCommerceApi

        return BigCommerceApi(connection, breaker=breaker)
    if platform == "woocommerce":
        from shared.channels.woocommerce.api import WooCommerceApi

        return WooCommerceApi(connection, breaker=breaker)
    raise NotFound("platform has no channel API", platform=platform)
