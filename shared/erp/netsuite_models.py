"""What NetSuite's REST record service sends back, validated before anything reads it.

Only the fields Crossdock uses are declared; the rest is ignored. Numbers arrive as ``Decimal`` (the adapter
parses JSON with ``parse_float=Decimal``), so no price passes through a float on the way in. Sublists come
expanded when asked for (``expandSubResources=true``); unexpanded, they hold only links and read as empty.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from shared.erp.ports import ErpCustomer, ErpItem, ErpSalesOrder

# Custom fields of the Crossdock bundle: a credit hold set by the credit team, and items Crossdock must not sell
# unattended (hazmat, licensed goods).
CREDIT_HOLD_FIELD: Final = "custentity_crossdock_credit_hold"
RESTRICTED_FIELD: Final = "custitem_crossdock_restricted"

# Sales order states (``orderStatus.id``).
PENDING_APPROVAL, PENDING_FULFILLMENT, CANCELLED, CLOSED = "A", "B", "C", "H"
NOTHING_DONE_YET: Final = frozenset({PENDING_APPROVAL, PENDING_FULFILLMENT})
STOPPED: Final = frozenset({CANCELLED, CLOSED})

T = TypeVar("T")


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, alias_generator=to_camel, populate_by_name=True)


class Ref(_Model):
    """A reference to another record: ``{"id": "2", "refName": "Net 30"}``."""

    id: str
    ref_name: str | None = None


class Sublist(_Model, Generic[T]):
    items: list[T] = Field(default_factory=list)


class ErrorDetail(_Model):
    detail: str = ""
    code: str | None = Field(default=None, alias="o:errorCode")
    path: str | None = Field(default=None, alias="o:errorPath")


class ErrorBody(_Model):
    """NetSuite's error shape: ``{"type", "title", "status", "o:errorDetails": [{"detail", "o:errorCode"}]}``."""

    title: str | None = None
    details: list[ErrorDetail] = Field(default_factory=list, alias="o:errorDetails")

    @property
    def codes(self) -> set[str]:
        return {detail.code for detail in self.details if detail.code}

    @property
    def text(self) -> str:
        return "; ".join(detail.detail for detail in self.details if detail.detail) or (self.title or "")


class Collection(_Model):
    """A collection page: ids only, as NetSuite lists records."""

    items: list[Ref] = Field(default_factory=list)
    has_more: bool = False


class Customer(_Model):
    id: str
    external_id: str | None = None
    entity_id: str | None = None
    company_name: str | None = None
    is_inactive: bool = False
    credit_hold_override: Ref | None = None
    credit_hold: bool = Field(default=False, alias=CREDIT_HOLD_FIELD)
    terms: Ref | None = None
    credit_limit: Decimal | None = None
    balance: Decimal | None = None
    price_level: Ref | None = None

    def to_port(self) -> ErpCustomer:
        # "ON" is a hold the credit team forces; "AUTO" lets NetSuite decide from the limit when an order is entered,
        # which the ERP step checks itself from the limit and the balance.
        forced_hold = self.credit_hold_override is not None and self.credit_hold_override.id == "ON"
        return ErpCustomer(
            id=self.id,
            external_id=self.external_id,
            name=self.company_name or self.entity_id,
            active=not self.is_inactive,
            credit_hold=forced_hold or self.credit_hold,
            terms=self.terms.ref_name if self.terms else None,
            credit_limit=self.credit_limit,
            balance=self.balance,
        )


class PriceRow(_Model):
    price_level: Ref | None = None
    price: Decimal | None = None


class LocationRow(_Model):
    location: Ref
    quantity_available: Decimal | None = None


class Item(_Model):
    id: str
    item_id: str
    is_inactive: bool = False
    base_price: Decimal | None = None
    price: Sublist[PriceRow] = Field(default_factory=Sublist[PriceRow])
    locations: Sublist[LocationRow] = Field(default_factory=Sublist[LocationRow])
    is_taxable: bool = True
    restricted: bool = Field(default=False, alias=RESTRICTED_FIELD)

    def unit_price(self, price_level: str | None) -> Decimal | None:
        """The customer's price level's price, else the base price."""
        if price_level is not None:
            for row in self.price.items:
                if row.price_level is not None and row.price_level.id == price_level and row.price is not None:
                    return row.price
        return self.base_price

    def to_port(self, sku: str, price: Decimal) -> ErpItem:
        available: dict[str, int] = {}
        for row in self.locations.items:
            # NetSuite reports fractional and, after adjustments, negative availability; neither can be shipped.
            quantity = int(row.quantity_available or 0)
            available[row.location.id] = available.get(row.location.id, 0) + max(quantity, 0)
        return ErpItem(
            id=self.id,
            sku=sku,
            price=price,
            restricted=self.restricted,
            taxable=self.is_taxable,
            available=available,
        )


class SalesOrderLine(_Model):
    line: int
    item: Ref | None = None
    quantity: Decimal = Decimal(0)
    rate: Decimal | None = None
    quantity_fulfilled: Decimal = Decimal(0)
    quantity_billed: Decimal = Decimal(0)
    is_closed: bool = False


class SalesOrder(_Model):
    id: str
    external_id: str
    tran_id: str | None = None
    order_status: Ref
    currency: Ref | None = None
    item: Sublist[SalesOrderLine] = Field(default_factory=Sublist[SalesOrderLine])

    @property
    def status_code(self) -> str:
        return self.order_status.id

    @property
    def shipped(self) -> bool:
        return any(line.quantity_fulfilled > 0 for line in self.item.items)

    @property
    def billed(self) -> bool:
        return any(line.quantity_billed > 0 for line in self.item.items)

    @property
    def cancelled(self) -> bool:
        # Crossdock cancels by closing every line (status H), the UI's "Cancel Order" gives C. A closed order that
        # had shipped something was finished short, not cancelled.
        return self.status_code in STOPPED and not self.shipped

    def to_port(self) -> ErpSalesOrder:
        return ErpSalesOrder(
            id=self.id,
            external_id=self.external_id,
            status=self.order_status.ref_name or self.status_code,
            shipped=self.shipped,
            cancelled=self.cancelled,
        )


class TransactionLine(_Model):
    """A line of a record made by a transform. ``order_line`` is the line of the record it was made from."""

    line: int
    order_line: int | None = None
    item: Ref
    quantity: Decimal = Decimal(0)
    rate: Decimal | None = None
    amount: Decimal | None = None
    item_receive: bool | None = None
    # On a return authorization: what has come back, and what has been credited.
    quantity_received: Decimal = Decimal(0)
    quantity_billed: Decimal = Decimal(0)


class Transaction(_Model):
    """An item fulfillment, invoice, return authorization, item receipt or credit memo."""

    id: str
    external_id: str | None = None
    tran_id: str | None = None
    currency: Ref | None = None
    total: Decimal | None = None
    item: Sublist[TransactionLine] = Field(default_factory=Sublist[TransactionLine])


class Currency(_Model):
    """A currency record: ``symbol`` holds the ISO 4217 code, ``name`` is whatever the account calls it."""

    id: str
    symbol: str
