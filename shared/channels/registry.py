"""Platform name → adapter. The intake looks platforms up here and nowhere else."""

from __future__ import annotations

from shared.channels.base import WebhookAdapter
from shared.channels.shopify.adapter import ShopifyAdapter
from shared.errors import NotFound

_ADAPTERS: dict[str, WebhookAdapter] = {adapter.platform: adapter for adapter in (ShopifyAdapter(),)}


def adapter_for(platform: str) -> WebhookAdapter:
    try:
        return _ADAPTERS[platform]
    except KeyError:
        raise NotFound("unknown platform", platform=platform) from None


def platforms() -> list[str]:
    return sorted(_ADAPTERS)
