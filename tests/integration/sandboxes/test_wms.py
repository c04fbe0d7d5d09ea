"""The WMS sandbox (ShipBob Orders API 2026-01) over real loopback HTTP: orders, cancels, signed shipment webhooks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from infra.local.sandboxes.base import Request
from infra.local.sandboxes.wms import WmsSandbox
from infra.samples import shopify_payload
from tests.integration.sandboxes.support import Inbox

HEADERS = {"Authorization": "Bearer pat_sandbox", "shipbob_channel_id": "4242"}


@pytest.fixture(scope="module")
def client(servers: tuple[WmsSandbox, Inbox]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{servers[0].url}/2026-01", headers=HEADERS, timeout=5) as client:
        yield client


@pytest.fixture
def api(wms: WmsSandbox, client: httpx.Client) -> httpx.Client:
    """A client of the Orders API, on a freshly reset sandbox."""
    return client


def order_body(reference_id: str = "shopify:acme-supply.myshopify.com:7124853309745") -> dict[str, Any]:
    """The sample Shopify order as a B2B ShipBob order, products by SKU (ShipBob's reference_id model)."""
    order = shopify_payload()
    address = order["shipping_address"]
    return {
        "reference_id": reference_id,
        "order_number": order["name"],
        "type": "B2B",
        "shipping_method": "Standard",
        "recipient": {
            "name": address["name"],
            "address": {
                "address1": address["address1"],
                "address2": address["address2"],
                "company_name": address["company"],
                "city": address["city"],
                "state": address["province_code"],
                "country": address["country_code"],
                "zip_code": address["zip"],
            },
            "email": order["email"],
        },
        "products": [
            {"reference_id": line["sku"], "name": line["title"], "quantity": line["quantity"]}
            for line in order["line_items"]
        ],
    }


def verify(secret: str, delivery: Request) -> bool:
    """Standard Webhooks verification, written from the spec rather than from the sandbox's code."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{delivery.headers['webhook-id']}.{delivery.headers['webhook-timestamp']}.".encode() + delivery.body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    presented = [entry.removeprefix("v1,") for entry in delivery.headers["webhook-signature"].split()]
    return any(hmac.compare_digest(expected, candidate) for candidate in presented)


def test_requests_need_a_bearer_token(wms: WmsSandbox) -> None:
    response = httpx.post(f"{wms.url}/2026-01/order", json=order_body(), headers={"shipbob_channel_id": "4242"})
    assert response.status_code == 401
    assert wms.snapshot()["counts"]["orders"] == 0


def test_create_returns_the_order_with_one_processing_shipment(api: httpx.Client) -> None:
    response = api.post("/order", json=order_body())
    assert response.status_code == 201
    order = response.json()
    assert order["status"] == "Processing"
    assert order["channel"]["id"] == 4242
    expected = [(line["sku"], line["quantity"]) for line in shopify_payload()["line_items"]]
    assert [(p["reference_id"], p["quantity"]) for p in order["products"]] == expected
    [shipment] = order["shipments"]
    assert shipment["status"] == "Processing"
    assert shipment["tracking"] is None
    assert api.get(f"/order/{order['id']}").json() == order


def test_a_repeated_reference_id_is_refused_and_found_by_lookup(wms: WmsSandbox, api: httpx.Client) -> None:
    first = api.post("/order", json=order_body("ref-1")).json()
    again = api.post("/order", json=order_body("ref-1"))
    assert again.status_code == 422
    assert again.json() == {"": ["Cannot insert order with existing ReferenceId"]}
    found = api.get("/order", params={"ReferenceIds": "ref-1"}).json()
    assert [order["id"] for order in found] == [first["id"]]
    assert len(wms.orders_with_reference_id("ref-1")) == 1


def test_create_validates_the_model(api: httpx.Client) -> None:
    body = order_body()
    del body["shipping_method"]
    body["products"][0]["quantity"] = 0
    response = api.post("/order", json=body)
    assert response.status_code == 400
    assert {"shipping_method", "products[0].quantity"} <= set(response.json())
    no_channel = api.post("/order", json=order_body(), headers={"shipbob_channel_id": ""})
    assert no_channel.status_code == 400


def test_cancel_before_shipping_cancels_everything(api: httpx.Client, receiver: Inbox, wms: WmsSandbox) -> None:
    order = api.post("/order", json=order_body()).json()
    response = api.post(f"/order/{order['id']}:cancel")
    assert response.status_code == 200
    result = response.json()
    assert result["status"] == "Success"
    assert result["order"]["status"] == "Cancelled"
    assert [s["status"] for s in api.get(f"/order/{order['id']}/shipment").json()] == ["Cancelled"]
    wms.flush_webhooks()
    assert [d.headers["x-webhook-topic"] for d in receiver.received] == ["order.shipment.cancelled"]
    with pytest.raises(ValueError, match="nothing left to ship"):
        wms.ship(order["id"])


def test_cancel_after_shipping_fails_and_changes_nothing(api: httpx.Client, wms: WmsSandbox) -> None:
    order = api.post("/order", json=order_body()).json()
    wms.ship(order["id"])
    result = api.post(f"/order/{order['id']}:cancel").json()
    assert result["status"] == "Failure"
    assert result["canceled_shipment_results"][0]["is_success"] is False
    assert api.get(f"/order/{order['id']}").json()["status"] == "Fulfilled"


def test_ship_sends_a_signed_webhook_with_tracking(api: httpx.Client, receiver: Inbox, wms: WmsSandbox) -> None:
    order = api.post("/order", json=order_body()).json()
    package = {"carrier": "FedEx", "carrier_service": "Ground", "tracking_number": "794612345678", "weight_oz": 4100}
    wms.ship(order["id"], packages=[package])
    assert [d.status for d in wms.flush_webhooks()] == [200]

    [delivery] = receiver.received
    assert delivery.headers["x-webhook-topic"] == "order.shipped"
    assert delivery.headers["webhook-id"].startswith("msg_")
    assert verify(wms.webhook_secret, delivery)
    assert not verify("whsec_" + base64.b64encode(b"another secret").decode(), delivery)
    payload = json.loads(delivery.body)
    assert payload["order_id"] == order["id"]
    assert payload["reference_id"] == order["reference_id"]
    assert payload["tracking"]["tracking_number"] == "794612345678"
    assert payload["tracking"]["tracking_url"].endswith("794612345678")

    [shipment] = api.get(f"/order/{order['id']}/shipment").json()
    assert shipment["status"] == "Completed"
    assert shipment["tracking"]["carrier"] == "FedEx"
    assert api.get(f"/shipment/{shipment['id']}").json() == shipment
    assert api.get("/order", params={"HasTracking": "true"}).json()[0]["id"] == order["id"]


def test_a_duplicate_delivery_carries_the_same_id_and_is_signed_when_sent(
    api: httpx.Client, receiver: Inbox, wms: WmsSandbox
) -> None:
    order = api.post("/order", json=order_body()).json()
    wms.ship(order["id"], delays=(0, 0, 3600))
    wms.flush_webhooks()
    wms.clock.advance(3600)
    wms.flush_webhooks()

    first, duplicate, late = receiver.received
    assert first.headers["webhook-id"] == duplicate.headers["webhook-id"] == late.headers["webhook-id"]
    assert first.body == duplicate.body == late.body
    # Each attempt is signed when it goes out, with the wall time, so the receiver's tolerance check holds.
    assert int(late.headers["webhook-timestamp"]) >= int(first.headers["webhook-timestamp"])
    assert abs(int(late.headers["webhook-timestamp"]) - time.time()) < 5
    assert all(verify(wms.webhook_secret, delivery) for delivery in receiver.received)


def test_partial_shipment_splits_the_order(api: httpx.Client, wms: WmsSandbox) -> None:
    order = api.post("/order", json=order_body()).json()
    shipped = wms.ship(order["id"], partial_lines={"GLV-NIT4-L-CS": 12, "VST-C2-LXL-YL": 20})
    assert {p["reference_id"]: p["inventory_items"][0]["quantity"] for p in shipped["products"]} == {
        "GLV-NIT4-L-CS": 12,
        "VST-C2-LXL-YL": 20,
    }
    view = api.get(f"/order/{order['id']}").json()
    assert view["status"] == "PartiallyFulfilled"
    pending = next(s for s in view["shipments"] if s["status"] == "Processing")
    remaining = {p["reference_id"]: p["inventory_items"][0]["quantity"] for p in pending["products"]}
    assert remaining["VST-C2-LXL-YL"] == 30
    assert "GLV-NIT4-L-CS" not in remaining

    with pytest.raises(ValueError, match="cannot ship"):
        wms.ship(order["id"], partial_lines={"EYE-AF-CLR-12": 99})
    cancel = api.post(f"/order/{order['id']}:cancel").json()
    assert cancel["status"] == "PartialSuccess"
    assert api.get(f"/order/{order['id']}").json()["status"] == "PartiallyFulfilled"


def test_delivery_is_reported(api: httpx.Client, receiver: Inbox, wms: WmsSandbox) -> None:
    order = api.post("/order", json=order_body()).json()
    shipment = wms.ship(order["id"])
    wms.deliver(shipment["id"])
    wms.flush_webhooks()
    assert [d.headers["x-webhook-topic"] for d in receiver.received] == ["order.shipped", "order.shipment.delivered"]
    assert json.loads(receiver.received[1].body)["delivery_date"] is not None


def test_webhook_secret_rotation(api: httpx.Client, receiver: Inbox, wms: WmsSandbox) -> None:
    order = api.post("/order", json=order_body()).json()
    wms.ship(order["id"])
    rotated = "whsec_" + base64.b64encode(b"rotated-secret-bytes").decode()
    wms.use_webhook_secret(rotated)
    wms.flush_webhooks()
    assert verify(rotated, receiver.received[0])
