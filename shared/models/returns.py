"""Returns: an RMA authorized against what shipped, received by the warehouse, credited in the ERP, refunded.

The ERP is the books: the credit memo says how much is owed back, and the channel refund is exactly that amount.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, model_validator

from shared.models.instants import AwareDatetime
from shared.models.money import Money
from shared.models.order import Channel
from shared.models.shipping import Sku

ReasonCode = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
MAX_RETURN_LINES = 100


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ReturnLine(_Model):
    sku: Sku
    quantity: PositiveInt = Field(le=1_000_000)
    reason_code: ReasonCode


class ReturnRequest(_Model):
    """``POST /v1/returns``: which order, which units and why. ``request_id`` makes a retried call one RMA."""

    channel: Channel
    external_id: str = Field(min_length=1, max_length=255)
    store: str | None = Field(default=None, max_length=255, description="Needed only when two stores share the id")
    request_id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$")
    lines: tuple[ReturnLine, ...] = Field(min_length=1, max_length=MAX_RETURN_LINES)
    note: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _one_line_per_sku(self) -> ReturnRequest:
        skus = [line.sku for line in self.lines]
        if len(set(skus)) != len(skus):
            raise ValueError("a return lists each SKU once")
        return self


class ReturnAuthorization(_Model):
    rma_number: str
    order_key: str
    request_id: str
    lines: tuple[ReturnLine, ...]
    authorized_at: AwareDatetime
    expires_at: AwareDatetime
    # None while the ERP has not made it yet: the RMA is saved first, so two requests cannot both pass the check.
    erp_return_authorization_id: str | None = None


class ReturnPolicy(_Model):
    """Per environment: how long after shipping a return is accepted, why, and what each condition is credited."""

    window_days: int = Field(default=30, ge=1, le=3650)
    reason_codes: tuple[ReasonCode, ...] = ("damaged", "defective", "wrong_item", "not_needed", "other")
    # Percent of the line's price credited per received condition; a condition not listed is credited in full.
    credit_percent: dict[str, int] = Field(default_factory=lambda: {"new": 100, "opened": 100, "damaged": 50})

    @model_validator(mode="after")
    def _check(self) -> ReturnPolicy:
        unknown = set(self.credit_percent) - {c.value for c in Condition}
        if unknown or any(not 0 <= p <= 100 for p in self.credit_percent.values()):
            raise ValueError("credit_percent maps new/opened/damaged to 0..100")
        return self


class Condition(StrEnum):
    NEW = "new"
    OPENED = "opened"
    DAMAGED = "damaged"


class Disposition(StrEnum):
    RESTOCK = "restock"
    SCRAP = "scrap"


class ReceivedLine(_Model):
    sku: Sku
    quantity: PositiveInt = Field(le=1_000_000)
    condition: Condition
    disposition: Disposition


class ReturnReceipt(_Model):
    """The warehouse received (part of) an RMA. ``receipt_id`` is the WMS's own id: the idempotency key."""

    receipt_id: str = Field(min_length=1, max_length=200)
    rma_number: str = Field(min_length=1, max_length=64)
    order_key: str = Field(min_length=1, max_length=600)
    facility: str = Field(min_length=1, max_length=200)
    lines: tuple[ReceivedLine, ...] = Field(min_length=1, max_length=MAX_RETURN_LINES)
    received_at: AwareDatetime

    def restocked(self) -> dict[str, int]:
        quantities: dict[str, int] = {}
        for line in self.lines:
            if line.disposition is Disposition.RESTOCK:
                quantities[line.sku] = quantities.get(line.sku, 0) + line.quantity
        return quantities


class CreditedLine(_Model):
    sku: Sku
    quantity: PositiveInt
    amount: Money


class CreditMemo(_Model):
    """The ERP's credit for one receipt: one per receipt, whatever happens to the delivery."""

    order_key: str
    rma_number: str
    receipt_id: str
    erp_credit_memo_id: str
    amount: Money
    lines: tuple[CreditedLine, ...]


class Refund(_Model):
    """The channel paid back what the ERP credited (the whole order's value, or part of it)."""

    order_key: str
    channel: Channel
    store: str
    external_id: str
    rma_number: str
    receipt_id: str
    amount: Money
    channel_refund_id: str | None = Field(default=None, description="None for a channel with no API")
