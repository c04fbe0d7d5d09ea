"""The WMS's inventory webhooks as they arrive (``inventory.snapshot``, ``inventory.adjusted``), before mapping.

Unknown fields are ignored, so the WMS may send more than we read. Quantities are whole units; the item limit is
the ``StockReport`` one, so a body that validates here always maps.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, NonNegativeInt, PositiveInt

from shared.models.inventory import MAX_REPORT_ITEMS

Sku = Annotated[str, Field(min_length=1, max_length=128)]
ReportId = Annotated[str, Field(min_length=1, max_length=200)]

# More units than any warehouse holds: a bigger number is a bad payload, not stock (DynamoDB takes 38 digits).
MAX_UNITS = 1_000_000_000


class _Wms(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class WmsTopic(_Wms):
    """Only the topic: read first, so a topic we do not take is a 404, not a 400 about the rest of the body."""

    topic: str | None = None


class FulfillmentCenter(_Wms):
    id: PositiveInt
    name: str | None = None


class SnapshotItem(_Wms):
    sku: Sku
    on_hand_quantity: NonNegativeInt = Field(le=MAX_UNITS)


class InventorySnapshotPayload(_Wms):
    """Absolute on-hand counts of some SKUs at one fulfillment center, as of ``as_of``."""

    snapshot_id: ReportId
    fulfillment_center: FulfillmentCenter
    as_of: AwareDatetime
    items: list[SnapshotItem] = Field(min_length=1, max_length=MAX_REPORT_ITEMS)


class AdjustmentItem(_Wms):
    sku: Sku
    quantity_change: int = Field(ge=-MAX_UNITS, le=MAX_UNITS)
    reason: str | None = None


class InventoryAdjustedPayload(_Wms):
    """On-hand changes (a count, damage, a receipt) at one fulfillment center."""

    adjustment_id: ReportId
    fulfillment_center: FulfillmentCenter
    as_of: AwareDatetime
    items: list[AdjustmentItem] = Field(min_length=1, max_length=MAX_REPORT_ITEMS)
