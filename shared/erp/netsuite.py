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
- Shipments and returns are record transforms (``POST /<type>/<id>/!transform/<target>``, Oracle's "Transforming
  Records": 204 and a ``Location``, no body): sales order -> item fulfillment, invoice, return authorization;
  return authorization -> item receipt, credit memo. Each new record carries an external id made from our own key
  (shipment id, RMA number, receipt id), is looked up by ``eid:`` before the POST and read back by it after. A
  transform has no upsert, so a POST that timed out is looked up before it is sent again, and a rejection of the
  second POST (``DUP_RCRD``, or quantities the late first one used up) is checked against the lookup too. The
  account needs Advanced Shipping, where fulfilment and billing are separate records (Oracle, "Item Fulfillment").

Errors: 429 and ``CONCURRENCY_LIMIT_EXCEEDED`` (whatever the status), 401/403 whose body names a concurrency
problem, 5xx and timeouts are retried by ``OutboundClient`` and end as ``RateLimited`` / ``DownstreamUnavailable``;
400 is ``ValidationFailed`` with NetSuite's detail; any other 401/403 is ``Unauthorized``; 404 on a lookup is None.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Final, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from shared.breaker import Breaker
from shared.connections import Connection
from shared.erp.netsuite_auth import TokenBasedAuth
from shared.erp.netsuite_models import (
    NOTHING_DONE_YET,
    STOPPED,
    Collection,
    Currency,
    Customer,
    ErrorBody,
    Item,
    Ref,
    SalesOrder,
    SalesOrderLine,
    Transaction,
    TransactionLine,
)
from shared.erp.ports import CancelOutcome, ErpCreditMemo, ErpCustomer, ErpItem, ErpSalesOrder, ErpShipmentRecord
from shared.errors import DownstreamUnavailable, NotFound, Unauthorized, ValidationFailed
from shared.ids import customer_external_id, erp_external_id, safe_ref
from shared.models.lifecycle import Allocation
from shared.models.money import Money
from shared.models.order import Address, Order
from shared.models.returns import CreditedLine, ReturnLine, ReturnReceipt
from shared.models.shipping import Shipment
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
# Record types made by transforms.
SALES_ORDER: Final = "salesOrder"
FULFILLMENT: Final = "itemFulfillment"
INVOICE: Final = "invoice"
RETURN_AUTH: Final = "returnAuthorization"
ITEM_RECEIPT: Final = "itemReceipt"
CREDIT_MEMO: Final = "creditMemo"
# A transform's body lines replace the lines NetSuite would fill in (every open line); see the ``replace``
# parameter of the record service's transform operations.
REPLACE_LINES: Final = {"replace": "item"}
SHIPPED: Final = "C"  # itemFulfillment shipStatus: Picked A, Packed B, Shipped C
DEFAULT_CURRENCY: Final = "USD"
ISO_CURRENCY: Final = re.compile(r"^[A-Z]{3}$")
CENT: Final = Decimal("0.01")
MAX_MEMO: Final = 999

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

    def __init__(
        self, connection: Connection, *, client: OutboundClient | None = None, breaker: Breaker | None = None
    ) -> None:
        self._client = client or netsuite_client(connection, breaker=breaker)
        self._order_status = connection.settings.get("sales_order_status", "B")
        if self._order_status not in NOTHING_DONE_YET:
            raise ValueError("sales_order_status must be A (Pending Approval) or B (Pending Fulfillment)")
        self._item_ids: dict[str, str] = {}
        self._price_levels: dict[str, str | None] = {}
        self._currencies: dict[str, str] = {}

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

    # -- shipments -----------------------------------------------------------------------------------------
    def record_shipment(self, order_key: str, shipment: Shipment) -> ErpShipmentRecord:
        order = self._required_sales_order(order_key)
        key = shipment.shipment_id
        fulfillment = self._transform_once(
            order.id,
            FULFILLMENT,
            safe_ref(order_key, "ship", key),
            lambda external_id: self._fulfillment_body(external_id, order, shipment),
        )
        # The invoice bills what this fulfillment shipped, read from the fulfillment itself: a retry after the
        # fulfillment landed sees the sales order with those units already taken.
        invoice = self._transform_once(
            order.id,
            INVOICE,
            safe_ref(order_key, "inv", key),
            lambda external_id: _invoice_body(external_id, fulfillment),
            params=REPLACE_LINES,
        )
        logger.info("netsuite shipment recorded", fulfillment_id=fulfillment.id, invoice_id=invoice.id)
        return ErpShipmentRecord(
            sales_order_id=order.id,
            fulfillment_id=fulfillment.id,
            invoice_id=invoice.id,
            amount=self._money(_total(invoice), invoice.currency or order.currency),
        )

    def _fulfillment_body(self, external_id: str, order: SalesOrder, shipment: Shipment) -> dict[str, Any]:
        left = {line.line: _unfulfilled(line) for line in order.item.items}
        wanted = [(line.sku, line.quantity) for line in shipment.lines]
        shipped = _merged(self._spread(order.item.items, left, wanted, "shipment exceeds what is left to fulfil"))
        # Every line is named: a line left out would be fulfilled in full (Oracle, "Use Case For Fulfilling Your
        # Sales Order": itemReceive false keeps a line off the fulfillment).
        lines = [
            {"orderLine": number, "itemReceive": True, "quantity": shipped[number]}
            if shipped.get(number)
            else {"orderLine": number, "itemReceive": False}
            for number in left
        ]
        memo = f"{shipment.carrier} {', '.join(shipment.tracking_numbers)}"[:MAX_MEMO]
        return {"externalId": external_id, "shipStatus": {"id": SHIPPED}, "memo": memo, "item": {"items": lines}}

    # -- returns -------------------------------------------------------------------------------------------
    def authorize_return(self, order_key: str, rma_number: str, lines: Sequence[ReturnLine]) -> str:
        order = self._required_sales_order(order_key)
        authorization = self._transform_once(
            order.id,
            RETURN_AUTH,
            safe_ref(order_key, "rma", rma_number),
            lambda external_id: self._return_body(external_id, rma_number, order, lines),
            params=REPLACE_LINES,
        )
        logger.info("netsuite return authorized", return_authorization_id=authorization.id)
        return authorization.id

    def _return_body(
        self, external_id: str, rma_number: str, order: SalesOrder, lines: Sequence[ReturnLine]
    ) -> dict[str, Any]:
        # What shipped on each line is what can come back on it.
        shipped = {line.line: int(line.quantity_fulfilled) for line in order.item.items}
        wanted = [(line.sku, line.quantity) for line in lines]
        spread = _merged(self._spread(order.item.items, shipped, wanted, "return exceeds what shipped"))
        by_number = {line.line: line for line in order.item.items}
        items = [
            {
                "orderLine": number,
                "item": {"id": _item_ref(by_number[number]).id},
                "quantity": quantity,
                "rate": float(by_number[number].rate or 0),
            }
            for number, quantity in spread.items()
        ]
        return {"externalId": external_id, "memo": f"RMA {rma_number}", "item": {"items": items}}

    def issue_credit_memo(
        self, order_key: str, rma_number: str, receipt: ReturnReceipt, credit_percent: Mapping[str, int]
    ) -> ErpCreditMemo:
        authorization = self._read(
            RETURN_AUTH, f"eid:{safe_ref(order_key, 'rma', rma_number)}", Transaction, params=EXPANDED
        )
        if authorization is None:
            raise NotFound("netsuite has no return authorization for the RMA", system=SYSTEM, rma_number=rma_number)
        key = receipt.receipt_id
        self._transform_once(
            authorization.id,
            ITEM_RECEIPT,
            safe_ref(order_key, "rcv", key),
            lambda external_id: self._receipt_body(external_id, authorization, receipt),
            source=RETURN_AUTH,
        )
        memo = self._transform_once(
            authorization.id,
            CREDIT_MEMO,
            safe_ref(order_key, "cm", key),
            lambda external_id: self._credit_body(external_id, authorization, receipt, credit_percent),
            source=RETURN_AUTH,
            params=REPLACE_LINES,
        )
        currency = self._currency(memo.currency or authorization.currency)
        lines = self._credited_lines(memo, receipt, currency)
        total = memo.total if memo.total is not None else sum((line.amount.amount for line in lines), Decimal(0))
        logger.info("netsuite credit memo issued", credit_memo_id=memo.id, lines=len(lines))
        return ErpCreditMemo(credit_memo_id=memo.id, amount=Money(amount=_cents(total), currency=currency), lines=lines)

    def _receipt_body(self, external_id: str, authorization: Transaction, receipt: ReturnReceipt) -> dict[str, Any]:
        left = {line.line: int(line.quantity - line.quantity_received) for line in authorization.item.items}
        wanted = [(line.sku, line.quantity) for line in receipt.lines]
        spread = _merged(
            self._spread(authorization.item.items, left, wanted, "receipt exceeds what the RMA authorized")
        )
        lines = [
            {"orderLine": number, "itemReceive": True, "quantity": spread[number]}
            if spread.get(number)
            else {"orderLine": number, "itemReceive": False}
            for number in left
        ]
        return {"externalId": external_id, "memo": f"Receipt {receipt.receipt_id}"[:MAX_MEMO], "item": {"items": lines}}

    def _credit_body(
        self,
        external_id: str,
        authorization: Transaction,
        receipt: ReturnReceipt,
        credit_percent: Mapping[str, int],
    ) -> dict[str, Any]:
        left = {line.line: int(line.quantity - line.quantity_billed) for line in authorization.item.items}
        by_number = {line.line: line for line in authorization.item.items}
        wanted = [(line.sku, line.quantity) for line in receipt.lines]
        spreads = self._spread(authorization.item.items, left, wanted, "receipt exceeds what is left to credit")
        items: list[dict[str, Any]] = []
        # Line by line: the same SKU may come back in two conditions, credited differently.
        for line, spread in zip(receipt.lines, spreads, strict=True):
            percent = Decimal(credit_percent.get(line.condition.value, 100)) / 100
            for number, quantity in spread.items():
                rate = (by_number[number].rate or Decimal(0)) * percent
                items.append(
                    {
                        "orderLine": number,
                        "item": {"id": by_number[number].item.id},
                        "quantity": quantity,
                        "rate": float(rate),
                        "amount": float(_cents(rate * quantity)),
                        "description": f"{line.condition.value}, {line.disposition.value}",
                    }
                )
        return {"externalId": external_id, "memo": f"Receipt {receipt.receipt_id}"[:MAX_MEMO], "item": {"items": items}}

    def _credited_lines(self, memo: Transaction, receipt: ReturnReceipt, currency: str) -> tuple[CreditedLine, ...]:
        """The memo's lines by SKU, read from the memo: a retry answers what the first call made."""
        skus = {self._item_id(sku): sku for sku in dict.fromkeys(line.sku for line in receipt.lines)}
        return tuple(
            CreditedLine(
                sku=skus.get(line.item.id) or line.item.ref_name or line.item.id,
                quantity=int(line.quantity),
                amount=Money(amount=_cents(line.amount or Decimal(0)), currency=currency),
            )
            for line in memo.item.items
            if line.quantity > 0
        )

    # -- transforms ----------------------------------------------------------------------------------------
    def _required_sales_order(self, order_key: str) -> SalesOrder:
        order = self._sales_order(erp_external_id(order_key))
        if order is None:
            raise NotFound("netsuite has no sales order for the order", system=SYSTEM)
        return order

    def _spread(
        self,
        lines: Sequence[SalesOrderLine | TransactionLine],
        left: dict[int, int],
        wanted: Sequence[tuple[str, int]],
        too_many: str,
    ) -> list[dict[int, int]]:
        """Each (SKU, quantity) onto the lines holding its item, filling them in order, as {line: quantity}.

        ``left`` is what each line can still take, and is used up. Errors name the entry's position in ``wanted``.
        """
        spreads: list[dict[int, int]] = []
        for index, (sku, quantity) in enumerate(wanted):
            item_id = self._item_id(sku)
            holding = [line for line in lines if item_id is not None and _item_ref(line).id == item_id]
            if not holding:
                raise ValidationFailed("the SKU is not on the netsuite record", field=f"lines[{index}].sku", sku=sku)
            taken: dict[int, int] = {}
            rest = quantity
            for line in holding:
                take = min(rest, max(left.get(line.line, 0), 0))
                if take:
                    taken[line.line] = take
                    left[line.line] -= take
                    rest -= take
            if rest:
                raise ValidationFailed(too_many, field=f"lines[{index}].quantity", sku=sku, over=rest)
            spreads.append(taken)
        return spreads

    def _transform_once(
        self,
        source_id: str,
        target: str,
        external_id: str,
        build: Callable[[str], dict[str, Any]],
        *,
        source: str = SALES_ORDER,
        params: Mapping[str, str] | None = None,
    ) -> Transaction:
        """The ``target`` record with ``external_id``, made from the source record only when it is absent."""
        existing = self._transaction(target, external_id)
        if existing is not None:
            return existing
        path = f"/{source}/{source_id}/!transform/{target}"
        body = build(external_id)
        try:
            self._post_transform(path, body, params)
        except ValidationFailed as refusal:
            # Another consumer made it between our look-up and our POST (two copies of one event at once): its
            # external id, or the units it took, refuse this one. Its record is ours.
            return self._made_meanwhile(target, external_id, refusal)
        except DownstreamUnavailable as error:
            if not error.details.get("maybe_committed"):
                raise
            logger.warning("netsuite transform timed out, looking it up", record_type=target, external_id=external_id)
            landed = self._transaction(target, external_id)
            if landed is not None:
                return landed
            try:
                self._post_transform(path, body, params)
            except ValidationFailed as refusal:
                # The first POST landed after the lookup: its external id, or the units it took, refuse this one.
                return self._made_meanwhile(target, external_id, refusal)
        written = self._transaction(target, external_id)
        if written is None:
            raise DownstreamUnavailable("netsuite record not readable after its transform", system=SYSTEM)
        logger.info("netsuite record made by transform", record_type=target, record_id=written.id)
        return written

    def _made_meanwhile(self, target: str, external_id: str, refusal: ValidationFailed) -> Transaction:
        """The record another POST made, which is why ours was refused; else the refusal stands."""
        landed = self._transaction(target, external_id)
        if landed is None:
            raise refusal
        return landed

    def _post_transform(self, path: str, body: dict[str, Any], params: Mapping[str, str] | None) -> None:
        try:
            # A 204 names the new record in its Location header; it is read back by external id instead, which
            # also gives its lines and total.
            self._call("POST", path, idempotent=False, json=body, params=params)
        except ValidationFailed as error:
            # Another writer made it between our read and our write: it is the same record.
            if error.details.get("code") != DUPLICATE_RECORD:
                raise

    def _transaction(self, record_type: str, external_id: str) -> Transaction | None:
        return self._read(record_type, f"eid:{external_id}", Transaction, params=EXPANDED)

    def _money(self, amount: Decimal, currency: Ref | None) -> Money:
        return Money(amount=_cents(amount), currency=self._currency(currency))

    def _currency(self, ref: Ref | None) -> str:
        """The ISO code of a currency reference. Its ``refName`` is the currency's name, which is the code in most
        accounts but may be anything ("US Dollar"); then the currency record's ``symbol`` says."""
        if ref is None:
            return DEFAULT_CURRENCY
        if ref.ref_name and ISO_CURRENCY.match(ref.ref_name):
            return ref.ref_name
        if ref.id not in self._currencies:
            record = self._read("currency", ref.id, Currency)
            if record is None or not ISO_CURRENCY.match(record.symbol):
                raise DownstreamUnavailable("netsuite currency has no ISO code", system=SYSTEM, currency_id=ref.id)
            self._currencies[ref.id] = record.symbol
        return self._currencies[ref.id]

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


def _invoice_body(external_id: str, fulfillment: Transaction) -> dict[str, Any]:
    shipped = [line for line in fulfillment.item.items if line.item_receive is not False and line.quantity > 0]
    items = [
        {"orderLine": line.order_line, "item": {"id": line.item.id}, "quantity": int(line.quantity)} for line in shipped
    ]
    return {"externalId": external_id, "item": {"items": items}}


def _merged(spreads: Sequence[Mapping[int, int]]) -> dict[int, int]:
    """Quantities per line, summed over entries, in line order."""
    merged: dict[int, int] = {}
    for spread in spreads:
        for number, quantity in spread.items():
            merged[number] = merged.get(number, 0) + quantity
    return dict(sorted(merged.items()))


def _unfulfilled(line: SalesOrderLine) -> int:
    return 0 if line.is_closed else int(line.quantity - line.quantity_fulfilled)


def _item_ref(line: SalesOrderLine | TransactionLine) -> Ref:
    if line.item is None:
        raise DownstreamUnavailable("netsuite sent a sales order line without its item", system=SYSTEM)
    return line.item


def _total(record: Transaction) -> Decimal:
    if record.total is not None:
        return record.total
    return sum((line.amount or Decimal(0) for line in record.item.items), Decimal(0))


def _cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


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
