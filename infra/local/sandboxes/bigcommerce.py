"""BigCommerce stand-in: V2 orders, V3 inventory adjustments, the store's request quota, thin signed webhooks.

What it follows (bigcommerce/docs):
- ``reference/orders.v2.oas2.yml``: order, order products, shipping addresses and shipments, RFC-2822 dates,
  ``min_date_modified``/``max_date_modified`` in RFC-2822 or ISO-8601, V2 errors as ``[{"status", "message"}]``,
  204 for a collection with nothing in it;
- ``reference/orders.v3.yml``: payment-action refund quotes and refunds (``PRODUCT`` items by quantity, at their
  price with tax; ``ORDER`` items by amount), answers wrapped in ``data``, money as numbers. A refund's payments
  must add up to its quote and use one of the quoted ways (an offline-only provider must be marked offline);
  the refunds together never exceed what the order took. A refund moves the order to Partially Refunded, or
  Refunded once all of it is paid back. The order's provider comes from its ``payment_method``
  (``PAYMENT_PROVIDERS``);
- ``reference/inventory.v3.yml``: ``PUT /v3/inventory/adjustments/absolute``, at most 2,000 items, each one
  ``location_id`` plus one of ``sku``/``variant_id``/``product_id``; ``GET /v3/inventory/items`` filtered by
  ``sku:in``/``variant_id:in``/``product_id:in``/``location_id:in``, paged by ``page`` and ``limit`` (at most
  1,000); V3 errors as problem JSON;
- ``docs/api-docs/getting-started/api-rate-limits.mdx``: a quota of requests per window, the
  ``X-Rate-Limit-*`` headers, 429 when the quota is spent;
- ``docs/integrations/webhooks/*``: thin payloads ``{scope, store_id, data, hash, created_at, producer}``,
  Standard Webhooks headers keyed with the app's client secret (the docs base64 the raw secret before handing
  it to the standardwebhooks library, which decodes it again: the HMAC key is the secret's own bytes).
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from infra.local.clock import Clock
from infra.local.sandboxes.base import Delivery, Handler, HttpError, Request, Response, Sandbox
from infra.samples import load_json
from shared.signatures import hmac_sha256_b64

ORDER_STATUSES = {
    0: "Incomplete",
    1: "Pending",
    2: "Shipped",
    3: "Partially Shipped",
    4: "Refunded",
    5: "Cancelled",
    6: "Declined",
    7: "Awaiting Payment",
    8: "Awaiting Pickup",
    9: "Awaiting Shipment",
    10: "Completed",
    11: "Awaiting Fulfillment",
    12: "Manual Verification Required",
    13: "Disputed",
    14: "Partially Refunded",
}
SHIPPED, PARTIALLY_SHIPPED, REFUNDED, PARTIALLY_REFUNDED = 2, 3, 4, 14
# payment_method → (provider_id, description, offline only). Any other method is refunded as "custom", offline.
PAYMENT_PROVIDERS = {
    "Credit Card": ("stripev3", "Stripe", False),
    "Bank Deposit": ("bankdeposit", "Bank Deposit", True),
    "Cash on Delivery": ("cod", "Cash on Delivery", True),
}
CENT = Decimal("0.01")
ORDER_SCOPES = ("store/order/created", "store/order/updated", "store/order/statusUpdated")
# BigCommerce's own retry schedule after a failed delivery (seconds); pass it as ``delays`` to replay it.
RETRY_DELAYS = (60.0, 180.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0, 21600.0, 50400.0, 86400.0)
MAX_ADJUSTMENT_ITEMS = 2000
MAX_PAGE_LIMIT = 250
MAX_ITEMS_LIMIT = 1000  # GET /v3/inventory/items: "Limit of 1000 items for payload length"
MAX_STOCK_LEVEL = 2_147_483_647
ERROR_TYPE = "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes"
API_HOST = "https://api.bigcommerce.com"
# Fake credentials: the sandbox checks requests and signs webhooks with them, nothing real accepts them.
SANDBOX_CLIENT_SECRET = "bc-sandbox-client-secret-7f3a9d2e41b8c6055e1f"  # noqa: S105
SANDBOX_ACCESS_TOKEN = "bc-sandbox-access-token-2d8e4c1a9f7b3e6d0a5c"  # noqa: S105
# The fields ``PUT /v2/orders/{id}`` accepts here; BigCommerce refuses read-only fields the same way.
WRITABLE_ORDER_FIELDS = frozenset(
    {"status_id", "staff_notes", "customer_message", "external_order_id", "payment_method", "customer_locale"}
)


def rfc2822(timestamp: float) -> str:
    """A V2 date: ``Mon, 30 Nov 2026 15:42:17 +0000``."""
    return format_datetime(datetime.fromtimestamp(int(timestamp), UTC))


def parse_v2_date(value: str) -> float:
    """A V2 date filter, which BigCommerce takes in RFC-2822 or ISO-8601."""
    try:
        parsed = datetime.fromisoformat(value.replace(" ", "+"))  # a raw ``+`` in a query string arrives as a space
    except ValueError:
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            raise HttpError(
                400, v2_error(400, f"The date '{value}' is not a valid RFC-2822 or ISO-8601 date.")
            ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def v2_error(status: int, message: str) -> list[dict[str, Any]]:
    return [{"status": status, "message": message}]


def v3_error(status: int, title: str, errors: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return {"status": status, "title": title, "type": ERROR_TYPE, "errors": dict(errors or {})}


@dataclass
class RequestQuota:
    """The store's quota: ``quota`` requests per ``window_ms``, refilled whole when the window ends."""

    quota: int
    window_ms: int
    window_start: float = -math.inf
    used: int = 0

    def take(self, now: float) -> tuple[bool, dict[str, str]]:
        """Spend one request if any is left; the answer carries the headers BigCommerce sends either way."""
        window_end = self.window_start + self.window_ms / 1000
        if now >= window_end:
            self.window_start, self.used = now, 0
            window_end = now + self.window_ms / 1000
        allowed = self.used < self.quota
        if allowed:
            self.used += 1
        headers = {
            "X-Rate-Limit-Time-Window-Ms": str(self.window_ms),
            "X-Rate-Limit-Time-Reset-Ms": str(max(0, math.ceil((window_end - now) * 1000))),
            "X-Rate-Limit-Requests-Quota": str(self.quota),
            "X-Rate-Limit-Requests-Left": str(self.quota - self.used),
        }
        return allowed, headers


@dataclass(frozen=True)
class WebhookEvent:
    """One order event as queued: every delivery of it carries this ``webhook_id`` and this exact body."""

    webhook_id: str
    payload: dict[str, Any]
    body: bytes


class BigCommerceSandbox(Sandbox):
    """State: ``orders``, ``order_products`` and ``shipping_addresses`` (V2 JSON by order id), ``shipments``,
    ``status_history`` (every status change and what made it), ``catalog``/``inventory`` (quantity per SKU and
    location), ``adjustments``, ``inventory_history`` (every quantity set: ``{sku, location_id, quantity, at,
    reference}``), ``events`` (every webhook event, lost ones included); plus the request quota. Seed with
    ``add_order``/``add_sample_order``/``add_catalog_item``; play the merchant with ``set_order_status`` and
    ``emit_order_event``. The state's ``calls`` counts requests per endpoint (injected faults included)."""

    name = "bigcommerce"

    def __init__(
        self,
        clock: Clock | None = None,
        seed: int = 7,
        *,
        store_hash: str = "abc123xyz",
        client_secret: str = SANDBOX_CLIENT_SECRET,
        access_token: str = SANDBOX_ACCESS_TOKEN,
        store_id: str = "1001197568",
        rate_limit_quota: int = 150,
        rate_limit_window_ms: int = 30_000,
        echo_webhooks: bool = True,
    ) -> None:
        # Set before the base constructor, which calls reset_state().
        self.store_hash = store_hash
        self.webhook_secret = client_secret  # BigCommerce signs webhooks with the app's client secret
        self.access_token = access_token
        self.store_id = store_id
        self.rate_limit_quota = rate_limit_quota
        self.rate_limit_window_ms = rate_limit_window_ms
        self.echo_webhooks = echo_webhooks
        super().__init__(clock, seed)
        self._register_routes()

    @property
    def client_secret(self) -> str:
        """The app's client secret: the webhook signing key (``use_webhook_secret`` rotates it)."""
        return self.webhook_secret

    def _register_routes(self) -> None:
        v2 = "/stores/{store_hash}/v2/orders"
        self._api("GET", v2, self.list_orders, "list orders")
        self._api("GET", v2 + "/{order_id}", self.get_order, "get order")
        self._api("PUT", v2 + "/{order_id}", self.update_order, "update order")
        self._api("GET", v2 + "/{order_id}/products", self.get_order_products, "get order products")
        for path in ("shipping_addresses", "shippingaddresses"):  # the order's own links use the second spelling
            self._api("GET", f"{v2}/{{order_id}}/{path}", self.get_shipping_addresses, "get shipping addresses")
        self._api("GET", v2 + "/{order_id}/shipments", self.list_shipments, "list shipments")
        self._api("POST", v2 + "/{order_id}/shipments", self.create_shipment, "create shipment")
        actions = "/stores/{store_hash}/v3/orders/{order_id}/payment_actions"
        self._api("POST", actions + "/refund_quotes", self.create_refund_quote, "create refund quote")
        self._api("GET", actions + "/refunds", self.list_refunds, "list refunds")
        self._api("POST", actions + "/refunds", self.create_refund, "create refund")
        v3 = "/stores/{store_hash}/v3/inventory"
        self._api("PUT", v3 + "/adjustments/absolute", self.adjust_absolute, "absolute adjustment")
        self._api("GET", v3 + "/items", self.get_inventory_items, "get inventory items")

    # -- state --------------------------------------------------------------------------------------------
    def connection(self) -> dict[str, Any]:
        credentials = {"access_token": self.access_token}
        return {"base_url": self.url, "credentials": credentials, "settings": {"store_hash": self.store_hash}}

    def reset_state(self) -> None:
        self.orders: dict[int, dict[str, Any]] = {}
        self.order_products: dict[int, list[dict[str, Any]]] = {}
        self.shipping_addresses: dict[int, list[dict[str, Any]]] = {}
        self.shipments: dict[int, list[dict[str, Any]]] = {}
        self.refunds: dict[int, list[dict[str, Any]]] = {}
        self.fulfillment_log: dict[int, list[dict[str, Any]]] = {}  # per order: shipments made, with clock time
        self.refund_log: dict[int, list[dict[str, Any]]] = {}
        self.status_history: list[dict[str, Any]] = []
        self.catalog: dict[str, dict[str, int | None]] = {}  # sku -> product_id, variant_id
        self.inventory: dict[str, dict[int, int]] = {}  # sku -> location_id -> quantity
        self.adjustments: list[dict[str, Any]] = []
        self.inventory_history: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.quota = RequestQuota(self.rate_limit_quota, self.rate_limit_window_ms)
        self._next_shipment_id = 1
        self._next_refund_id = 1

    def snapshot(self) -> dict[str, Any]:
        return {
            "orders": self.orders,
            "order_products": self.order_products,
            "shipping_addresses": self.shipping_addresses,
            "shipments": self.shipments,
            "refunds": self.refunds,
            "fulfillment_log": {str(order_id): log for order_id, log in self.fulfillment_log.items()},
            "refund_log": {str(order_id): log for order_id, log in self.refund_log.items()},
            "status_history": self.status_history,
            "inventory": self.inventory,
            "adjustments": self.adjustments,
            "inventory_history": self.inventory_history,
            "calls": dict(self.calls),
            "webhook_events": self.events,
            "rate_limit": {"quota": self.quota.quota, "used": self.quota.used, "window_ms": self.quota.window_ms},
        }

    def fault_response(self, status: int) -> Response:
        headers = {}
        if status == 429:
            headers["X-Rate-Limit-Time-Reset-Ms"] = str(self.faults.retry_after_seconds * 1000)
        return Response(status, v3_error(status, "Injected by the sandbox"), headers)

    # -- seeding ------------------------------------------------------------------------------------------
    def add_order(
        self,
        order: Mapping[str, Any],
        products: Iterable[Mapping[str, Any]] = (),
        shipping_addresses: Iterable[Mapping[str, Any]] = (),
        *,
        stamp: bool = True,
    ) -> int:
        """Put an order in the store as the storefront would; ``stamp`` dates it now on the sandbox clock."""
        record = copy.deepcopy(dict(order))
        order_id = int(record["id"])
        if stamp:
            record["date_created"] = record["date_modified"] = rfc2822(self.clock.now())
        for resource in ("products", "shipping_addresses", "coupons"):
            path = f"/orders/{order_id}/{resource.replace('_', '')}"
            record[resource] = {"url": f"{API_HOST}/stores/{self.store_hash}/v2{path}", "resource": path}
        lines = [dict(copy.deepcopy(p), order_id=order_id) for p in products]
        addresses = [dict(copy.deepcopy(a), order_id=order_id) for a in shipping_addresses]
        with self.lock:
            self.orders[order_id] = record
            self.order_products[order_id] = lines
            self.shipping_addresses[order_id] = addresses
            self.shipments.setdefault(order_id, [])
            self.refunds.setdefault(order_id, [])
        return order_id

    def add_sample_order(self, order_id: int | None = None) -> int:
        """The order under ``events/bigcommerce/``, optionally under another id."""
        order: dict[str, Any] = load_json("bigcommerce/order.json")
        if order_id is not None:
            order["id"] = order_id
        products = load_json("bigcommerce/order_products.json")
        addresses = load_json("bigcommerce/order_shipping_addresses.json")
        return self.add_order(order, products, addresses)

    def add_catalog_item(
        self,
        sku: str,
        *,
        product_id: int | None = None,
        variant_id: int | None = None,
        stock: Mapping[int, int] | None = None,
    ) -> int:
        """A product (or variant) the inventory API can address; ``stock`` is quantity per location id.

        Returns the product id (a new one unless given)."""
        with self.lock:
            if product_id is None:
                product_id = max((ids["product_id"] or 0 for ids in self.catalog.values()), default=100) + 1
            self.catalog[sku] = {"product_id": product_id, "variant_id": variant_id}
            self.inventory[sku] = {}
            for location_id, quantity in (stock or {}).items():
                self._set_stock(sku, location_id, quantity, "seed")
        return product_id

    def stock(self, sku: str, location_id: int = 1) -> int | None:
        """The quantity ``sku`` has at ``location_id``; None if none was ever set there."""
        with self.lock:
            return self.inventory.get(sku, {}).get(location_id)

    def _set_stock(self, sku: str, location_id: int, quantity: int, reference: str) -> None:
        self.inventory.setdefault(sku, {})[location_id] = quantity
        entry = {"sku": sku, "location_id": location_id, "quantity": quantity, "at": self.clock.now()}
        self.inventory_history.append(entry | {"reference": reference})

    def set_order_status(self, order_id: int, status_id: int) -> None:
        """A status change made in the control panel, outside the API."""
        with self.lock:
            if self._set_status(self.orders[order_id], status_id, source="control_panel"):
                self._echo(order_id, status_changed=True)

    # -- webhooks -----------------------------------------------------------------------------------------
    def emit_order_event(
        self, scope: str, order_id: int, *, delays: Sequence[float] = (0.0,), delivered: bool = True
    ) -> WebhookEvent:
        """Queue the thin webhook for one order event; ``delivered=False`` is an event whose webhook is lost.

        Every entry of ``delays`` is a delivery of the same event: same body, same ``hash``, same
        ``webhook-id``. Each is signed when it is sent, with that moment's ``webhook-timestamp``.
        """
        if scope not in ORDER_SCOPES:
            raise ValueError(f"unsupported scope {scope!r}; expected one of {ORDER_SCOPES}")
        with self.lock:
            data = self._event_data(scope, order_id)
            created_at = int(self.clock.now())
            payload = {
                "scope": scope,
                "store_id": self.store_id,
                "data": data,
                "hash": self._event_hash(scope, data, created_at),
                "created_at": created_at,
                "producer": f"stores/{self.store_hash}",
            }
            event = WebhookEvent(self._new_uuid(), payload, json.dumps(payload, separators=(",", ":")).encode())
            self.events.append(
                {
                    "webhook_id": event.webhook_id,
                    "scope": scope,
                    "order_id": order_id,
                    "hash": payload["hash"],
                    "created_at": created_at,
                    "delivered": delivered,
                }
            )
        if delivered:
            headers = {"Content-Type": "application/json", "webhook-id": event.webhook_id}
            self.send_webhook(headers, event.body, delays=delays, label=f"{scope} #{order_id}")
        return event

    def delivery_headers(self, delivery: Delivery) -> dict[str, str]:
        """Standard Webhooks signature of this attempt: HMAC-SHA256 of ``{id}.{timestamp}.{body}``."""
        # Wall time: the attempt crosses the wire now, whatever the scenario clock says about when it was due.
        timestamp = str(int(time.time()))
        signed = f"{delivery.headers['webhook-id']}.{timestamp}.".encode() + delivery.body
        signature = hmac_sha256_b64(self.webhook_secret.encode(), signed)
        return {**delivery.headers, "webhook-timestamp": timestamp, "webhook-signature": f"v1,{signature}"}

    def _echo(self, order_id: int, *, status_changed: bool) -> None:
        """BigCommerce tells subscribers about an app's own API changes too."""
        if self.echo_webhooks:
            self.emit_order_event("store/order/updated", order_id)
            if status_changed:
                self.emit_order_event("store/order/statusUpdated", order_id)

    def _event_data(self, scope: str, order_id: int) -> dict[str, Any]:
        data: dict[str, Any] = {"type": "order", "id": order_id}
        if scope == "store/order/statusUpdated":
            changes = [h for h in self.status_history if h["order_id"] == order_id]
            current = self.orders[order_id]["status_id"] if order_id in self.orders else 0
            previous = changes[-1]["previous_status_id"] if changes else 0
            data["status"] = {"previous_status_id": previous, "new_status_id": current}
        return data

    def _event_hash(self, scope: str, data: Mapping[str, Any], created_at: int) -> str:
        # BigCommerce documents the hash as a SHA-1 of the payload data and keeps it across duplicates. The
        # sequence number keeps two distinct events on the same order in the same second apart.
        material = {"scope": scope, "data": data, "created_at": created_at, "seq": len(self.events)}
        return hashlib.sha1(json.dumps(material, sort_keys=True).encode(), usedforsecurity=False).hexdigest()

    def _new_uuid(self) -> str:
        return str(uuid.UUID(int=self.random.getrandbits(128), version=4))  # seeded, so runs repeat

    # -- request guard: store, token, quota ---------------------------------------------------------------
    def _api(self, method: str, pattern: str, handler: Handler, name: str) -> None:
        self.route(method, pattern, self._guarded(handler, v3="/v3/" in pattern), name=name)

    def _guarded(self, handler: Handler, *, v3: bool) -> Handler:
        def guarded(request: Request) -> Response:
            def error(status: int, message: str) -> Response:
                return Response(status, v3_error(status, message) if v3 else v2_error(status, message))

            if request.params.get("store_hash") != self.store_hash:
                return error(404, "The requested resource was not found.")
            if request.headers.get("x-auth-token") != self.access_token:
                return error(401, "No valid credential was supplied.")
            with self.lock:
                allowed, quota_headers = self.quota.take(self.clock.now())
            if not allowed:
                response = error(429, "Too many requests. The store's request quota for this window is spent.")
            else:
                response = self._handle(handler, request)
            response.headers.update(quota_headers)
            return response

        return guarded

    @staticmethod
    def _handle(handler: Handler, request: Request) -> Response:
        try:
            return handler(request)
        except HttpError as failure:  # caught here so the quota headers still go out
            return failure.response

    # -- V2 orders ----------------------------------------------------------------------------------------
    def list_orders(self, request: Request) -> Response:
        limit = int_arg(request, "limit", 50)
        page = int_arg(request, "page", 1)
        if limit > MAX_PAGE_LIMIT:
            raise HttpError(413, v2_error(413, f"The limit parameter may not exceed {MAX_PAGE_LIMIT}."))
        checks = order_filters(request)
        with self.lock:
            matches = [o for o in self.orders.values() if all(check(o) for check in checks)]
            matches.sort(key=sort_key(request.arg("sort", "id") or "id"), reverse=is_descending(request))
            window = copy.deepcopy(matches[(page - 1) * limit : page * limit])
        return Response(200, window) if window else Response(204)

    def get_order(self, request: Request) -> Response:
        with self.lock:
            return Response(200, copy.deepcopy(self._order(request)))

    def update_order(self, request: Request) -> Response:
        body = request.json()
        if not isinstance(body, dict):
            raise HttpError(400, v2_error(400, "The request body must be a JSON object."))
        for field in body:
            if field not in WRITABLE_ORDER_FIELDS:
                message = f"The field '{field}' cannot be written to. Please remove it from your request."
                raise HttpError(400, v2_error(400, message))
        status_id = body.get("status_id", None)
        if "status_id" in body and (status_id not in ORDER_STATUSES or isinstance(status_id, bool)):
            raise HttpError(400, v2_error(400, f"The field 'status_id' is invalid: {status_id!r}."))
        with self.lock:
            order = self._order(request)
            changed = status_id is not None and self._set_status(order, status_id, source="api")
            order.update({k: v for k, v in body.items() if k != "status_id"})
            order["date_modified"] = rfc2822(self.clock.now())
            self._echo(order["id"], status_changed=changed)
            return Response(200, copy.deepcopy(order))

    def get_order_products(self, request: Request) -> Response:
        with self.lock:
            order = self._order(request)
            return Response(200, copy.deepcopy(self.order_products[order["id"]]))

    def get_shipping_addresses(self, request: Request) -> Response:
        with self.lock:
            order = self._order(request)
            return Response(200, copy.deepcopy(self.shipping_addresses[order["id"]]))

    def list_shipments(self, request: Request) -> Response:
        with self.lock:
            order = self._order(request)
            shipments = copy.deepcopy(self.shipments[order["id"]])
        return Response(200, shipments) if shipments else Response(204)

    def create_shipment(self, request: Request) -> Response:
        body = request.json()
        if not isinstance(body, dict):
            raise HttpError(400, v2_error(400, "The request body must be a JSON object."))
        for required in ("order_address_id", "items"):
            if required not in body:
                raise HttpError(400, v2_error(400, f"The required field '{required}' was not supplied."))
        with self.lock:
            order = self._order(request)
            address = self._address(order["id"], body["order_address_id"])
            shipped = self._ship_items(order["id"], body["items"])
            shipment = self._record_shipment(order, address, body, shipped)
            changed = self._after_shipment(order, address, shipped)
            self._echo(order["id"], status_changed=changed)
            return Response(201, copy.deepcopy(shipment))

    def _order(self, request: Request) -> dict[str, Any]:
        try:
            return self.orders[int(request.params["order_id"])]
        except (KeyError, ValueError):
            raise HttpError(404, v2_error(404, "The requested resource was not found.")) from None

    def _address(self, order_id: int, address_id: Any) -> dict[str, Any]:
        for address in self.shipping_addresses[order_id]:
            if address["id"] == address_id:
                return address
        raise HttpError(400, v2_error(400, f"The field 'order_address_id' is invalid: {address_id!r}."))

    def _ship_items(self, order_id: int, items: Any) -> list[tuple[dict[str, Any], int]]:
        """Check every item before touching any line, so a bad item ships nothing."""
        if not isinstance(items, list) or not items:
            raise HttpError(400, v2_error(400, "The field 'items' must list at least one order product."))
        lines = {line["id"]: line for line in self.order_products[order_id]}
        shipped = []
        for item in items:
            line = lines.get(item.get("order_product_id")) if isinstance(item, dict) else None
            quantity = item.get("quantity") if isinstance(item, dict) else None
            if line is None or not isinstance(quantity, int) or quantity < 1:
                raise HttpError(400, v2_error(400, f"The shipment item {item!r} is invalid."))
            if quantity > line["quantity"] - line["quantity_shipped"]:
                message = f"Order product {line['id']} has fewer than {quantity} items left to ship."
                raise HttpError(400, v2_error(400, message))
            shipped.append((line, quantity))
        return shipped

    def _record_shipment(
        self,
        order: dict[str, Any],
        address: Mapping[str, Any],
        body: Mapping[str, Any],
        shipped: list[tuple[dict[str, Any], int]],
    ) -> dict[str, Any]:
        address_fields = ("first_name", "last_name", "company", "street_1", "street_2", "city", "state", "zip")
        shipment = {
            "id": self._next_shipment_id,
            "order_id": order["id"],
            "customer_id": order.get("customer_id", 0),
            "order_address_id": address["id"],
            "date_created": rfc2822(self.clock.now()),
            "tracking_number": body.get("tracking_number", ""),
            "merchant_shipping_cost": "0.0000",
            "shipping_method": body.get("shipping_method", "None"),
            "comments": body.get("comments", ""),
            "shipping_provider": body.get("shipping_provider", ""),
            "tracking_carrier": body.get("tracking_carrier", ""),
            "tracking_link": body.get("tracking_link", ""),
            "billing_address": copy.deepcopy(order.get("billing_address", {})),
            "shipping_address": {k: address.get(k, "") for k in (*address_fields, "country", "country_iso2")}
            | {"phone": address.get("phone", ""), "email": address.get("email", "")},
            "items": [
                {"order_product_id": line["id"], "product_id": line["product_id"], "quantity": quantity}
                for line, quantity in shipped
            ],
            "shipping_provider_display_name": str(body.get("shipping_provider", "")).upper(),
            "generated_tracking_link": "",
        }
        self._next_shipment_id += 1
        self.shipments[order["id"]].append(shipment)
        entry = {"id": str(shipment["id"]), "at": self.clock.now(), "tracking_number": shipment["tracking_number"]}
        self.fulfillment_log.setdefault(order["id"], []).append(entry | {"items": copy.deepcopy(shipment["items"])})
        return shipment

    def _after_shipment(
        self, order: dict[str, Any], address: dict[str, Any], shipped: list[tuple[dict[str, Any], int]]
    ) -> bool:
        """Shipping moves the counts and the status, as the control panel's Ship Items action does."""
        count = sum(quantity for _, quantity in shipped)
        for line, quantity in shipped:
            line["quantity_shipped"] += quantity
        address["items_shipped"] = address.get("items_shipped", 0) + count
        order["items_shipped"] = order.get("items_shipped", 0) + count
        order["date_shipped"] = rfc2822(self.clock.now())
        done = order["items_shipped"] >= order.get("items_total", 0)
        return self._set_status(order, SHIPPED if done else PARTIALLY_SHIPPED, source="shipment")

    def _set_status(self, order: dict[str, Any], status_id: int, *, source: str) -> bool:
        """Set the status and date the change; True when it really changed (and so went into the history)."""
        previous: int = order["status_id"]
        now = rfc2822(self.clock.now())
        order.update(status_id=status_id, status=ORDER_STATUSES[status_id], custom_status=ORDER_STATUSES[status_id])
        order["date_modified"] = now
        if previous != status_id:
            entry = {"order_id": order["id"], "previous_status_id": previous, "new_status_id": status_id}
            self.status_history.append(entry | {"at": now, "source": source})
        return previous != status_id

    # -- V3 payment actions: refunds ----------------------------------------------------------------------
    def create_refund_quote(self, request: Request) -> Response:
        body = request.json()
        with self.lock:
            order = self._v3_order(request)
            total = self._refund_total(order, self._refund_items(order, body))
            quote = {
                "order_id": order["id"],
                "total_refund_amount": float(total),
                "total_refund_tax_amount": 0,
                "rounding": 0,
                "adjustment": 0,
                "tax_inclusive": True,
                "refund_methods": self._refund_methods(order, total),
            }
        return Response(201, {"data": quote, "meta": {}})

    def list_refunds(self, request: Request) -> Response:
        with self.lock:
            order = self._v3_order(request)
            return Response(200, {"data": copy.deepcopy(self.refunds[order["id"]]), "meta": {}})

    def create_refund(self, request: Request) -> Response:
        body = request.json()
        with self.lock:
            order = self._v3_order(request)
            items = self._refund_items(order, body)
            total = self._refund_total(order, items)
            payments = self._refund_payments(order, body, total)
            refund = self._record_refund(order, items, payments, total)
        return Response(201, {"data": copy.deepcopy(refund), "meta": {}})

    def _v3_order(self, request: Request) -> dict[str, Any]:
        try:
            return self.orders[int(request.params["order_id"])]
        except (KeyError, ValueError):
            raise HttpError(404, v3_error(404, "The requested resource was not found.")) from None

    @staticmethod
    def _refusal(message: str) -> HttpError:
        """The refunds endpoint's 422: ``{"data": [{status, title, type}]}``."""
        return HttpError(422, {"data": [{"status": 422, "title": message, "type": ERROR_TYPE}]})

    def _refund_items(self, order: dict[str, Any], body: Any) -> list[tuple[dict[str, Any], int, Decimal]]:
        """(item as sent, quantity, amount) for each item, checked before anything is refunded."""
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            raise HttpError(422, v3_error(422, "The field 'items' is required.", {"items": "is required"}))
        products = {line["id"]: line for line in self.order_products[order["id"]]}
        checked = []
        for index, item in enumerate(items):
            kind = item.get("item_type") if isinstance(item, dict) else None
            if len(str(item.get("reason", "") if isinstance(item, dict) else "")) > 1000:
                raise self._refusal(f"items.{index}.reason is longer than 1000 characters.")
            if kind == "PRODUCT":
                line, quantity = products.get(item.get("item_id")), item.get("quantity")
                left = line["quantity"] - line.get("quantity_refunded", 0) if line else 0
                if line is None or not isinstance(quantity, int) or not 0 < quantity <= left:
                    raise self._refusal(f"items.{index}: order product cannot be refunded in that quantity.")
                amount = (Decimal(str(line["price_inc_tax"])) * quantity).quantize(CENT)
                checked.append((item, quantity, amount))
            elif kind == "ORDER" and item.get("item_id") == order["id"]:
                checked.append((item, 0, self._amount(item.get("amount"), f"items.{index}.amount")))
            else:
                raise self._refusal(f"items.{index}: the sandbox refunds PRODUCT and ORDER items of this order.")
        return checked

    def _amount(self, value: Any, field: str) -> Decimal:
        try:
            amount = Decimal(str(value)).quantize(CENT)
        except InvalidOperation:
            raise self._refusal(f"{field} is not an amount.") from None
        if amount <= 0:
            raise self._refusal(f"{field} must be greater than zero.")
        return amount

    def _refund_total(self, order: dict[str, Any], items: list[tuple[dict[str, Any], int, Decimal]]) -> Decimal:
        total = sum((amount for _, _, amount in items), Decimal(0))
        left = Decimal(str(order.get("total_inc_tax", "0"))) - Decimal(str(order.get("refunded_amount", "0")))
        if total > left:
            raise self._refusal(f"The refund of {total} exceeds the {left} left to refund on the order.")
        return total

    def _refund_methods(self, order: dict[str, Any], total: Decimal) -> list[list[dict[str, Any]]]:
        provider, description, offline = PAYMENT_PROVIDERS.get(
            order.get("payment_method", ""), ("custom", "Custom", True)
        )
        methods = [(provider, description, offline)]
        if provider != "custom":
            methods.append(("custom", "Custom", True))  # marked as refunded outside BigCommerce
        if order.get("customer_id"):
            methods.append(("storecredit", "Store Credit", False))  # a guest has no store credit
        return [
            [
                {
                    "provider_id": provider_id,
                    "provider_description": text,
                    "amount": float(total),
                    "offline": only_offline,
                    "offline_provider": only_offline,
                    "offline_reason": "This is an offline payment provider." if only_offline else "",
                }
            ]
            for provider_id, text, only_offline in methods
        ]

    def _refund_payments(self, order: dict[str, Any], body: Any, total: Decimal) -> list[dict[str, Any]]:
        payments = body.get("payments") if isinstance(body, dict) else None
        if not isinstance(payments, list) or not payments:
            raise HttpError(422, v3_error(422, "The field 'payments' is required.", {"payments": "is required"}))
        allowed = {m[0]["provider_id"]: m[0]["offline_provider"] for m in self._refund_methods(order, total)}
        checked: list[dict[str, Any]] = []
        for index, payment in enumerate(payments):
            provider = payment.get("provider_id") if isinstance(payment, dict) else None
            if provider not in allowed:
                raise self._refusal(f"payments.{index}: {provider!r} is not a way to refund this order.")
            if allowed[provider] and payment.get("offline") is not True:
                raise self._refusal(f"payments.{index}: {provider} can only refund offline.")
            amount = self._amount(payment.get("amount"), f"payments.{index}.amount")
            checked.append({"provider_id": provider, "amount": amount, "offline": bool(payment.get("offline"))})
        if sum((p["amount"] for p in checked), Decimal(0)) != total:
            raise self._refusal(f"The payments do not add up to the refund total of {total}.")
        return checked

    def _record_refund(
        self,
        order: dict[str, Any],
        items: list[tuple[dict[str, Any], int, Decimal]],
        payments: list[dict[str, Any]],
        total: Decimal,
    ) -> dict[str, Any]:
        products = {line["id"]: line for line in self.order_products[order["id"]]}
        for item, quantity, _amount in items:
            if item["item_type"] == "PRODUCT":
                line = products[item["item_id"]]
                line["quantity_refunded"] = line.get("quantity_refunded", 0) + quantity
                line["is_refunded"] = line["quantity_refunded"] >= line["quantity"]
        refund_id, self._next_refund_id = self._next_refund_id, self._next_refund_id + 1
        reasons = [str(item.get("reason", "")) for item, _, _ in items if item.get("reason")]
        refund = {
            "id": refund_id,
            "order_id": order["id"],
            "user_id": 0,
            "created": datetime.fromtimestamp(self.clock.now(), UTC).isoformat(timespec="seconds"),
            "reason": reasons[0] if reasons else "",
            "total_amount": float(total),
            "total_tax": 0,
            "uses_merchant_override_values": False,
            "items": [
                {
                    "item_type": item["item_type"],
                    "item_id": item["item_id"],
                    "reason": item.get("reason", ""),
                    "quantity": quantity if item["item_type"] == "PRODUCT" else None,
                    "requested_amount": None if item["item_type"] == "PRODUCT" else float(amount),
                }
                for item, quantity, amount in items
            ],
            "payments": [
                {
                    **p,
                    "id": refund_id * 10 + i,
                    "amount": float(p["amount"]),
                    "is_declined": False,
                    "declined_message": "",
                }
                for i, p in enumerate(payments)
            ],
        }
        self.refunds[order["id"]].append(refund)
        entry = {"id": str(refund_id), "at": self.clock.now(), "amount": str(total), "reason": refund["reason"]}
        self.refund_log.setdefault(order["id"], []).append(entry)
        self._after_refund(order, total)
        return refund

    def _after_refund(self, order: dict[str, Any], total: Decimal) -> None:
        refunded = Decimal(str(order.get("refunded_amount") or "0")) + total
        order["refunded_amount"] = f"{refunded:.4f}"
        whole = refunded >= Decimal(str(order.get("total_inc_tax", "0")))
        order["payment_status"] = "refunded" if whole else "partially refunded"
        changed = self._set_status(order, REFUNDED if whole else PARTIALLY_REFUNDED, source="refund")
        self._echo(order["id"], status_changed=changed)

    # -- V3 inventory -------------------------------------------------------------------------------------
    def adjust_absolute(self, request: Request) -> Response:
        body = request.json()
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            raise HttpError(422, v3_error(422, "The field 'items' is required.", {"items": "is required"}))
        if len(items) > MAX_ADJUSTMENT_ITEMS:
            title = f"Payload contains {len(items)} items; the limit is {MAX_ADJUSTMENT_ITEMS}."
            raise HttpError(422, v3_error(422, title, {"items": f"at most {MAX_ADJUSTMENT_ITEMS} items"}))
        with self.lock:
            resolved = [self._resolve_adjustment(index, item) for index, item in enumerate(items)]
            transaction_id = self._new_uuid()
            for sku, location_id, quantity in resolved:
                self._set_stock(sku, location_id, quantity, str(body.get("reason") or transaction_id))
            self.adjustments.append(
                {"transaction_id": transaction_id, "reason": body.get("reason", ""), "items": copy.deepcopy(items)}
            )
        return Response(200, {"transaction_id": transaction_id})

    def _resolve_adjustment(self, index: int, item: Any) -> tuple[str, int, int]:
        """(sku, location_id, quantity) for one item, or a 422 that names it."""

        def invalid(reason: str) -> HttpError:
            return HttpError(422, v3_error(422, "Payload contains invalid fields", {f"items.{index}": reason}))

        if not isinstance(item, dict):
            raise invalid("must be an object")
        location_id, quantity = item.get("location_id"), item.get("quantity")
        if not isinstance(location_id, int) or not isinstance(quantity, int):
            raise invalid("location_id and quantity must be integers")
        if not 0 <= quantity <= MAX_STOCK_LEVEL:
            raise invalid(f"quantity must be between 0 and {MAX_STOCK_LEVEL}")
        identities = [key for key in ("sku", "variant_id", "product_id") if key in item]
        if len(identities) != 1:
            raise invalid("exactly one of sku, variant_id or product_id is required")
        sku = self._sku_for(identities[0], item[identities[0]])
        if sku is None:
            raise invalid(f"no inventory item with {identities[0]} {item[identities[0]]!r}")
        return sku, location_id, quantity

    def _sku_for(self, key: str, value: Any) -> str | None:
        if key == "sku":
            return value if value in self.catalog else None
        for sku, ids in self.catalog.items():
            if ids[key] == value and (key == "variant_id" or ids["variant_id"] is None):
                return sku
        return None

    def get_inventory_items(self, request: Request) -> Response:
        wanted = {key: split_arg(request, f"{key}:in") for key in ("sku", "variant_id", "product_id")}
        locations = {int(value) for value in split_arg(request, "location_id:in") if value.isdigit()}
        limit, page = v3_int_arg(request, "limit", 50), v3_int_arg(request, "page", 1)
        if limit > MAX_ITEMS_LIMIT:
            raise HttpError(422, v3_error(422, f"The limit may not exceed {MAX_ITEMS_LIMIT}.", {"limit": "too large"}))
        with self.lock:
            skus = [sku for sku in self.catalog if self._identity_matches(sku, wanted)]
            data = [self._inventory_item(sku, locations) for sku in skus[(page - 1) * limit : page * limit]]
        total_pages = max(1, math.ceil(len(skus) / limit))
        links = {"current": f"?limit={limit}&page={page}"}
        if page > 1:
            links["previous"] = f"?limit={limit}&page={page - 1}"
        if page < total_pages:
            links["next"] = f"?limit={limit}&page={page + 1}"
        pagination = {
            "total": len(skus),
            "count": len(data),
            "per_page": limit,
            "current_page": page,
            "total_pages": total_pages,
            "links": links,
        }
        return Response(200, {"data": data, "meta": {"pagination": pagination}})

    def _identity_matches(self, sku: str, wanted: Mapping[str, set[str]]) -> bool:
        identity = {"sku": sku, **{key: str(value) for key, value in self.catalog[sku].items()}}
        return all(not values or identity[key] in values for key, values in wanted.items())

    def _inventory_item(self, sku: str, only: set[int]) -> dict[str, Any]:
        """The item and its level per location (``only`` those locations, if any are named)."""
        ids = self.catalog[sku]
        locations = [
            {
                "location_id": location_id,
                "location_code": f"BC-LOCATION-{location_id}",
                "location_name": "Default location" if location_id == 1 else f"Location {location_id}",
                "available_to_sell": quantity,
                "total_inventory_onhand": quantity,
                "location_enabled": True,
                "settings": {
                    "safety_stock": 0,
                    "is_in_stock": quantity > 0,
                    "warning_level": 0,
                    "bin_picking_number": "",
                },
            }
            for location_id, quantity in sorted(self.inventory.get(sku, {}).items())
            if not only or location_id in only
        ]
        return {"identity": {"sku": sku, **ids}, "locations": locations}


# -- query helpers ----------------------------------------------------------------------------------------
def int_arg(request: Request, name: str, default: int) -> int:
    raw = request.arg(name)
    try:
        value = default if raw is None else int(raw)
    except ValueError:
        raise HttpError(400, v2_error(400, f"The parameter '{name}' must be an integer.")) from None
    if value < 1:
        raise HttpError(400, v2_error(400, f"The parameter '{name}' must be at least 1."))
    return value


def v3_int_arg(request: Request, name: str, default: int) -> int:
    raw = request.arg(name)
    value = default if raw is None else int(raw) if raw.isdigit() else 0
    if value < 1:
        raise HttpError(422, v3_error(422, f"The parameter '{name}' must be a positive integer.", {name: raw}))
    return value


def split_arg(request: Request, name: str) -> set[str]:
    raw = request.arg(name)
    return {part.strip() for part in raw.split(",") if part.strip()} if raw else set()


def order_filters(request: Request) -> list[Callable[[Mapping[str, Any]], bool]]:
    """The V2 list filters this sandbox honours; each bound is inclusive, as its min/max name says."""
    checks: list[Callable[[Mapping[str, Any]], bool]] = []
    for field in ("date_modified", "date_created"):
        if (low := request.arg(f"min_{field}")) is not None:
            checks.append(bound_check(field, parse_v2_date(low), at_least=True, parse=parse_v2_date))
        if (high := request.arg(f"max_{field}")) is not None:
            checks.append(bound_check(field, parse_v2_date(high), at_least=False, parse=parse_v2_date))
    if request.arg("min_id") is not None:
        checks.append(bound_check("id", int_arg(request, "min_id", 1), at_least=True, parse=int))
    if request.arg("max_id") is not None:
        checks.append(bound_check("id", int_arg(request, "max_id", 1), at_least=False, parse=int))
    if (status := request.arg("status_id")) is not None:
        checks.append(lambda order: str(order["status_id"]) == status)
    return checks


def bound_check(
    field: str, bound: float, *, at_least: bool, parse: Callable[[Any], float]
) -> Callable[[Mapping[str, Any]], bool]:
    def check(order: Mapping[str, Any]) -> bool:
        value = parse(order[field])
        return value >= bound if at_least else value <= bound

    return check


def sort_key(sort: str) -> Callable[[Mapping[str, Any]], Any]:
    field = sort.split(":")[0]
    if field in ("date_modified", "date_created"):
        return lambda o: (parse_v2_date(o[field]), o["id"])
    if field in ("id", "customer_id", "status_id", "channel_id"):
        return lambda o: (o.get(field) or 0, o["id"])
    raise HttpError(400, v2_error(400, f"The sort field '{field}' is not supported."))


def is_descending(request: Request) -> bool:
    return (request.arg("sort") or "").endswith(":desc")
