"""WMS/3PL sandbox following ShipBob's Orders API (dated version ``2026-01``) and its signed webhooks.

Emulated API (``Authorization: Bearer <token>`` required, not verified; writes need ``shipbob_channel_id``):
- ``POST /2026-01/order`` → 201 with the order (one ``Processing`` shipment). ``reference_id`` is unique per
  account: a second create with the same one is refused with 422 ``{"": ["Cannot insert order with existing
  ReferenceId"]}``, and the client finds the existing order with ``GET /2026-01/order?ReferenceIds=<ref>``.
- ``GET /2026-01/order`` (``ReferenceIds``, ``IDs``, ``HasTracking``, ``Page``, ``Limit``), ``GET
  /2026-01/order/{id}``.
- ``POST /2026-01/order/{id}:cancel`` → 200 with per-shipment results: a shipment cancels only before it ships.
- ``GET /2026-01/order/{id}/shipment``, ``GET /2026-01/order/{id}/shipment/{shipment_id}``,
  ``GET /2026-01/shipment/{shipment_id}``: shipments with ``tracking``.

Scenarios drive the warehouse with ``pick()``, ``pack()``, ``ship()``, ``deliver()``, ``report_exception()`` and
``complete_return()``, which queue webhooks (``order.shipment.status.updated``, ``order.shipped``,
``order.shipment.delivered``, ``order.shipment.exception``, ``return.completed``; a cancel queues
``order.shipment.cancelled``) to ``webhook_targets``; ``resend_webhook()`` sends one again later with its
``webhook-id``, as a manual replay from ShipBob's portal does. Deliveries are signed the way ShipBob signs them,
which is Standard Webhooks: ``webhook-id`` (the same on every delivery of one event, so duplicates and retries share
it), ``webhook-timestamp`` and ``webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`` keyed
with the base64-decoded part of the ``whsec_`` secret, plus ``x-webhook-topic``. The timestamp and signature are
made at send time, per attempt.

Pick and pack: ShipBob records them as the shipment's ``status_details`` and sends no webhook; this sandbox sends
``order.shipment.status.updated`` (the topic Crossdock documents for a WMS, ``shared/wms/shipment_payloads.py``)
with the shipment whenever one is added. A shipment of several packages lists them as ``parent_cartons``, each with
its tracking number as ``barcode`` and an inner carton holding the products packed in it.

Returns: ``complete_return()`` records a processed ShipBob return (``reference_id`` is the RMA number; each item's
``action_taken`` says ``Restock``, ``Quarantine`` or ``Dispose`` with the condition as ``action_reason``), puts the
restocked units back on hand at its fulfillment center, and queues ``return.completed``.

Inventory: on-hand units per (fulfillment center, SKU) at two fulfillment centers, 1 "East" and 2 "West" (the
routing config's warehouses ``east`` and ``west``). ShipBob has no inventory webhooks; this sandbox sends the ones
Crossdock documents for a WMS (``shared/wms/inventory_payloads.py``), signed like the shipment webhooks:
``set_stock()`` and ``send_snapshot()`` queue ``inventory.snapshot`` (absolute counts, at most 1,000 SKUs per
webhook, each with its own ``snapshot_id``), ``adjust_stock()`` queues ``inventory.adjusted`` (deltas). ``ship()``
takes the shipped units off on-hand at the shipment's fulfillment center without a webhook: a real WMS reports its
counts on its own schedule. Every inventory webhook's ``as_of`` is later than the one before, so the order of the
reports is never ambiguous.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import string
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any, Final
from urllib.parse import quote

from infra.local.clock import Clock
from infra.local.sandboxes.base import Delivery, Handler, HttpError, Request, Response, Sandbox

Record = dict[str, Any]

API: Final = "/2026-01"
DUPLICATE_REFERENCE: Final = "Cannot insert order with existing ReferenceId"
ORDER_TYPES: Final = ("DTC", "DropShip", "B2B")
FULFILLMENT_CENTERS: Final = {1: "East", 2: "West"}
FULFILLMENT_CENTER: Final = {"id": 1, "name": FULFILLMENT_CENTERS[1]}  # where an order with no location_id ships
MAX_SNAPSHOT_ITEMS: Final = 1000  # SKUs per inventory.snapshot webhook; more are split across several
TRACKING_URLS: Final = {
    "UPS": "https://www.ups.com/track?tracknum={}",
    "FedEx": "https://www.fedex.com/fedextrack/?trknbr={}",
    "USPS": "https://tools.usps.com/go/TrackConfirmAction?tLabels={}",
}
ALPHANUMERIC: Final = string.ascii_letters + string.digits
PROGRESS_STATUSES: Final = {"Picked": "Picked by the warehouse", "Packed": "Packed and ready for a label"}
RETURN_ACTIONS: Final = {"restock": "Restock", "quarantine": "Quarantine", "dispose": "Dispose", "scrap": "Dispose"}
RETURN_CONDITIONS: Final = {"new": "New, unopened", "opened": "Opened", "damaged": "Damaged"}


def signature(secret: str, message_id: str, timestamp: str, body: bytes) -> str:
    """Standard Webhooks ``v1`` signature: base64 HMAC-SHA256 of ``id.timestamp.body`` under the decoded secret.

    A secret without the ``whsec_`` prefix keys with its own bytes, as the intake reads it: the local stack's
    generated secrets are plain strings.
    """
    if secret.startswith("whsec_"):
        encoded = secret.removeprefix("whsec_").rstrip("=")
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4))
    else:
        key = secret.encode()
    digest = hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


class WmsSandbox(Sandbox):
    """A ShipBob account: orders keyed by ``reference_id``, shipments with tracking, signed shipment webhooks."""

    name = "wms"

    def __init__(self, clock: Clock | None = None, seed: int = 7, *, webhook_secret: str | None = None) -> None:
        super().__init__(clock, seed)
        # A real subscription gets its secret from ShipBob; here it is derived from the seed unless given.
        self.webhook_secret = webhook_secret or "whsec_" + base64.b64encode(self.random.randbytes(24)).decode()
        self._register_routes()

    # -- state ---------------------------------------------------------------------------------------------
    def connection(self) -> dict[str, Any]:
        return {"base_url": self.url, "credentials": {"access_token": "local"}, "settings": {"shipbob_channel_id": "1"}}

    def reset_state(self) -> None:
        self.orders: dict[int, Record] = {}
        self.shipments: dict[int, Record] = {}
        self.products: dict[str, Record] = {}  # reference_id → {"id", "name"}, created on first order
        self._next_order_id = 200001
        self._next_shipment_id = 500001
        self._next_product_id = 9001
        self.inventory: dict[int, dict[str, int]] = {fc_id: {} for fc_id in FULFILLMENT_CENTERS}
        self._adjustment_ids: set[str] = set()
        self._last_as_of: datetime | None = None
        self.returns: dict[int, Record] = {}
        self._next_return_id = 700001
        self._sent: dict[str, tuple[dict[str, str], bytes, str]] = {}  # webhook-id → headers, body, topic

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            statuses: dict[str, int] = {}
            for shipment in self.shipments.values():
                statuses[shipment["status"]] = statuses.get(shipment["status"], 0) + 1
            return {
                "orders": {order_id: self._order_view(order) for order_id, order in self.orders.items()},
                "shipments": copy.deepcopy(self.shipments),
                "counts": {
                    "orders": len(self.orders),
                    "shipments": len(self.shipments),
                    "shipments_by_status": statuses,
                },
                "inventory": {str(fc_id): dict(levels) for fc_id, levels in self.inventory.items()},
                "returns": copy.deepcopy(self.returns),
                "webhooks": [
                    {"label": d.label, "due_at": d.due_at, "status": d.status, "delivered_at": d.delivered_at}
                    for d in self.outbox
                ],
            }

    def order(self, order_id: int) -> Record | None:
        with self.lock:
            found = self.orders.get(order_id)
            return self._order_view(found) if found is not None else None

    def orders_with_reference_id(self, reference_id: str) -> list[Record]:
        with self.lock:
            return [self._order_view(o) for o in self.orders.values() if o["reference_id"] == reference_id]

    # -- what the warehouse does -----------------------------------------------------------------------------
    def ship(
        self,
        order_id: int,
        *,
        packages: Sequence[Mapping[str, Any]] | None = None,
        partial_lines: Mapping[str, int] | None = None,
        delays: Sequence[float] = (0.0,),
    ) -> Record:
        """Label and ship what is left of an order (or ``partial_lines``: reference_id → quantity), then queue
        the signed ``order.shipped`` webhook once per entry of ``delays``.

        ``packages`` are ``{"carrier", "carrier_service", "tracking_number", "tracking_url", "weight_oz",
        "lines"}``; the first gives the shipment's ``tracking``, and with more than one each becomes a parent carton
        holding its ``lines`` (reference_id → quantity; when no package says, the SKUs are dealt out in turn). A
        partial shipment splits the order as ShipBob does: what ships gets its own shipment, the rest stays
        Processing. Returns the shipped shipment.
        """
        with self.lock:
            order = self.orders.get(order_id)
            pending = self._pending_shipment(order_id)
            if order is None or pending is None:
                raise ValueError(f"order {order_id} has nothing left to ship")
            boxes = [self._package(p) for p in packages or [{}]]
            if len(boxes) > 1:
                # Checked before the split, so a refused shipment leaves the order as it was.
                _pack(boxes, dict(partial_lines) if partial_lines else _quantities(pending))
            shipment = self._split(pending, partial_lines) if partial_lines else pending
            self._label(shipment, boxes)
            self._take_from_stock(shipment)
            self._refresh_order_status(order)
            self._notify("order.shipped", shipment, delays)
            return copy.deepcopy(shipment)

    def deliver(self, shipment_id: int, *, delays: Sequence[float] = (0.0,)) -> Record:
        """The carrier delivers a shipped shipment: ``delivery_date`` is set, ``order.shipment.delivered`` queued."""
        with self.lock:
            shipment = self.shipments.get(shipment_id)
            if shipment is None or shipment["status"] != "Completed":
                raise ValueError(f"shipment {shipment_id} has not shipped")
            now = self._now()
            shipment.update(delivery_date=now, last_update_at=now, last_tracking_update_at=now)
            self._notify("order.shipment.delivered", shipment, delays)
            return copy.deepcopy(shipment)

    def pick(self, order_id: int, *, delays: Sequence[float] = (0.0,)) -> Record:
        """The warehouse picked what is left to ship: ``Picked`` is added, ``order.shipment.status.updated`` queued."""
        return self._progress(order_id, "Picked", delays)

    def pack(self, order_id: int, *, delays: Sequence[float] = (0.0,)) -> Record:
        """The warehouse packed what is left to ship: ``Packed`` is added, ``order.shipment.status.updated`` queued."""
        return self._progress(order_id, "Packed", delays)

    def report_exception(
        self,
        order_id: int,
        *,
        name: str = "OutOfStock",
        description: str = "Out of stock",
        delays: Sequence[float] = (0.0,),
    ) -> Record:
        """What is left to ship goes to ``Exception`` (e.g. out of stock): ``order.shipment.exception`` queued."""
        with self.lock:
            shipment = self._pending_shipment(order_id)
            if shipment is None:
                raise ValueError(f"order {order_id} has nothing left to ship")
            details = shipment["status_details"]
            details.append({"id": len(details) + 1, "name": name, "description": description})
            shipment.update(status="Exception", last_update_at=self._now())
            self._notify("order.shipment.exception", shipment, delays)
            return copy.deepcopy(shipment)

    def complete_return(
        self,
        rma_number: str,
        *,
        order_id: int | None = None,
        reference_id: str | None = None,
        items: Sequence[Mapping[str, Any]],
        fc_id: int = 1,
        delays: Sequence[float] = (0.0,),
    ) -> Record:
        """Process a return of an order (by ``order_id`` or its ``reference_id``) and queue ``return.completed``.

        ``items`` are ``{"sku", "quantity", "action", "condition"}``: action ``restock``, ``quarantine`` or
        ``dispose`` (``scrap`` is ``dispose``), condition ``new``, ``opened`` or ``damaged``. A SKU may come twice
        with different actions. Restocked units go back on hand at ``fc_id``. Returns the return record; an RMA
        number already completed is refused, as ShipBob refuses a second return with one ``reference_id``.
        """
        with self.lock:
            order = self._order_by(order_id, reference_id)
            if any(r["reference_id"] == rma_number for r in self.returns.values()):
                raise ValueError(f"return {rma_number} is already completed")
            shipped = self._shipped_quantities(order["id"])
            inventory = _return_inventory(items, shipped, self.products)
            record = self._new_return(rma_number, order, inventory, _fc(fc_id))
            levels = self.inventory[fc_id]
            for item in items:
                if RETURN_ACTIONS[str(item["action"]).lower()] == "Restock":
                    levels[item["sku"]] = levels.get(item["sku"], 0) + int(item["quantity"])
            self._notify("return.completed", record, delays)
            return copy.deepcopy(record)

    def resend_webhook(
        self, webhook_id: str | None = None, *, topic: str | None = None, delays: Sequence[float] = (0.0,)
    ) -> str:
        """Send a webhook already sent again, with its ``webhook-id`` and body (signed anew when it goes out): the
        one with ``webhook_id``, or the latest of ``topic``. Returns its ``webhook-id``.
        """
        with self.lock:
            if webhook_id is None:
                webhook_id = next((i for i, sent in reversed(self._sent.items()) if sent[2] == topic), None)
            if webhook_id is None or webhook_id not in self._sent:
                raise ValueError(f"no webhook {webhook_id or topic} was sent")
            headers, body, label = self._sent[webhook_id]
            self.send_webhook(headers, body, delays=delays, label=label)
            return webhook_id

    def reannounce(self, shipment_id: int, *, delays: Sequence[float] = (0.0,)) -> Record:
        """Send ``order.shipped`` for a shipped shipment again as a new event (a new ``webhook-id``), as when a
        person re-triggers the webhook in the dashboard: the intake cannot tell it from a first delivery."""
        with self.lock:
            shipment = self.shipments.get(shipment_id)
            if shipment is None or shipment["status"] != "Completed":
                raise ValueError(f"shipment {shipment_id} has not shipped")
            self._notify("order.shipped", shipment, delays)
            return copy.deepcopy(shipment)

    def last_webhook_id(self, topic: str) -> str | None:
        """The ``webhook-id`` of the latest webhook of ``topic``."""
        with self.lock:
            return next((i for i, sent in reversed(self._sent.items()) if sent[2] == topic), None)

    # -- inventory -------------------------------------------------------------------------------------------
    def stock(self, fc_id: int) -> dict[str, int]:
        """On-hand units per SKU at a fulfillment center."""
        with self.lock:
            return dict(self.inventory[_fc(fc_id)])

    def set_stock(
        self, fc_id: int, levels: Mapping[str, int], *, announce: bool = True, delays: Sequence[float] = (0.0,)
    ) -> list[str]:
        """Set on-hand counts and, with ``announce``, queue the snapshot of those SKUs (of every SKU at the center
        when ``levels`` is empty), once per entry of ``delays``. Returns the snapshot ids queued.
        """
        if any(not isinstance(units, int) or units < 0 for units in levels.values()):
            raise ValueError("on-hand units are whole numbers, not below 0")
        with self.lock:
            self.inventory[_fc(fc_id)].update(levels)
            return self.send_snapshot(fc_id, list(levels) or None, delays=delays) if announce else []

    def adjust_stock(
        self,
        fc_id: int,
        deltas: Mapping[str, int],
        *,
        reason: str = "cycle_count",
        delays: Sequence[float] = (0.0,),
        adjustment_id: str | None = None,
    ) -> str:
        """Change on-hand by ``deltas`` and queue ``inventory.adjusted`` once per entry of ``delays``; returns the
        adjustment id.

        An ``adjustment_id`` already applied is sent again as a new event (a new ``webhook-id``) without changing
        the counts a second time: a WMS that re-announces an adjustment, which the ledger must apply once.
        """
        if not deltas:
            raise ValueError("an adjustment changes at least one SKU")
        with self.lock:
            levels = self.inventory[_fc(fc_id)]
            adjustment_id = adjustment_id or "adj_" + "".join(self.random.choices(ALPHANUMERIC, k=27))
            if adjustment_id not in self._adjustment_ids:
                short = [sku for sku, delta in deltas.items() if levels.get(sku, 0) + delta < 0]
                if short:
                    raise ValueError(f"on-hand would go below 0 for {short} at fulfillment center {fc_id}")
                for sku, delta in deltas.items():
                    levels[sku] = levels.get(sku, 0) + delta
                self._adjustment_ids.add(adjustment_id)
            payload = {
                "topic": "inventory.adjusted",
                "adjustment_id": adjustment_id,
                "fulfillment_center": _fc_record(fc_id),
                "as_of": self._as_of(),
                "items": [{"sku": sku, "quantity_change": delta, "reason": reason} for sku, delta in deltas.items()],
            }
            self._notify("inventory.adjusted", payload, delays)
            return adjustment_id

    def send_snapshot(
        self, fc_id: int, skus: Sequence[str] | None = None, *, delays: Sequence[float] = (0.0,)
    ) -> list[str]:
        """Queue ``inventory.snapshot`` webhooks of ``skus`` (every SKU at the center when None), at most
        ``MAX_SNAPSHOT_ITEMS`` per webhook, each once per entry of ``delays``. A SKU the center does not stock is
        reported at 0. Returns the snapshot ids, one per webhook.
        """
        with self.lock:
            levels = self.inventory[_fc(fc_id)]
            wanted = list(dict.fromkeys(skus)) if skus is not None else sorted(levels)
            as_of = self._as_of()  # one count: every part of it is as of the same moment
            snapshot_ids = []
            for start in range(0, len(wanted), MAX_SNAPSHOT_ITEMS):
                snapshot_id = "snap_" + "".join(self.random.choices(ALPHANUMERIC, k=27))
                payload = {
                    "topic": "inventory.snapshot",
                    "snapshot_id": snapshot_id,
                    "fulfillment_center": _fc_record(fc_id),
                    "as_of": as_of,
                    "items": [
                        {"sku": sku, "on_hand_quantity": levels.get(sku, 0)}
                        for sku in wanted[start : start + MAX_SNAPSHOT_ITEMS]
                    ],
                }
                self._notify("inventory.snapshot", payload, delays)
                snapshot_ids.append(snapshot_id)
            return snapshot_ids

    def _take_from_stock(self, shipment: Record) -> None:
        """Shipped units leave on-hand at the shipment's center (FC 1 when it names none we know).

        Only SKUs the center stocks are counted, and never below 0: the sandbox ships whatever it is asked to, so
        scenarios that never set stock keep an empty inventory.
        """
        location = shipment.get("location") or {}
        fc_id = location.get("id")
        levels = self.inventory[fc_id if fc_id in FULFILLMENT_CENTERS else 1]
        for sku, quantity in _quantities(shipment).items():
            if sku in levels:
                levels[sku] = max(0, levels[sku] - quantity)

    def _as_of(self) -> str:
        """Now on the scenario clock, but always after the last report's ``as_of``, so reports are ordered."""
        as_of = datetime.fromtimestamp(self.clock.now(), UTC)
        if self._last_as_of is not None and as_of <= self._last_as_of:
            as_of = self._last_as_of + timedelta(microseconds=1)
        self._last_as_of = as_of
        return as_of.isoformat(timespec="microseconds")

    # -- webhooks --------------------------------------------------------------------------------------------
    def delivery_headers(self, delivery: Delivery) -> dict[str, str]:
        # Signed per attempt: a retry an hour late carries a fresh timestamp and signature, the same webhook-id.
        headers = dict(delivery.headers)
        # Wall time: the attempt crosses the wire now, whatever the scenario clock says about when it was due.
        timestamp = str(int(time.time()))
        headers["webhook-timestamp"] = timestamp
        headers["webhook-signature"] = signature(self.webhook_secret, headers["webhook-id"], timestamp, delivery.body)
        return headers

    def _notify(self, topic: str, record: Record, delays: Sequence[float]) -> str:
        message_id = "msg_" + "".join(self.random.choices(ALPHANUMERIC, k=27))
        headers = {"webhook-id": message_id, "x-webhook-topic": topic, "content-type": "application/json"}
        body = json.dumps(record, separators=(",", ":")).encode()
        self._sent[message_id] = (headers, body, topic)
        self.send_webhook(headers, body, delays=delays, label=topic)
        return message_id

    def fault_response(self, status: int) -> Response:
        # ShipBob's API is ASP.NET: failures come back as ProblemDetails.
        return Response(status, {"type": None, "title": _phrase(status), "status": status})

    # -- routing ---------------------------------------------------------------------------------------------
    def _register_routes(self) -> None:
        self._api("POST", f"{API}/order", self._create_order)
        self._api("GET", f"{API}/order", self._list_orders)
        self._api("GET", f"{API}/order/{{order_id}}", self._get_order)
        self._api("POST", f"{API}/order/{{order_id}}:cancel", self._cancel_order)
        self._api("GET", f"{API}/order/{{order_id}}/shipment", self._list_shipments)
        self._api("GET", f"{API}/order/{{order_id}}/shipment/{{shipment_id}}", self._get_order_shipment)
        self._api("GET", f"{API}/shipment/{{shipment_id}}", self._get_shipment)

    def _api(self, method: str, pattern: str, handler: Handler) -> None:
        self.route(method, pattern, self._authenticated(handler), name=f"{method} {pattern.removeprefix(API)}")

    @staticmethod
    def _authenticated(handler: Handler) -> Handler:
        def check(request: Request) -> Response:
            if not request.headers.get("authorization", "").startswith("Bearer "):
                raise HttpError(401, None, {"WWW-Authenticate": "Bearer"})
            return handler(request)

        return check

    # -- orders ----------------------------------------------------------------------------------------------
    def _create_order(self, request: Request) -> Response:
        channel_id = _channel_id(request)
        body = _json_object(request)
        errors = _order_errors(body)
        if errors:
            raise HttpError(400, errors)
        with self.lock:
            if any(o["reference_id"] == body["reference_id"] for o in self.orders.values()):
                raise HttpError(422, {"": [DUPLICATE_REFERENCE]})
            order = self._new_order(body, channel_id)
            self._new_shipment(order, {p["reference_id"]: p["quantity"] for p in order["products"]})
            return Response(201, self._order_view(order))

    def _list_orders(self, request: Request) -> Response:
        wanted_refs = _csv(request.arg("ReferenceIds"))
        wanted_ids = _csv(request.arg("IDs"))
        has_tracking = request.arg("HasTracking")
        limit = _int(request.arg("Limit"), 50)
        page = _int(request.arg("Page"), 1)
        with self.lock:
            views = [self._order_view(o) for o in self.orders.values()]
        if wanted_refs:
            views = [v for v in views if v["reference_id"] in wanted_refs]
        if wanted_ids:
            views = [v for v in views if str(v["id"]) in wanted_ids]
        if has_tracking is not None:
            want = has_tracking.lower() == "true"
            views = [v for v in views if any(s["tracking"] for s in v["shipments"]) == want]
        start = (max(page, 1) - 1) * limit
        return Response(200, views[start : start + limit])

    def _get_order(self, request: Request) -> Response:
        with self.lock:
            return Response(200, self._order_view(self._require_order(request)))

    def _cancel_order(self, request: Request) -> Response:
        """Cancel every shipment that has not shipped; a shipped one reports failure and stays as it is."""
        _channel_id(request)
        with self.lock:
            order = self._require_order(request)
            results = [self._cancel_shipment(s) for s in self._shipments_of(order["id"])]
            succeeded = [r for r in results if r["is_success"]]
            outcome = "Success" if len(succeeded) == len(results) else "PartialSuccess" if succeeded else "Failure"
            if not any(s["status"] == "Completed" for s in self._shipments_of(order["id"])):
                order["status"] = "Cancelled"
            return Response(
                200,
                {
                    "order_id": order["id"],
                    "status": outcome,
                    "canceled_shipment_results": results,
                    "order": self._order_view(order),
                },
            )

    def _list_shipments(self, request: Request) -> Response:
        with self.lock:
            order = self._require_order(request)
            return Response(200, [copy.deepcopy(s) for s in self._shipments_of(order["id"])])

    def _get_order_shipment(self, request: Request) -> Response:
        with self.lock:
            order = self._require_order(request)
            shipment = self._require_shipment(request)
            if shipment["order_id"] != order["id"]:
                raise HttpError(404, None)
            return Response(200, copy.deepcopy(shipment))

    def _get_shipment(self, request: Request) -> Response:
        with self.lock:
            return Response(200, copy.deepcopy(self._require_shipment(request)))

    # -- records ---------------------------------------------------------------------------------------------
    def _new_order(self, body: Record, channel_id: int) -> Record:
        order_id = self._next_order_id
        self._next_order_id += 1
        order: Record = {
            "id": order_id,
            "created_date": self._now(),
            "purchase_date": body.get("purchase_date"),
            "reference_id": body["reference_id"],
            "order_number": body.get("order_number") or body["reference_id"],
            "status": "Processing",
            "type": body["type"],
            "channel": {"id": channel_id, "name": "Crossdock"},
            "shipping_method": body["shipping_method"],
            "recipient": copy.deepcopy(body["recipient"]),
            "products": [self._order_product(p) for p in body["products"]],
            "tags": copy.deepcopy(body.get("tags") or []),
            "gift_message": body.get("gift_message"),
            "shipping_terms": copy.deepcopy(body.get("shipping_terms")),
            "financials": copy.deepcopy(body.get("financials")),
            "retailer_program_data": copy.deepcopy(body.get("retailer_program_data")),
            # ShipBob's "desired fulfillment center"; without it ShipBob picks one (here: always FC 1).
            "location_id": body.get("location_id"),
        }
        self.orders[order_id] = order
        return order

    def _order_product(self, line: Record) -> Record:
        # ShipBob creates the product on first sight of a reference_id (the "ReferenceId model").
        product = self.products.get(line["reference_id"])
        if product is None:
            product = {"id": self._next_product_id, "name": line.get("name") or line["reference_id"]}
            self._next_product_id += 1
            self.products[line["reference_id"]] = product
        return {
            "id": product["id"],
            "reference_id": line["reference_id"],
            "quantity": line["quantity"],
            "quantity_unit_of_measure_code": line.get("quantity_unit_of_measure_code"),
            "sku": line.get("sku") or line["reference_id"],
            "gtin": line.get("gtin"),
            "upc": line.get("upc"),
            "unit_price": line.get("unit_price"),
            "external_line_id": line.get("external_line_id"),
        }

    def _new_shipment(self, order: Record, quantities: Mapping[str, int]) -> Record:
        shipment_id = self._next_shipment_id
        self._next_shipment_id += 1
        now = self._now()
        recipient = order["recipient"]
        shipment: Record = {
            "id": shipment_id,
            "order_id": order["id"],
            "reference_id": order["reference_id"],
            "recipient": {
                "name": recipient.get("name"),
                "full_name": recipient.get("name"),
                "address": copy.deepcopy(recipient.get("address")),
                "email": recipient.get("email"),
                "phone_number": recipient.get("phone_number"),
            },
            "created_date": now,
            "last_update_at": now,
            "last_tracking_update_at": None,
            "status": "Processing",
            "status_details": [],
            "location": _location(order.get("location_id")),
            "invoice_amount": None,
            "invoice_currency_code": None,
            "insurance_value": None,
            "ship_option": order["shipping_method"],
            "tracking": None,
            "products": self._shipment_products(quantities),
            "parent_cartons": [],
            "measurements": None,
            "package_material_type": "Box",
            "require_signature": False,
            "gift_message": order.get("gift_message"),
            "estimated_fulfillment_date": None,
            "estimated_fulfillment_date_status": "PendingOnTime",
            "actual_fulfillment_date": None,
            "delivery_date": None,
            "is_tracking_uploaded": False,
        }
        self.shipments[shipment_id] = shipment
        return shipment

    def _shipment_products(self, quantities: Mapping[str, int]) -> list[Record]:
        products = []
        for reference_id, quantity in quantities.items():
            product = self.products[reference_id]
            inventory = {
                "id": product["id"],
                "name": product["name"],
                "quantity": quantity,
                "quantity_committed": quantity,
                "lot": None,
                "expiration_date": None,
                "serial_numbers": [],
                "is_dangerous_goods": False,
            }
            products.append(
                {
                    "id": product["id"],
                    "reference_id": reference_id,
                    "name": product["name"],
                    "sku": reference_id,
                    "inventory_items": [inventory],
                }
            )
        return products

    def _cancel_shipment(self, shipment: Record) -> Record:
        result: Record = {"action": "Cancel", "is_success": True, "reason": None, "shipment_id": shipment["id"]}
        if shipment["status"] == "Cancelled":
            return {**result, "reason": "Shipment is already cancelled"}
        if shipment["status"] != "Processing":
            return {**result, "is_success": False, "reason": "Shipment has already shipped and cannot be cancelled"}
        shipment.update(status="Cancelled", last_update_at=self._now())
        self._notify("order.shipment.cancelled", shipment, (0.0,))
        return result

    def _split(self, pending: Record, partial_lines: Mapping[str, int]) -> Record:
        """Move ``partial_lines`` out of the pending shipment into a new one, which is the one that ships."""
        remaining = _quantities(pending)
        for reference_id, quantity in partial_lines.items():
            if not 0 < quantity <= remaining.get(reference_id, 0):
                raise ValueError(f"cannot ship {quantity} of {reference_id}: {remaining.get(reference_id, 0)} left")
            remaining[reference_id] -= quantity
        if not any(remaining.values()):
            return pending  # the "partial" shipment is everything that is left
        pending["products"] = self._shipment_products({ref: qty for ref, qty in remaining.items() if qty})
        pending["last_update_at"] = self._now()
        return self._new_shipment(self.orders[pending["order_id"]], dict(partial_lines))

    def _label(self, shipment: Record, packages: list[Record]) -> None:
        now = self._now()
        first = packages[0]
        shipment.update(
            status="Completed",
            tracking={
                "carrier": first["carrier"],
                "carrier_service": first["carrier_service"],
                "tracking_number": first["tracking_number"],
                "tracking_url": first["tracking_url"],
                "shipping_date": now,
                "bol": first.get("bol"),
                "pro_number": first.get("pro_number"),
                "scac": first.get("scac"),
            },
            actual_fulfillment_date=now,
            last_update_at=now,
            last_tracking_update_at=now,
            measurements={
                "total_weight_oz": sum(p["weight_oz"] for p in packages),
                "depth_in": first.get("depth_in", 0),
                "length_in": first.get("length_in", 0),
                "width_in": first.get("width_in", 0),
            },
            parent_cartons=[_carton(p, self._shipment_products(p["lines"])) for p in packages]
            if len(packages) > 1
            else [],
        )

    def _package(self, raw: Mapping[str, Any]) -> Record:
        carrier = raw.get("carrier", "UPS")
        number = raw.get("tracking_number") or "1Z" + "".join(self.random.choices(string.digits + "ABCDEFGH", k=16))
        template = TRACKING_URLS.get(carrier)
        return {
            **raw,
            "carrier": carrier,
            "carrier_service": raw.get("carrier_service", "Ground"),
            "tracking_number": number,
            "tracking_url": raw.get("tracking_url") or (template.format(quote(number)) if template else None),
            "weight_oz": raw.get("weight_oz", 16),
        }

    def _refresh_order_status(self, order: Record) -> None:
        statuses = {s["status"] for s in self._shipments_of(order["id"])}
        if "Completed" in statuses:
            order["status"] = "PartiallyFulfilled" if "Processing" in statuses else "Fulfilled"

    def _progress(self, order_id: int, status: str, delays: Sequence[float]) -> Record:
        with self.lock:
            shipment = self._pending_shipment(order_id)
            if shipment is None:
                raise ValueError(f"order {order_id} has nothing left to ship")
            now = self._now()
            detail = {
                "id": len(shipment["status_details"]) + 1,
                "name": status,
                "description": PROGRESS_STATUSES[status],
            }
            shipment["status_details"].append(detail)
            shipment["last_update_at"] = now
            self._notify("order.shipment.status.updated", shipment, delays)
            return copy.deepcopy(shipment)

    def _new_return(self, rma_number: str, order: Record, inventory: list[Record], fc_id: int) -> Record:
        return_id = self._next_return_id
        self._next_return_id += 1
        now = self._now()
        shipments = [s for s in self._shipments_of(order["id"]) if s["status"] == "Completed"]
        record: Record = {
            "id": return_id,
            "reference_id": rma_number,
            "status": "Completed",
            "return_type": "Regular",
            "channel": copy.deepcopy(order["channel"]),
            "fulfillment_center": _fc_record(fc_id),
            "customer_name": order["recipient"].get("name"),
            "store_order_id": order["order_number"],
            "original_shipment_id": shipments[-1]["id"] if shipments else None,
            "tracking_number": None,
            "insert_date": now,
            "completed_date": now,
            "inventory": inventory,
            "invoice_amount": None,
            "transactions": [],
        }
        self.returns[return_id] = record
        return record

    def _shipped_quantities(self, order_id: int) -> dict[str, int]:
        shipped: dict[str, int] = {}
        for shipment in self._shipments_of(order_id):
            if shipment["status"] == "Completed":
                for reference_id, quantity in _quantities(shipment).items():
                    shipped[reference_id] = shipped.get(reference_id, 0) + quantity
        return shipped

    def _order_by(self, order_id: int | None, reference_id: str | None) -> Record:
        if order_id is not None:
            order = self.orders.get(order_id)
        else:
            order = next((o for o in self.orders.values() if o["reference_id"] == reference_id), None)
        if order is None:
            raise ValueError(f"no order {order_id if order_id is not None else reference_id}")
        return order

    # -- lookups ---------------------------------------------------------------------------------------------
    def _shipments_of(self, order_id: int) -> Iterator[Record]:
        return (s for s in sorted(self.shipments.values(), key=lambda s: s["id"]) if s["order_id"] == order_id)

    def _pending_shipment(self, order_id: int) -> Record | None:
        return next((s for s in self._shipments_of(order_id) if s["status"] == "Processing"), None)

    def _order_view(self, order: Record) -> Record:
        return {**copy.deepcopy(order), "shipments": [copy.deepcopy(s) for s in self._shipments_of(order["id"])]}

    def _require_order(self, request: Request) -> Record:
        order = self.orders.get(_int(request.params["order_id"], -1))
        if order is None:
            raise HttpError(404, None)
        return order

    def _require_shipment(self, request: Request) -> Record:
        shipment = self.shipments.get(_int(request.params["shipment_id"], -1))
        if shipment is None:
            raise HttpError(404, None)
        return shipment

    def _now(self) -> str:
        return datetime.fromtimestamp(self.clock.now(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- pure helpers ----------------------------------------------------------------------------------------------
def _phrase(status: int) -> str:
    return HTTPStatus(status).phrase


def _int(raw: str | None, default: int) -> int:
    return int(raw) if raw is not None and raw.isdigit() else default


def _csv(raw: str | None) -> set[str]:
    return {part.strip() for part in raw.split(",") if part.strip()} if raw else set()


def _channel_id(request: Request) -> int:
    raw = request.headers.get("shipbob_channel_id", "")
    if not raw.isdigit():
        raise HttpError(400, {"shipbob_channel_id": ["The shipbob_channel_id header is required."]})
    return int(raw)


def _json_object(request: Request) -> Record:
    try:
        body = request.json()
    except ValueError:
        raise HttpError(400, {"": ["The request body is not valid JSON."]}) from None
    if not isinstance(body, dict):
        raise HttpError(400, {"": ["The request body must be a JSON object."]})
    return body


def _location(location_id: Any) -> Record:
    if isinstance(location_id, int) and location_id in FULFILLMENT_CENTERS:
        return {"id": location_id, "name": FULFILLMENT_CENTERS[location_id]}
    return dict(FULFILLMENT_CENTER)


def _order_errors(body: Record) -> dict[str, list[str]]:
    """Model validation in ShipBob's 400 shape: field → messages."""
    errors: dict[str, list[str]] = {}

    def need(path: str, ok: bool, message: str = "The field is required.") -> None:
        if not ok:
            errors.setdefault(path, []).append(message)

    need("reference_id", isinstance(body.get("reference_id"), str) and bool(body.get("reference_id")))
    need("shipping_method", isinstance(body.get("shipping_method"), str) and bool(body.get("shipping_method")))
    need("type", body.get("type") in ORDER_TYPES, f"The field must be one of {', '.join(ORDER_TYPES)}.")
    recipient = body.get("recipient")
    need("recipient", isinstance(recipient, dict))
    if isinstance(recipient, dict):
        need("recipient.name", bool(recipient.get("name")))
        address = recipient.get("address")
        need("recipient.address", isinstance(address, dict))
        if isinstance(address, dict):
            for field in ("address1", "city", "country"):
                need(f"recipient.address.{field}", bool(address.get(field)))
    location_id = body.get("location_id")
    need("location_id", location_id is None or location_id in FULFILLMENT_CENTERS, "Unknown fulfillment center.")
    products = body.get("products")
    need("products", isinstance(products, list) and bool(products))
    for index, product in enumerate(products if isinstance(products, list) else []):
        line = product if isinstance(product, dict) else {}
        need(
            f"products[{index}].reference_id",
            isinstance(line.get("reference_id"), str) and bool(line.get("reference_id")),
        )
        quantity = line.get("quantity")
        valid_quantity = isinstance(quantity, int) and not isinstance(quantity, bool) and quantity > 0
        need(f"products[{index}].quantity", valid_quantity, "The quantity must be a positive integer.")
    return errors


def _fc(fc_id: int) -> int:
    if fc_id not in FULFILLMENT_CENTERS:
        raise ValueError(f"no fulfillment center {fc_id}: the sandbox has {sorted(FULFILLMENT_CENTERS)}")
    return fc_id


def _fc_record(fc_id: int) -> Record:
    return {"id": fc_id, "name": FULFILLMENT_CENTERS[fc_id]}


def _quantities(shipment: Record) -> dict[str, int]:
    return {
        product["reference_id"]: sum(item["quantity"] for item in product["inventory_items"])
        for product in shipment["products"]
    }


def _carton(package: Record, products: list[Record]) -> Record:
    measurements = {
        "total_weight_oz": package["weight_oz"],
        "depth_in": package.get("depth_in", 0),
        "length_in": package.get("length_in", 0),
        "width_in": package.get("width_in", 0),
    }
    inner = {"barcode": package["tracking_number"] + "-1", "type": "Box", "measurements": measurements}
    return {
        "barcode": package["tracking_number"],
        "type": "Box",
        "measurements": measurements,
        "cartons": [{**inner, "products": products}],
    }


def _pack(packages: list[Record], shipped: Mapping[str, int]) -> None:
    """Give each package its ``lines``: as given (they must add up to what ships), else the SKUs dealt in turn."""
    if not any(p.get("lines") for p in packages):
        for index, (reference_id, quantity) in enumerate(shipped.items()):
            packages[index % len(packages)].setdefault("lines", {})[reference_id] = quantity
        return
    packed: dict[str, int] = {}
    for package in packages:
        for reference_id, quantity in (package.get("lines") or {}).items():
            packed[reference_id] = packed.get(reference_id, 0) + quantity
    if packed != dict(shipped):
        raise ValueError(f"the packages hold {packed}, the shipment ships {dict(shipped)}")


def _return_inventory(
    items: Sequence[Mapping[str, Any]], shipped: Mapping[str, int], products: Mapping[str, Record]
) -> list[Record]:
    """ShipBob's return inventory: one entry per SKU, one ``action_taken`` per action and condition."""
    entries: dict[str, Record] = {}
    returned: dict[str, int] = {}
    for item in items:
        sku, quantity = item["sku"], int(item["quantity"])
        action = RETURN_ACTIONS.get(str(item["action"]).lower())
        reason = RETURN_CONDITIONS.get(str(item.get("condition", "new")).lower())
        if action is None or reason is None or quantity <= 0:
            raise ValueError(f"bad return item {dict(item)}")
        returned[sku] = returned.get(sku, 0) + quantity
        if returned[sku] > shipped.get(sku, 0):
            raise ValueError(f"cannot return {returned[sku]} of {sku}: {shipped.get(sku, 0)} shipped")
        product = products[sku]
        entry = entries.setdefault(
            sku, {"id": product["id"], "name": product["name"], "sku": sku, "quantity": 0, "action_taken": []}
        )
        entry["quantity"] += quantity
        entry["action_requested"] = {"action": "Default", "action_type": "Default", "instructions": None}
        entry["action_taken"].append(
            {"action": action, "action_reason": reason, "image_url": None, "quantity_processed": quantity}
        )
    if not entries:
        raise ValueError("a return has at least one item")
    return list(entries.values())
