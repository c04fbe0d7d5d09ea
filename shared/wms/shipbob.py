"""The WMS port on ShipBob's dated Orders API (``/2026-01``).

Connection (``crossdock-<env>/connections/wms``):
- ``base_url``: ``https://api.shipbob.com`` (or ``https://sandbox-api.shipbob.com``); the API version is ours;
- ``credentials``: ``access_token`` (a personal access token or an OAuth access token, sent as a bearer token);
- ``settings``: ``shipbob_channel_id`` (required on writes), and optionally ``shipping_method`` (default
  ``Standard``; the merchant maps it to a ship option in ShipBob) and ``order_type`` (default ``DTC``: ShipBob
  refuses ``B2B`` and ``DropShip`` orders without retailer program data and shipping terms, which Crossdock does
  not send yet).

How a release stays single: ShipBob refuses a second order with the same ``reference_id`` (422 "Cannot insert
order with existing ReferenceId"), so the adapter posts and, on that answer, looks the order up with
``GET /order?ReferenceIds=``. The POST is unsafe (``idempotent=False``): after a timeout the adapter looks first
and posts again only when nothing is there.
"""

from __future__ import annotations

from typing import Any, Final, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from shared.breaker import Breaker
from shared.connections import Connection
from shared.errors import DownstreamUnavailable, NotFound, Unauthorized, ValidationFailed
from shared.models.lifecycle import FulfillmentRequest
from shared.models.order import Address
from shared.observability import logger
from shared.outbound import OutboundClient
from shared.wms.ports import WmsCancelOutcome, WmsOrder

__all__ = ["ShipBobWms", "shipbob_client"]

SYSTEM: Final = "shipbob"
API: Final = "/2026-01"
DUPLICATE_REFERENCE: Final = "existing referenceid"
ORDER_TYPES: Final = ("DTC", "DropShip", "B2B")


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class ShipBobShipment(_Model):
    id: int
    status: str


class ShipBobOrder(_Model):
    id: int
    reference_id: str
    status: str
    shipments: list[ShipBobShipment] = Field(default_factory=list)

    def to_port(self, *, created: bool) -> WmsOrder:
        return WmsOrder(id=str(self.id), reference_id=self.reference_id, status=self.status, created=created)


class ShipmentCancelResult(_Model):
    shipment_id: int | None = None
    is_success: bool
    reason: str | None = None


class CancelResult(_Model):
    status: str | None = None  # Success, PartialSuccess, Failure
    canceled_shipment_results: list[ShipmentCancelResult] | None = None

    @property
    def all_cancelled(self) -> bool:
        if self.canceled_shipment_results:
            return all(result.is_success for result in self.canceled_shipment_results)
        return self.status == "Success"


T = TypeVar("T")
_ORDER = TypeAdapter(ShipBobOrder)
_ORDERS = TypeAdapter(list[ShipBobOrder])
_CANCEL = TypeAdapter(CancelResult)


def shipbob_client(connection: Connection, **options: Any) -> OutboundClient:
    """The outbound client ShipBob needs; ``options`` go to ``OutboundClient`` (``timeout``, ``sleep``...)."""
    token = connection.credentials.get("access_token")
    channel_id = connection.settings.get("shipbob_channel_id")
    if not token or not channel_id:
        raise ValueError("the shipbob connection needs credentials.access_token and settings.shipbob_channel_id")
    headers = {"Authorization": f"Bearer {token}", "shipbob_channel_id": channel_id}
    return OutboundClient(SYSTEM, connection, headers=headers, **options)


class ShipBobWms:
    def __init__(
        self, connection: Connection, *, client: OutboundClient | None = None, breaker: Breaker | None = None
    ) -> None:
        self._client = client or shipbob_client(connection, breaker=breaker)
        self._shipping_method = connection.settings.get("shipping_method", "Standard")
        self._order_type = connection.settings.get("order_type", "DTC")
        if self._order_type not in ORDER_TYPES:
            raise ValueError(f"order_type must be one of {', '.join(ORDER_TYPES)}")

    def release(self, request: FulfillmentRequest) -> WmsOrder:
        if "," in request.reference_id:
            # The lookup takes a comma-separated list: such an order could be created but never found again.
            raise ValidationFailed("a ShipBob reference id cannot hold a comma", field="reference_id")
        body = self._order_body(request)
        try:
            response = self._post_order(body)
        except DownstreamUnavailable as error:
            if not error.details.get("maybe_committed"):
                raise
            logger.warning("shipbob order create timed out, looking it up", reference_id=request.reference_id)
            found = self._find(request.reference_id)
            if found is not None:
                return found.to_port(created=False)
            response = self._post_order(body)
        if response.status_code == 422 and DUPLICATE_REFERENCE in response.text.lower():
            found = self._find(request.reference_id)
            if found is None:
                # Said to exist, yet not listed: ShipBob's read side lags its write side. A later try will see it.
                raise DownstreamUnavailable("shipbob order exists but cannot be found yet", system=SYSTEM)
            return found.to_port(created=False)
        _raise_for(response)
        return _parse(response, _ORDER).to_port(created=True)

    def cancel(self, reference_id: str) -> WmsCancelOutcome:
        order = self._find(reference_id) if "," not in reference_id else None
        if order is None:
            return WmsCancelOutcome.NOT_FOUND
        # Cancelling a cancelled order changes nothing, so the call may be retried.
        response = self._client.request("POST", f"{API}/order/{order.id}:cancel")
        if response.status_code == 404:
            return WmsCancelOutcome.NOT_FOUND
        _raise_for(response)
        result = _parse(response, _CANCEL)
        # A shipment ShipBob will not cancel is picked, packed or gone: a person must decide what happens to it.
        return WmsCancelOutcome.CANCELLED if result.all_cancelled else WmsCancelOutcome.TOO_LATE

    def _post_order(self, body: dict[str, Any]) -> httpx.Response:
        return self._client.request("POST", f"{API}/order", idempotent=False, json=body)

    def _find(self, reference_id: str) -> ShipBobOrder | None:
        response = self._client.request("GET", f"{API}/order", params={"ReferenceIds": reference_id})
        _raise_for(response)
        matches = [order for order in _parse(response, _ORDERS) if order.reference_id == reference_id]
        return min(matches, key=lambda order: order.id) if matches else None

    def _order_body(self, request: FulfillmentRequest) -> dict[str, Any]:
        if request.ship_to is None:
            raise ValidationFailed("a release needs a ship-to address", field="ship_to")
        # ShipBob keys products by reference_id, so two order lines of one SKU travel as one product.
        quantities: dict[str, int] = {}
        for line in request.lines:
            quantities[line.sku] = quantities.get(line.sku, 0) + line.quantity
        body: dict[str, Any] = {
            "reference_id": request.reference_id,
            "type": self._order_type,
            "shipping_method": self._shipping_method,
            "recipient": _recipient(request.ship_to),
            # ShipBob creates a product it has not seen from reference_id and name; the request has no titles.
            "products": [{"reference_id": sku, "name": sku, "quantity": qty} for sku, qty in quantities.items()],
            "tags": [{"name": "crossdock_order_key", "value": request.order_key}],
        }
        if request.order_number:
            body["order_number"] = request.order_number
        if request.facility is not None and request.facility.isdigit():
            # ShipBob's "desired fulfillment center": it ships from where Crossdock reserved the stock.
            body["location_id"] = int(request.facility)
        return body


def _recipient(address: Address) -> dict[str, Any]:
    fields = {
        "address1": address.line1,
        "address2": address.line2,
        "company_name": address.company,
        "city": address.city,
        "state": address.region_code,
        "country": address.country_code,
        "zip_code": address.postal_code,
    }
    recipient: dict[str, Any] = {
        "name": address.name or address.company,
        "address": {name: value for name, value in fields.items() if value is not None},
    }
    if address.phone:
        recipient["phone_number"] = address.phone
    return recipient


def _raise_for(response: httpx.Response) -> None:
    if response.is_success:
        return
    status = response.status_code
    if status in (401, 403):
        raise Unauthorized("shipbob refused the token", system=SYSTEM, status=status)
    if status == 404:
        raise NotFound("shipbob resource not found", system=SYSTEM, status=status)
    # 400 and 422 carry ShipBob's model errors, field -> messages.
    raise ValidationFailed("shipbob rejected the request", system=SYSTEM, status=status, errors=_errors(response))


def _errors(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text[:500]


def _parse(response: httpx.Response, shape: TypeAdapter[T]) -> T:
    """The body in ``shape``; anything else is ShipBob misbehaving, which a later attempt may not repeat."""
    try:
        return shape.validate_json(response.content)
    except ValidationError as error:
        raise DownstreamUnavailable(
            "shipbob sent an unexpected response", system=SYSTEM, status=response.status_code
        ) from error
