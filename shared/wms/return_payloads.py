"""The WMS's ``return.completed`` webhook as it arrives, before mapping: ShipBob's return order (API ``2026-01``).

ShipBob's return names the return by ``reference_id``: Crossdock creates the return with its RMA number there, so
the RMA number is the reference. Each inventory item lists what the warehouse did with its units in
``action_taken`` (``Restock``, ``Quarantine``, ``Dispose``) with a free-text ``action_reason``. ShipBob names the
item by its inventory id; the WMS adds ``sku`` on each item, as Crossdock's products are created by SKU.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, NonNegativeInt, PositiveInt

from shared.models.returns import MAX_RETURN_LINES
from shared.wms.inventory_payloads import MAX_UNITS, FulfillmentCenter, Sku

ShortText = Annotated[str, Field(min_length=1, max_length=64)]


class _Wms(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class ActionTaken(_Wms):
    action: ShortText
    action_reason: str | None = Field(default=None, max_length=500)
    quantity_processed: NonNegativeInt = Field(le=MAX_UNITS)


class ReturnInventory(_Wms):
    id: int | None = None
    name: str | None = None
    sku: Sku
    quantity: NonNegativeInt = Field(le=MAX_UNITS)
    action_taken: list[ActionTaken] = Field(default_factory=list, max_length=20)


class ShipBobReturn(_Wms):
    id: PositiveInt
    reference_id: ShortText  # ShipBob allows 1-50 characters; our RMA numbers fit
    status: str
    fulfillment_center: FulfillmentCenter
    inventory: list[ReturnInventory] = Field(min_length=1, max_length=MAX_RETURN_LINES)
    completed_date: AwareDatetime
    original_shipment_id: int | None = None
    tracking_number: str | None = None
