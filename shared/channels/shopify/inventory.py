"""Shopify stock: find each SKU's inventory item at Crossdock's location, and set what ``available`` shows.

Platform facts (shopify.dev, Admin GraphQL 2026-07):
- ``inventoryItems(query:)`` takes the API search syntax (``sku:'A' OR sku:'B'``, docs/api/usage/search-syntax;
  quoted values escape ``'`` and ``\\`` with a backslash). SKUs are not unique in Shopify, so answers are matched
  exactly here. ``inventoryLevel(locationId:)`` is null where the item is not stocked at that location, and
  setting a quantity there is refused (``ITEM_NOT_STOCKED_AT_LOCATION``): such a SKU is not listed.
- ``inventorySetQuantities`` sets absolute quantities, all or nothing; an input array holds at most 250 entries
  (docs/api/usage/limits). From 2026-04 every quantity must carry ``changeFromQuantity``: the value we believe
  is shown (compare-and-set) or null to skip the check. A mismatch is a ``CHANGE_FROM_QUANTITY_STALE`` userError
  on ``input.quantities.<i>.changeFromQuantity``, and nothing is applied; we re-read what the stale items show.
- Cost: a leaky bucket of points (``extensions.cost.throttleStatus``) refilled at ``restoreRate`` per second.
  The bucket is read from every answer and a call that would not fit waits first, so a bulk push is not
  throttled; a ``THROTTLED`` answer (HTTP 200, nothing ran) is waited out and retried a few times, and giving
  up (or facing a long wait) counts towards the shop's breaker (``OutboundClient.throttled``). The mutation
  costs 10 plus 1 per started 10 quantities (the sandbox's documented model); a query's cost is its last
  reported ``requestedQueryCost``, else 2 + ``first``.

Repeating the mutation after a timeout is safe: with ``changeFromQuantity`` a second apply is refused as stale
(and the re-read shows our value), without it the set is absolute.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from shared.breaker import Breaker
from shared.channels.calls import check, parse, required
from shared.channels.inventory import Listing, PushOutcome, StockUpdate, sku_chunks
from shared.channels.shopify import graphql
from shared.channels.shopify.api import DEFAULT_API_VERSION, SYSTEM, outbound_client
from shared.connections import Connection
from shared.errors import DownstreamUnavailable, RateLimited, Unauthorized, ValidationFailed
from shared.observability import logger
from shared.outbound import OutboundClient
from shared.validation import as_validation_failed

MAX_QUANTITIES = 250  # every input array (shopify.dev/docs/api/usage/limits)
PAGE_SIZE = 250  # the most a connection returns per page
MAX_SEARCH_CHARS = 6_000  # our own bound on the SKUs in one search string; Shopify documents none
MUTATION_BASE_COST = 10
THROTTLE_RETRIES = 3
# Shopify reports whole points available; a wait this much longer is not short by the fraction it rounded off.
WAIT_MARGIN_SECONDS = 0.01
STALE = "CHANGE_FROM_QUANTITY_STALE"
REASON = "correction"  # Shopify's reason for setting a count that was off; ours is "the ledger says otherwise"
_UNAVAILABLE_CODES = frozenset({"INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE", "TIMEOUT"})
_ACCESS_CODES = frozenset({"ACCESS_DENIED", "UNAUTHORIZED"})
_NUMERIC = re.compile(r"[1-9][0-9]{0,19}")

DataT = TypeVar("DataT", bound=BaseModel)


class ShopifyInventory:
    platform = "shopify"
    max_batch = MAX_QUANTITIES

    def __init__(
        self,
        connection: Connection,
        *,
        client: OutboundClient | None = None,
        breaker: Breaker | None = None,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        max_wait_seconds: float = 10.0,
    ) -> None:
        self.shop = required(connection.settings, "shop_domain", "settings")
        version = connection.settings.get("api_version", DEFAULT_API_VERSION)
        location = required(connection.settings, "inventory_location_id", "settings")
        if not _NUMERIC.fullmatch(location):
            raise ValidationFailed("not a Shopify location id", field="settings.inventory_location_id")
        self.location_gid = f"gid://shopify/Location/{location}"
        self._headers = {
            "X-Shopify-Access-Token": required(connection.credentials, "access_token", "credentials"),
            "Accept": "application/json",
        }
        self._path = f"/admin/api/{version}/graphql.json"
        self._client = client or outbound_client(connection, breaker)
        self._bucket = _CostBucket(sleep, monotonic, max_wait_seconds)
        self._requested: dict[str, float] = {}  # the cost Shopify last reported for each document

    # -- lookup -----------------------------------------------------------------------------------------------
    def lookup(self, skus: Sequence[str]) -> Mapping[str, Listing | None]:
        found: dict[str, Listing | None] = dict.fromkeys(skus)
        for chunk in sku_chunks(skus, max_count=PAGE_SIZE, max_chars=MAX_SEARCH_CHARS):
            for item in self._stocked_items(chunk, self.location_gid):
                if item.sku not in found:
                    continue  # a search match that is not exactly one of ours
                if found[item.sku] is not None:
                    logger.warning("shopify sku on several stocked items", sku=item.sku, kept=found[item.sku])
                    continue
                found[item.sku] = {"inventory_item_id": item.id, "location_id": self.location_gid}
        logger.info("inventory listings looked up", platform=self.platform, sku_count=len(found))
        return found

    def _stocked_items(self, skus: list[str], location_gid: str) -> list[graphql.InventoryItemNode]:
        """The items with one of ``skus`` that are stocked at the location, with their ``available`` there."""
        variables: dict[str, Any] = {
            "first": PAGE_SIZE,
            "after": None,
            "query": " OR ".join(f"sku:'{_quoted(sku)}'" for sku in skus),
            "locationId": location_gid,
        }
        items: list[graphql.InventoryItemNode] = []
        while True:
            document = graphql.INVENTORY_ITEMS_BY_SKU
            cost = self._requested.get(document, 2 + PAGE_SIZE)
            page = self._graphql(document, variables, graphql.InventoryItemsData, cost).inventory_items
            items += [item for item in page.nodes if item.inventory_level is not None]
            if not page.page_info.has_next_page or not page.page_info.end_cursor:
                return items
            variables["after"] = page.page_info.end_cursor

    # -- set --------------------------------------------------------------------------------------------------
    def set_available(self, updates: Sequence[StockUpdate]) -> PushOutcome:
        if len(updates) > self.max_batch:
            raise ValueError(f"at most {self.max_batch} quantities per call, got {len(updates)}")
        if not updates:
            return PushOutcome()
        calls_before = self._client.calls
        variables = {
            "input": {
                "name": "available",
                "reason": REASON,
                "referenceDocumentUri": f"crossdock://availability/{max(u.basis for u in updates)}",
                "quantities": [
                    {
                        "inventoryItemId": u.listing["inventory_item_id"],
                        "locationId": u.listing["location_id"],
                        "quantity": u.quantity,
                        "changeFromQuantity": u.expected,  # always present: from 2026-04 omitting it is an error
                    }
                    for u in updates
                ],
            }
        }
        cost = MUTATION_BASE_COST + math.ceil(len(updates) / 10)
        data = self._graphql(graphql.INVENTORY_SET_QUANTITIES, variables, graphql.InventorySetQuantitiesData, cost)
        stale = self._stale_updates(data.inventory_set_quantities.user_errors, updates)
        if stale:
            shown = self._shown(stale)
            calls = self._client.calls - calls_before
            logger.info("inventory push refused as stale", platform=self.platform, stale_count=len(shown), calls=calls)
            return PushOutcome(stale=shown, calls=calls)
        calls = self._client.calls - calls_before
        logger.info("inventory pushed", platform=self.platform, sku_count=len(updates), calls=calls)
        return PushOutcome(applied=[u.sku for u in updates], calls=calls)

    @staticmethod
    def _stale_updates(errors: list[graphql.CodedUserError], updates: Sequence[StockUpdate]) -> list[StockUpdate]:
        """The updates refused as stale; any other refusal is our request being wrong, so it raises."""
        other = [error for error in errors if error.code != STALE]
        if other:
            path = other[0].field or []
            index = _quantity_index(path, len(updates))
            raise ValidationFailed(
                other[0].message,
                system=SYSTEM,
                code=other[0].code,
                field=".".join(path) or None,
                sku=updates[index].sku if index is not None else None,
            )
        indexes = [_quantity_index(error.field or [], len(updates)) for error in errors]
        if None in indexes:  # a stale error we cannot place: every checked quantity may be the one
            return [u for u in updates if u.expected is not None]
        return [updates[i] for i in sorted({i for i in indexes if i is not None})]

    def _shown(self, updates: list[StockUpdate]) -> dict[str, int]:
        """What the channel shows now for each stale update (one read per location, usually one)."""
        shown: dict[str, int] = {}
        by_location: dict[str, list[StockUpdate]] = {}
        for update in updates:
            by_location.setdefault(update.listing["location_id"], []).append(update)
        for location_gid, group in by_location.items():
            wanted = {u.listing["inventory_item_id"]: u.sku for u in group}
            for item in self._stocked_items([u.sku for u in group], location_gid):
                level = item.inventory_level
                available = level.quantity("available") if level is not None else None
                if item.id in wanted and available is not None:
                    shown[wanted[item.id]] = available
        missing = sorted({u.sku for u in updates} - shown.keys())
        if missing:  # unstocked or deleted since the lookup: neither applied nor stale, the next lookup decides
            logger.warning("stale inventory items no longer stocked", platform=self.platform, skus=missing)
        return shown

    # -- GraphQL ----------------------------------------------------------------------------------------------
    def _graphql(self, document: str, variables: dict[str, Any], data: type[DataT], cost: float) -> DataT:
        for attempt in range(1, THROTTLE_RETRIES + 2):
            try:
                self._bucket.wait_for(cost)
            except RateLimited as short:
                raise self._client.throttled(short) from None
            response = self._client.request(
                "POST", self._path, headers=self._headers, json={"query": document, "variables": variables}
            )
            check(response, SYSTEM)
            answer = parse(graphql.GraphQLResponse, response, "Shopify GraphQL response")
            spent = answer.extensions.cost if answer.extensions else None
            self._bucket.note(spent)
            if spent is not None and spent.requested_query_cost is not None:
                self._requested[document] = cost = spent.requested_query_cost
            if not any(error.code == "THROTTLED" for error in answer.errors):
                break
            logger.warning("shopify throttled", attempt=attempt, cost=cost)
        else:
            wait = self._bucket.wait_seconds(cost) or None
            raise self._client.throttled(RateLimited("shopify throttled", retry_after_seconds=wait, system=SYSTEM))
        if answer.errors:
            raise _error(answer)
        if answer.data is None:
            raise DownstreamUnavailable("shopify answered without data", system=SYSTEM)
        try:
            return data.model_validate(answer.data)
        except ValidationError as error:
            raise as_validation_failed(error, "Shopify GraphQL data") from None


class _CostBucket:
    """The app's cost bucket as the last answer described it, refilled at its restore rate since then."""

    def __init__(self, sleep: Callable[[float], None], monotonic: Callable[[], float], max_wait: float) -> None:
        self._sleep = sleep
        self._monotonic = monotonic
        self._max_wait = max_wait
        self._status: graphql.ThrottleStatus | None = None
        self._noted_at = 0.0

    def note(self, cost: graphql.QueryCost | None) -> None:
        if cost is not None and cost.throttle_status is not None:
            self._status = cost.throttle_status
            self._noted_at = self._monotonic()

    def wait_seconds(self, cost: float) -> float:
        """Seconds until the bucket holds ``cost``: the deficit over the restore rate (0 when unknown)."""
        status = self._status
        if status is None or status.restore_rate <= 0:
            return 0.0
        refilled = (self._monotonic() - self._noted_at) * status.restore_rate
        available = min(status.maximum_available, status.currently_available + refilled)
        if cost <= available:
            return 0.0
        return (cost - available) / status.restore_rate + WAIT_MARGIN_SECONDS

    def wait_for(self, cost: float) -> None:
        """Sleep out a short deficit; a long one is the queue's to wait, not this invocation's."""
        wait = self.wait_seconds(cost)
        if wait <= 0:
            return
        if wait > self._max_wait:
            raise RateLimited("shopify cost bucket spent", retry_after_seconds=wait, system=SYSTEM)
        logger.info("waiting for shopify cost bucket", seconds=round(wait, 3), cost=cost)
        self._sleep(wait)


def _quoted(sku: str) -> str:
    return sku.replace("\\", "\\\\").replace("'", "\\'")


def _quantity_index(path: Sequence[str], size: int) -> int | None:
    """The ``i`` of ``input.quantities.<i>...``, if the path names one of ours."""
    if len(path) >= 3 and path[1] == "quantities" and path[2].isdigit() and int(path[2]) < size:
        return int(path[2])
    return None


def _error(answer: graphql.GraphQLResponse) -> Exception:
    """The typed error for a top-level ``errors`` answer, in which nothing ran."""
    codes = {error.code for error in answer.errors}
    if codes & _ACCESS_CODES:
        return Unauthorized("shopify refused access", system=SYSTEM)
    if codes & _UNAVAILABLE_CODES:
        return DownstreamUnavailable("shopify failed", system=SYSTEM)
    # Anything else is our document or its variables being wrong: the same request would fail again.
    return ValidationFailed(answer.errors[0].message, system=SYSTEM, code=answer.errors[0].code)
