"""What Crossdock calls on WooCommerce (REST v3, consumer key and secret as HTTP Basic over HTTPS).

- ``fetch_order`` reads ``GET /orders/{id}`` and maps it with the webhook adapter's own ``to_order``.
- ``list_updated_since`` pages ``GET /orders?modified_after=&dates_are_gmt=true`` in id order (``X-WP-TotalPages``
  says when to stop). ``modified_after`` is strict and dates are whole seconds, so the bound is a second early
  and the answer is filtered here to "at or after".
- ``push_status`` sets the order status only when it differs, then adds a private note with the reasons. When
  the status is already set, it adds the note only if the newest Crossdock note is not this one: the first
  attempt died between its two calls, or the order was already there (on hold for a bank transfer). So a
  retry never adds a second note. Orders past Crossdock's say (completed, refunded, cancelled, trashed) are
  left alone.
- ``create_fulfillment`` adds a customer note with the carrier and tracking (unless the order's notes hold one
  for this shipment), records what shipped in the order's meta, and completes a ``processing`` order once every
  line has shipped. ``refund`` records a refund of the credited amount (unless the order's refunds hold one
  for this refund id), without paying it through the gateway or restocking. See ``shipping.py``.

Statuses (woocommerce.com/document/managing-orders/order-statuses; ``Automattic\\WooCommerce\\Enums\\OrderStatus``):
accepted → ``processing`` (to fulfil), on hold → ``on-hold``, cancelled → ``cancelled``. A rejection is
``failed``, not ``cancelled``: cancelling restocks the items and emails the buyer, which people decide (as on
Shopify and BigCommerce); ``failed`` stops fulfilment, leaves stock alone (core restocks only on ``cancelled``
and ``pending``, ``wc-stock-functions.php``) and can be moved on by hand.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field, RootModel, ValidationError

from shared.breaker import Breaker
from shared.channels.base import RefundRequest
from shared.channels.calls import as_utc, check, numeric_id, parse, required, status_note
from shared.channels.woocommerce import shipping
from shared.channels.woocommerce.mapping import to_order
from shared.channels.woocommerce.payloads import GmtDatetime, WooOrder
from shared.connections import Connection
from shared.errors import DownstreamUnavailable, ValidationFailed
from shared.models.lifecycle import ChannelOrderRef, ChannelStatus, Reason
from shared.models.order import Channel, Order
from shared.models.shipping import Shipment
from shared.observability import logger
from shared.outbound import OutboundClient
from shared.validation import as_validation_failed

SYSTEM = "woocommerce"
API = "/wp-json/wc/v3"
PER_PAGE = 100  # the REST API's maximum
STATUSES = {
    ChannelStatus.ACCEPTED: "processing",
    ChannelStatus.ON_HOLD: "on-hold",
    ChannelStatus.REJECTED: "failed",
    ChannelStatus.CANCELLED: "cancelled",
}
# Before fulfilment, Crossdock's decision is the news; after it, a late decision must not move the order back.
MOVABLE_STATUSES = frozenset({"pending", "processing", "on-hold", "failed"})
NOTE_PREFIX = "Crossdock:"


class _Woo(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _OrderStamp(_Woo):
    id: int = Field(ge=1)
    status: str
    date_modified_gmt: GmtDatetime


class _OrderStamps(RootModel[list[_OrderStamp]]):
    pass


class _Note(_Woo):
    id: int
    note: str


class _Notes(RootModel[list[_Note]]):
    pass


class WooCommerceApi:
    platform = Channel.WOOCOMMERCE.value

    def __init__(
        self, connection: Connection, *, client: OutboundClient | None = None, breaker: Breaker | None = None
    ) -> None:
        # The store is the site's host, as the webhook adapter names it from X-WC-Webhook-Source; a setting
        # overrides it where the API is reached under another name (a proxy, the local sandbox).
        store = connection.settings.get("store") or urlsplit(connection.base_url).hostname
        if not store:
            raise ValidationFailed("connection is missing a value", field="settings.store")
        self.store = store
        self._auth = httpx.BasicAuth(
            required(connection.credentials, "consumer_key", "credentials"),
            required(connection.credentials, "consumer_secret", "credentials"),
        )
        self._client = client or OutboundClient(SYSTEM, connection, breaker=breaker)

    # -- the claim check --------------------------------------------------------------------------------------
    def fetch_order(self, external_id: str) -> Order:
        order_id = numeric_id(external_id, SYSTEM)
        payload = parse(WooOrder, self._call("GET", f"/orders/{order_id}"), "WooCommerce order")
        try:
            return to_order(payload, self.store)
        except ValidationError as error:
            raise as_validation_failed(error, "WooCommerce order") from None

    # -- reconciliation ---------------------------------------------------------------------------------------
    def list_updated_since(self, since: datetime) -> list[ChannelOrderRef]:
        floor = as_utc(since).replace(microsecond=0)
        params: dict[str, Any] = {
            "modified_after": (floor - timedelta(seconds=1)).replace(tzinfo=None).isoformat(),
            "dates_are_gmt": "true",
            "orderby": "id",  # an order modified during the scan keeps its place: repeats, never skips
            "order": "asc",
            "per_page": PER_PAGE,
        }
        found: dict[int, ChannelOrderRef] = {}
        for page in itertools.count(1):
            response = self._call("GET", "/orders", params={**params, "page": page})
            stamps = parse(_OrderStamps, response, "WooCommerce orders").root
            for stamp in stamps:
                if stamp.date_modified_gmt >= floor:
                    found[stamp.id] = ChannelOrderRef(
                        channel=Channel.WOOCOMMERCE,
                        store=self.store,
                        external_id=str(stamp.id),
                        change="updated",
                        observed_by="reconciliation",
                        updated_at=stamp.date_modified_gmt,
                    )
            if not stamps or page >= _total_pages(response):
                break
        return list(found.values())

    # -- status -----------------------------------------------------------------------------------------------
    def push_status(self, external_id: str, status: ChannelStatus, reasons: Sequence[Reason] = ()) -> None:
        order_id = numeric_id(external_id, SYSTEM)
        order = parse(_OrderStamp, self._call("GET", f"/orders/{order_id}"), "WooCommerce order")
        target = STATUSES[status]
        note = status_note(status, reasons) if reasons else None
        fields: dict[str, object] = {"platform": self.platform, "external_id": external_id, "status": status.value}
        if order.status == target:
            if note is not None and not self._has_note(order_id, note):
                self._add_note(order_id, note)  # the first attempt set the status and died before its note
            logger.info("channel status already set", extra=fields)
            return
        if order.status not in MOVABLE_STATUSES:
            logger.warning("channel status left alone: order moved on", extra={**fields, "current": order.status})
            return
        self._call("PUT", f"/orders/{order_id}", json={"status": target})
        if note is not None:
            self._add_note(order_id, note)
        logger.info("channel status pushed", extra={**fields, "previous": order.status, "reasons": len(reasons)})

    def _has_note(self, order_id: str, note: str) -> bool:
        """Whether the newest Crossdock note is this one (the notes come newest first)."""
        notes = parse(_Notes, self._call("GET", f"/orders/{order_id}/notes"), "WooCommerce notes").root
        latest = next((n.note for n in notes if n.note.startswith(NOTE_PREFIX)), None)
        return latest is not None and latest.split() == note.split()

    def _add_note(self, order_id: str, note: str) -> None:
        # Each POST makes a note: never repeated blind after a timeout (the next attempt looks first).
        body = {"note": note, "customer_note": False}  # private: reasons are for the merchant, not the buyer
        self._call("POST", f"/orders/{order_id}/notes", json=body, idempotent=False)

    # -- shipments ------------------------------------------------------------------------------------------
    def create_fulfillment(self, external_id: str, shipment: Shipment) -> str:
        order_id = numeric_id(external_id, SYSTEM)
        order = self._shipping_order(order_id)
        note = shipping.made_note(self._notes(order_id), shipment)
        message = "channel fulfillment already made"
        if note is None:
            if order.status in shipping.CLOSED_STATUSES:
                raise ValidationFailed("the order is closed", system=SYSTEM, field="status", status=order.status)
            shipping.shipment_meta(order, shipment)  # refuses lines the order cannot ship, before the note
            note = self._shipment_note(order_id, shipment)
            message = "channel fulfillment created"
        completed = self._record_shipped(order, shipment)
        logger.info(
            message,
            extra={
                "platform": self.platform,
                "external_id": external_id,
                "shipment_id": shipment.shipment_id,
                "channel_fulfillment_id": note.id,
                "completed": completed,
            },
        )
        return str(note.id)

    def _shipping_order(self, order_id: str) -> shipping.WooShippingOrder:
        return parse(shipping.WooShippingOrder, self._call("GET", f"/orders/{order_id}"), "WooCommerce order")

    def _notes(self, order_id: str) -> list[shipping.WooNote]:
        return parse(shipping.WooNotes, self._call("GET", f"/orders/{order_id}/notes"), "WooCommerce notes").root

    def _shipment_note(self, order_id: str, shipment: Shipment) -> shipping.WooNote:
        body = {"note": shipping.shipment_note(shipment), "customer_note": True}  # emailed to the buyer
        try:
            response = self._call("POST", f"/orders/{order_id}/notes", json=body, idempotent=False)
        except DownstreamUnavailable as error:
            # The timeout may have hidden a commit: the notes decide, not a second send.
            found = (
                shipping.made_note(self._notes(order_id), shipment) if error.details.get("maybe_committed") else None
            )
            if found is None:
                raise
            return found
        return parse(shipping.WooNote, response, "WooCommerce note")

    def _record_shipped(self, order: shipping.WooShippingOrder, shipment: Shipment) -> bool:
        """Count the shipment in the order's meta, then complete the order if it has all shipped."""
        meta = shipping.shipment_meta(order, shipment)
        if meta is not None:
            # An absolute value under the shipment's own key: safe to repeat after a timeout.
            response = self._call("PUT", f"/orders/{order.id}", json={"meta_data": [meta]})
            order = parse(shipping.WooShippingOrder, response, "WooCommerce order")
        if order.status not in shipping.COMPLETABLE_STATUSES or not shipping.all_shipped(order):
            return False
        self._call("PUT", f"/orders/{order.id}", json={"status": "completed"})
        return True

    # -- refunds --------------------------------------------------------------------------------------------
    def refund(self, external_id: str, request: RefundRequest) -> str:
        order_id = numeric_id(external_id, SYSTEM)
        order = self._shipping_order(order_id)
        refunds = self._refunds(order_id)
        made = shipping.made_refund(refunds, request.refund_id)
        message = "channel refund already made"
        if made is None:
            made = self._create_refund(order_id, request, shipping.refund_body(order, refunds, request))
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

    def _refunds(self, order_id: str) -> list[shipping.WooRefund]:
        refunds: list[shipping.WooRefund] = []
        for page in itertools.count(1):
            params = {"per_page": PER_PAGE, "page": page}
            response = self._call("GET", f"/orders/{order_id}/refunds", params=params)
            refunds += parse(shipping.WooRefunds, response, "WooCommerce refunds").root
            if page >= _total_pages(response):
                break
        return refunds

    def _create_refund(self, order_id: str, request: RefundRequest, body: dict[str, Any]) -> shipping.WooRefund:
        try:
            response = self._call("POST", f"/orders/{order_id}/refunds", json=body, idempotent=False)
        except DownstreamUnavailable as error:
            look = error.details.get("maybe_committed")
            found = shipping.made_refund(self._refunds(order_id), request.refund_id) if look else None
            if found is None:
                raise
            return found
        return parse(shipping.WooRefund, response, "WooCommerce refund")

    # -- HTTP -------------------------------------------------------------------------------------------------
    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = self._client.request(method, f"{API}{path}", auth=self._auth, **kwargs)
        check(response, SYSTEM)
        return response


def _total_pages(response: httpx.Response) -> int:
    try:
        return int(response.headers.get("x-wp-totalpages", "1"))
    except ValueError:
        return 1
