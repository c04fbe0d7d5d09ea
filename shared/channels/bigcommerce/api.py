"""What Crossdock calls on BigCommerce (V2 orders, ``X-Auth-Token``): the order, orders modified since, status.

- ``fetch_order`` reads the order, its products (paged) and its shipping addresses: the webhooks are thin, so
  this is the only way an order's content reaches us.
- ``list_updated_since`` pages ``GET /v2/orders?min_date_modified=`` in id order. An order modified during the
  scan keeps its place (id order does not move it), so a page boundary can repeat an order but never skip one.
- ``push_status`` reads the order and sets ``status_id`` only when it differs, and only while the order has not
  moved on past what Crossdock decides (shipped, completed, refunded, cancelled: those are left to people).
  The reasons are appended to the private ``staff_notes`` in the same write: status and reasons land together
  or not at all, and a retry that finds the status set writes neither again.
- ``create_fulfillment`` lists the order's shipments and returns the one whose comments hold the shipment id (or
  that carries its first tracking number), else posts a V2 shipment of the SKUs. The POST is never repeated
  blind: after a timeout the shipments are read again.
- ``refund`` lists the order's V3 refunds and returns the one whose reason holds the refund id, else quotes the
  returned products. When BigCommerce's value for them is what the ERP credited, they are refunded by quantity;
  otherwise the credited amount is refunded at order level (quoted again, as the payments must match a quote).
  The money goes back through the order's own provider, offline where BigCommerce requires it. See
  ``shipping.py`` for the bodies.

The request quota belongs to the store (its size depends on the plan), so other callers spend it too. Each
answer carries ``X-Rate-Limit-Requests-Left`` and ``X-Rate-Limit-Time-Reset-Ms``; when none are left, the next
call waits for the window to reset (if that is short) or raises ``RateLimited`` with the reset time, and a 429
is read the same way; giving up counts towards the store's breaker (``OutboundClient.throttled``).
``OutboundClient`` still retries timeouts and 5xx.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

import httpx
from pydantic import ValidationError

from shared.breaker import Breaker
from shared.channels.base import RefundRequest
from shared.channels.bigcommerce import shipping
from shared.channels.bigcommerce.mapping import to_order
from shared.channels.bigcommerce.resources import (
    BigCommerceOrder,
    BigCommerceOrderProduct,
    BigCommerceOrderProducts,
    BigCommerceOrderStamps,
    BigCommerceRefund,
    BigCommerceRefundCreated,
    BigCommerceRefundQuote,
    BigCommerceRefundQuoteCreated,
    BigCommerceRefunds,
    BigCommerceShipment,
    BigCommerceShipments,
    BigCommerceShippingAddress,
    BigCommerceShippingAddresses,
)
from shared.channels.calls import as_utc, check, numeric_id, parse, required, status_note
from shared.connections import Connection
from shared.errors import DownstreamUnavailable, RateLimited, ValidationFailed
from shared.models.lifecycle import ChannelOrderRef, ChannelStatus, Reason
from shared.models.order import Channel, Order
from shared.models.shipping import Shipment
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

MadeT = TypeVar("MadeT")


class BigCommerceApi:
    platform = Channel.BIGCOMMERCE.value

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
        self.store_hash = required(connection.settings, "store_hash", "settings")
        self._headers = {
            "X-Auth-Token": required(connection.credentials, "access_token", "credentials"),
            "Accept": "application/json",
        }
        self._v2 = f"/stores/{self.store_hash}/v2"
        self._v3 = f"/stores/{self.store_hash}/v3"
        # 429s are ours to read: BigCommerce says when the window resets, not in Retry-After.
        self._client = client or OutboundClient(
            SYSTEM, connection, is_retryable=lambda r: r.status_code in RETRYABLE_STATUS - {429}, breaker=breaker
        )
        self._quota = _Quota(sleep, monotonic, max_wait_seconds)

    # -- the claim check --------------------------------------------------------------------------------------
    def fetch_order(self, external_id: str) -> Order:
        order_id = numeric_id(external_id, SYSTEM)
        order = parse(BigCommerceOrder, self._get(f"/orders/{order_id}"), "BigCommerce order")
        products = self._products(order_id)
        try:
            return to_order(order, products, self._addresses(order_id), store_hash=self.store_hash)
        except ValidationError as error:
            raise as_validation_failed(error, "BigCommerce order") from None

    def _addresses(self, order_id: str) -> list[BigCommerceShippingAddress]:
        response = self._get(f"/orders/{order_id}/shipping_addresses")
        return [] if response.status_code == 204 else parse(BigCommerceShippingAddresses, response, "shipping").root

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

    # -- shipments ------------------------------------------------------------------------------------------
    def create_fulfillment(self, external_id: str, shipment: Shipment) -> str:
        order_id = numeric_id(external_id, SYSTEM)
        made = shipping.made_for(self._shipments(order_id), shipment)
        message = "channel fulfillment already made"
        if made is None:
            body = shipping.shipment_body(shipment, self._products(order_id), self._addresses(order_id))
            made = self._create_shipment(order_id, shipment, body)
            message = "channel fulfillment created"
        logger.info(
            message,
            extra={
                "platform": self.platform,
                "external_id": external_id,
                "shipment_id": shipment.shipment_id,
                "channel_fulfillment_id": made.id,
            },
        )
        return str(made.id)

    def _shipments(self, order_id: str) -> list[BigCommerceShipment]:
        response = self._get(f"/orders/{order_id}/shipments")  # a missing order is a 404: NotFound
        return [] if response.status_code == 204 else parse(BigCommerceShipments, response, "shipments").root

    def _create_shipment(self, order_id: str, shipment: Shipment, body: dict[str, Any]) -> BigCommerceShipment:
        try:
            response = self._send("POST", f"/orders/{order_id}/shipments", json=body, idempotent=False)
        except DownstreamUnavailable as error:
            made = self._made_after(error, lambda: shipping.made_for(self._shipments(order_id), shipment))
            if made is None:
                raise
            return made
        check(response, SYSTEM)
        return parse(BigCommerceShipment, response, "BigCommerce shipment")

    # -- refunds --------------------------------------------------------------------------------------------
    def refund(self, external_id: str, request: RefundRequest) -> str:
        order_id = numeric_id(external_id, SYSTEM)
        order = parse(BigCommerceOrder, self._get(f"/orders/{order_id}"), "BigCommerce order")
        made = shipping.made_refund(self._refunds(order_id), request.refund_id)
        message = "channel refund already made"
        if made is None:
            if request.amount.currency != order.currency_code:
                raise ValidationFailed("refund currency is not the order's", system=SYSTEM, field="amount.currency")
            body = self._refund_body(order, request)
            made = self._create_refund(order_id, request, body)
            message = "channel refund created"
        logger.info(
            message,
            extra={
                "platform": self.platform,
                "external_id": external_id,
                "refund_id": request.refund_id,
                "channel_refund_id": made.id,
                "amount": str(request.amount.amount),
            },
        )
        return str(made.id)

    def _refunds(self, order_id: str) -> list[BigCommerceRefund]:
        response = self._get(f"/orders/{order_id}/payment_actions/refunds", v3=True)
        return parse(BigCommerceRefunds, response, "BigCommerce refunds").data

    def _refund_body(self, order: BigCommerceOrder, request: RefundRequest) -> dict[str, Any]:
        order_id = str(order.id)
        items = shipping.product_items(request, self._products(order_id))
        quote = self._quote(order_id, items)
        if quote.total_refund_amount != request.amount.amount:
            # The ERP's credit is the amount owed (restocking fees, prices it agreed); BigCommerce's line math is not.
            items = [shipping.order_item(order.id, request)]
            quote = self._quote(order_id, items)
        return {"items": items, "payments": [shipping.payment(quote, request.amount.amount)]}

    def _quote(self, order_id: str, items: list[dict[str, Any]]) -> BigCommerceRefundQuote:
        # A quote changes nothing: safe to repeat after a timeout.
        path = f"/orders/{order_id}/payment_actions/refund_quotes"
        response = self._send("POST", path, v3=True, json={"items": items})
        check(response, SYSTEM)
        return parse(BigCommerceRefundQuoteCreated, response, "BigCommerce refund quote").data

    def _create_refund(self, order_id: str, request: RefundRequest, body: dict[str, Any]) -> BigCommerceRefund:
        path = f"/orders/{order_id}/payment_actions/refunds"
        try:
            response = self._send("POST", path, v3=True, json=body, idempotent=False)
        except DownstreamUnavailable as error:
            made = self._made_after(error, lambda: shipping.made_refund(self._refunds(order_id), request.refund_id))
            if made is None:
                raise
            return made
        check(response, SYSTEM)  # 422: BigCommerce refused the refund (more than was paid, a guest's store credit)
        return parse(BigCommerceRefundCreated, response, "BigCommerce refund").data

    @staticmethod
    def _made_after(error: DownstreamUnavailable, look: Callable[[], MadeT | None]) -> MadeT | None:
        """What a write that timed out left behind: looked up when the timeout may have hidden its commit."""
        return look() if error.details.get("maybe_committed") else None

    # -- HTTP -------------------------------------------------------------------------------------------------
    def _get(self, path: str, *, v3: bool = False, **kwargs: Any) -> httpx.Response:
        response = self._send("GET", path, v3=v3, **kwargs)
        check(response, SYSTEM)
        return response

    def _send(self, method: str, path: str, *, v3: bool = False, **kwargs: Any) -> httpx.Response:
        base = self._v3 if v3 else self._v2
        for _ in range(2):  # one wait for the window to reset, then the queue retries
            try:
                self._quota.wait()
            except RateLimited as spent:
                raise self._client.throttled(spent) from None
            response = self._client.request(method, f"{base}{path}", headers=self._headers, **kwargs)
            self._quota.note(response)
            if response.status_code != 429:
                return response
        wait = self._quota.remaining() or None
        raise self._client.throttled(RateLimited("bigcommerce rate limited", retry_after_seconds=wait, system=SYSTEM))


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
