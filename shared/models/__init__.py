"""Canonical models and event contracts. Every channel maps into these; every consumer reads only these."""

from shared.models.events import (
    CONTRACTS,
    EventEnvelope,
    EventMetadata,
    OrderCancelled,
    OrderReceived,
    OrderUpdated,
)
from shared.models.money import Money
from shared.models.order import (
    Address,
    Channel,
    CustomerRef,
    Discount,
    FinancialStatus,
    Order,
    OrderLine,
    TaxLine,
)

__all__ = [
    "CONTRACTS",
    "Address",
    "Channel",
    "CustomerRef",
    "Discount",
    "EventEnvelope",
    "EventMetadata",
    "FinancialStatus",
    "Money",
    "Order",
    "OrderCancelled",
    "OrderLine",
    "OrderReceived",
    "OrderUpdated",
    "TaxLine",
]
