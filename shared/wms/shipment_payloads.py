"""The WMS's shipment webhooks as they arrive, before mapping: ShipBob's shipment object (API ``2026-01``).

``order.shipped``, ``order.shipment.delivered`` and ``order.shipment.exception`` carry the shipment as ShipBob's
``GET /shipment/{id}`` returns it (developer.shipbob.com/webhooks). The order is named by ``reference_id``, the
release's reference id Crossdock gave the WMS, never by our order key.

``order.shipment.status.updated`` is not a ShipBob topic: ShipBob records pick and pack only as the shipment's
``status_details`` (``Picked``, ``Packed``) and sends no webhook for them. Like the inventory topics, it is the one
Crossdock documents for a WMS: the same shipment object, sent when a status detail is added, the newest last.

Parent cartons: ShipBob lists a multi-box shipment's boxes as ``parent_cartons``, each with its ``barcode`` (the
box's tracking number) and its inner ``cartons``. ShipBob's shape stops at measurements; the WMS adds the products
packed in each carton (the shipment's product shape), so a package can say what is in it.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, NonNegativeInt, PositiveInt, model_validator

from shared.models.shipping import MAX_PACKAGES, MAX_SHIPMENT_LINES
from shared.wms.inventory_payloads import MAX_UNITS, FulfillmentCenter, Sku

ShortText = Annotated[str, Field(min_length=1, max_length=200)]


class _Wms(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class InventoryItem(_Wms):
    id: int | None = None
    quantity: NonNegativeInt = Field(le=MAX_UNITS)


class ShipmentProduct(_Wms):
    """One product in a shipment or a carton. ``reference_id`` is the SKU (Crossdock creates products by SKU)."""

    id: int | None = None
    reference_id: Sku | None = None
    sku: Sku | None = None
    inventory_items: list[InventoryItem] = Field(min_length=1, max_length=1000)

    @model_validator(mode="after")
    def _named(self) -> ShipmentProduct:
        if self.reference_id is None and self.sku is None:
            raise ValueError("a product needs a reference_id or a sku")
        return self

    @property
    def our_sku(self) -> str:
        # reference_id is what Crossdock sent when it released the order; sku is ShipBob's copy of it.
        return self.reference_id or self.sku or ""

    @property
    def quantity(self) -> int:
        return sum(item.quantity for item in self.inventory_items)


class Carton(_Wms):
    barcode: str | None = None
    products: list[ShipmentProduct] = Field(default_factory=list, max_length=MAX_SHIPMENT_LINES)


class ParentCarton(_Wms):
    barcode: ShortText
    type: str | None = None
    cartons: list[Carton] = Field(default_factory=list, max_length=MAX_PACKAGES)


class Tracking(_Wms):
    carrier: ShortText
    carrier_service: ShortText | None = None
    tracking_number: ShortText
    tracking_url: str | None = Field(default=None, max_length=2000)
    shipping_date: AwareDatetime | None = None


class StatusDetail(_Wms):
    name: ShortText
    description: str | None = Field(default=None, max_length=500)


class ShipBobShipment(_Wms):
    id: PositiveInt
    order_id: int | None = None
    reference_id: ShortText
    status: str | None = None
    status_details: list[StatusDetail] = Field(default_factory=list, max_length=100)
    location: FulfillmentCenter
    tracking: Tracking | None = None
    products: list[ShipmentProduct] = Field(default_factory=list, max_length=MAX_SHIPMENT_LINES)
    parent_cartons: list[ParentCarton] = Field(default_factory=list, max_length=MAX_PACKAGES)
    actual_fulfillment_date: AwareDatetime | None = None
    delivery_date: AwareDatetime | None = None
    last_update_at: AwareDatetime | None = None
