"""WooCommerce stand-in: REST API v3 orders, order notes, product stock batches, and webhooks as WooCommerce sends them.

What it follows (woocommerce/woocommerce, plugins/woocommerce/includes/):
- ``class-wc-webhook.php``: the body is ``wp_json_encode`` output (compact, ``\\/`` and ``\\uXXXX`` escapes), signed
  as base64 HMAC-SHA256 of those bytes with the webhook secret; headers ``X-WC-Webhook-Source/-Topic/-Resource/
  -Event/-Signature/-ID/-Delivery-ID`` (a new delivery id per delivery); the creation ping is the unsigned
  form body ``webhook_id=N``; 200-302 counts as delivered, nothing is retried, and a hook whose failure count
  is already above 5 is disabled on the next failure;
- ``rest-api/Controllers/Version3/class-wc-rest-crud-controller.php`` and ``class-wc-rest-controller.php``:
  ``modified_after``/``modified_before`` (site time unless ``dates_are_gmt``), ``per_page`` up to 100,
  ``X-WP-Total``/``X-WP-TotalPages``, ``Invalid ID.`` errors, and batches capped at 100 items (413);
- ``class-wc-rest-products-controller.php``: ``GET /products?sku=a,b`` matches any SKU of a comma-separated list
  exactly (variations are not products here); a batch update sets each item or answers its own error;
- ``class-wc-rest-order-refunds-controller.php`` and ``wc_create_refund``: a refund's ``amount`` must be above
  zero (400) and within what is left to refund (a 500, as WooCommerce answers a failed ``wc_create_refund``);
  ``api_refund`` (default true) asks the gateway to pay, which the offline gateways (``bacs``, ``cheque``,
  ``cod``) cannot (500); ``api_restock`` (default true) puts the refunded quantities back in stock; the order
  lists the refund (``refunds``: id, reason, negative total) and turns ``refunded`` once all of it is paid back;
- order meta written with ``PUT /orders/{id}`` (``meta_data``: an entry with a known key replaces it);
- errors as ``{"code", "message", "data": {"status"}}``.

The state's ``note_log`` and ``refund_log`` list, per order id, the notes and refunds made through the API
(``at``: the sandbox clock), for asserting one note per shipment, one refund per return and their order.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import math
from base64 import b64decode
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from infra.local.clock import Clock
from infra.local.sandboxes.base import Delivery, Handler, HttpError, Request, Response, Sandbox
from infra.samples import load_json
from shared.signatures import hmac_sha256_b64

API = "/wp-json/wc/v3"
ORDER_TOPICS = ("order.created", "order.updated", "order.deleted", "order.restored")
STATUS_NAMES = {
    "pending": "Pending payment",
    "processing": "Processing",
    "on-hold": "On hold",
    "completed": "Completed",
    "cancelled": "Cancelled",
    "refunded": "Refunded",
    "failed": "Failed",
    "checkout-draft": "Draft",
}
EDITABLE_STATUSES = ("pending", "on-hold", "checkout-draft")
PAID_STATUSES = ("processing", "completed")
OFFLINE_GATEWAYS = frozenset({"bacs", "cheque", "cod", ""})  # no automatic refunds
CENT = Decimal("0.01")
BATCH_LIMIT = 100
MAX_PER_PAGE = 100
MAX_CONSECUTIVE_FAILURES = 5
DATE_FORMAT = "%Y-%m-%dT%H:%M:%S"
# Fake credentials: the sandbox checks requests and signs webhooks with them, nothing real accepts them.
SANDBOX_WEBHOOK_SECRET = "wc-sandbox-webhook-secret-:Jq8~vT2#rW"  # noqa: S105
SANDBOX_CONSUMER_KEY = "ck_4f1e9b7c2d8a6035e1b4c9d7f2a8e6b3c1d5f9a0"
SANDBOX_CONSUMER_SECRET = "cs_9a2c7e5b1d8f4063a7e2c9b5d1f8a6e4c2b7d903"  # noqa: S105
DEFAULT_WEBHOOK_IDS = {"order.created": 11, "order.updated": 12, "order.deleted": 13, "order.restored": 14}


def wp_json(payload: Any) -> bytes:
    """The bytes ``wp_json_encode`` produces with PHP's default flags: compact, ``/`` as ``\\/``, ASCII only.

    Signatures are over exactly these bytes, so a receiver that re-serialises the JSON will not match.
    """
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=True).replace("/", "\\/").encode("ascii")


def woo_error(status: int, code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"code": code, "message": message, "data": {"status": status, **extra}}


def invalid_param(name: str, reason: str) -> HttpError:
    """WordPress's own answer to a parameter that fails its schema."""
    return HttpError(400, woo_error(400, "rest_invalid_param", f"Invalid parameter(s): {name}", params={name: reason}))


class WooCommerceSandbox(Sandbox):
    """State: ``orders`` (REST v3 JSON by id), ``notes`` (per order, oldest first), ``products`` (stock fields),
    ``hooks`` (one per topic, with WooCommerce's failure count and status), ``events`` (every webhook event,
    lost ones included), ``inventory_history`` (every stock quantity set: ``{sku, location_id (always None: no
    locations in core WooCommerce), quantity, at, reference}``). Seed with ``add_product``; play the store with
    ``emit_order`` and ``send_ping``. The state's ``calls`` counts requests per endpoint (faults included)."""

    name = "woocommerce"

    def __init__(
        self,
        clock: Clock | None = None,
        seed: int = 7,
        *,
        webhook_secret: str = SANDBOX_WEBHOOK_SECRET,
        consumer_key: str = SANDBOX_CONSUMER_KEY,
        consumer_secret: str = SANDBOX_CONSUMER_SECRET,
        site_url: str = "https://orders.acme-supply.example",
        utc_offset_hours: float = 0.0,
        webhook_ids: Mapping[str, int] | None = None,
        wc_version: str = "10.2.1",
        wp_version: str = "6.8.3",
        echo_webhooks: bool = True,
    ) -> None:
        # Set before the base constructor, which calls reset_state().
        self.webhook_secret = webhook_secret
        self.consumer_key = consumer_key
        self.consumer_secret = consumer_secret
        self.site_url = site_url.rstrip("/")
        self.utc_offset = timedelta(hours=utc_offset_hours)
        # WooCommerce ties one topic to one webhook, so each topic arrives with its own X-WC-Webhook-ID.
        self.webhook_ids = dict(webhook_ids or DEFAULT_WEBHOOK_IDS)
        self.user_agent = f"WooCommerce/{wc_version} Hookshot (WordPress/{wp_version})"
        self.echo_webhooks = echo_webhooks  # WooCommerce fires order.updated for the API's own edits too
        super().__init__(clock, seed)
        self._register_routes()

    def _register_routes(self) -> None:
        view_list = ("woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
        view_one = ("woocommerce_rest_cannot_view", "Sorry, you cannot view this resource.")
        edit = ("woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource.")
        create = ("woocommerce_rest_cannot_create", "Sorry, you are not allowed to create resources.")
        batch = ("woocommerce_rest_cannot_batch", "Sorry, you are not allowed to batch manipulate this resource.")
        self._api("GET", "/orders", self.list_orders, "list orders", view_list)
        self._api("GET", "/orders/{order_id}", self.get_order, "get order", view_one)
        for method in ("PUT", "PATCH", "POST"):  # WordPress takes all three as an edit
            self._api(method, "/orders/{order_id}", self.update_order, "update order", edit)
        self._api("GET", "/orders/{order_id}/notes", self.list_notes, "list order notes", view_list)
        self._api("POST", "/orders/{order_id}/notes", self.add_note, "add order note", create)
        self._api("GET", "/orders/{order_id}/refunds", self.list_refunds, "list order refunds", view_list)
        self._api("POST", "/orders/{order_id}/refunds", self.create_refund, "create order refund", create)
        self._api("GET", "/products", self.list_products, "list products", view_list)
        self._api("POST", "/products/batch", self.batch_products, "batch products", batch)

    # -- state --------------------------------------------------------------------------------------------
    def connection(self) -> dict[str, Any]:
        # The store is the webhook source's host, so orders fetched here and pushed by webhook share one key.
        settings = {"store": urlsplit(self.site_url).hostname or "localhost"}
        credentials = {"consumer_key": self.consumer_key, "consumer_secret": self.consumer_secret}
        return {"base_url": self.url, "credentials": credentials, "settings": settings}

    def reset_state(self) -> None:
        self.orders: dict[int, dict[str, Any]] = {}
        self.notes: dict[int, list[dict[str, Any]]] = {}
        self.refunds: dict[int, list[dict[str, Any]]] = {}
        self.note_log: dict[int, list[dict[str, Any]]] = {}
        self.refund_log: dict[int, list[dict[str, Any]]] = {}
        self.products: dict[int, dict[str, Any]] = {}
        self.inventory_history: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.hooks: dict[int, dict[str, Any]] = {
            hook_id: {"id": hook_id, "topic": topic, "status": "active", "failure_count": 0}
            for topic, hook_id in self.webhook_ids.items()
        }
        self._next_note_id = 901
        self._next_refund_id = 40001
        self._next_meta_id = 72001
        self._deliveries_signed = 0

    def snapshot(self) -> dict[str, Any]:
        return {
            "orders": self.orders,
            "notes": self.notes,
            "refunds": self.refunds,
            "note_log": {str(order_id): log for order_id, log in self.note_log.items()},
            "refund_log": {str(order_id): log for order_id, log in self.refund_log.items()},
            "products": self.products,
            "inventory_history": self.inventory_history,
            "calls": dict(self.calls),
            "webhooks": self.hooks,
            "webhook_events": self.events,
        }

    def fault_response(self, status: int) -> Response:
        code = "too_many_requests" if status == 429 else "internal_server_error"
        return Response(status, woo_error(status, code, "Injected by the sandbox."))

    # -- seeding ------------------------------------------------------------------------------------------
    def add_product(
        self,
        product_id: int | None = None,
        *,
        sku: str,
        name: str = "",
        stock_quantity: int | None = 0,
        manage_stock: bool = True,
    ) -> int:
        """A simple product with ``sku``; returns its id (a new one unless given)."""
        with self.lock:
            if product_id is None:
                product_id = max(self.products, default=400) + 1
            self.products[product_id] = {
                "id": product_id,
                "name": name or sku,
                "sku": sku,
                "manage_stock": manage_stock,
                "stock_quantity": stock_quantity,
            }
            self._touch(self.products[product_id], created=True)
            self._record_stock(self.products[product_id], "seed")
        return product_id

    def stock(self, sku: str) -> int | None:
        """The stock quantity of the product with ``sku`` (None if there is none, or it keeps no count)."""
        with self.lock:
            product = next((p for p in self.products.values() if p["sku"] == sku), None)
            return None if product is None else product["stock_quantity"]

    def _record_stock(self, product: Mapping[str, Any], reference: str) -> None:
        self.inventory_history.append(
            {
                "sku": product["sku"],
                "location_id": None,
                "quantity": product["stock_quantity"],
                "at": self.clock.now(),
                "reference": reference,
            }
        )

    @staticmethod
    def sample_order(name: str = "order") -> dict[str, Any]:
        """A payload under ``events/woocommerce/`` (``order`` or ``order_updated``)."""
        order: dict[str, Any] = load_json(f"woocommerce/{name}.json")
        return order

    # -- webhooks -----------------------------------------------------------------------------------------
    def emit_order(
        self,
        topic: str,
        order_payload: Mapping[str, Any],
        *,
        delays: Sequence[float] = (0.0,),
        delivered: bool = True,
        stamp: bool = False,
    ) -> bytes:
        """The store saves the order, then its webhook for ``topic`` fires; returns the body it sends.

        ``delivered=False`` keeps the order in the store but loses the webhook. Several ``delays`` are duplicate
        deliveries (WooCommerce itself never retries). ``stamp`` dates the change now on the sandbox clock.
        """
        if topic not in ORDER_TOPICS:
            raise ValueError(f"unsupported topic {topic!r}; expected one of {ORDER_TOPICS}")
        order = copy.deepcopy(dict(order_payload))
        order_id = int(order["id"])
        with self.lock:
            if stamp:
                self._touch(order, created=topic == "order.created")
            self._store(topic, order)
            # A deleted resource's payload is its id alone (WC_Webhook::build_payload).
            body = wp_json({"id": order_id} if topic == "order.deleted" else order)
            hook = self.hooks[self.webhook_ids[topic]]
            queued = delivered and hook["status"] == "active"
            self.events.append(
                {
                    "topic": topic,
                    "order_id": order_id,
                    "webhook_id": hook["id"],
                    "delivered": delivered,
                    "queued": queued,
                    "hook_status": hook["status"],
                }
            )
        if queued:
            resource, event = topic.split(".")
            headers = {
                "Content-Type": "application/json",
                "User-Agent": self.user_agent,
                "X-WC-Webhook-Source": f"{self.site_url}/",
                "X-WC-Webhook-Topic": topic,
                "X-WC-Webhook-Resource": resource,
                "X-WC-Webhook-Event": event,
                "X-WC-Webhook-ID": str(hook["id"]),
            }
            self.send_webhook(headers, body, delays=delays, label=f"{topic} #{order_id}")
        return body

    def send_ping(self, webhook_id: int) -> None:
        """The ping WooCommerce posts when a hook is saved: form-encoded, unsigned, no X-WC headers."""
        headers = {"User-Agent": self.user_agent, "Content-Type": "application/x-www-form-urlencoded"}
        self.send_webhook(headers, f"webhook_id={webhook_id}".encode(), label=f"ping #{webhook_id}")

    def delivery_headers(self, delivery: Delivery) -> dict[str, str]:
        """Each delivery is signed when sent and gets a fresh delivery id; the ping carries neither."""
        if "X-WC-Webhook-Topic" not in delivery.headers:
            return delivery.headers
        with self.lock:
            self._deliveries_signed += 1
            # WooCommerce hashes the hook id with the time; the counter keeps two deliveries in one second apart.
            seed = f"{delivery.headers['X-WC-Webhook-ID']}{int(self.clock.now())}{self._deliveries_signed}"
        delivery_id = hashlib.md5(seed.encode(), usedforsecurity=False).hexdigest()
        return {
            **delivery.headers,
            "X-WC-Webhook-Signature": hmac_sha256_b64(self.webhook_secret.encode(), delivery.body),
            "X-WC-Webhook-Delivery-ID": delivery_id,
        }

    def flush_webhooks(self, *, shuffle: bool = False, timeout: float = 10.0) -> list[Delivery]:
        delivered = super().flush_webhooks(shuffle=shuffle, timeout=timeout)
        with self.lock:
            for delivery in delivered:
                self._count_outcome(delivery)
        return delivered

    def _count_outcome(self, delivery: Delivery) -> None:
        """WC_Webhook::log_delivery: 200-302 resets the count; a failure past the limit disables the hook."""
        hook_id = delivery.headers.get("X-WC-Webhook-ID")
        if hook_id is None:
            return
        hook = self.hooks[int(hook_id)]
        if delivery.status is not None and 200 <= delivery.status < 303:
            hook["failure_count"] = 0
        elif hook["failure_count"] > MAX_CONSECUTIVE_FAILURES:
            hook["status"] = "disabled"
        else:
            hook["failure_count"] += 1

    def _store(self, topic: str, order: dict[str, Any]) -> None:
        order_id = int(order["id"])
        if topic == "order.deleted":
            if order_id in self.orders:  # WooCommerce trashes by default; the order is still readable
                self.orders[order_id]["status"] = "trash"
            return
        self.orders[order_id] = order
        self.notes.setdefault(order_id, [])

    # -- request guard ------------------------------------------------------------------------------------
    def _api(self, method: str, path: str, handler: Handler, name: str, denied: tuple[str, str]) -> None:
        def guarded(request: Request) -> Response:
            self._authenticate(request, denied)
            return handler(request)

        self.route(method, API + path, guarded, name=name)

    def _authenticate(self, request: Request, denied: tuple[str, str]) -> None:
        """Basic auth or ``consumer_key``/``consumer_secret`` in the query, as WC_REST_Authentication takes them.

        An unknown key leaves the request anonymous, so the permission check answers; a known key with the
        wrong secret is an authentication error.
        """
        key, secret = self._credentials(request)
        if key is None or not hmac.compare_digest(key.encode(), self.consumer_key.encode()):
            raise HttpError(401, woo_error(401, *denied))
        if not hmac.compare_digest((secret or "").encode(), self.consumer_secret.encode()):
            raise HttpError(401, woo_error(401, "woocommerce_rest_authentication_error", "Consumer secret is invalid."))

    @staticmethod
    def _credentials(request: Request) -> tuple[str | None, str | None]:
        authorization = request.headers.get("authorization", "")
        if authorization.lower().startswith("basic "):
            try:
                key, _, secret = b64decode(authorization[6:]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return None, None
            return key, secret
        return request.arg("consumer_key"), request.arg("consumer_secret")

    # -- orders -------------------------------------------------------------------------------------------
    def list_orders(self, request: Request) -> Response:
        per_page = self._int_param(request, "per_page", 10, upper=MAX_PER_PAGE)
        page = self._int_param(request, "page", 1)
        checks = self._order_filters(request)
        with self.lock:
            matches = [o for o in self.orders.values() if all(check(o) for check in checks)]
            matches.sort(key=self._sort_key(request), reverse=request.arg("order", "desc") != "asc")
            window = copy.deepcopy(matches[(page - 1) * per_page : page * per_page])
        headers = {"X-WP-Total": str(len(matches)), "X-WP-TotalPages": str(math.ceil(len(matches) / per_page))}
        return Response(200, window, headers)

    def get_order(self, request: Request) -> Response:
        with self.lock:
            return Response(200, copy.deepcopy(self._order(request, missing_status=404)))

    def update_order(self, request: Request) -> Response:
        body = request.json() or {}
        if not isinstance(body, dict):
            raise HttpError(400, woo_error(400, "rest_invalid_json", "Invalid JSON body passed."))
        status = body.get("status")
        if status is not None and status not in STATUS_NAMES:
            allowed = ", ".join(STATUS_NAMES)
            raise invalid_param("status", f"status is not one of {allowed}.")
        with self.lock:
            order = self._order(request, missing_status=400)  # the CRUD controller says 400 on update
            for field in ("customer_note", "transaction_id"):  # WordPress ignores the fields it does not know
                if field in body:
                    order[field] = body[field]
            self._update_meta(order, body.get("meta_data"))
            self._touch(order)
            if status is not None and status != order["status"]:
                self._transition(order, status)
            if self.echo_webhooks:
                self.emit_order("order.updated", order)
            return Response(200, copy.deepcopy(order))

    def _transition(self, order: dict[str, Any], status: str) -> None:
        """What WC_Order::status_transition leaves behind: dates, flags and the system note."""
        previous = order["status"]
        order["status"] = status
        for field, applies in (("date_paid", status in PAID_STATUSES), ("date_completed", status == "completed")):
            if applies and not order.get(field):
                order[field], order[f"{field}_gmt"] = order["date_modified"], order["date_modified_gmt"]
        order["is_editable"] = status in EDITABLE_STATUSES
        order["needs_payment"] = status in ("pending", "failed") and float(order.get("total") or 0) > 0
        note = f"Order status changed from {STATUS_NAMES.get(previous, previous)} to {STATUS_NAMES[status]}."
        self._add_note(order["id"], note, customer_note=False, author="system")

    def list_notes(self, request: Request) -> Response:
        with self.lock:
            order = self._order(request, missing_status=404, for_notes=True)
            return Response(200, copy.deepcopy(list(reversed(self.notes[order["id"]]))))

    def add_note(self, request: Request) -> Response:
        body = request.json() or {}
        note = body.get("note") if isinstance(body, dict) else None
        if not note:
            message = "Missing parameter(s): note"
            raise HttpError(400, woo_error(400, "rest_missing_callback_param", message, params=["note"]))
        with self.lock:
            order = self._order(request, missing_status=404, for_notes=True)
            author = "API user" if body.get("added_by_user") else "system"
            record = self._add_note(
                order["id"], str(note), customer_note=bool(body.get("customer_note")), author=author
            )
            entry = {"id": str(record["id"]), "at": self.clock.now(), "note": record["note"]}
            self.note_log.setdefault(order["id"], []).append(entry | {"customer_note": record["customer_note"]})
            return Response(201, copy.deepcopy(record))

    def _update_meta(self, order: dict[str, Any], entries: Any) -> None:
        """``meta_data`` entries: one with a known id or key replaces that entry, another is added."""
        if not isinstance(entries, list):
            return
        meta = order.setdefault("meta_data", [])
        for entry in entries:
            if not isinstance(entry, dict) or not entry.get("key"):
                continue
            known = next((m for m in meta if m.get("id") == entry.get("id") or m["key"] == entry["key"]), None)
            if known is not None:
                known["value"] = entry.get("value")
            else:
                meta.append({"id": self._next_meta_id, "key": entry["key"], "value": entry.get("value")})
                self._next_meta_id += 1

    # -- refunds ------------------------------------------------------------------------------------------
    def list_refunds(self, request: Request) -> Response:
        per_page = self._int_param(request, "per_page", 10, upper=MAX_PER_PAGE)
        page = self._int_param(request, "page", 1)
        with self.lock:
            order = self._order(request, missing_status=404, for_notes=True)
            refunds = list(reversed(self.refunds.get(order["id"], [])))  # newest first, as WP_Query dates them
            window = copy.deepcopy(refunds[(page - 1) * per_page : page * per_page])
        headers = {"X-WP-Total": str(len(refunds)), "X-WP-TotalPages": str(math.ceil(len(refunds) / per_page))}
        return Response(200, window, headers)

    def create_refund(self, request: Request) -> Response:
        body = request.json() or {}
        if not isinstance(body, dict):
            raise HttpError(400, woo_error(400, "rest_invalid_json", "Invalid JSON body passed."))
        with self.lock:
            order = self._order(request, missing_status=404, for_notes=True)
            amount = self._refund_amount(order, body.get("amount"))
            lines = self._refund_lines(order, body.get("line_items") or [])
            if body.get("api_refund", True) and order.get("payment_method", "") in OFFLINE_GATEWAYS:
                message = "The payment gateway for this order does not support automatic refunds."
                raise HttpError(500, woo_error(500, "woocommerce_rest_cannot_create_order_refund", message))
            refund = self._record_refund(order, amount, str(body.get("reason") or ""), lines)
            if body.get("api_restock", True):
                for line, quantity, _total in lines:
                    self._restock(line, quantity)
            if self.echo_webhooks:
                self.emit_order("order.updated", order)
            return Response(201, copy.deepcopy(refund))

    def _refunded(self, order_id: int) -> Decimal:
        return sum((Decimal(r["amount"]) for r in self.refunds.get(order_id, [])), Decimal(0))

    def _refund_amount(self, order: dict[str, Any], raw: Any) -> Decimal:
        try:
            amount = Decimal(str(raw)).quantize(CENT)
        except InvalidOperation:
            raise invalid_param("amount", "amount is not of type string.") from None
        if amount <= 0:
            message = "Refund amount must be greater than zero."
            raise HttpError(400, woo_error(400, "woocommerce_rest_invalid_order_refund", message))
        if amount > Decimal(str(order.get("total") or "0")) - self._refunded(order["id"]):
            raise HttpError(
                500, woo_error(500, "woocommerce_rest_cannot_create_order_refund", "Invalid refund amount.")
            )
        return amount

    def _refund_lines(self, order: dict[str, Any], items: list[Any]) -> list[tuple[dict[str, Any], int, Decimal]]:
        lines = {line["id"]: line for line in order.get("line_items", [])}
        checked = []
        for item in items:
            line = lines.get(item.get("id")) if isinstance(item, dict) else None
            quantity = item.get("quantity", 0) if isinstance(item, dict) else 0
            if line is None:
                continue  # wc_create_refund skips an id the order does not have
            left = int(line["quantity"]) - self._refunded_quantity(order["id"], line["id"])
            if not isinstance(quantity, int) or not 0 <= quantity <= left:
                message = "Invalid refund quantity."
                raise HttpError(500, woo_error(500, "woocommerce_rest_cannot_create_order_refund", message))
            checked.append((line, quantity, Decimal(str(item.get("refund_total") or "0")).quantize(CENT)))
        return checked

    def _refunded_quantity(self, order_id: int, line_id: int) -> int:
        return -sum(
            int(item["quantity"])
            for refund in self.refunds.get(order_id, [])
            for item in refund["line_items"]
            if item["refunded_item_id"] == line_id
        )

    def _record_refund(
        self, order: dict[str, Any], amount: Decimal, reason: str, lines: list[tuple[dict[str, Any], int, Decimal]]
    ) -> dict[str, Any]:
        local, gmt = self._now()
        refund_id, self._next_refund_id = self._next_refund_id, self._next_refund_id + 1
        refund = {
            "id": refund_id,
            "date_created": local,
            "date_created_gmt": gmt,
            "amount": f"{amount:.2f}",
            "reason": reason,
            "refunded_by": 1,
            "refunded_payment": False,
            "meta_data": [],
            "line_items": [
                {
                    "id": refund_id * 10 + index,
                    "name": line["name"],
                    "product_id": line.get("product_id"),
                    "variation_id": line.get("variation_id", 0),
                    "quantity": -quantity,
                    "total": f"{-total:.2f}",
                    "sku": line.get("sku"),
                    "refunded_item_id": line["id"],  # the sandbox's link back; WooCommerce keeps it in hidden meta
                }
                for index, (line, quantity, total) in enumerate(lines)
            ],
        }
        self.refunds.setdefault(order["id"], []).append(refund)
        order.setdefault("refunds", []).append({"id": refund_id, "reason": reason, "total": f"{-amount:.2f}"})
        entry = {"id": str(refund_id), "at": self.clock.now(), "amount": refund["amount"], "reason": reason}
        self.refund_log.setdefault(order["id"], []).append(entry)
        self._touch(order)
        if self._refunded(order["id"]) >= Decimal(str(order.get("total") or "0")):
            self._transition(order, "refunded")  # wc_order_fully_refunded
        return refund

    def _restock(self, line: dict[str, Any], quantity: int) -> None:
        product = self.products.get(line.get("variation_id") or line.get("product_id") or 0)
        if product is not None and product["manage_stock"] and quantity:
            product["stock_quantity"] = (product["stock_quantity"] or 0) + quantity
            self._touch(product)
            self._record_stock(product, f"refund #{line['id']}")

    def _add_note(self, order_id: int, note: str, *, customer_note: bool, author: str) -> dict[str, Any]:
        local, gmt = self._now()
        note_id, self._next_note_id = self._next_note_id, self._next_note_id + 1
        notes_url = f"{self.site_url}{API}/orders/{order_id}/notes"
        record = {
            "id": note_id,
            "author": author,
            "date_created": local,
            "date_created_gmt": gmt,
            "note": note,
            "customer_note": customer_note,
            "_links": {
                "self": [{"href": f"{notes_url}/{note_id}"}],
                "collection": [{"href": notes_url}],
                "up": [{"href": f"{self.site_url}{API}/orders/{order_id}"}],
            },
        }
        self.notes.setdefault(order_id, []).append(record)
        return record

    def _order(self, request: Request, *, missing_status: int, for_notes: bool = False) -> dict[str, Any]:
        """The order in the path; the orders and notes controllers word a missing one differently."""
        try:
            return self.orders[int(request.params["order_id"])]
        except (KeyError, ValueError):
            if for_notes:
                code, message = "woocommerce_rest_order_invalid_id", "Invalid order ID."
            else:
                code, message = "woocommerce_rest_shop_order_invalid_id", "Invalid ID."
            raise HttpError(missing_status, woo_error(missing_status, code, message)) from None

    # -- products -----------------------------------------------------------------------------------------
    def list_products(self, request: Request) -> Response:
        per_page = self._int_param(request, "per_page", 10, upper=MAX_PER_PAGE)
        page = self._int_param(request, "page", 1)
        skus = {sku.strip() for value in request.query.get("sku", []) for sku in value.split(",") if sku.strip()}
        orderby = request.arg("orderby", "date")
        if orderby not in ("date", "id", "modified"):
            raise invalid_param("orderby", f"orderby is not one of date, id, modified; got {orderby}.")
        column = {"date": "date_created_gmt", "modified": "date_modified_gmt", "id": "id"}[orderby]
        with self.lock:
            matches = [p for p in self.products.values() if not skus or p["sku"] in skus]
            matches.sort(key=lambda p: (p[column], p["id"]), reverse=request.arg("order", "desc") != "asc")
            window = [self._product_view(p) for p in matches[(page - 1) * per_page : page * per_page]]
        headers = {"X-WP-Total": str(len(matches)), "X-WP-TotalPages": str(math.ceil(len(matches) / per_page))}
        return Response(200, window, headers)

    def batch_products(self, request: Request) -> Response:
        body = request.json() or {}
        if not isinstance(body, dict):
            raise HttpError(400, woo_error(400, "rest_invalid_json", "Invalid JSON body passed."))
        total = sum(len(body.get(action) or []) for action in ("create", "update", "delete"))
        if total > BATCH_LIMIT:
            message = f"Unable to accept more than {BATCH_LIMIT} items for this request."
            raise HttpError(413, woo_error(413, "woocommerce_rest_request_entity_too_large", message))
        result: dict[str, list[dict[str, Any]]] = {}
        with self.lock:
            if body.get("update"):
                result["update"] = [self._update_product(item) for item in body["update"]]
            for action in ("create", "delete"):  # stock sync only updates; the rest is out of this sandbox's scope
                if body.get(action):
                    result[action] = [self._unsupported(action, item) for item in body[action]]
        return Response(200, result)

    def _update_product(self, item: Any) -> dict[str, Any]:
        product_id = item.get("id") if isinstance(item, dict) else None
        product = self.products.get(product_id) if isinstance(product_id, int) else None
        if product is None:
            error = woo_error(400, "woocommerce_rest_product_invalid_id", "Invalid ID.")
            return {"id": product_id or 0, "error": error}
        quantity = item.get("stock_quantity", product["stock_quantity"])
        if quantity is not None and (not isinstance(quantity, int) or isinstance(quantity, bool)):
            reason = "stock_quantity is not of type integer,null."
            return {"id": product_id, "error": woo_error(400, "rest_invalid_param", reason)}
        product["stock_quantity"] = quantity
        product["manage_stock"] = bool(item.get("manage_stock", product["manage_stock"]))
        self._touch(product)
        if "stock_quantity" in item:
            self._record_stock(product, "products/batch")
        return self._product_view(product)

    @staticmethod
    def _unsupported(action: str, item: Any) -> dict[str, Any]:
        error = woo_error(501, "sandbox_not_implemented", f"The sandbox does not {action} products in a batch.")
        return {"id": item.get("id", 0) if isinstance(item, dict) else item, "error": error}

    def _product_view(self, product: Mapping[str, Any]) -> dict[str, Any]:
        """The stock-related subset of a product as the REST API returns it."""
        in_stock = not product["manage_stock"] or (product["stock_quantity"] or 0) > 0
        url = f"{self.site_url}{API}/products"
        return {
            "id": product["id"],
            "name": product["name"],
            "type": "simple",
            "sku": product["sku"],
            "date_modified": product["date_modified"],
            "date_modified_gmt": product["date_modified_gmt"],
            "manage_stock": product["manage_stock"],
            "stock_quantity": product["stock_quantity"],
            "stock_status": "instock" if in_stock else "outofstock",
            "_links": {"self": [{"href": f"{url}/{product['id']}"}], "collection": [{"href": url}]},
        }

    # -- dates and query parameters -----------------------------------------------------------------------
    def _now(self) -> tuple[str, str]:
        """(site time, GMT) now, formatted as the REST API formats dates."""
        gmt = datetime.fromtimestamp(self.clock.now(), UTC).replace(tzinfo=None)
        return (gmt + self.utc_offset).strftime(DATE_FORMAT), gmt.strftime(DATE_FORMAT)

    def _touch(self, record: dict[str, Any], *, created: bool = False) -> None:
        local, gmt = self._now()
        record["date_modified"], record["date_modified_gmt"] = local, gmt
        if created:
            record["date_created"], record["date_created_gmt"] = local, gmt

    def _order_filters(self, request: Request) -> list[Callable[[Mapping[str, Any]], bool]]:
        gmt = (request.arg("dates_are_gmt") or "").lower() in ("true", "1")
        suffix = "_gmt" if gmt else ""
        bounds = (
            ("modified_after", "date_modified", True),
            ("modified_before", "date_modified", False),
            ("after", "date_created", True),
            ("before", "date_created", False),
        )
        checks = [
            self._date_check(request, param, field + suffix, after=after, gmt=gmt) for param, field, after in bounds
        ]
        statuses = {s for value in request.query.get("status", []) for s in value.split(",") if s}
        statuses |= set(request.query.get("status[]", []))
        if statuses and "any" not in statuses:
            checks.append(lambda order: order.get("status") in statuses)
        return [check for check in checks if check is not None]

    def _date_check(
        self, request: Request, param: str, field: str, *, after: bool, gmt: bool
    ) -> Callable[[Mapping[str, Any]], bool] | None:
        """``after``/``before`` are strict, as WP_Query's date_query is without ``inclusive``."""
        raw = request.arg(param)
        if raw is None:
            return None
        bound = self._query_date(param, raw, gmt=gmt)

        def check(order: Mapping[str, Any]) -> bool:
            value = order.get(field)
            if not value:
                return False
            moment = datetime.strptime(value, DATE_FORMAT)
            return moment > bound if after else moment < bound

        return check

    def _query_date(self, param: str, raw: str, *, gmt: bool) -> datetime:
        """A date parameter in the frame it is compared in: GMT, or the site's time zone."""
        try:
            moment = datetime.fromisoformat(raw.replace(" ", "+"))  # a raw ``+`` in a query arrives as a space
        except ValueError:
            raise invalid_param(param, "Invalid date.") from None
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC).replace(tzinfo=None) + (timedelta(0) if gmt else self.utc_offset)
        return moment

    @staticmethod
    def _sort_key(request: Request) -> Callable[[Mapping[str, Any]], Any]:
        orderby = request.arg("orderby", "date")
        columns = {"date": "date_created_gmt", "modified": "date_modified_gmt"}
        if orderby == "id":
            return lambda order: order["id"]
        if orderby not in columns:
            raise invalid_param("orderby", f"orderby is not one of date, id, modified; got {orderby}.")
        return lambda order: (order.get(columns[orderby]) or "", order["id"])

    @staticmethod
    def _int_param(request: Request, name: str, default: int, *, upper: int | None = None) -> int:
        raw = request.arg(name)
        try:
            value = default if raw is None else int(raw)
        except ValueError:
            raise invalid_param(name, f"{name} is not of type integer.") from None
        if value < 1 or (upper is not None and value > upper):
            bounds = f"between 1 (inclusive) and {upper} (inclusive)" if upper else "greater than or equal to 1"
            raise invalid_param(name, f"{name} must be {bounds}")
        return value
