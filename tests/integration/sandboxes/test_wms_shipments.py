"""The WMS and carrier sandboxes' shipment, progress and return webhooks, over loopback HTTP, read by the adapters.

Each test drives a sandbox, lets it deliver to an inbox, and hands what arrived to the real adapter: it must verify
under the sandbox's secret and map to the right contract.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from infra.local.clock import Clock
from infra.local.sandboxes.base import Request
from infra.local.sandboxes.carrier import CarrierSandbox
from infra.local.sandboxes.wms import WmsSandbox
from shared.carrier.adapter import CarrierWebhookAdapter
from shared.channels.base import OrderBound, WebhookRequest
from shared.errors import Unauthorized
from shared.models.events import ReturnReceived, ShipmentDispatched, ShipmentProgressed
from shared.models.returns import Condition, Disposition
from shared.models.shipping import Milestone
from shared.wms.webhook import WmsWebhookAdapter
from tests.integration.sandboxes.support import Inbox
from tests.integration.sandboxes.test_wms import order_body

HEADERS = {"Authorization": "Bearer pat_sandbox", "shipbob_channel_id": "4242"}
REFERENCE = "shopify-61958626-7124853309745-east"
ORDER_KEY = "shopify:acme-supply.myshopify.com:7124853309745"
ORDERED = {"GLV-NIT4-L-CS": 12, "SW-18-1500-80-C4": 10, "EYE-AF-CLR-12": 20, "VST-C2-LXL-YL": 50, "ABS-UNI-1519-100": 8}


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[WmsSandbox, CarrierSandbox, Inbox]]:
    clock = Clock()
    wms, carrier, receiver = WmsSandbox(clock), CarrierSandbox(clock), Inbox(clock)
    for server in (wms, carrier, receiver):
        server.start()
    yield wms, carrier, receiver
    for server in (wms, carrier, receiver):
        server.stop()


@pytest.fixture
def receiver(servers: tuple[WmsSandbox, CarrierSandbox, Inbox]) -> Inbox:
    wms, carrier, receiver = servers
    for server in (wms, carrier, receiver):
        server.reset()
    wms.webhook_targets = [f"{receiver.url}/webhooks/wms"]
    carrier.webhook_targets = [f"{receiver.url}/webhooks/carrier"]
    return receiver


@pytest.fixture
def wms(servers: tuple[WmsSandbox, CarrierSandbox, Inbox], receiver: Inbox) -> WmsSandbox:
    return servers[0]


@pytest.fixture
def carrier(servers: tuple[WmsSandbox, CarrierSandbox, Inbox], receiver: Inbox) -> CarrierSandbox:
    return servers[1]


@pytest.fixture
def order(wms: WmsSandbox) -> dict[str, Any]:
    response = httpx.post(f"{wms.url}/2026-01/order", json=order_body(REFERENCE), headers=HEADERS, timeout=5)
    assert response.status_code == 201
    created: dict[str, Any] = response.json()
    return created


def as_request(delivery: Request) -> WebhookRequest:
    return WebhookRequest(headers=dict(delivery.headers), body=delivery.body)


def wms_bound(wms: WmsSandbox, delivery: Request) -> OrderBound:
    """What the intake does with a WMS delivery: verify under the sandbox's secret, then map."""
    adapter, request = WmsWebhookAdapter(), as_request(delivery)
    adapter.verify(request, [wms.webhook_secret.encode()])
    parsed = adapter.parse(request)
    assert isinstance(parsed, OrderBound)
    return parsed


def received(receiver: Inbox, path: str) -> list[Request]:
    return [d for d in receiver.received if d.path == path]


# -- shipments ---------------------------------------------------------------------------------------------------
def test_a_partial_shipment_in_two_packages_maps_to_its_shipment(
    wms: WmsSandbox, receiver: Inbox, order: dict[str, Any]
) -> None:
    packages = [
        {"tracking_number": "1Z0A5E840342167593", "lines": {"GLV-NIT4-L-CS": 12, "EYE-AF-CLR-12": 8}},
        {"tracking_number": "1Z0A5E840342167600", "lines": {"EYE-AF-CLR-12": 12, "VST-C2-LXL-YL": 20}},
    ]
    partial = {"GLV-NIT4-L-CS": 12, "EYE-AF-CLR-12": 20, "VST-C2-LXL-YL": 20}
    shipped = wms.ship(order["id"], partial_lines=partial, packages=packages)
    assert [d.status for d in wms.flush_webhooks()] == [200]

    [delivery] = receiver.received
    parsed = wms_bound(wms, delivery)
    assert (parsed.topic, parsed.reference) == ("order.shipped", REFERENCE)
    assert parsed.dedupe_key == f"wms:order.shipped:{delivery.headers['webhook-id']}"
    event = parsed.build(ORDER_KEY)
    assert isinstance(event, ShipmentDispatched)
    shipment = event.data
    assert shipment.shipment_id == str(shipped["id"])
    assert (shipment.order_key, shipment.reference_id, shipment.facility) == (ORDER_KEY, REFERENCE, "1")
    assert shipment.quantities() == partial
    assert [(p.tracking_number, {line.sku: line.quantity for line in p.lines}) for p in shipment.packages] == [
        (package["tracking_number"], package["lines"]) for package in packages
    ]
    assert (shipment.carrier, shipment.service) == ("UPS", "Ground")


def test_packages_without_lines_share_the_shipment_out(wms: WmsSandbox, receiver: Inbox, order: dict[str, Any]) -> None:
    wms.ship(order["id"], packages=[{}, {}, {"carrier": "UPS"}])
    wms.flush_webhooks()
    shipment = wms_bound(wms, receiver.received[0]).build(ORDER_KEY).data
    assert len(shipment.tracking_numbers) == 3
    packed: dict[str, int] = {}
    for package in shipment.packages:
        assert package.lines
        for line in package.lines:
            packed[line.sku] = packed.get(line.sku, 0) + line.quantity
    assert packed == shipment.quantities() == ORDERED


def test_an_order_placed_at_a_fulfillment_center_ships_from_there(wms: WmsSandbox, receiver: Inbox) -> None:
    body = {**order_body(REFERENCE), "location_id": 2}
    order = httpx.post(f"{wms.url}/2026-01/order", json=body, headers=HEADERS, timeout=5).json()
    wms.ship(order["id"])
    wms.flush_webhooks()
    assert wms_bound(wms, receiver.received[0]).build(ORDER_KEY).data.facility == "2"
    unknown = {**order_body("other-ref"), "location_id": 99}
    response = httpx.post(f"{wms.url}/2026-01/order", json=unknown, headers=HEADERS, timeout=5)
    assert response.status_code == 400
    assert "location_id" in response.json()


def test_packages_must_hold_what_ships(wms: WmsSandbox, order: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="the packages hold"):
        wms.ship(order["id"], partial_lines={"GLV-NIT4-L-CS": 2}, packages=[{"lines": {"GLV-NIT4-L-CS": 1}}, {}])


def test_pick_pack_and_delivery_map_to_progress(wms: WmsSandbox, receiver: Inbox, order: dict[str, Any]) -> None:
    picked = wms.pick(order["id"])
    packed = wms.pack(order["id"])
    shipped = wms.ship(order["id"])
    wms.deliver(shipped["id"])
    wms.flush_webhooks()

    topics = [d.headers["x-webhook-topic"] for d in receiver.received]
    assert topics == ["order.shipment.status.updated"] * 2 + ["order.shipped", "order.shipment.delivered"]
    progress = [wms_bound(wms, d).build(ORDER_KEY) for d in receiver.received if d is not receiver.received[2]]
    assert all(isinstance(event, ShipmentProgressed) for event in progress)
    milestones = [(e.data.milestone, e.data.shipment_id, e.data.reported_by) for e in progress]
    assert milestones == [
        (Milestone.PICKED, str(picked["id"]), "wms"),
        (Milestone.PACKED, str(packed["id"]), "wms"),
        (Milestone.DELIVERED, str(shipped["id"]), "wms"),
    ]
    assert progress[2].data.tracking_number == shipped["tracking"]["tracking_number"]
    with pytest.raises(ValueError, match="nothing left to ship"):
        wms.pick(order["id"])


def test_a_resent_webhook_keeps_its_id_and_is_signed_when_sent(
    wms: WmsSandbox, receiver: Inbox, order: dict[str, Any]
) -> None:
    wms.ship(order["id"])
    wms.flush_webhooks()
    webhook_id = wms.last_webhook_id("order.shipped")
    rotated = "whsec_" + base64.b64encode(b"rotated-wms-signing-key-bytes").decode()
    wms.use_webhook_secret(rotated)
    assert wms.resend_webhook(topic="order.shipped") == webhook_id
    wms.flush_webhooks()

    first, again = receiver.received
    assert first.headers["webhook-id"] == again.headers["webhook-id"] == webhook_id
    assert first.body == again.body
    assert wms_bound(wms, again).dedupe_key == wms_bound_under(rotated, first).dedupe_key
    with pytest.raises(ValueError, match="no webhook"):
        wms.resend_webhook("msg_never_sent")


def wms_bound_under(secret: str, delivery: Request) -> OrderBound:
    adapter, request = WmsWebhookAdapter(), as_request(delivery)
    with pytest.raises(Unauthorized):
        adapter.verify(request, [secret.encode()])  # signed before the rotation
    parsed = adapter.parse(request)
    assert isinstance(parsed, OrderBound)
    return parsed


# -- returns -----------------------------------------------------------------------------------------------------
def test_a_completed_return_restocks_and_maps_to_a_receipt(
    wms: WmsSandbox, receiver: Inbox, order: dict[str, Any]
) -> None:
    wms.set_stock(1, {"GLV-NIT4-L-CS": 100, "EYE-AF-CLR-12": 50}, announce=False)
    wms.ship(order["id"])
    items = [
        {"sku": "GLV-NIT4-L-CS", "quantity": 2, "action": "restock", "condition": "new"},
        {"sku": "GLV-NIT4-L-CS", "quantity": 1, "action": "dispose", "condition": "damaged"},
        {"sku": "EYE-AF-CLR-12", "quantity": 4, "action": "quarantine", "condition": "opened"},
    ]
    record = wms.complete_return("RMA-1001-1", reference_id=REFERENCE, items=items)
    assert wms.stock(1) == {"GLV-NIT4-L-CS": 100 - 12 + 2, "EYE-AF-CLR-12": 50 - 20}
    wms.flush_webhooks()

    [delivery] = [d for d in receiver.received if d.headers["x-webhook-topic"] == "return.completed"]
    parsed = wms_bound(wms, delivery)
    assert parsed.reference == "RMA-1001-1"
    event = parsed.build(ORDER_KEY)
    assert isinstance(event, ReturnReceived)
    receipt = event.data
    assert (receipt.receipt_id, receipt.rma_number, receipt.facility) == (str(record["id"]), "RMA-1001-1", "1")
    assert [(line.sku, line.quantity, line.condition, line.disposition) for line in receipt.lines] == [
        ("GLV-NIT4-L-CS", 2, Condition.NEW, Disposition.RESTOCK),
        ("GLV-NIT4-L-CS", 1, Condition.DAMAGED, Disposition.SCRAP),
        ("EYE-AF-CLR-12", 4, Condition.OPENED, Disposition.SCRAP),
    ]
    assert record["original_shipment_id"] is not None


def test_a_return_cannot_exceed_what_shipped_nor_complete_twice(wms: WmsSandbox, order: dict[str, Any]) -> None:
    wms.ship(order["id"], partial_lines={"GLV-NIT4-L-CS": 5})
    too_many = [{"sku": "GLV-NIT4-L-CS", "quantity": 6, "action": "restock", "condition": "new"}]
    with pytest.raises(ValueError, match="cannot return 6"):
        wms.complete_return("RMA-X", order_id=order["id"], items=too_many)
    one = [{"sku": "GLV-NIT4-L-CS", "quantity": 1, "action": "restock", "condition": "new"}]
    wms.complete_return("RMA-X", order_id=order["id"], items=one)
    with pytest.raises(ValueError, match="already completed"):
        wms.complete_return("RMA-X", order_id=order["id"], items=one)
    with pytest.raises(ValueError, match="bad return item"):
        wms.complete_return("RMA-Y", order_id=order["id"], items=[{**one[0], "action": "donate"}])


# -- carrier -----------------------------------------------------------------------------------------------------
def carrier_bound(secret: str, delivery: Request) -> OrderBound:
    adapter, request = CarrierWebhookAdapter(), as_request(delivery)
    adapter.verify(request, [secret.encode()])
    return adapter.parse(request)


def test_the_carrier_follows_every_package_and_its_updates_map_to_progress(
    wms: WmsSandbox, carrier: CarrierSandbox, receiver: Inbox, order: dict[str, Any]
) -> None:
    shipped = wms.ship(order["id"], packages=[{}, {}])
    numbers = carrier.follow(shipped)
    assert numbers == [carton["barcode"] for carton in shipped["parent_cartons"]]
    event_id = carrier.update(numbers[1], "OutForDelivery", message="Out for delivery", location="Worcester, MA, US")
    carrier.update(numbers[1], "Delivered", subtag="Delivered_001")
    carrier.flush_webhooks()

    first, second = received(receiver, "/webhooks/carrier")
    assert json.loads(first.body)["event_id"] == event_id
    out, delivered = carrier_bound(carrier.webhook_secret, first), carrier_bound(carrier.webhook_secret, second)
    assert out.reference == delivered.reference == REFERENCE
    assert out.dedupe_key == f"carrier:{event_id}"
    progress = out.build(ORDER_KEY).data
    assert (progress.milestone, progress.tracking_number, progress.carrier) == (
        Milestone.OUT_FOR_DELIVERY,
        numbers[1],
        "ups",
    )
    assert progress.detail == "Out for delivery (Worcester, MA, US)"
    assert delivered.build(ORDER_KEY).data.milestone is Milestone.DELIVERED
    assert carrier.snapshot()["trackings"][numbers[1]]["active"] is False


def test_a_resent_carrier_webhook_is_the_same_event_and_rotation_applies_when_sent(
    wms: WmsSandbox, carrier: CarrierSandbox, receiver: Inbox, order: dict[str, Any]
) -> None:
    [number] = carrier.follow(wms.ship(order["id"]))
    event_id = carrier.update(number, "InTransit")
    carrier.resend_webhook(event_id)
    old = carrier.webhook_secret
    carrier.use_webhook_secret("rotated-aftership-secret")
    carrier.flush_webhooks()

    first, again = received(receiver, "/webhooks/carrier")
    assert first.body == again.body
    one, two = carrier_bound("rotated-aftership-secret", first), carrier_bound("rotated-aftership-secret", again)
    assert one.dedupe_key == two.dedupe_key
    assert one.build(ORDER_KEY).metadata.event_id == two.build(ORDER_KEY).metadata.event_id
    with pytest.raises(Unauthorized):
        CarrierWebhookAdapter().verify(as_request(first), [old.encode()])
    with pytest.raises(ValueError, match="unknown tag"):
        carrier.update(number, "Lost")
    with pytest.raises(ValueError, match="not registered"):
        carrier.update("1ZNOTFOLLOWED", "InTransit")


def test_a_refused_packing_leaves_the_order_unsplit(wms: WmsSandbox, order: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="the packages hold"):
        wms.ship(order["id"], partial_lines={"GLV-NIT4-L-CS": 2}, packages=[{"lines": {"GLV-NIT4-L-CS": 3}}, {}])
    [shipment] = wms.snapshot()["orders"][order["id"]]["shipments"]
    assert shipment["status"] == "Processing"


def test_an_exception_maps_to_exception_progress(wms: WmsSandbox, receiver: Inbox, order: dict[str, Any]) -> None:
    wms.report_exception(order["id"], description="Out of stock: GLV-NIT4-L-CS")
    wms.flush_webhooks()
    progress = wms_bound(wms, receiver.received[0]).build(ORDER_KEY).data
    assert (progress.milestone, progress.detail) == (Milestone.EXCEPTION, "Out of stock: GLV-NIT4-L-CS")
    with pytest.raises(ValueError, match="nothing left to ship"):
        wms.ship(order["id"])
