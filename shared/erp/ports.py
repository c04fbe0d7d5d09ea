"""What Crossdock needs from an ERP. ``shared/erp/netsuite.py`` implements it against NetSuite's REST API."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from shared.models.lifecycle import Allocation
from shared.models.money import Money
from shared.models.order import Order
from shared.models.returns import CreditedLine, ReturnLine, ReturnReceipt
from shared.models.shipping import Shipment


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ErpCustomer(_Model):
    id: str
    external_id: str | None = None
    name: str | None = None
    active: bool
    credit_hold: bool
    terms: str | None = None
    credit_limit: Decimal | None = None
    balance: Decimal | None = None


class ErpItem(_Model):
    id: str
    sku: str
    price: Decimal = Field(description="The customer's price list price, else the base price")
    currency: str = "USD"
    restricted: bool = False
    taxable: bool = True
    available: dict[str, int] = Field(default_factory=dict, description="ERP location id -> quantity available")


class ErpSalesOrder(_Model):
    id: str
    external_id: str
    status: str
    shipped: bool = False
    cancelled: bool = False


class ErpShipmentRecord(_Model):
    """The ERP's records of one shipment: the item fulfillment and the invoice for what it shipped."""

    sales_order_id: str
    fulfillment_id: str
    invoice_id: str
    amount: Money | None = None


class ErpCreditMemo(_Model):
    credit_memo_id: str
    amount: Money
    lines: tuple[CreditedLine, ...]


class CancelOutcome(StrEnum):
    CANCELLED = "cancelled"
    ALREADY_CANCELLED = "already_cancelled"
    TOO_LATE = "too_late"  # shipped or invoiced: a person must decide
    NOT_FOUND = "not_found"


class Erp(Protocol):
    def find_customer(self, order: Order) -> ErpCustomer | None:
        """The ERP customer behind the order's customer reference (channel customer id, then email)."""

    def items(self, skus: Sequence[str], customer: ErpCustomer | None = None) -> dict[str, ErpItem]:
        """ERP items by SKU, with the customer's prices and availability per location. Unknown SKUs are absent."""

    def upsert_sales_order(
        self, order: Order, customer: ErpCustomer, allocations: Sequence[Allocation]
    ) -> ErpSalesOrder:
        """Create the sales order once, keyed on the order's external id: a retry (even after a timeout that
        hid a commit) returns the same sales order and never makes a second one."""

    def find_sales_order(self, order: Order) -> ErpSalesOrder | None: ...

    def cancel_sales_order(self, order: Order) -> CancelOutcome: ...

    def record_shipment(self, order_key: str, shipment: Shipment) -> ErpShipmentRecord:
        """Record the item fulfillment and the invoice for ``shipment``, once per ``shipment.shipment_id``.

        A retry (even after a timeout that hid a commit) returns the records already made. Raises ``NotFound``
        when the ERP has no sales order for the order, ``ValidationFailed`` when the shipment ships more of a SKU
        than the sales order has left to fulfil.
        """

    def authorize_return(self, order_key: str, rma_number: str, lines: Sequence[ReturnLine]) -> str:
        """Create the ERP return authorization for the RMA, once per ``rma_number``; its ERP id."""

    def issue_credit_memo(
        self, order_key: str, rma_number: str, receipt: ReturnReceipt, credit_percent: Mapping[str, int]
    ) -> ErpCreditMemo:
        """Receive the units on the return authorization and credit them, once per ``receipt.receipt_id``.

        Each line is credited at the sales order's rate times ``credit_percent[condition]`` / 100 (a condition
        not in the mapping is credited in full).
        """
