"""The ERP port on NetSuite's REST record service (``/services/rest/record/v1``).

Connection (``crossdock-<env>/connections/netsuite``):
- ``base_url``: the account's REST host, e.g. ``https://1234567-sb1.suitetalk.api.netsuite.com``;
- ``credentials``: ``consumer_key``, ``consumer_secret``, ``token_id``, ``token_secret`` (token-based auth);
- ``settings``: ``account_id`` (e.g. ``1234567_SB1``, the OAuth realm) and optionally ``sales_order_status``
  (``B`` Pending Fulfillment, the default, or ``A`` Pending Approval for accounts that approve by hand).

How the writes stay single:
- A sales order is keyed on ``erp_external_id(order.key)``. It is read by ``eid:`` first and only written when
  absent, with ``PUT /salesOrder/eid:<id>``, NetSuite's upsert: even a write that lands twice is one record.
- The PUT is sent as unsafe (``idempotent=False``): when it times out, nobody knows whether it committed, so the
  adapter looks the order up by external id before it writes again.
- A cancel closes every open line (``isClosed: true``), as Oracle's REST use case "Close a Sales Order" does;
  REST has no cancel verb. Closing a closed line changes nothing, so the PATCH may be retried.

Errors: 429 and ``CONCURRENCY_LIMIT_EXCEEDED`` (whatever the status), 401/403 whose body names a concurrency
problem, 5xx and timeouts are retried by ``OutboundClient`` and end as ``RateLimited`` / ``DownstreamUnavailable``;
400 is ``ValidationFailed`` with NetSuite's detail; any other 401/403 is ``Unauthorized``; 404 on a lookup is None.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Final, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from shared.connections import Connection
from shared.erp.netsuite_auth import TokenBasedAuth
from shared.erp.netsuite_models import (
    NOTHING_DONE_YET,
    STOPPED,
    Collection,
    Customer,
    ErrorBody,
    Item,
    SalesOrder,
)
from shared.erp.ports import CancelOutcome, ErpCustomer, ErpItem, ErpSalesOrder
from shared.errors import DownstreamUnavailable, NotFound, Unauthorized, ValidationFailed
from shared.ids import customer_external_id, erp_external_id
from shared.models.lifecycle import Allocation
from shared.models.order import Address, Order
from shared.observability import logger
from shared.outbound import RETRYABLE_STATUS, OutboundClient

__all__ = ["NetSuiteErp", "customer_external_id", "erp_external_id", "is_retryable", "netsuite_client"]

SYSTEM: Final = "netsuite"
RECORD_API: Final = "/services/rest/record/v1"
CONCURRENCY_LIMIT: Final = "CONCURRENCY_LIMIT_EXCEEDED"
DUPLICATE_RECORD: Final = "DUP_RCRD"
CREDENTIALS: Final = ("consumer_key", "consumer_secret", "token_id", "token_secret")
# Sublists (lines, prices, locations) come back as links only unless expanded.
EXPANDED: Final = {"expandSubResources": "true"}
# More customers than this behind one email is a shared mailbox, not a way to tell who ordered.
MAX_EMAIL_MATCHES: Final = 5

M = TypeVar("M", bound=BaseModel)


def netsuite_client(connection: Connection, **options: Any) -> OutboundClient:
    """The outbound client NetSuite needs: TBA signing and NetSuite's notion of a retryable answer.

    ``options`` go to ``OutboundClient`` (``timeout``, ``attempts``, ``sleep``, ``transport``...).
    """
    missing = [f"credentials.{name}" for name in CREDENTIALS if not connection.credentials.get(name)]
    missing += [] if connection.settings.get("account_id") else ["settings.account_id"]
    if missing:
        raise ValueError(f"the netsuite connection lacks {', '.join(missing)}")
    credentials = connection.credentials
    auth = TokenBasedAuth(
        account_id=connection.settings["account_id"],
        consumer_key=credentials["consumer_key"],
        consumer_secret=credentials["consumer_secret"],
        token_id=credentials["token_id"],
        token_secret=credentials["token_secret"],
    )
    return OutboundClient(SYSTEM, connection, auth=auth, is_retryable=is_retryable, **options)


def is_retryable(response: httpx.Response) -> bool:
    """5xx and 429, and any answer that is really NetSuite's concurrency governance.

    The account's concurrency pool is shared by every integration, and NetSuite does not always say so with a
    429: a ``CONCURRENCY_LIMIT_EXCEEDED`` can come with another status, and some rejections come as 401/403.
    """
    if response.status_code in RETRYABLE_STATUS:
        return True
    if response.status_code not in (400, 401, 403):
        return False
    error = _error_body(response)
    if CONCURRENCY_LIMIT in error.codes:
        return True
    return response.status_code in (401, 403) and "concurren" in error.text.lower()


class NetSuiteErp:
    """``Erp`` on one NetSuite account.

    Per instance it remembers item internal ids (NetSuite never changes them) and the price level of each customer
    it found, so ``items()`` for a customer just found costs no extra read.
    """

    def __init__(self, connection: Connection, *, client: OutboundClient | None = None) -> None:
        self._client = client or netsuite_client(connection)
        self._order_status = connection.settings.get("sales_order_status", "B")
        if self._order_status not in NOTHING_DONE_YET:
            raise ValueError("sales_order_status must be A (Pending Approval) or B (Pending Fulfillment)")
        self._item_ids: dict[str, str] = {}
        self._price_levels: dict[str, str | None] = {}

    # -- customers -----------------------------------------------------------------------------------------
    def find_customer(self, order: Order) -> ErpCustomer | None:
        ref = order.customer
        customer = None
        if ref.external_id:
            external_id = customer_external_id(order.channel.value, order.store, ref.external_id)
            customer = self._read("customer", f"eid:{external_id}", Customer)
        if customer is None and ref.email:
            customer = self._customer_by_email(ref.email)
        if customer is None:
            return None
        self._price_levels[customer.id] = customer.price_level.id if customer.price_level else None
        return customer.to_port()

    def _customer_by_email(self, email: str) -> Customer | None:
        ids = self._query("customer", "email", email, limit=MAX_EMAIL_MATCHES + 1)
        if len(ids) > MAX_EMAIL_MATCHES:
            logger.warning("too many netsuite customers share an email", matches=len(ids))
            return None
        customers = [c for c in (self._read("customer", i, Customer) for i in ids) if c is not None]
        if len(customers) == 1:
            return customers[0]
        # Old accounts are often made inactive and replaced: one active match is the customer.
        active = [c for c in customers if not c.is_inactive]
        if len(active) == 1:
            return active[0]
        if customers:
            logger.warning("netsuite customers share an email", matches=len(customers), active=len(active))
        return None

    # -- items ---------------------------------------------------------------------------------------------
    def items(self, skus: Sequence[str], customer: ErpCustomer | None = None) -> dict[str, ErpItem]:
        price_level = self._price_level(customer)
        found: dict[str, ErpItem] = {}
        for sku in dict.fromkeys(skus):  # each SKU once, in order
            item_id = self._item_id(sku)
            item = self._read("inventoryItem", item_id, Item, params=EXPANDED) if item_id else None
            # An inactive item cannot go on a sales order: for Crossdock it is not for sale.
            if item is None or item.is_inactive:
                continue
            price = item.unit_price(price_level)
            if price is None:
                logger.warning("netsuite item has no price", item_id=item.id)
                continue
            found[sku] = item.to_port(sku, price)
        return found

    def _price_level(self, customer: ErpCustomer | None) -> str | None:
        # The port's customer does not carry its price level: remembered from find_customer, else read.
        if customer is None:
            return None
        if customer.id not in self._price_levels:
            record = self._read("customer", customer.id, Customer)
            self._price_levels[customer.id] = record.price_level.id if record and record.price_level else None
        return self._price_levels[customer.id]

    def _item_id(self, sku: str) -> str | None:
        if sku not in self._item_ids:
            ids = self._query("inventoryItem", "itemId", sku, limit=1)
            if not ids:
                return None
            self._item_ids[sku] = ids[0]
        return self._item_ids[sku]

    # -- sales orders --------------------------------------------------------------------------------------
    def find_sales_order(self, order: Order) -> ErpSalesOrder | None:
        found = self._sales_order(erp_external_id(order.key))
        return found.to_port() if found is not None else None

    def upsert_sales_order(
        self, order: Order, customer: ErpCustomer, allocations: Sequence[Allocation]
    ) -> ErpSalesOrder:
        external_id = erp_external_id(order.key)
        # Created once, then left alone: rewriting an order the warehouse has started on is not ours to do.
        existing = self._sales_order(external_id)
        if existing is not None:
            return existing.to_port()
        body = self._sales_order_body(order, customer, allocations)
        try:
            self._put_sales_order(external_id, body)
        except DownstreamUnavailable as error:
            if not error.details.get("maybe_committed"):
                raise
            logger.warning("netsuite sales order write timed out, looking it up", external_id=external_id)
            landed = self._sales_order(external_id)
            if landed is not None:
                return landed.to_port()
            self._put_sales_order(external_id, body)  # an upsert: a late first write still makes one record
        written = self._sales_order(external_id)
        if written is None:
            raise DownstreamUnavailable("netsuite sales order not readable after its write", system=SYSTEM)
        return written.to_port()

    def _put_sales_order(self, external_id: str, body: dict[str, Any]) -> None:
        try:
            self._call("PUT", f"/salesOrder/eid:{external_id}", idempotent=False, json=body)
        except ValidationFailed as error:
            # Another writer created it between our read and our write: it is the same order.
            if error.details.get("code") != DUPLICATE_RECORD:
                raise

    def cancel_sales_order(self, order: Order) -> CancelOutcome:
        found = self._sales_order(erp_external_id(order.key))
        if found is None:
            return CancelOutcome.NOT_FOUND
        if found.shipped or found.billed:
            return CancelOutcome.TOO_LATE
        if found.status_code in STOPPED:
            return CancelOutcome.ALREADY_CANCELLED
        if found.status_code not in NOTHING_DONE_YET:
            return CancelOutcome.TOO_LATE
        open_lines = [{"line": line.line, "isClosed": True} for line in found.item.items if not line.is_closed]
        self._call("PATCH", f"/salesOrder/{found.id}", json={"item": {"items": open_lines}})
        after = self._sales_order(found.external_id)
        # A fulfilment can land between the read and the close; then part of the order has gone.
        if after is None or after.shipped or not after.cancelled:
            return CancelOutcome.TOO_LATE
        return CancelOutcome.CANCELLED

    def _sales_order(self, external_id: str) -> SalesOrder | None:
        return self._read("salesOrder", f"eid:{external_id}", SalesOrder, params=EXPANDED)

    def _sales_order_body(
        self, order: Order, customer: ErpCustomer, allocations: Sequence[Allocation]
    ) -> dict[str, Any]:
        # NetSuite knows locations, not our warehouse names.
        warehouses = {allocation.erp_location for allocation in allocations}
        body: dict[str, Any] = {
            "entity": {"id": customer.id},
            "tranDate": order.placed_at.date().isoformat(),
            "orderStatus": {"id": self._order_status},
            "memo": f"{order.channel.value} order {order.order_number or order.external_id}",
            "item": {"items": self._lines(order, allocations)},
        }
        if len(warehouses) == 1:
            body["location"] = {"id": warehouses.pop()}
        if order.shipping_address is not None:
            body["shippingAddress"] = _address(order.shipping_address)
        return body

    def _lines(self, order: Order, allocations: Sequence[Allocation]) -> list[dict[str, Any]]:
        """One NetSuite line per order line and warehouse: a line split across warehouses becomes two."""
        allocated: dict[str, list[tuple[str | None, int]]] = {}
        for allocation in allocations:
            for allocated_line in allocation.lines:
                allocated.setdefault(allocated_line.line_id, []).append(
                    (allocation.erp_location, allocated_line.quantity)
                )
        lines: list[dict[str, Any]] = []
        for index, line in enumerate(order.lines):
            item_id = self._item_id(line.sku) if line.sku else None
            if item_id is None:
                raise ValidationFailed("order line has no NetSuite item", field=f"lines[{index}].sku", sku=line.sku)
            parts = allocated.get(line.line_id, [])
            rest = line.quantity - sum(quantity for _, quantity in parts)
            if rest < 0:
                raise ValidationFailed("allocations exceed the line quantity", field=f"lines[{index}].quantity")
            if rest:
                parts.append((None, rest))
            for warehouse, quantity in parts:
                # A 2-decimal Decimal survives float exactly (shortest repr round-trips): JSON needs a number.
                entry: dict[str, Any] = {
                    "item": {"id": item_id},
                    "quantity": quantity,
                    "rate": float(line.unit_price.amount),
                }
                if warehouse is not None:
                    entry["location"] = {"id": warehouse}
                lines.append(entry)
        return lines

    # -- HTTP ----------------------------------------------------------------------------------------------
    def _query(self, record_type: str, field: str, value: str, *, limit: int) -> list[str]:
        """Ids of the records whose ``field`` is ``value``: the record service's ``q=<field> IS "<value>"``."""
        if '"' in value:
            return []  # the query language cannot quote a double quote; no NetSuite key we look up holds one
        params = {"q": f'{field} IS "{value}"', "limit": str(limit)}
        collection = _parse(self._call("GET", f"/{record_type}", params=params), Collection)
        return [ref.id for ref in collection.items]

    def _read(
        self, record_type: str, record_id: str, model: type[M], *, params: Mapping[str, str] | None = None
    ) -> M | None:
        try:
            response = self._call("GET", f"/{record_type}/{record_id}", params=params)
        except NotFound:
            return None
        return _parse(response, model)

    def _call(self, method: str, path: str, *, idempotent: bool = True, **kwargs: Any) -> httpx.Response:
        response = self._client.request(method, RECORD_API + path, idempotent=idempotent, **kwargs)
        if response.is_success:
            return response
        error = _error_body(response)
        details = {"system": SYSTEM, "status": response.status_code, "code": next(iter(sorted(error.codes)), None)}
        if response.status_code == 404:
            raise NotFound("netsuite record not found", **details)
        if response.status_code in (401, 403):
            # REFERENCE: NetSuite words some concurrency rejections as a failed login, so a burst of these next to
            # 429s is governance, not credentials; the queue's redelivery retries them.
            raise Unauthorized("netsuite refused the credentials", **details)
        path_in_body = next((d.path for d in error.details if d.path), None)
        raise ValidationFailed(error.text or "netsuite rejected the request", field=path_in_body, **details)


def _parse(response: httpx.Response, model: type[M]) -> M:
    """The body as ``model``; anything else is the ERP misbehaving, which a later attempt may not repeat."""
    try:
        return model.model_validate(json.loads(response.content, parse_float=Decimal))
    except (ValueError, ValidationError) as error:
        raise DownstreamUnavailable(
            "netsuite sent an unexpected response", system=SYSTEM, status=response.status_code
        ) from error


def _error_body(response: httpx.Response) -> ErrorBody:
    try:
        return ErrorBody.model_validate(response.json())
    except (ValueError, ValidationError):
        return ErrorBody(title=response.reason_phrase)


def _address(address: Address) -> dict[str, Any]:
    fields = {
        "addressee": address.company or address.name,
        "attention": address.name if address.company else None,
        "addr1": address.line1,
        "addr2": address.line2,
        "city": address.city,
        "state": address.region_code,
        "zip": address.postal_code,
        "country": {"id": address.country_code} if address.country_code else None,
        "addrPhone": address.phone,
    }
    return {name: value for name, value in fields.items() if value is not None}
