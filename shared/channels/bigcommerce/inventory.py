"""BigCommerce stock: find each SKU's inventory item, and set its quantity at Crossdock's location.

Platform facts (bigcommerce/docs ``reference/inventory.v3.yml``):
- ``GET /v3/inventory/items`` filters by ``sku:in`` and ``location_id:in`` (comma lists) and pages with ``page``
  and ``limit``; an answer holds at most 1,000 items. Each item is listed with its ``identity`` (``sku``,
  ``variant_id``, ``product_id``) and its level per location. SKUs are unique in a store.
- ``PUT /v3/inventory/adjustments/absolute`` sets quantities (at most 2,000 items), each by ``location_id`` and
  ``sku``. One invalid item refuses the whole payload (422). There is no compare-and-set, so ``expected`` is
  not sent: the ledger is the source of truth here.
- The request quota is the store's, shared with every other app. Each answer says how many requests are left
  and when the window resets (``X-Rate-Limit-*``); when none are left, the next call waits for a short reset or
  raises ``RateLimited`` with it (counted by the breaker, ``OutboundClient.throttled``). A 429 is retried by
  ``OutboundClient`` after its ``Retry-After``.

An absolute set is safe to repeat after a timeout: a second apply leaves the same quantities.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict

from shared.breaker import Breaker
from shared.channels.calls import check, parse, required
from shared.channels.inventory import Listing, PushOutcome, StockUpdate, sku_chunks
from shared.connections import Connection
from shared.errors import RateLimited, ValidationFailed
from shared.observability import logger
from shared.outbound import OutboundClient

SYSTEM = "bigcommerce"
MAX_ADJUSTMENT_ITEMS = 2000
LOOKUP_LIMIT = 250  # SKUs per lookup (an answer may hold 1,000 items)
MAX_URL_SKU_CHARS = 2_000  # our bound on the SKUs in one URL, well under common 8 KB request-line limits
DEFAULT_LOCATION_ID = 1  # every store's default location
REASON = "crossdock availability"


class _BigCommerce(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _Identity(_BigCommerce):
    sku: str | None = None


class _Item(_BigCommerce):
    identity: _Identity


class _Pagination(_BigCommerce):
    current_page: int = 1
    total_pages: int = 1


class _Meta(_BigCommerce):
    pagination: _Pagination = _Pagination()


class _Items(_BigCommerce):
    data: list[_Item]
    meta: _Meta = _Meta()


class BigCommerceInventory:
    platform = "bigcommerce"
    max_batch = MAX_ADJUSTMENT_ITEMS

    def __init__(
        self,
        connection: Connection,
        *,
        client: OutboundClient | None = None,
        breaker: Breaker | None = None,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        max_wait_seconds: float = 2.0,
    ) -> None:
        store_hash = required(connection.settings, "store_hash", "settings")
        location = connection.settings.get("inventory_location_id", str(DEFAULT_LOCATION_ID))
        if not location.isdigit() or int(location) < 1:
            raise ValidationFailed("not a BigCommerce location id", field="settings.inventory_location_id")
        self.location_id = int(location)
        self._headers = {
            "X-Auth-Token": required(connection.credentials, "access_token", "credentials"),
            "Accept": "application/json",
        }
        self._v3 = f"/stores/{store_hash}/v3/inventory"
        self._client = client or OutboundClient(SYSTEM, connection, breaker=breaker)
        self._sleep = sleep
        self._monotonic = monotonic
        self._max_wait = max_wait_seconds
        self._blocked_until = -math.inf

    def lookup(self, skus: Sequence[str]) -> Mapping[str, Listing | None]:
        found: dict[str, Listing | None] = dict.fromkeys(skus)
        for chunk in sku_chunks(skus, max_count=LOOKUP_LIMIT, max_chars=MAX_URL_SKU_CHARS):
            params: dict[str, Any] = {
                "sku:in": ",".join(chunk),
                "location_id:in": self.location_id,
                "limit": LOOKUP_LIMIT,
            }
            page = 1
            while True:
                response = self._call("GET", "/items", params={**params, "page": page})
                items = parse(_Items, response, "BigCommerce inventory items")
                for item in items.data:
                    sku = item.identity.sku
                    if sku is not None and sku in found:  # exact: a comma inside a SKU splits the filter
                        found[sku] = {"sku": sku, "location_id": str(self.location_id)}
                if page >= items.meta.pagination.total_pages or not items.data:
                    break
                page += 1
        logger.info("inventory listings looked up", platform=self.platform, sku_count=len(found))
        return found

    def set_available(self, updates: Sequence[StockUpdate]) -> PushOutcome:
        if len(updates) > self.max_batch:
            raise ValueError(f"at most {self.max_batch} items per adjustment, got {len(updates)}")
        if not updates:
            return PushOutcome()
        calls_before = self._client.calls
        body = {
            "reason": REASON,
            "items": [
                {"location_id": int(u.listing["location_id"]), "sku": u.listing["sku"], "quantity": u.quantity}
                for u in updates
            ],
        }
        self._call("PUT", "/adjustments/absolute", json=body)
        calls = self._client.calls - calls_before
        logger.info("inventory pushed", platform=self.platform, sku_count=len(updates), calls=calls)
        return PushOutcome(applied=[u.sku for u in updates], calls=calls)

    # -- HTTP -------------------------------------------------------------------------------------------------
    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        self._wait_for_quota()
        response = self._client.request(method, f"{self._v3}{path}", headers=self._headers, **kwargs)
        self._note_quota(response)
        check(response, SYSTEM)
        return response

    def _note_quota(self, response: httpx.Response) -> None:
        left = _int_header(response, "x-rate-limit-requests-left")
        reset_ms = _int_header(response, "x-rate-limit-time-reset-ms")
        if left == 0 and reset_ms is not None:
            self._blocked_until = self._monotonic() + reset_ms / 1000

    def _wait_for_quota(self) -> None:
        """Sleep out a short reset; a long one is the queue's to wait, not this invocation's."""
        remaining = self._blocked_until - self._monotonic()
        if remaining <= 0:
            return
        if remaining > self._max_wait:
            spent = RateLimited("bigcommerce quota spent", retry_after_seconds=remaining, system=SYSTEM)
            raise self._client.throttled(spent)
        logger.info("waiting for bigcommerce quota", seconds=round(remaining, 3))
        self._sleep(remaining)


def _int_header(response: httpx.Response, name: str) -> int | None:
    try:
        return int(response.headers[name])
    except (KeyError, ValueError):
        return None
