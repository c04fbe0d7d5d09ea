"""ERP sandbox following the NetSuite REST record service (SuiteTalk REST web services).

Emulated API, under ``/services/rest/record/v1/``:
- ``POST /{type}`` creates and answers ``204 No Content`` with a ``Location`` header naming the new record, as
  NetSuite does: there is no body, so a client must read the new id from the header.
- ``GET /{type}/{id}``, ``PATCH /{type}/{id}`` and ``GET /{type}`` (collection: links and ids, ``q=<field> IS
  "<value>"``, ``limit``, ``offset``). ``eid:<externalId>`` works wherever an internal id does.
- ``PUT /{type}/eid:{externalId}`` is the upsert: creates once, then updates.
- ``PATCH`` edits transaction lines in place unless ``?replace=item``: ``{"item": {"items": [{"line": 1,
  "isClosed": true}]}}`` closes line 1, an entry without ``line`` adds one. With every line closed a sales order
  is Closed (H), which is how an integration cancels one: REST has no cancel verb (Oracle's "Close a Sales Order").
- A create whose ``externalId`` already exists for that type is rejected (400 ``DUP_RCRD``), so a blind retry of
  a create that timed out fails loudly instead of duplicating the order.
- ``POST /{type}/{id}/!transform/{target}``: salesOrder → itemFulfillment, invoice, returnAuthorization;
  returnAuthorization → itemReceipt, creditMemo; invoice → creditMemo. Quantities fulfilled, billed, received
  and credited, and statuses, move. Body lines name the source line by ``orderLine``:
  - itemFulfillment and itemReceipt take every open line in full, as NetSuite fills them in; an entry changes a
    line's quantity or, with ``"itemReceive": false``, leaves it out (``?replace=item``: only the entries count);
  - invoice, returnAuthorization and creditMemo take the entries' lines only (all that is open without entries);
    a credit memo line may set its own ``rate`` and ``amount`` (a partial credit).
  More than a line has left is 400 ``USER_ERROR``; an ``externalId`` already on a record of the target type is
  400 ``DUP_RCRD`` before anything moves.
- ``POST /services/rest/query/v1/suiteql`` (with ``Prefer: transient``), for one pattern only:
  ``SELECT <columns> FROM transaction WHERE externalid = '<value>'``.
- Errors use NetSuite's body: ``{"type", "title", "status", "o:errorDetails": [{"detail", "o:errorCode"}]}``.
- Auth: an ``Authorization`` header of scheme ``OAuth`` (TBA) or ``Bearer`` (OAuth 2.0) must be present; the
  signature is not checked. Without one: 401 ``INVALID_LOGIN``.
- Seed data: the customers of the sample orders under ``events/``, with external ids made by
  ``shared.ids.customer_external_id``, and inventory items with a price list, per-location
  availability (``locations``: East "1", West "2") and the ``custitem_crossdock_restricted`` flag.
- Concurrency governance: ``faults.max_concurrency`` starts at 5 (the shared service tier) and the request over
  the limit gets NetSuite's 429 ``CONCURRENCY_LIMIT_EXCEEDED``.

Extra control endpoint, kept under ``/_sandbox/`` so it never collides with the emulated API:
- ``GET|POST /_sandbox/netsuite/timeout-after-commit`` with ``{"count": N, "seconds": S}``: the next N successful
  writes commit, then stall S seconds before answering (with ``Connection: close``). A client whose timeout is
  shorter sees a timeout for a write that did happen. ``arm_timeout_after_commit()`` does the same in-process.

The state snapshot lists the after-sale records (``item_fulfillments``, ``invoices``, ``return_authorizations``,
``item_receipts``, ``credit_memos``) with their external ids, source records, lines, totals and the time each was
made on the sandbox clock (``created_at``, epoch seconds), so a scenario can count them and check their order.
"""

from __future__ import annotations

import copy
import re
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from functools import partial
from http import HTTPStatus
from typing import Any, Final, NamedTuple
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from infra.local.clock import Clock
from infra.local.sandboxes.base import Faults, Handler, HttpError, Request, Response, Sandbox
from shared.ids import customer_external_id

Record = dict[str, Any]

RECORD_API: Final = "/services/rest/record/v1"
SUITEQL_API: Final = "/services/rest/query/v1/suiteql"
TIMEOUT_CONTROL: Final = "/_sandbox/netsuite/timeout-after-commit"

CUSTOMER: Final = "customer"
ITEM: Final = "inventoryItem"
SALES_ORDER: Final = "salesOrder"
FULFILLMENT: Final = "itemFulfillment"
INVOICE: Final = "invoice"
RETURN_AUTH: Final = "returnAuthorization"
ITEM_RECEIPT: Final = "itemReceipt"
CREDIT_MEMO: Final = "creditMemo"
RECORD_TYPES: Final = (CUSTOMER, ITEM, SALES_ORDER, FULFILLMENT, INVOICE, RETURN_AUTH, ITEM_RECEIPT, CREDIT_MEMO)

# Transaction types: tranId prefix, the label NetSuite uses in ``createdFrom.refName``, the SuiteQL ``type``.
TRANSACTIONS: Final = {
    SALES_ORDER: ("SO", "Sales Order", "SalesOrd"),
    FULFILLMENT: ("IF", "Item Fulfillment", "ItemShip"),
    INVOICE: ("INV", "Invoice", "CustInvc"),
    RETURN_AUTH: ("RA", "Return Authorization", "RtnAuth"),
    ITEM_RECEIPT: ("IR", "Item Receipt", "ItemRcpt"),
    CREDIT_MEMO: ("CM", "Credit Memo", "CustCred"),
}
# An item fulfillment only ever comes from a sales order, an item receipt (here) from a return authorization.
DIRECT_CREATE: Final = frozenset({CUSTOMER, ITEM, SALES_ORDER, INVOICE, RETURN_AUTH, CREDIT_MEMO})
TRANSFORMS: Final = (
    (SALES_ORDER, FULFILLMENT),
    (SALES_ORDER, INVOICE),
    (SALES_ORDER, RETURN_AUTH),
    (RETURN_AUTH, ITEM_RECEIPT),
    (RETURN_AUTH, CREDIT_MEMO),
    (INVOICE, CREDIT_MEMO),
)
STATUSES: Final = {
    SALES_ORDER: {
        "A": "Pending Approval",
        "B": "Pending Fulfillment",
        "C": "Cancelled",
        "D": "Partially Fulfilled",
        "E": "Pending Billing/Partially Fulfilled",
        "F": "Pending Billing",
        "G": "Billed",
        "H": "Closed",
    },
    FULFILLMENT: {"A": "Picked", "B": "Packed", "C": "Shipped"},
    INVOICE: {"A": "Open", "B": "Paid In Full"},
    RETURN_AUTH: {
        "A": "Pending Approval",
        "B": "Pending Receipt",
        "C": "Cancelled",
        "D": "Partially Received",
        "E": "Pending Refund/Partially Received",
        "F": "Pending Refund",
        "G": "Refunded",
        "H": "Closed",
    },
    CREDIT_MEMO: {"A": "Open", "B": "Fully Applied"},
}
INITIAL_STATUS: Final = {SALES_ORDER: "B", FULFILLMENT: "C", INVOICE: "A", RETURN_AUTH: "B", CREDIT_MEMO: "A"}
# Sales orders and return authorizations carry their state in ``orderStatus`` too.
ORDER_STATUS_TYPES: Final = frozenset({SALES_ORDER, RETURN_AUTH})
# Orders in these states cannot be fulfilled or billed, return authorizations cannot be received or credited.
CLOSED_ORDER_STATES: Final = frozenset({"A", "C", "H"})
# What the snapshot calls the after-sale records.
AFTER_SALE: Final = {
    FULFILLMENT: "item_fulfillments",
    INVOICE: "invoices",
    RETURN_AUTH: "return_authorizations",
    ITEM_RECEIPT: "item_receipts",
    CREDIT_MEMO: "credit_memos",
}

# Fields NetSuite sets itself: a request body never overrides them.
SYSTEM_FIELDS: Final = frozenset(
    {"id", "links", "status", "orderStatus", "createdDate", "lastModifiedDate", "dateCreated", "subtotal", "total"}
)
CREDIT_HOLD_FIELD: Final = "custentity_crossdock_credit_hold"
RESTRICTED_FIELD: Final = "custitem_crossdock_restricted"
USD: Final = {"id": "1", "refName": "USD"}

ERROR_TYPES: Final = {
    400: "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.1",
    401: "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html",
    404: "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.5",
    405: "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.6",
    429: "https://tools.ietf.org/html/rfc6585#section-4",
    500: "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.5.1",
    502: "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.5.3",
    503: "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.5.4",
}
INVALID_LOGIN: Final = (
    "Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI at "
    "Setup > Users/Roles > User Management > View Login Audit Trail."
)
QUERY_FILTER: Final = re.compile(r'^\s*(?P<field>\w+)\s+IS\s+"?(?P<value>[^"]*)"?\s*$', re.IGNORECASE)
SUITEQL_BY_EXTERNAL_ID: Final = re.compile(
    r"^\s*select\s+(?P<columns>.+?)\s+from\s+transaction\s+where\s+externalid\s*=\s*'(?P<value>[^']*)'\s*;?\s*$",
    re.IGNORECASE | re.DOTALL,
)
SUITEQL_COLUMNS: Final = ("id", "tranid", "externalid", "type", "status", "entity", "trandate")


class NetSuiteFaults(Faults):
    """NetSuite's knobs: the account allows 5 concurrent requests on the shared service tier, so start there."""

    max_concurrency: int | None = Field(default=5, ge=1)


class CommitTimeout(BaseModel):
    """The timeout-after-commit control: how many upcoming writes stall, and for how long."""

    model_config = ConfigDict(extra="forbid")

    count: int = Field(ge=0)
    seconds: float = Field(default=2.0, gt=0, le=60)


def ns_error(
    status: int,
    detail: str,
    code: str,
    *,
    path: str | None = None,
    url_path: str | None = None,
    header: str | None = None,
) -> HttpError:
    """An error in NetSuite's shape; ``path`` is the JSON path into the request body that caused it."""
    item: dict[str, str] = {"detail": detail, "o:errorCode": code}
    if path is not None:
        item["o:errorPath"] = path
    if url_path is not None:
        item["o:urlPath"] = url_path
    if header is not None:
        item["o:errorHeader"] = header
    body = {
        "type": ERROR_TYPES.get(status, ERROR_TYPES[400]),
        "title": HTTPStatus(status).phrase,
        "status": status,
        "o:errorDetails": [item],
    }
    return HttpError(status, body)


def invalid_value(value: Any, field: str, path: str) -> HttpError:
    """NetSuite's wording for a reference or value it cannot accept (an unknown id, an inactive customer...)."""
    return ns_error(
        400,
        f"Error while accessing resource: You have entered an Invalid Field Value {value} for the following field: "
        f"{field}",
        "INVALID_CONTENT",
        path=path,
    )


class NetSuiteSandbox(Sandbox):
    """NetSuite's REST record service for one account, seeded with customers and inventory items."""

    name = "netsuite"

    def __init__(self, clock: Clock | None = None, seed: int = 7, *, account_id: str = "1234567_SB1") -> None:
        self.account_id = account_id
        super().__init__(clock, seed)
        self._register_routes()

    # -- state ---------------------------------------------------------------------------------------------
    def connection(self) -> dict[str, Any]:
        # Token-based auth: the sandbox needs the header, not valid keys.
        credentials = {
            "consumer_key": "local",
            "consumer_secret": "local",
            "token_id": "local",
            "token_secret": "local",
        }
        return {"base_url": self.url, "credentials": credentials, "settings": {"account_id": self.account_id}}

    def reset_state(self) -> None:
        self.records: dict[str, dict[str, Record]] = {record_type: {} for record_type in RECORD_TYPES}
        self._next_id = 1001
        self._next_tran_number = dict.fromkeys(TRANSACTIONS, 1001)
        self._stalls_left = 0
        self._stall_seconds = 2.0
        self.stalled_writes: list[str] = []
        # Record id -> when it was made on the sandbox clock (createdDate has whole seconds only).
        self._created_at: dict[str, float] = {}
        # reset() has just installed the generic knobs; NetSuite's start at the shared-tier concurrency limit.
        self.faults = NetSuiteFaults()
        now = _iso(self.clock.now())
        for customer in _seed_customers(now):
            self.records[CUSTOMER][customer["id"]] = customer
        for item in _seed_items(now):
            self.records[ITEM][item["id"]] = item

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "account_id": self.account_id,
                "counts": {record_type: len(table) for record_type, table in self.records.items()},
                "records": copy.deepcopy(self.records),
                "timeout_after_commit": self._stall_state(),
                **{
                    name: [self._summary(record_type, record) for record in self.records[record_type].values()]
                    for record_type, name in AFTER_SALE.items()
                },
            }

    def _summary(self, record_type: str, record: Record) -> dict[str, Any]:
        """An after-sale record as a scenario reads it: what it came from, its lines and total, when it was made."""
        source_id = record.get("createdFrom", {}).get("id")
        source_type = self._type_of(source_id)
        summary: dict[str, Any] = {
            "id": record["id"],
            "tran_id": record.get("tranId"),
            "external_id": record.get("externalId"),
            "status": record.get("status", {}).get("refName"),
            "created_from": {"type": source_type, "id": source_id} if source_id else None,
            "sales_order_id": self._sales_order_of(record),
            "lines": [
                {
                    "order_line": line.get("orderLine"),
                    "sku": line["item"].get("refName"),
                    "quantity": line["quantity"],
                    "amount": line.get("amount"),
                }
                for line in record["item"]["items"]
            ],
            "total": record.get("total"),
            "created_at": self._created_at.get(record["id"]),
        }
        if source_type == RETURN_AUTH:
            summary["return_authorization_id"] = source_id
        return summary

    def _type_of(self, record_id: str | None) -> str | None:
        return next((t for t in TRANSACTIONS if record_id is not None and record_id in self.records[t]), None)

    def _sales_order_of(self, record: Record) -> str | None:
        """The sales order a record descends from, following ``createdFrom`` (credit memo → RA → sales order)."""
        seen: set[str] = set()
        while record["id"] not in seen:
            seen.add(record["id"])
            if record["id"] in self.records[SALES_ORDER]:
                return str(record["id"])
            source_type = self._type_of(record.get("createdFrom", {}).get("id"))
            if source_type is None:
                return None
            record = self.records[source_type][record["createdFrom"]["id"]]
        return None

    def record(self, record_type: str, record_id: str) -> Record | None:
        """One record by internal id or ``eid:<externalId>``, as a copy."""
        with self.lock:
            found = self._find(record_type, record_id)
            return copy.deepcopy(found) if found is not None else None

    def records_with_external_id(self, record_type: str, external_id: str) -> list[Record]:
        """Every record of the type with that external id: what "exactly one sales order for X" asserts on."""
        with self.lock:
            return [copy.deepcopy(r) for r in self.records[record_type].values() if r.get("externalId") == external_id]

    def count(self, record_type: str) -> int:
        with self.lock:
            return len(self.records[record_type])

    def arm_timeout_after_commit(self, count: int = 1, *, seconds: float = 2.0) -> None:
        """The next ``count`` successful writes commit, then stall ``seconds`` before answering."""
        setting = CommitTimeout(count=count, seconds=seconds)
        with self.lock:
            self._stalls_left = setting.count
            self._stall_seconds = setting.seconds

    # -- platform wording ------------------------------------------------------------------------------------
    def concurrency_response(self) -> Response:
        return ns_error(
            429, "Concurrent request limit exceeded. Request blocked.", "CONCURRENCY_LIMIT_EXCEEDED"
        ).response

    def refusal_response(self) -> Response:
        # What NetSuite answers when a form's mandatory field is missing.
        return ns_error(400, "Please enter value(s) for: Terms", "USER_ERROR").response

    def fault_response(self, status: int) -> Response:
        if status == 429:
            return self.concurrency_response()
        error_id = "".join(self.random.choices("abcdefghijklmnopqrstuvwxyz0123456789", k=20))
        return ns_error(status, f"An unexpected error occurred. Error ID: {error_id}", "UNEXPECTED_ERROR").response

    # -- routing ---------------------------------------------------------------------------------------------
    def dispatch(self, request: Request) -> Response:
        if request.path == TIMEOUT_CONTROL:
            return self._control_timeout(request)
        if request.path == "/_sandbox/faults" and request.method == "POST":
            # The base would rebuild generic knobs and silently drop the concurrency limit; keep NetSuite's.
            self.faults = NetSuiteFaults.model_validate(request.json() or {})
            return Response(200, self.faults.model_dump())
        response = super().dispatch(request)
        if request.path.startswith("/services/rest/") and _is_unrouted(response):
            return ns_error(404, f"The requested resource {request.path} does not exist.", "NONEXISTENT_ID").response
        return response

    def _register_routes(self) -> None:
        for record_type in RECORD_TYPES:
            collection = f"{RECORD_API}/{record_type}"
            instance = collection + "/{record_id}"
            self._api("GET", collection, partial(self._list, record_type))
            self._api("GET", instance, partial(self._get, record_type))
            self._api("POST", collection, partial(self._create, record_type), writes=True)
            self._api("PUT", instance, partial(self._upsert, record_type), writes=True)
            self._api("PATCH", instance, partial(self._update, record_type), writes=True)
        for source, target in TRANSFORMS:
            pattern = f"{RECORD_API}/{source}/{{record_id}}/!transform/{target}"
            self._api("POST", pattern, partial(self._transform, source, target), writes=True)
        self._api("POST", SUITEQL_API, self._suiteql)

    def _api(self, method: str, pattern: str, handler: Handler, *, writes: bool = False) -> None:
        """Every API route is authenticated; writes can be made to stall after they commit."""
        if writes:
            handler = self._stall_after_commit(handler)
        self.route(method, pattern, self._authenticated(handler), name=f"{method} {pattern.removeprefix(RECORD_API)}")

    def _authenticated(self, handler: Handler) -> Handler:
        def check(request: Request) -> Response:
            # TBA sends "OAuth realm=..., oauth_signature=...", OAuth 2.0 a bearer token; neither is verified here.
            if not request.headers.get("authorization", "").startswith(("OAuth ", "Bearer ")):
                raise ns_error(401, INVALID_LOGIN, "INVALID_LOGIN")
            return handler(request)

        return check

    def _stall_after_commit(self, handler: Handler) -> Handler:
        def run(request: Request) -> Response:
            response = handler(request)  # failures raise, so only a committed write gets this far
            stall = self._take_stall(request)
            if stall is not None:
                time.sleep(stall)  # outside the lock: other requests carry on, this one still holds its slot
                response.headers["Connection"] = "close"  # the client has gone; do not wait for its next request
            return response

        return run

    def _take_stall(self, request: Request) -> float | None:
        with self.lock:
            if self._stalls_left <= 0:
                return None
            self._stalls_left -= 1
            self.stalled_writes.append(f"{request.method} {request.path}")
            return self._stall_seconds

    def _stall_state(self) -> dict[str, Any]:
        return {"count": self._stalls_left, "seconds": self._stall_seconds, "stalled": list(self.stalled_writes)}

    def _control_timeout(self, request: Request) -> Response:
        if request.method == "POST":
            try:
                setting = CommitTimeout.model_validate(request.json() or {})
            except (ValidationError, ValueError) as error:
                return Response(400, {"error": str(error)})
            self.arm_timeout_after_commit(setting.count, seconds=setting.seconds)
        elif request.method != "GET":
            return Response(405, {"error": "use GET or POST"})
        with self.lock:
            return Response(200, self._stall_state())

    # -- record endpoints ------------------------------------------------------------------------------------
    def _list(self, record_type: str, request: Request) -> Response:
        matches = _query_predicate(request.arg("q"))
        limit = _int_arg(request, "limit", 1000)
        offset = _int_arg(request, "offset", 0)
        with self.lock:
            found = [record["id"] for record in self.records[record_type].values() if matches(record)]
        page = found[offset : offset + limit]
        return Response(
            200,
            {
                "links": [{"rel": "self", "href": self._href(request, record_type)}],
                "count": len(page),
                "hasMore": offset + len(page) < len(found),
                "items": [
                    {"links": [{"rel": "self", "href": self._href(request, record_type, i)}], "id": i} for i in page
                ],
                "offset": offset,
                "totalResults": len(found),
            },
        )

    def _get(self, record_type: str, request: Request) -> Response:
        with self.lock:
            record = self._require(record_type, request)
            body = {"links": [{"rel": "self", "href": self._href(request, record_type, record["id"])}]}
            body.update(copy.deepcopy(record))
        return Response(200, body)

    def _create(self, record_type: str, request: Request) -> Response:
        body = _body(request)
        with self.lock:
            record_id = self._create_record(record_type, body)
        return self._written(request, record_type, record_id)

    def _upsert(self, record_type: str, request: Request) -> Response:
        key = unquote(request.params["record_id"])
        if not key.startswith("eid:"):
            raise ns_error(
                400,
                "Error while accessing resource: The upsert operation needs an external ID in the URL (eid:...).",
                "USER_ERROR",
                url_path=request.path,
            )
        external_id = key.removeprefix("eid:")
        body = {**_body(request), "externalId": external_id}
        with self.lock:
            existing = self._by_external_id(record_type, external_id)
            if existing is None:
                record_id = self._create_record(record_type, body)
            else:
                self._apply_update(record_type, existing, body)
                record_id = existing["id"]
        return self._written(request, record_type, record_id)

    def _update(self, record_type: str, request: Request) -> Response:
        body = _body(request)
        replace = {name.strip() for name in (request.arg("replace") or "").split(",")}
        with self.lock:
            record = self._require(record_type, request)
            if record_type in TRANSACTIONS and "item" in body and "item" not in replace:
                body = {**body, "item": {"items": _merged_lines(record, body["item"])}}
            self._apply_update(record_type, record, body)
        return self._written(request, record_type, record["id"])

    def _written(self, request: Request, record_type: str, record_id: str) -> Response:
        return Response(204, None, {"Location": self._href(request, record_type, record_id)})

    def _href(self, request: Request, record_type: str, record_id: str | None = None) -> str:
        # Links name the host the client called, so a client can follow them to this sandbox.
        host = request.headers.get("host") or urlsplit(self.url).netloc
        href = f"http://{host}{RECORD_API}/{record_type}"
        return f"{href}/{record_id}" if record_id is not None else href

    # -- lookups ---------------------------------------------------------------------------------------------
    def _find(self, record_type: str, record_id: str) -> Record | None:
        key = unquote(record_id)
        if key.startswith("eid:"):
            return self._by_external_id(record_type, key.removeprefix("eid:"))
        return self.records[record_type].get(key)

    def _require(self, record_type: str, request: Request) -> Record:
        record = self._find(record_type, request.params["record_id"])
        if record is None:
            raise ns_error(
                404,
                "The record instance does not exist. Provide a valid record instance ID.",
                "NONEXISTENT_ID",
                url_path=request.path,
            )
        return record

    def _by_external_id(self, record_type: str, external_id: str) -> Record | None:
        return next((r for r in self.records[record_type].values() if r.get("externalId") == external_id), None)

    def _resolve(self, record_type: str, ref: Any) -> Record | None:
        """A reference as NetSuite takes it: ``{"id": ...}``, ``{"externalId": ...}`` or a bare internal id."""
        if isinstance(ref, dict):
            if "id" in ref:
                return self.records[record_type].get(str(ref["id"]))
            if "externalId" in ref:
                return self._by_external_id(record_type, str(ref["externalId"]))
            return None
        if isinstance(ref, str | int) and not isinstance(ref, bool):
            return self.records[record_type].get(str(ref))
        return None

    # -- building and storing records ------------------------------------------------------------------------
    def _create_record(self, record_type: str, body: Record) -> str:
        if record_type not in DIRECT_CREATE:
            raise ns_error(
                400,
                f"Error while accessing resource: A record of type {record_type} can only be created by "
                "transforming another record.",
                "USER_ERROR",
            )
        return self._insert(record_type, self._build(record_type, body))

    def _build(self, record_type: str, body: Record) -> Record:
        fields = _without(body, SYSTEM_FIELDS)
        if record_type == CUSTOMER:
            return _new_customer(fields)
        if record_type == ITEM:
            return _new_item(fields)
        record = {
            **fields,
            "tranId": fields.get("tranId") or self._tran_id(record_type),
            "tranDate": fields.get("tranDate") or _day(self.clock.now()),
            "currency": fields.get("currency") or dict(USD),
            "entity": self._entity(fields.get("entity")),
            "item": _sublist(self._lines(fields)),
        }
        # A sales order may be entered as pending approval; everything else starts in the type's first state.
        requested = body.get("orderStatus")
        code = requested.get("id") if isinstance(requested, dict) else None
        start = code if record_type == SALES_ORDER and code in ("A", "B") else INITIAL_STATUS[record_type]
        _set_status(record, record_type, start)
        _total(record)
        return record

    def _insert(self, record_type: str, record: Record) -> str:
        """Store a new record; checks the external id first, so a rejected create changes nothing."""
        self._check_new(record_type, record.get("externalId"))
        record_id = str(self._next_id)
        self._next_id += 1
        self._created_at[record_id] = self.clock.now()
        now = _iso(self._created_at[record_id])
        created = "createdDate" if record_type in TRANSACTIONS else "dateCreated"
        self.records[record_type][record_id] = {"id": record_id, **record, created: now, "lastModifiedDate": now}
        return record_id

    def _check_new(self, record_type: str, external_id: Any) -> None:
        if external_id is not None and self._by_external_id(record_type, str(external_id)) is not None:
            raise ns_error(400, "Error while accessing resource: This record already exists.", "DUP_RCRD")

    def _apply_update(self, record_type: str, record: Record, body: Record) -> None:
        changes = _without(body, SYSTEM_FIELDS)
        external_id = changes.get("externalId")
        renamed = external_id is not None and external_id != record.get("externalId")
        if renamed and self._by_external_id(record_type, str(external_id)) is not None:
            raise ns_error(400, "Error while accessing resource: This record already exists.", "DUP_RCRD")
        if record_type in TRANSACTIONS:
            if "entity" in changes:
                changes["entity"] = self._entity(changes["entity"])
            if "item" in changes:
                changes["item"] = _sublist(_carry_progress(record, self._lines(changes)))
        status = body.get("orderStatus")
        if record_type in ORDER_STATUS_TYPES and isinstance(status, dict):
            if status.get("id") not in STATUSES[record_type]:
                raise invalid_value(status.get("id"), "orderStatus", "orderStatus")
            _set_status(record, record_type, status["id"])
        record.update(changes)
        if record_type in TRANSACTIONS:
            _total(record)
        if record_type == SALES_ORDER and "item" in changes:
            lines = record["item"]["items"]
            if all(line.get("isClosed") for line in lines):
                _set_status(record, SALES_ORDER, "H")  # every line closed: the order is Closed
            elif record["orderStatus"]["id"] not in CLOSED_ORDER_STATES:
                _set_status(record, SALES_ORDER, _order_progress(lines))
        record["lastModifiedDate"] = _iso(self.clock.now())

    def _tran_id(self, record_type: str) -> str:
        number = self._next_tran_number[record_type]
        self._next_tran_number[record_type] = number + 1
        return f"{TRANSACTIONS[record_type][0]}{number}"

    def _entity(self, ref: Any) -> Record:
        if ref is None:
            raise ns_error(400, "Error while accessing resource: Please enter value(s) for: Customer", "USER_ERROR")
        customer = self._resolve(CUSTOMER, ref)
        # NetSuite will not put an inactive customer on a new transaction.
        if customer is None or customer.get("isInactive"):
            raise invalid_value(_ref_text(ref), "entity", "entity")
        return {"id": customer["id"], "refName": customer["entityId"]}

    def _lines(self, fields: Record) -> list[Record]:
        sublist = fields.get("item")
        raw_lines = sublist.get("items") if isinstance(sublist, dict) else None
        if not isinstance(raw_lines, list) or not raw_lines:
            raise ns_error(
                400,
                "Error while accessing resource: You must enter at least one line item for this transaction.",
                "USER_ERROR",
                path="item",
            )
        return [self._line(index, raw) for index, raw in enumerate(raw_lines)]

    def _line(self, index: int, raw: Any) -> Record:
        path = f"item.items[{index}]"
        if not isinstance(raw, dict):
            raise invalid_value(raw, "item", path)
        item = self._resolve(ITEM, raw.get("item"))
        if item is None or item.get("isInactive"):
            raise invalid_value(_ref_text(raw.get("item")), "item", f"{path}.item")
        quantity = _as_number(raw.get("quantity"))
        if quantity is None or quantity <= 0:
            raise invalid_value(raw.get("quantity"), "quantity", f"{path}.quantity")
        # NetSuite sources the rate from the item's base price when the line does not set one.
        rate = _as_number(raw.get("rate", item.get("basePrice", 0.0)))
        if rate is None:
            raise invalid_value(raw.get("rate"), "rate", f"{path}.rate")
        extra = _without(raw, {"item", "quantity", "rate", "amount", "line", "quantityFulfilled", "quantityBilled"})
        return {
            **extra,
            "line": index + 1,
            "item": {"id": item["id"], "refName": item["itemId"]},
            "quantity": quantity,
            "rate": rate,
            "amount": round(quantity * rate, 2),
            "quantityFulfilled": 0,
            "quantityBilled": 0,
        }

    # -- transforms ------------------------------------------------------------------------------------------
    def _transform(self, source_type: str, target_type: str, request: Request) -> Response:
        body = _body(request)
        # Only the named lines: NetSuite's ``replace`` parameter for a sublist.
        replace = "item" in {name.strip() for name in (request.arg("replace") or "").split(",")}
        with self.lock:
            source = self._require(source_type, request)
            # A second record with the same external id is refused before anything else is looked at.
            self._check_new(target_type, body.get("externalId"))
            if target_type == FULFILLMENT:
                record_id = self._fulfil(source, body, replace=replace)
            elif target_type == INVOICE:
                record_id = self._bill(source, body)
            elif target_type == RETURN_AUTH:
                record_id = self._authorize_return(source, body)
            elif target_type == ITEM_RECEIPT:
                record_id = self._receive(source, body, replace=replace)
            else:
                record_id = self._credit(source_type, source, body)
        return self._written(request, target_type, record_id)

    def _fulfil(self, order: Record, body: Record, *, replace: bool) -> str:
        record_id = self._move_units(
            FULFILLMENT, SALES_ORDER, order, body, _unfulfilled, "fulfill", "quantityFulfilled", replace
        )
        self._touch_order(order)
        return record_id

    def _move_units(
        self,
        target: str,
        source_type: str,
        source: Record,
        body: Record,
        available: Callable[[Record], float],
        verb: str,
        counter: str,
        replace: bool,
    ) -> str:
        """Units leave (a fulfillment) or come back (a receipt) on the source's lines: every open line in full, or
        only the entries asked with ``replace``; each line's ``counter`` moves by what it took."""
        if source["orderStatus"]["id"] in CLOSED_ORDER_STATES:
            raise _cannot_initialize(target, source)
        moved = _requested(source, body, available=available, verb=verb, every_line=not replace)
        if not moved:
            raise _cannot_initialize(target, source)
        lines = [
            {"orderLine": line["line"], "item": line["item"], "quantity": qty, "itemReceive": True}
            for line, qty, _ in moved
        ]
        record_id = self._insert(target, self._derived(target, source_type, source, body, lines))
        for line, qty, _ in moved:
            line[counter] = line.get(counter, 0) + qty
        return record_id

    def _bill(self, order: Record, body: Record) -> str:
        """Invoice the lines asked for, else what was fulfilled and not yet billed, as NetSuite does for inventory
        items: a line cannot bill more than it has fulfilled."""
        if order["orderStatus"]["id"] in CLOSED_ORDER_STATES:
            raise _cannot_initialize(INVOICE, order)
        billable = _requested(order, body, available=_unbilled, verb="bill")
        if not billable:
            raise _cannot_initialize(INVOICE, order)
        lines = [_priced(line, qty) for line, qty, _ in billable]
        record_id = self._insert(INVOICE, self._derived(INVOICE, SALES_ORDER, order, body, lines))
        for line, qty, _ in billable:
            line["quantityBilled"] += qty
        self._touch_order(order)
        return record_id

    def _authorize_return(self, order: Record, body: Record) -> str:
        returnable = _requested(order, body, available=lambda line: line["quantityFulfilled"], verb="return")
        if not returnable:
            raise _cannot_initialize(RETURN_AUTH, order)
        lines = [
            {**_priced(line, qty, entry), "quantityReceived": 0, "quantityBilled": 0} for line, qty, entry in returnable
        ]
        return self._insert(RETURN_AUTH, self._derived(RETURN_AUTH, SALES_ORDER, order, body, lines))

    def _receive(self, authorization: Record, body: Record, *, replace: bool) -> str:
        """Units come back on a return authorization: its lines' ``quantityReceived`` and its status move."""
        record_id = self._move_units(
            ITEM_RECEIPT, RETURN_AUTH, authorization, body, _unreceived, "receive", "quantityReceived", replace
        )
        self._touch_return(authorization)
        return record_id

    def _credit(self, source_type: str, source: Record, body: Record) -> str:
        """Credit a return authorization's lines (what is asked, else all not yet credited), or a whole invoice
        once: the invoice is then paid in full."""
        if source_type == INVOICE:
            if source["status"]["id"] == "B":
                raise _cannot_initialize(CREDIT_MEMO, source)
            credited: list[tuple[Record, float, Record]] = [
                (line, line["quantity"], {}) for line in source["item"]["items"]
            ]
        else:
            if source["orderStatus"]["id"] in CLOSED_ORDER_STATES:
                raise _cannot_initialize(CREDIT_MEMO, source)
            credited = _requested(source, body, available=_uncredited, verb="credit")
        if not credited:
            raise _cannot_initialize(CREDIT_MEMO, source)
        lines = [_priced(line, qty, entry) for line, qty, entry in credited]
        record_id = self._insert(CREDIT_MEMO, self._derived(CREDIT_MEMO, source_type, source, body, lines))
        if source_type == INVOICE:
            _set_status(source, INVOICE, "B")
            source["lastModifiedDate"] = _iso(self.clock.now())
            return record_id
        for line, qty, _ in credited:
            line["quantityBilled"] = line.get("quantityBilled", 0) + qty
        self._touch_return(source)
        return record_id

    def _derived(self, target_type: str, source_type: str, source: Record, body: Record, lines: list[Record]) -> Record:
        """The new record of a transform: the source's customer and currency, ``createdFrom`` pointing back."""
        record = {
            **_without(body, SYSTEM_FIELDS | {"item", "entity", "createdFrom"}),
            "tranId": self._tran_id(target_type),
            "tranDate": _day(self.clock.now()),
            "entity": dict(source["entity"]),
            "currency": dict(source["currency"]),
            "createdFrom": {"id": source["id"], "refName": f"{TRANSACTIONS[source_type][1]} #{source['tranId']}"},
            "item": _sublist([{"line": index + 1, **line} for index, line in enumerate(lines)]),
        }
        if target_type in INITIAL_STATUS:  # an item receipt has no status
            _set_status(record, target_type, INITIAL_STATUS[target_type])
        _total(record)
        return record

    def _touch_order(self, order: Record) -> None:
        _set_status(order, SALES_ORDER, _order_progress(order["item"]["items"]))
        order["lastModifiedDate"] = _iso(self.clock.now())

    def _touch_return(self, authorization: Record) -> None:
        _set_status(authorization, RETURN_AUTH, _return_progress(authorization["item"]["items"]))
        authorization["lastModifiedDate"] = _iso(self.clock.now())

    # -- SuiteQL ---------------------------------------------------------------------------------------------
    def _suiteql(self, request: Request) -> Response:
        if "transient" not in request.headers.get("prefer", "").lower():
            raise ns_error(
                400, "SuiteQL queries need the header 'Prefer: transient'.", "INVALID_HEADER", header="Prefer"
            )
        query = _body(request).get("q")
        match = SUITEQL_BY_EXTERNAL_ID.match(query) if isinstance(query, str) else None
        if match is None:
            raise ns_error(
                400,
                "Invalid search query. The sandbox supports only: "
                "SELECT <columns> FROM transaction WHERE externalid = '<value>'",
                "INVALID_PARAMETER",
                path="q",
            )
        columns = _suiteql_columns(match["columns"])
        with self.lock:
            rows = [
                _suiteql_row(record_type, record)
                for record_type in TRANSACTIONS
                for record in self.records[record_type].values()
                if record.get("externalId") == match["value"]
            ]
        # SuiteQL leaves out columns whose value is empty.
        items = [{"links": [], **{c: row[c] for c in columns if row.get(c) is not None}} for row in rows]
        host = request.headers.get("host") or urlsplit(self.url).netloc
        return Response(
            200,
            {
                "links": [{"rel": "self", "href": f"http://{host}{SUITEQL_API}"}],
                "count": len(items),
                "hasMore": False,
                "items": items,
                "offset": 0,
                "totalResults": len(items),
            },
        )


# -- pure helpers ----------------------------------------------------------------------------------------------
def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _day(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")


def _as_number(value: Any) -> float | None:
    """A JSON number as is (ints stay ints), or None for anything else, booleans included."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    return None


def _positive(value: Any) -> bool:
    number = _as_number(value)
    return number is not None and number > 0


def _without(fields: Record, names: Iterable[str]) -> Record:
    skip = set(names)
    return {key: value for key, value in fields.items() if key not in skip}


def _ref_text(ref: Any) -> Any:
    if isinstance(ref, dict):
        return ref.get("id", ref.get("externalId", ref))
    return ref


def _body(request: Request) -> Record:
    try:
        body = request.json()
    except ValueError:
        raise ns_error(400, "Invalid JSON in the request body.", "INVALID_CONTENT") from None
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise ns_error(400, "The request body must be a JSON object.", "INVALID_CONTENT")
    return body


def _int_arg(request: Request, name: str, default: int) -> int:
    raw = request.arg(name)
    if raw is None:
        return default
    if not raw.isdigit():
        raise ns_error(400, f"Invalid value for the query parameter {name}: {raw}", "INVALID_PARAMETER")
    return int(raw)


def _query_predicate(query: str | None) -> Callable[[Record], bool]:
    """The one ``q`` form the sandbox understands: ``<field> IS "<value>"`` (a reference compares by id)."""
    if not query:
        return lambda record: True
    match = QUERY_FILTER.match(query)
    if match is None:
        raise ns_error(400, f"Invalid search query: {query}", "INVALID_PARAMETER")
    field, value = match["field"], match["value"]

    def matches(record: Record) -> bool:
        actual = record.get(field)
        actual = actual.get("id") if isinstance(actual, dict) else actual
        return str(actual).lower() == value.lower()

    return matches


def _is_unrouted(response: Response) -> bool:
    # The base router's own 404 (no route matched), as opposed to a record lookup that found nothing.
    body = response.body
    return response.status == 404 and isinstance(body, dict) and body.get("error") == "no such route in the sandbox"


def _sublist(lines: list[Record]) -> Record:
    # Sublists come back expanded (as with expandSubResources=true), so a test can read the lines directly.
    return {"items": lines, "count": len(lines), "hasMore": False, "offset": 0, "totalResults": len(lines)}


def _carry_progress(record: Record, lines: list[Record]) -> list[Record]:
    """Replacing the lines of a transaction keeps what was already fulfilled and billed on each line."""
    before = {line["line"]: line for line in record.get("item", {}).get("items", [])}
    for line in lines:
        previous = before.get(line["line"])
        if previous is not None:
            line["quantityFulfilled"] = previous.get("quantityFulfilled", 0)
            line["quantityBilled"] = previous.get("quantityBilled", 0)
    return lines


def _set_status(record: Record, record_type: str, code: str) -> None:
    value = {"id": code, "refName": STATUSES[record_type][code]}
    record["status"] = value
    if record_type in ORDER_STATUS_TYPES:
        record["orderStatus"] = dict(value)
    if record_type == FULFILLMENT:
        record["shipStatus"] = dict(value)


def _total(record: Record) -> None:
    amounts = [line["amount"] for line in record.get("item", {}).get("items", []) if "amount" in line]
    if amounts:
        record["subtotal"] = record["total"] = round(sum(amounts), 2)


def _priced(line: Record, quantity: float, entry: Record | None = None) -> Record:
    """A line billed, returned or credited from ``line`` (the source record's), at its rate unless the request
    sets ``rate`` or ``amount`` (a credit for less than the price)."""
    asked = entry or {}
    rate = _as_number(asked.get("rate"))
    rate = line["rate"] if rate is None else rate
    amount = _as_number(asked.get("amount"))
    return {
        "orderLine": line["line"],
        "item": dict(line["item"]),
        "quantity": quantity,
        "rate": rate,
        "amount": round(quantity * rate, 2) if amount is None else round(amount, 2),
    }


def _requested(
    source: Record,
    body: Record,
    *,
    available: Callable[[Record], float],
    verb: str,
    every_line: bool = False,
) -> list[tuple[Record, float, Record]]:
    """The source lines a transform takes, each with its quantity and the body's entry for it.

    The body asks as NetSuite's transform bodies do: ``{"item": {"items": [{"orderLine": 1, "quantity": 2}]}}``;
    an entry without a quantity takes what the line has left, ``"itemReceive": false`` takes nothing. Without
    entries every line with something left is taken; with ``every_line`` the lines no entry names are too.
    """
    lines = source["item"]["items"]
    sublist = body.get("item")
    asked = sublist.get("items") if isinstance(sublist, dict) else None
    if asked is None:
        return [(line, available(line), {}) for line in lines if available(line) > 0]
    by_number = {line["line"]: line for line in lines}
    chosen: list[tuple[Record, float, Record]] = []
    taken: dict[int, float] = {}
    for index, entry in enumerate(asked if isinstance(asked, list) else []):
        line = by_number.get(entry.get("orderLine")) if isinstance(entry, dict) else None
        if line is None:
            raise invalid_value(_ref_text(entry), "orderLine", f"item.items[{index}].orderLine")
        number = line["line"]
        taken.setdefault(number, 0)
        if entry.get("itemReceive") is False:
            continue
        # Two entries may take from one line (a credit at two prices): together they fit in what it has left.
        left = available(line) - taken[number]
        quantity = entry.get("quantity", left)
        if not _positive(quantity):
            raise invalid_value(quantity, "quantity", f"item.items[{index}].quantity")
        if quantity > left:
            raise ns_error(
                400,
                f"Error while accessing resource: You can not {verb} more than {left} of the item on line {number}.",
                "USER_ERROR",
                path=f"item.items[{index}].quantity",
            )
        taken[number] += quantity
        chosen.append((line, quantity, entry))
    if every_line:
        chosen += [(line, available(line), {}) for line in lines if line["line"] not in taken and available(line) > 0]
    return sorted(chosen, key=lambda picked: int(picked[0]["line"]))


def _unfulfilled(line: Record) -> float:
    """What is left to ship on a line; a closed line has nothing left."""
    return 0 if line.get("isClosed") else line["quantity"] - line["quantityFulfilled"]


def _unbilled(line: Record) -> float:
    left: float = line["quantityFulfilled"] - line["quantityBilled"]
    return left


def _unreceived(line: Record) -> float:
    left: float = line["quantity"] - line.get("quantityReceived", 0)
    return left


def _uncredited(line: Record) -> float:
    left: float = line["quantity"] - line.get("quantityBilled", 0)
    return left


def _merged_lines(record: Record, sublist: Any) -> list[Record]:
    """A PATCH without ``replace=item`` edits lines in place: an entry with ``line`` changes that line (e.g.
    ``{"line": 1, "isClosed": true}``, how NetSuite closes a line), an entry without one adds a line."""
    current = [copy.deepcopy(line) for line in record["item"]["items"]]
    by_number = {line["line"]: line for line in current}
    entries = sublist.get("items") if isinstance(sublist, dict) else None
    for index, entry in enumerate(entries if isinstance(entries, list) else []):
        if not isinstance(entry, dict):
            raise invalid_value(entry, "item", f"item.items[{index}]")
        if "line" not in entry:
            current.append(entry)
            continue
        line = by_number.get(entry["line"])
        if line is None:
            raise invalid_value(entry["line"], "line", f"item.items[{index}].line")
        line.update(_without(entry, {"line", "quantityFulfilled", "quantityBilled"}))
    return current


def _order_progress(lines: list[Record]) -> str:
    """A sales order's status from its line quantities; a closed line counts only for what it shipped."""
    ordered = sum(line["quantityFulfilled"] if line.get("isClosed") else line["quantity"] for line in lines)
    fulfilled = sum(line["quantityFulfilled"] for line in lines)
    billed = sum(line["quantityBilled"] for line in lines)
    if billed >= ordered:
        return "G"
    if fulfilled >= ordered:
        return "F"
    if fulfilled == 0:
        return "B"
    return "E" if fulfilled > billed else "D"


def _return_progress(lines: list[Record]) -> str:
    """A return authorization's status from what came back and what was credited."""
    authorized = sum(line["quantity"] for line in lines)
    received = sum(line.get("quantityReceived", 0) for line in lines)
    credited = sum(line.get("quantityBilled", 0) for line in lines)
    if credited >= authorized:
        return "G"
    if received >= authorized:
        return "F"
    if received == 0:
        return "B"
    return "E" if received > credited else "D"


def _cannot_initialize(target_type: str, source: Record) -> HttpError:
    return ns_error(
        400,
        f"Error while accessing resource: You can not initialize {target_type.lower()}: invalid reference "
        f"{source['id']}.",
        "USER_ERROR",
    )


def _suiteql_columns(selected: str) -> list[str]:
    columns = [column.strip().lower() for column in selected.split(",")]
    if columns == ["*"]:
        return list(SUITEQL_COLUMNS)
    unknown = [column for column in columns if column not in SUITEQL_COLUMNS]
    if unknown:
        raise ns_error(
            400, f"Invalid search query. Unknown field(s) on transaction: {', '.join(unknown)}", "INVALID_PARAMETER"
        )
    return columns


def _suiteql_row(record_type: str, record: Record) -> dict[str, Any]:
    return {
        "id": record["id"],
        "tranid": record.get("tranId"),
        "externalid": record.get("externalId"),
        "type": TRANSACTIONS[record_type][2],
        "status": record.get("status", {}).get("id"),
        "entity": record["entity"]["id"],
        "trandate": record.get("tranDate"),
    }


def _new_customer(fields: Record) -> Record:
    name = fields.get("companyName") or fields.get("entityId")
    if not name:
        raise ns_error(
            400,
            "Error while accessing resource: Please enter value(s) for: Company Name",
            "USER_ERROR",
            path="companyName",
        )
    defaults: Record = {
        "entityId": name,
        "companyName": name,
        "isPerson": False,
        "isInactive": False,
        "balance": 0.0,
        "overdueBalance": 0.0,
        "creditHoldOverride": {"id": "AUTO", "refName": "Auto"},
        CREDIT_HOLD_FIELD: False,
        "currency": dict(USD),
    }
    return {**defaults, **fields}


def _new_item(fields: Record) -> Record:
    if not fields.get("itemId"):
        raise ns_error(400, "Error while accessing resource: Please enter value(s) for: Item Name/Number", "USER_ERROR")
    return {"displayName": fields["itemId"], "basePrice": 0.0, "isInactive": False, **fields}


# -- seed data -------------------------------------------------------------------------------------------------
# The stores of the sample orders under events/ (the channel sandboxes' defaults).
SHOPIFY_SHOP: Final = "acme-supply.myshopify.com"
BIGCOMMERCE_STORE: Final = "abc123xyz"
SUBSIDIARY: Final = {"id": "1", "refName": "Acme Supply Co."}
TERMS: Final = {"net15": {"id": "1", "refName": "Net 15"}, "net30": {"id": "2", "refName": "Net 30"}}
PRICE_LEVELS: Final = {"base": {"id": "1", "refName": "Base Price"}, "wholesale": {"id": "2", "refName": "Wholesale"}}
LOCATIONS: Final = {"east": {"id": "1", "refName": "East Warehouse"}, "west": {"id": "2", "refName": "West Warehouse"}}


class SeedItem(NamedTuple):
    record_id: str
    sku: str
    name: str
    price: float
    east: int
    west: int
    restricted: bool = False


# The SKUs and list prices of the line items in events/shopify/orders_create.json, then those of the BigCommerce
# and WooCommerce samples (BigCommerce's prices), then a hazmat item and a flash-sale item that no sample orders.
# East fills every sample order; West falls short on some lines of each, so allocation has to choose.
SEED_ITEMS: Final = (
    SeedItem("501", "GLV-NIT4-L-CS", "Nitrile Exam Gloves, Powder-Free, 4 mil - Case of 1000", 84.50, 180, 30),
    SeedItem("502", "SW-18-1500-80-C4", "Cast Stretch Wrap, 18in x 1500ft, 80 Gauge - Case of 4", 72.40, 64, 4),
    SeedItem("503", "EYE-AF-CLR-12", "Anti-Fog Safety Glasses, Clear Lens - Box of 12", 38.95, 240, 120),
    SeedItem("504", "VST-C2-LXL-YL", "Hi-Vis Mesh Safety Vest, ANSI Class 2", 6.85, 600, 0),
    SeedItem("505", "ABS-UNI-1519-100", "Universal Absorbent Pads, 15in x 19in - Bundle of 100", 54.20, 45, 12),
    SeedItem("506", "GLV-NIT-L-100", "Nitrile Exam Gloves - Large / Box of 100", 11.50, 300, 25),
    SeedItem("507", "TRL-55G-HD-100", "Heavy-Duty Trash Liners 55 gal - Case of 100", 38.75, 90, 40),
    SeedItem("508", "DSF-MS-1G", "Multi-Surface Disinfectant Concentrate - 1 gal", 18.20, 150, 0),
    SeedItem("509", "PTW-HW8-NAT-6", "Hardwound Paper Towels, Case of 6 - Natural", 42.00, 80, 60),
    SeedItem("510", "AER-LUB-11-12", "Aerosol Spray Lubricant, 11 oz - Case of 12 (ORM-D)", 58.80, 36, 12, True),
    # The demo's flash-sale item: a few units in the East warehouse, none in the West.
    SeedItem("511", "RSP-N95-20-FS", "N95 Respirator, NIOSH-Approved - Box of 20", 24.90, 5, 0),
)


def _seed_customers(now: str) -> list[Record]:
    """The buyer of the sample Shopify order (good standing), the buyer of the BigCommerce and WooCommerce samples
    (one account buying on two channels: its external id is BigCommerce's, so WooCommerce finds it by email), one
    on credit hold with the wholesale price level, one inactive."""

    def customer(record_id: str, name: str, external_id: str, email: str, **fields: Any) -> Record:
        record: Record = {
            "id": record_id,
            "externalId": external_id,
            "entityId": name,
            "companyName": name,
            "email": email,
            "isPerson": False,
            "isInactive": False,
            "subsidiary": dict(SUBSIDIARY),
            "currency": dict(USD),
            "terms": dict(TERMS["net30"]),
            "creditLimit": 50000.0,
            "balance": 0.0,
            "overdueBalance": 0.0,
            "creditHoldOverride": {"id": "AUTO", "refName": "Auto"},
            CREDIT_HOLD_FIELD: False,
            "dateCreated": "2025-03-11T14:22:47Z",
            "lastModifiedDate": now,
        }
        record.update(fields)
        return record

    def shopify(customer_id: str) -> str:
        return customer_external_id("shopify", SHOPIFY_SHOP, customer_id)

    return [
        customer(
            "101",
            "Harbor Point Facilities Group",
            shopify("8841720385329"),
            "dana.whitfield@example.com",
            balance=12450.00,
        ),
        customer(
            "102",
            "Keystone Janitorial Supply",
            shopify("7301195558961"),
            "ap@keystone-janitorial.example.com",
            creditLimit=10000.0,
            balance=14880.55,
            overdueBalance=6210.40,
            creditHoldOverride={"id": "ON", "refName": "On"},
            priceLevel=dict(PRICE_LEVELS["wholesale"]),
            **{CREDIT_HOLD_FIELD: True},
        ),
        customer(
            "103",
            "Brightline Safety Co.",
            shopify("6620984511025"),
            "orders@brightline-safety.example.com",
            isInactive=True,
            terms=dict(TERMS["net15"]),
        ),
        customer(
            "104",
            "Riverside Facilities Group LLC",
            customer_external_id("bigcommerce", BIGCOMMERCE_STORE, "88"),
            "purchasing@riverside-facilities.example",
            terms=dict(TERMS["net15"]),
            creditLimit=25000.0,
            balance=3120.75,
        ),
    ]


def _seed_items(now: str) -> list[Record]:
    return [
        {
            "id": seed.record_id,
            "externalId": seed.sku,
            "itemId": seed.sku,
            "displayName": seed.name,
            "isInactive": False,
            "basePrice": seed.price,
            # The price list: base price and a wholesale level 10% under it.
            "price": _sublist(
                [
                    {"priceLevel": dict(PRICE_LEVELS["base"]), "price": seed.price},
                    {"priceLevel": dict(PRICE_LEVELS["wholesale"]), "price": round(seed.price * 0.9, 2)},
                ]
            ),
            # Multi-location inventory: what each warehouse can still promise.
            "locations": _sublist(
                [
                    {"location": dict(LOCATIONS["east"]), "quantityOnHand": seed.east, "quantityAvailable": seed.east},
                    {"location": dict(LOCATIONS["west"]), "quantityOnHand": seed.west, "quantityAvailable": seed.west},
                ]
            ),
            RESTRICTED_FIELD: seed.restricted,
            "dateCreated": "2025-01-06T09:00:00Z",
            "lastModifiedDate": now,
        }
        for seed in SEED_ITEMS
    ]
