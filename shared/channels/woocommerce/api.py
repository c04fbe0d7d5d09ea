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

from shared.channels.calls import as_utc, check, numeric_id, parse, required, status_note
from shared.channels.woocommerce.mapping import to_order
from shared.channels.woocommerce.payloads import GmtDatetime, WooOrder
from shared.connections import Connection
from shared.errors import ValidationFailed
from shared.models.lifecycle import ChannelOrderRef, ChannelStatus, Reason
from shared.models.order import Channel, Order
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

    def __init__(self, connection: Connection, *, client: OutboundClient | None = None) -> None:
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
        self._client = client or OutboundClient(SYSTEM, connection)

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
