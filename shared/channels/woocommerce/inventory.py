"""WooCommerce stock: find each SKU's product, and set its ``stock_quantity`` (REST v3, Basic auth over HTTPS).

Platform facts (woocommerce/woocommerce, ``class-wc-rest-products-controller.php``, ``class-wc-rest-controller.php``):
- ``GET /products?sku=a,b,c`` matches any of a comma-separated list of SKUs (exactly, on the ``_sku`` meta);
  ``per_page`` is at most 100 and ``X-WP-TotalPages`` says when to stop. SKUs are unique in a store. Variations
  live under ``/products/{id}/variations`` and are not looked up here.
- ``POST /products/batch`` takes at most 100 items (413 above that). Items succeed or fail one by one: a failed
  one comes back as ``{"id", "error": {"code", "message"}}``; it is logged and left out of ``applied`` (the rest
  are set). ``manage_stock: true`` goes with every quantity, else WooCommerce keeps the number but does not
  use it. There is no compare-and-set, so ``expected`` is not sent.

WordPress has no rate limit of its own; hosts in front of it answer 429 with ``Retry-After``, which
``OutboundClient`` waits out. Setting an absolute quantity is safe to repeat after a timeout.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, RootModel

from shared.breaker import Breaker
from shared.channels.calls import check, parse, required
from shared.channels.inventory import Listing, PushOutcome, StockUpdate, sku_chunks
from shared.connections import Connection
from shared.observability import logger
from shared.outbound import OutboundClient

SYSTEM = "woocommerce"
API = "/wp-json/wc/v3"
BATCH_LIMIT = 100
PER_PAGE = 100  # the REST API's maximum
MAX_URL_SKU_CHARS = 2_000  # our bound on the SKUs in one URL, well under common 8 KB request-line limits


class _Woo(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _Product(_Woo):
    id: int
    sku: str | None = None


class _Products(RootModel[list[_Product]]):
    pass


class _ItemError(_Woo):
    code: str
    message: str = ""


class _BatchItem(_Woo):
    id: int | None = None
    error: _ItemError | None = None


class _BatchResult(_Woo):
    update: list[_BatchItem] = []


class WooCommerceInventory:
    platform = "woocommerce"
    max_batch = BATCH_LIMIT

    def __init__(
        self, connection: Connection, *, client: OutboundClient | None = None, breaker: Breaker | None = None
    ) -> None:
        self._auth = httpx.BasicAuth(
            required(connection.credentials, "consumer_key", "credentials"),
            required(connection.credentials, "consumer_secret", "credentials"),
        )
        self._client = client or OutboundClient(SYSTEM, connection, breaker=breaker)

    def lookup(self, skus: Sequence[str]) -> Mapping[str, Listing | None]:
        found: dict[str, Listing | None] = dict.fromkeys(skus)
        for chunk in sku_chunks(skus, max_count=PER_PAGE, max_chars=MAX_URL_SKU_CHARS):
            params: dict[str, Any] = {"sku": ",".join(chunk), "per_page": PER_PAGE, "orderby": "id", "order": "asc"}
            page = 1
            while True:
                response = self._call("GET", "/products", params={**params, "page": page})
                for product in parse(_Products, response, "WooCommerce products").root:
                    if product.sku is not None and product.sku in found:  # exact: a comma in a SKU splits the list
                        found[product.sku] = {"product_id": str(product.id)}
                if page >= _total_pages(response):
                    break
                page += 1
        logger.info("inventory listings looked up", platform=self.platform, sku_count=len(found))
        return found

    def set_available(self, updates: Sequence[StockUpdate]) -> PushOutcome:
        if len(updates) > self.max_batch:
            raise ValueError(f"at most {self.max_batch} items per batch, got {len(updates)}")
        if not updates:
            return PushOutcome()
        calls_before = self._client.calls
        body = {
            "update": [
                {"id": int(u.listing["product_id"]), "stock_quantity": u.quantity, "manage_stock": True}
                for u in updates
            ]
        }
        result = parse(_BatchResult, self._call("POST", "/products/batch", json=body), "WooCommerce batch")
        # Only what the answer confirms counts as set; an item it refuses or leaves out is not.
        done = {item.id for item in result.update if item.error is None}
        applied = [u.sku for u in updates if int(u.listing["product_id"]) in done]
        if len(applied) < len(updates):
            codes = sorted({item.error.code for item in result.update if item.error is not None})
            refused = [u.sku for u in updates if int(u.listing["product_id"]) not in done]
            logger.warning("inventory items refused", platform=self.platform, skus=refused, codes=codes)
        calls = self._client.calls - calls_before
        logger.info("inventory pushed", platform=self.platform, sku_count=len(applied), calls=calls)
        return PushOutcome(applied=applied, calls=calls)

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = self._client.request(method, f"{API}{path}", auth=self._auth, **kwargs)
        check(response, SYSTEM)
        return response


def _total_pages(response: httpx.Response) -> int:
    try:
        return int(response.headers.get("x-wp-totalpages", "1"))
    except ValueError:
        return 1
