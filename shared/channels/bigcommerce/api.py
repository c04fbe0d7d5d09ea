"""What Crossdock calls on BigCommerce (V2 orders, ``X-Auth-Token``): the order, orders modified since, status.

- ``fetch_order`` reads the order, its products (paged) and its shipping addresses: the webhooks are thin, so
  this is the only way an order's content reaches us.
- ``list_updated_since`` pages ``GET /v2/orders?min_date_modified=`` in id order. An order modified during the
  scan keeps its place (id order does not move it), so a page boundary can repeat an order but never skip one.
- ``push_status`` reads the order and sets ``status_id`` only when it differs, and only while the order has not
  moved on past what Crossdock decides (shipped, completed, refunded, cancelled: those are left to people).
  The reasons are appended to the private ``staff_notes`` in the same write: status and reasons land together
  or not at all, and a retry that finds the status set writes neither again.

The request quota belongs to the store (its size depends on the plan), so other callers spend it too. Each
answer carries ``X-Rate-Limit-Requests-Left`` and ``X-Rate-Limit-Time-Reset-Ms``; when none are left, the next
call waits for the window to reset (if that is short) or raises ``RateLimited`` with the reset time, and a 429
is read the same way. ``OutboundClient`` still retries timeouts and 5xx.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import httpx
from pydantic import ValidationError

from shared.channels.bigcommerce.mapping import to_order
from shared.channels.bigcommerce.resources import (
    BigCommerceOrder,
    BigCommerceOrderProduct,
    BigCommerceOrderProducts,
    BigCommerceOrderStamps,
    BigCommerceShippingAddresses,
)
from shared.channels.calls import as_utc, check, numeric_id, parse, required, status_note
from shared.connections import Connection
from shared.errors import RateLimited
from shared.models.lifecycle import ChannelOrderRef, ChannelStatus, Reason
from shared.models.order import Channel, Order
from shared.observability import logger
from shared.outbound import RETRYABLE_STATUS, OutboundClient
from shared.validation import as_validation_failed

SYSTEM = "bigcommerce"
PAGE_LIMIT = 250  # the V2 maximum
# Status ids (GET /v2/order_statuses; support.bigcommerce.com "Order Statuses").
STATUS_IDS = {
    ChannelStatus.ACCEPTED: 11,  # Awaiting Fulfillment: checkout complete, payment confirmed, ready to fulfil
    ChannelStatus.ON_HOLD: 12,  # Manual Verification Required: on hold while something is confirmed by hand
    ChannelStatus.REJECTED: 6,  # Declined: the seller declined the order; not cancelled, so people decide next
    ChannelStatus.CANCELLED: 5,  # Cancelled: the seller cancelled it
}
# Before fulfilment starts, Crossdock's decision is the news: Pending, Declined, Awaiting Payment, Awaiting
# Fulfillment, Manual Verification Required. Past it (shipped, completed, refunded, cancelled...) a late
# decision must not move the order back.
MOVABLE_STATUS_IDS = frozenset({1, 6, 7, 11, 12})


class BigCommerceApi:
    platform = Channel.BIGCOMMERCE.value

    def __init__(
        self,
        connection: Connection,
        *,
        client: OutboundClient | None = None,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        max_wait_seconds: float = 2.0,
    ) -> None:
        self.store_hash = required(connection.settings, "store_hash", "settings")
        self._headers = {
            "X-Auth-Token": required(connection.credentials, "access_token", "credentials"),
            "Accept": "application/json",
        }
        self._v2 = f"/stores/{self.store_hash}/v2"
        # 429s are ours to read: BigCommerce says when the window resets, not in Retry-After.
        self._client = client or OutboundClient(
            SYSTEM, connection, is_retryable=lambda r: r.status_code in RETRYABLE_STATUS - {429}
        )
        self._quota = _Quota(sleep, monotonic, max_wait_seconds)

    # -- the claim check --------------------------------------------------------------------------------------
    def fetch_order(self, external_id: str) -> Order:
        order_id = numeric_id(external_id, SYSTEM)
        order = parse(BigCommerceOrder, self._get(f"/orders/{order_id}"), "BigCommerce order")
        products = self._products(order_id)
        response = self._get(f"/orders/{order_id}/shipping_addresses")
        shipping = [] if response.status_code == 204 else parse(BigCommerceShippingAddresses, response, "shipping").root
        try:
            return to_order(order, products, shipping, store_hash=self.store_hash)
        except ValidationError as error:
            raise as_validation_failed(error, "BigCommerce order") from None

    def _products(self, order_id: str) -> list[BigCommerceOrderProduct]:
        products: list[BigCommerceOrderProduct] = []
        for page in itertools.count(1):
            response = self._get(f"/orders/{order_id}/products", params={"limit": PAGE_LIMIT, "page": page})
            batch = [] if response.status_code == 204 else parse(BigCommerceOrderProducts, response, "products").root
            products += batch
            if len(batch) < PAGE_LIMIT:
                break
        return products

    # -- reconciliation ---------------------------------------------------------------------------------------
    def list_updated_since(self, since: datetime) -> list[ChannelOrderRef]:
        # V2 dates are whole seconds and min_date_modified is inclusive: rounding down keeps "at or after".
        bound = as_utc(since).replace(microsecond=0).isoformat()
        found: dict[int, ChannelOrderRef] = {}
        for page in itertools.count(1):
            params = {"min_date_modified": bound, "sort": "id:asc", "limit": PAGE_LIMIT, "page": page}
            response = self._get("/orders", params=params)
            if response.status_code == 204:  # V2's answer for "nothing (more) matches"
                break
            stamps = parse(BigCommerceOrderStamps, response, "BigCommerce orders").root
            for stamp in stamps:
                found[stamp.id] = ChannelOrderRef(
                    channel=Channel.BIGCOMMERCE,
                    store=self.store_hash,
                    external_id=str(stamp.id),
                    change="updated",
                    observed_by="reconciliation",
                    updated_at=stamp.date_modified,
                )
            if len(stamps) < PAGE_LIMIT:
                break
        return list(found.values())

    # -- status -----------------------------------------------------------------------------------------------
    def push_status(self, external_id: str, status: ChannelStatus, reasons: Sequence[Reason] = ()) -> None:
        order_id = numeric_id(external_id, SYSTEM)
        order = parse(BigCommerceOrder, self._get(f"/orders/{order_id}"), "BigCommerce order")
        target = STATUS_IDS[status]
        fields: dict[str, object] = {"platform": self.platform, "external_id": external_id, "status": status.value}
        if order.status_id == target:
            logger.info("channel status already set", extra=fields)
            return
        if order.status_id not in MOVABLE_STATUS_IDS:
            logger.warning("channel status left alone: order moved on", extra={**fields, "current": order.status_id})
            return
        body: dict[str, Any] = {"status_id": target}
        if reasons:
            notes = order.staff_notes or ""
            body["staff_notes"] = f"{notes}\n\n{status_note(status, reasons)}".strip()
        # Setting absolute values: repeating this PUT after a timeout that hid a commit changes nothing more.
        check(self._send("PUT", f"/orders/{order_id}", json=body), SYSTEM)
        reason_codes = [reason.code for reason in reasons]
        logger.info("channel status pushed", extra={**fields, "previous": order.status_id, "reasons": reason_codes})

    # -- HTTP -------------------------------------------------------------------------------------------------
    def _get(self, path: str, **kwargs: Any) -> httpx.Response:
        response = self._send("GET", path, **kwargs)
        check(response, SYSTEM)
        return response

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        for _ in range(2):  # one wait for the window to reset, then the queue retries
            self._quota.wait()
            response = self._client.request(method, f"{self._v2}{path}", headers=self._headers, **kwargs)
            self._quota.note(response)
            if response.status_code != 429:
                return response
        wait = self._quota.remaining() or None
        raise RateLimited("bigcommerce rate limited", retry_after_seconds=wait, system=SYSTEM)


class _Quota:
    """The store's request window as its last answer described it."""

    def __init__(self, sleep: Callable[[float], None], monotonic: Callable[[], float], max_wait: float) -> None:
        self._sleep = sleep
        self._monotonic = monotonic
        self._max_wait = max_wait
        self._blocked_until = -math.inf

    def note(self, response: httpx.Response) -> None:
        left = _int_header(response, "x-rate-limit-requests-left")
        reset_ms = _int_header(response, "x-rate-limit-time-reset-ms")
        if left == 0 or response.status_code == 429:
            # A 429 without its reset header still means "not now": a second's pause is BigCommerce's advice.
            wait = reset_ms / 1000 if reset_ms is not None else 1.0
            self._blocked_until = self._monotonic() + wait

    def remaining(self) -> float:
        return max(0.0, self._blocked_until - self._monotonic())

    def wait(self) -> None:
        """Sleep out a short reset; a long one is the queue's to wait, not this invocation's."""
        remaining = self.remaining()
        if remaining <= 0:
            return
        if remaining > self._max_wait:
            raise RateLimited("bigcommerce quota spent", retry_after_seconds=remaining, system=SYSTEM)
        self._sleep(remaining)


def _int_header(response: httpx.Response, name: str) -> int | None:
    try:
        return int(response.headers[name])
    except (KeyError, ValueError):
        return None
