"""What a channel offers for stock: find its listing of a SKU, and set the shown quantity of many at once.

Each platform's adapter is ``shared/channels/<platform>/inventory.py``; ``inventory_api_for`` picks one.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from shared.breaker import Breaker
from shared.connections import Connection
from shared.errors import NotFound

Listing = dict[str, str]  # the channel's own ids for a SKU (e.g. inventory item and location)


@dataclass(frozen=True)
class StockUpdate:
    sku: str
    listing: Listing
    quantity: int
    # The value we believe the channel shows (compare-and-set where the platform has it); None skips the check.
    expected: int | None
    basis: int  # the ledger basis the quantity was computed from, for the channel's audit trail


@dataclass
class PushOutcome:
    """``stale``: SKUs the channel refused because it shows another value (SKU → what it shows)."""

    applied: list[str] = field(default_factory=list)
    stale: dict[str, int] = field(default_factory=dict)
    calls: int = 0


class ChannelInventory(Protocol):
    platform: str
    max_batch: int  # the most quantities one write takes

    def lookup(self, skus: Sequence[str]) -> Mapping[str, Listing | None]:
        """The channel's ids for each SKU, ``None`` for a SKU the channel does not list. Batched under the hood."""

    def set_available(self, updates: Sequence[StockUpdate]) -> PushOutcome:
        """Set the shown quantity of at most ``max_batch`` SKUs in one write (plus retries when throttled).

        All or nothing where the platform is (Shopify): when any update is stale, none is applied and ``stale``
        names them with the value the channel shows, so the caller recomputes and tries again.
        """


def sku_chunks(skus: Sequence[str], *, max_count: int, max_chars: int) -> Iterator[list[str]]:
    """``skus`` once each, in order, in chunks of at most ``max_count`` SKUs and ``max_chars`` characters.

    Lookups put SKUs in a URL or a search string; the character budget keeps either from growing without bound.
    """
    chunk: list[str] = []
    chars = 0
    for sku in dict.fromkeys(skus):
        if chunk and (len(chunk) == max_count or chars + len(sku) + 1 > max_chars):
            yield chunk
            chunk, chars = [], 0
        chunk.append(sku)
        chars += len(sku) + 1
    if chunk:
        yield chunk


def inventory_api_for(platform: str, connection: Connection, breaker: Breaker | None = None) -> ChannelInventory:
    """Imported lazily, as ``registry.api_for`` does: only the sync functions need these clients."""
    if platform == "shopify":
        from shared.channels.shopify.inventory import ShopifyInventory

        return ShopifyInventory(connection, breaker=breaker)
    if platform == "bigcommerce":
        from shared.channels.bigcommerce.inventory import BigCommerceInventory

        return BigCommerceInventory(connection, breaker=breaker)
    if platform == "woocommerce":
        from shared.channels.woocommerce.inventory import WooCommerceInventory

        return WooCommerceInventory(connection, breaker=breaker)
    raise NotFound("platform has no inventory API", platform=platform)
