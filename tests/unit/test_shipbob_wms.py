"""ShipBobWms on respx: the order body, create-once on reference_id, cancel outcomes, error classes, retries."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx

from shared.connections import Connection
from shared.errors import DownstreamUnavailable, RateLimited, Unauthorized, ValidationFailed
from shared.models.lifecycle import AllocatedLine, FulfillmentRequest
from shared.models.order import Address
from shared.wms.ports import WmsCancelOutcome, WmsOrder
from shared.wms.shipbob import ShipBobWms, shipbob_client

BASE = "https://sandbox-api.shipbob.com"
API = f"{BASE}/2026-01"
REFERENCE = "shopify-61958626-7124853309745-1"
CONNECTION = Connection(
    base_url=BASE, credentials={"access_token": "pat_unit"}, settings={"shipbob_channel_id": "4242"}
)
DUPLICATE = {"": ["Cannot insert order with existing ReferenceId"]}


def wms(connection: Connection = CONNECTION) -> ShipBobWms:
    return ShipBobWms(connection, client=shipbob_client(connection, sleep=lambda _: None))


def request(**overrides: Any) -> FulfillmentRequest:
    fields: dict[str, Any] = {
        "order_key": "shopify:acme-supply.myshopify.com:7124853309745",
        "reference_id": REFERENCE,
        "warehouse": "1",
        "order_number": "#1001",
        "lines": (
            AllocatedLine(line_id="1", sku="GLV-NIT4-L-CS", quantity=12),
            AllocatedLine(line_id="2", sku="SW-18-1500-80-C4", quantity=10),
            AllocatedLine(line_id="3", sku="GLV-NIT4-L-CS", quantity=3),
        ),
        "ship_to": Address(
            name="Marcus Bell",
            company="Harbor Point Facilities Group",
            line1="1180 Millbury Industrial Pkwy",
            line2="Dock 3",
            city="Worcester",
            region_code="MA",
            postal_code="01607",
            country_code="US",
            phone="+15085550143",
        ),
    }
    fields.update(overrides)
    return FulfillmentRequest(**fields)


def order(order_id: int = 200001, *, status: str = "Processing", reference_id: str = REFERENCE) -> dict[str, Any]:
    return {
        "id": order_id,
        "reference_id": reference_id,
        "status": status,
        "created_date": "2026-11-30T15:42:17Z",
        "shipments": [{"id": 500001, "status": "Processing" if status == "Processing" else "Completed"}],
    }


@pytest.fixture
def shipbob() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=API, assert_all_called=False) as router:
        yield router


def test_release_posts_the_order_and_returns_it_created(shipbob: respx.MockRouter) -> None:
    post = shipbob.post("/order").respond(201, json=order())
    released = wms().release(request())
    assert released == WmsOrder(id="200001", reference_id=REFERENCE, status="Processing", created=True)
    sent = post.calls.last.request
    assert sent.headers["authorization"] == "Bearer pat_unit"
    assert sent.headers["shipbob_channel_id"] == "4242"
    body = json.loads(sent.content)
    assert body["reference_id"] == REFERENCE
    assert body["order_number"] == "#1001"
    assert (body["type"], body["shipping_method"]) == ("DTC", "Standard")
    assert body["recipient"] == {
        "name": "Marcus Bell",
        "address": {
            "address1": "1180 Millbury Industrial Pkwy",
            "address2": "Dock 3",
            "company_name": "Harbor Point Facilities Group",
            "city": "Worcester",
            "state": "MA",
            "country": "US",
            "zip_code": "01607",
        },
        "phone_number": "+15085550143",
    }
    assert "location_id" not in body  # no facility: ShipBob picks the fulfillment center
    shipbob.post("/order").respond(201, json=order())
    wms().release(request().model_copy(update={"facility": "2"}))
    assert json.loads(post.calls.last.request.content)["location_id"] == 2
    # Two lines of one SKU travel as one product: ShipBob keys products by reference_id.
    assert [(p["reference_id"], p["quantity"]) for p in body["products"]] == [
        ("GLV-NIT4-L-CS", 15),
        ("SW-18-1500-80-C4", 10),
    ]
    assert body["tags"] == [{"name": "crossdock_order_key", "value": "shopify:acme-supply.myshopify.com:7124853309745"}]


def test_shipping_method_and_order_type_come_from_the_connection(shipbob: respx.MockRouter) -> None:
    post = shipbob.post("/order").respond(201, json=order())
    settings = {"shipbob_channel_id": "4242", "shipping_method": "Freight", "order_type": "DropShip"}
    wms(CONNECTION.model_copy(update={"settings": settings})).release(request())
    body = json.loads(post.calls.last.request.content)
    assert (body["type"], body["shipping_method"]) == ("DropShip", "Freight")


def test_a_repeated_release_finds_the_existing_order(shipbob: respx.MockRouter) -> None:
    shipbob.post("/order").respond(422, json=DUPLICATE)
    listing = shipbob.get("/order").respond(200, json=[order(200007, reference_id=REFERENCE + "0"), order()])
    released = wms().release(request())
    assert (released.id, released.created) == ("200001", False)
    assert listing.calls.last.request.url.params["ReferenceIds"] == REFERENCE


def test_a_duplicate_not_yet_listed_is_retryable(shipbob: respx.MockRouter) -> None:
    shipbob.post("/order").respond(422, json=DUPLICATE)
    shipbob.get("/order").respond(200, json=[])
    with pytest.raises(DownstreamUnavailable):
        wms().release(request())


def test_a_create_that_timed_out_is_looked_up_before_it_is_posted_again(shipbob: respx.MockRouter) -> None:
    post = shipbob.post("/order").mock(side_effect=httpx.ReadTimeout("stalled"))
    shipbob.get("/order").respond(200, json=[order()])
    released = wms().release(request())
    assert (released.id, released.created) == ("200001", False)
    assert post.call_count == 1


def test_a_create_that_timed_out_and_did_not_land_is_posted_again(shipbob: respx.MockRouter) -> None:
    post = shipbob.post("/order").mock(side_effect=[httpx.ReadTimeout("lost"), httpx.Response(201, json=order())])
    shipbob.get("/order").respond(200, json=[])
    assert wms().release(request()).created
    assert post.call_count == 2


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (400, {"recipient.address.city": ["The field is required."]}, ValidationFailed),
        (422, {"": ["DropShip orders need retailer_program_data"]}, ValidationFailed),
        (401, None, Unauthorized),
        (403, None, Unauthorized),
    ],
)
def test_refusals_are_permanent_and_not_retried(
    shipbob: respx.MockRouter, status: int, body: Any, error: type[Exception]
) -> None:
    post = shipbob.post("/order").respond(status, json=body)
    with pytest.raises(error) as caught:
        wms().release(request())
    assert post.call_count == 1
    if isinstance(caught.value, ValidationFailed):
        assert caught.value.details["errors"] == body  # ShipBob's field errors, for the hold reason


def test_a_rate_limited_create_is_retried_after_retry_after(shipbob: respx.MockRouter) -> None:
    waits: list[float] = []
    client = shipbob_client(CONNECTION, sleep=waits.append)
    post = shipbob.post("/order").mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "1"}), httpx.Response(201, json=order())]
    )
    assert ShipBobWms(CONNECTION, client=client).release(request()).created
    assert post.call_count == 2
    assert waits == [1.0]


def test_a_rate_limit_that_persists_is_rate_limited(shipbob: respx.MockRouter) -> None:
    shipbob.post("/order").mock(return_value=httpx.Response(429, headers={"Retry-After": "2"}))
    with pytest.raises(RateLimited) as caught:
        wms().release(request())
    assert caught.value.retry_after_seconds == 2.0


def test_a_release_needs_an_address_and_a_findable_reference(shipbob: respx.MockRouter) -> None:
    post = shipbob.post("/order").respond(201, json=order())
    with pytest.raises(ValidationFailed):
        wms().release(request(ship_to=None))
    with pytest.raises(ValidationFailed):
        wms().release(request(reference_id="a,b"))
    assert not post.called


def test_a_response_of_the_wrong_shape_is_not_trusted(shipbob: respx.MockRouter) -> None:
    shipbob.post("/order").respond(201, json={"id": "not a number", "reference_id": REFERENCE})
    with pytest.raises(DownstreamUnavailable, match="unexpected response"):
        wms().release(request())


@pytest.mark.parametrize(
    ("answer", "outcome"),
    [
        (
            {"status": "Success", "canceled_shipment_results": [{"action": "Cancel", "is_success": True}]},
            WmsCancelOutcome.CANCELLED,
        ),
        (
            {
                "status": "Failure",
                "canceled_shipment_results": [
                    {"action": "Cancel", "is_success": False, "reason": "Shipment has already shipped"}
                ],
            },
            WmsCancelOutcome.TOO_LATE,
        ),
        (
            {
                "status": "PartialSuccess",
                "canceled_shipment_results": [
                    {"action": "Cancel", "is_success": True, "shipment_id": 500002},
                    {"action": "Cancel", "is_success": False, "shipment_id": 500001},
                ],
            },
            WmsCancelOutcome.TOO_LATE,
        ),
        ({"status": "Success", "canceled_shipment_results": None}, WmsCancelOutcome.CANCELLED),
    ],
)
def test_cancel_maps_shipment_results(
    shipbob: respx.MockRouter, answer: dict[str, Any], outcome: WmsCancelOutcome
) -> None:
    shipbob.get("/order").respond(200, json=[order()])
    cancel = shipbob.post("/order/200001:cancel").respond(200, json=answer)
    assert wms().cancel(REFERENCE) is outcome
    assert cancel.calls.last.request.headers["shipbob_channel_id"] == "4242"


def test_cancel_of_an_unknown_reference_is_not_found(shipbob: respx.MockRouter) -> None:
    shipbob.get("/order").respond(200, json=[order(reference_id="someone-else")])
    assert wms().cancel(REFERENCE) is WmsCancelOutcome.NOT_FOUND


def test_cancel_is_retried_after_a_timeout(shipbob: respx.MockRouter) -> None:
    shipbob.get("/order").respond(200, json=[order()])
    answer = {"status": "Success", "canceled_shipment_results": [{"action": "Cancel", "is_success": True}]}
    cancel = shipbob.post("/order/200001:cancel").mock(
        side_effect=[httpx.ReadTimeout("slow"), httpx.Response(200, json=answer)]
    )
    assert wms().cancel(REFERENCE) is WmsCancelOutcome.CANCELLED
    assert cancel.call_count == 2


def test_a_connection_without_token_or_channel_is_refused() -> None:
    with pytest.raises(ValueError, match="access_token"):
        ShipBobWms(Connection(base_url=BASE, settings={"shipbob_channel_id": "1"}))
    with pytest.raises(ValueError, match="order_type"):
        wms(CONNECTION.model_copy(update={"settings": {"shipbob_channel_id": "1", "order_type": "Pallet"}}))
