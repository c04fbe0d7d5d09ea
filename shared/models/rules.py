"""Order rules and warehouse routing, as data. Per environment, from cdk.json, passed to functions as JSON.

The checks are code; what each failed check does (hold, reject or ignore) and every threshold are data.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Action(StrEnum):
    HOLD = "hold"
    REJECT = "reject"
    IGNORE = "ignore"


class OrderRules(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # How far a channel price may be below the ERP price before it needs a person (percent).
    price_tolerance_pct: Decimal = Field(default=Decimal(2), ge=0)
    restricted_destinations: tuple[str, ...] = ("CU", "IR", "KP", "SY")
    # Check code → action. A code missing here holds: unknown problems go to a person, not to the warehouse.
    actions: dict[str, Action] = Field(
        default_factory=lambda: {
            "unknown_customer": Action.HOLD,
            "inactive_customer": Action.REJECT,
            "credit_hold": Action.HOLD,
            "over_credit_limit": Action.HOLD,
            "no_terms": Action.HOLD,
            "missing_sku": Action.HOLD,
            "unknown_sku": Action.HOLD,
            "restricted_product": Action.REJECT,
            "restricted_destination": Action.REJECT,
            "price_below_erp": Action.HOLD,
            "currency_mismatch": Action.HOLD,
            "missing_tax_context": Action.HOLD,
            "insufficient_stock": Action.HOLD,
            "nothing_to_ship": Action.HOLD,
            "no_warehouse": Action.HOLD,
        }
    )

    def action(self, code: str) -> Action:
        return self.actions.get(code, Action.HOLD)


class Warehouse(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    erp_location: str = Field(description="The ERP location whose availability this warehouse ships from")
    wms_facility: str | None = Field(default=None, description="The WMS's id of this warehouse (fulfillment center)")
    regions: tuple[str, ...] = Field(description="ISO country or country-region codes it serves; '*' for any")
    priority: int = Field(default=100, description="Lower ships first among the warehouses serving a region")


class RoutingRules(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    warehouses: tuple[Warehouse, ...] = Field(min_length=1)
    allow_split: bool = True

    def location_of(self, source: str, facility: str) -> str | None:
        """The warehouse id a WMS facility or ERP location stands for, or None when no warehouse is mapped to it."""
        for warehouse in self.warehouses:
            known = warehouse.wms_facility if source == "wms" else warehouse.erp_location
            if known == facility:
                return warehouse.id
        return None
