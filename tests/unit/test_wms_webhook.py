"""The WMS webhooks: Standard Webhooks verification, every topic from the samples, bad bodies, dedupe.

Inventory topics map to a ``Delivery``; the shipment and return topics name the order by a reference (the release's
reference id, the RMA number), so they map to an ``OrderBound`` whose ``build`` makes the event for an order key.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import jsonschema
import pytest

from infra.samples import compact, wms_delivery, wms_payload
from infra.schemas import SCHEMAS_DIR
from shared.channels.base import Delivery, Ignored, OrderBound, WebhookRequest
from shared.channels.registry import API_PLATFORMS, adapter_for
from shared.errors import NotFound, Unauthorized, ValidationFailed
from shared.models.events import (
    CONTRACTS,
    ReturnReceived,
    ShipmentDispatched,
    ShipmentProgressed,
    StockReported,
    derive_id,
)
from shared.models.inventory import MAX_REPORT_ITEMS, ReportKind
from shared.models.returns import Condition, Disposition
from shared.models.shipping import Milestone
from shared.wms.webhook import TOPICS, WmsWebhookAdapter

SECRET = "whsec_" + base64.b64encode(b"wms-signing-key-0123456789abcdef").decode()
OLD_SECRET = "whsec_" + base64.b64encode(b"wms-previous-key-0123456789abcd").decode()
NOW = 1_796_053_400
MSG_ID = "msg_2rT6yUe0pWq3LmZ8xV1cB4nK7hJ"
SAMPLES = {"inventory.snapshot": "inventory_snapshot", "inventory.adjusted": "inventory_adjusted"}


def adapter() -> WmsWebhookAdapter:
    return WmsWebhookAdapter(now=lambda: NOW)


def request(
    payload: object,
    *,
    topic: str | None = "inventory.snapshot",
    msg_id: str = MSG_ID,
    secret: str | list[str] = SECRET,
    timestamp: int = NOW,
) -> WebhookRequest:
    body = payload if isinstance(payload, bytes) else compact(payload)
    sent = wms_delivery(body, secret=secret, topic=topic or "", msg_id=msg_id, timestamp=timestamp)
    headers = {k.lower(): v for k, v in sent.items()}
    if topic is None:
        del headers["x-webhook-topic"]
    return WebhookRequest(headers=headers, body=body)


def parse(payload: object, **options: Any) -> Delivery:
    parsed = adapter().parse(request(payload, **options))
    assert isinstance(parsed, Delivery)
    return parsed


def bound(payload: object, topic: str, **options: Any) -> OrderBound:
    parsed = adapter().parse(request(payload, topic=topic, **options))
    assert isinstance(parsed, OrderBound)
    assert parsed.topic == topic
    return parsed


def snapshot(**changes: Any) -> dict[str, Any]:
    return {**wms_payload("inventory_snapshot"), **changes}


# -- registry ----------------------------------------------------------------------------------------------------
def test_registered_as_wms_and_not_called_back() -> None:
    assert isinstance(adapter_for("wms"), WmsWebhookAdapter)
    assert "wms" not in API_PLATFORMS
    assert CONTRACTS["StockReported"] is StockReported


def test_retry_horizon_is_shipbobs_schedule() -> None:
    # Immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: the last attempt 27 h 35 min 5 s after the first.
    assert WmsWebhookAdapter.retry_horizon_seconds == 27 * 3600 + 35 * 60 + 5


# -- verify ------------------------------------------------------------------------------------------------------
def test_a_good_signature_verifies() -> None:
    adapter().verify(request(wms_payload()), [SECRET.encode()])


def test_a_signature_under_another_secret_is_refused() -> None:
    with pytest.raises(Unauthorized):
        adapter().verify(request(wms_payload(), secret=OLD_SECRET), [SECRET.encode()])


def test_a_tampered_body_is_refused() -> None:
    signed = request(wms_payload())
    tampered = WebhookRequest(headers=signed.headers, body=signed.body.replace(b"480", b"4800"))
    with pytest.raises(Unauthorized):
        adapter().verify(tampered, [SECRET.encode()])


@pytest.mark.parametrize("skew", [-301, 301])
def test_a_timestamp_more_than_five_minutes_off_is_refused(skew: int) -> None:
    with pytest.raises(Unauthorized, match="tolerance"):
        adapter().verify(request(wms_payload(), timestamp=NOW + skew), [SECRET.encode()])


@pytest.mark.parametrize("skew", [-300, 300])
def test_a_timestamp_within_five_minutes_verifies(skew: int) -> None:
    adapter().verify(request(wms_payload(), timestamp=NOW + skew), [SECRET.encode()])


def test_rotation_sender_signs_with_both_and_we_know_either() -> None:
    # The WMS signs with the old and the new secret while it rotates; we hold the current and previous one.
    both = request(wms_payload(), secret=[OLD_SECRET, SECRET])
    adapter().verify(both, [SECRET.encode()])
    adapter().verify(both, [OLD_SECRET.encode()])
    new_only = request(wms_payload(), secret=SECRET)
    adapter().verify(new_only, [SECRET.encode(), OLD_SECRET.encode()])
    adapter().verify(new_only, [OLD_SECRET.encode(), SECRET.encode()])
    with pytest.raises(Unauthorized):
        adapter().verify(new_only, [OLD_SECRET.encode()])


def test_a_missing_signature_is_refused() -> None:
    signed = request(wms_payload())
    headers = {k: v for k, v in signed.headers.items() if k != "webhook-signature"}
    with pytest.raises(Unauthorized):
        adapter().verify(WebhookRequest(headers=headers, body=signed.body), [SECRET.encode()])


# -- parse -------------------------------------------------------------------------------------------------------
def test_the_snapshot_sample_maps_to_a_snapshot_report() -> None:
    payload = wms_payload("inventory_snapshot")
    delivery = parse(payload, topic="inventory.snapshot")
    assert isinstance(delivery.event, StockReported)
    assert delivery.topic == "inventory.snapshot"
    report = delivery.event.data
    assert (report.kind, report.source, report.facility) == (ReportKind.SNAPSHOT, "wms", "1")
    assert report.report_id == payload["snapshot_id"]
    assert report.as_of.isoformat() == payload["as_of"]
    assert [(i.sku, i.on_hand, i.on_hand_delta) for i in report.items] == [
        (item["sku"], item["on_hand_quantity"], None) for item in payload["items"]
    ]


def test_the_adjustment_sample_maps_to_an_adjustment_report() -> None:
    payload = wms_payload("inventory_adjusted")
    delivery = parse(payload, topic="inventory.adjusted")
    report = delivery.event.data
    assert (report.kind, report.source, report.facility) == (ReportKind.ADJUSTMENT, "wms", "2")
    assert report.report_id == payload["adjustment_id"]
    assert [(i.sku, i.on_hand_delta, i.on_hand) for i in report.items] == [
        (item["sku"], item["quantity_change"], None) for item in payload["items"]
    ]


@pytest.mark.parametrize("topic", sorted(SAMPLES))
def test_published_detail_validates_against_its_schema(topic: str) -> None:
    delivery = parse(wms_payload(SAMPLES[topic]), topic=topic)
    schema = json.loads((SCHEMAS_DIR / "StockReported.json").read_text())
    jsonschema.validate(json.loads(delivery.event.model_dump_json()), schema)
    assert delivery.event.metadata.source == "crossdock.intake"


@pytest.mark.parametrize("topic", sorted(SAMPLES))
def test_the_topic_may_come_in_the_body_alone(topic: str) -> None:
    assert parse(wms_payload(SAMPLES[topic]), topic=None).topic == topic


def test_a_header_topic_the_body_contradicts_is_refused() -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse(wms_payload("inventory_snapshot"), topic="inventory.adjusted")
    assert caught.value.details["field"] == "topic"


def test_no_topic_anywhere_is_refused() -> None:
    payload = wms_payload("inventory_snapshot")
    del payload["topic"]
    with pytest.raises(ValidationFailed) as caught:
        parse(payload, topic=None)
    assert caught.value.details["field"] == "x-webhook-topic"


@pytest.mark.parametrize("topic", ["order.shipment.cancelled", "order.shipment.on_hold", "inventory.deleted"])
def test_a_topic_we_do_not_take_is_not_found(topic: str) -> None:
    with pytest.raises(NotFound):
        parse({"id": 500001, "status": "Completed"}, topic=topic)
    assert topic not in TOPICS


def test_an_unknown_topic_is_not_found_before_the_body_is_judged() -> None:
    with pytest.raises(NotFound):
        parse(b"not json", topic="inventory.reserved")


def _without(payload: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k != key}


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (_without(wms_payload(), "snapshot_id"), "snapshot_id"),
        (snapshot(snapshot_id=""), "snapshot_id"),
        (snapshot(as_of="2026-03-02T06:00:00"), "as_of"),
        (snapshot(fulfillment_center={"name": "East"}), "fulfillment_center.id"),
        (snapshot(fulfillment_center={"id": 0}), "fulfillment_center.id"),
        (snapshot(items=[]), "items"),
        (snapshot(items=[{"sku": "A", "on_hand_quantity": -1}]), "items.0.on_hand_quantity"),
        (snapshot(items=[{"sku": "A", "on_hand_quantity": 1.5}]), "items.0.on_hand_quantity"),
        (snapshot(items=[{"sku": "", "on_hand_quantity": 1}]), "items.0.sku"),
        (snapshot(items=[{"sku": "A", "on_hand_quantity": 1}, {"sku": "A", "on_hand_quantity": 2}]), "items.1.sku"),
    ],
)
def test_a_bad_snapshot_names_the_field(payload: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse(payload)
    assert caught.value.details["field"] == field


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"adjustment_id": None}, "adjustment_id"),
        ({"items": [{"sku": "A", "quantity_change": "minus three"}]}, "items.0.quantity_change"),
        ({"items": [{"sku": "A"}]}, "items.0.quantity_change"),
    ],
)
def test_a_bad_adjustment_names_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse({**wms_payload("inventory_adjusted"), **change}, topic="inventory.adjusted")
    assert caught.value.details["field"] == field


def test_malformed_json_is_a_validation_failure() -> None:
    with pytest.raises(ValidationFailed, match="malformed JSON"):
        parse(b'{"topic": "inventory.snapshot", ', topic=None)
    with pytest.raises(ValidationFailed, match="malformed JSON"):
        parse(b'{"topic": "inventory.snapshot", ', topic="inventory.snapshot")


def test_at_most_two_thousand_items() -> None:
    items = [{"sku": f"SKU-{n:05d}", "on_hand_quantity": n} for n in range(MAX_REPORT_ITEMS + 1)]
    assert len(parse(snapshot(items=items[:MAX_REPORT_ITEMS])).event.data.items) == MAX_REPORT_ITEMS
    with pytest.raises(ValidationFailed) as caught:
        parse(snapshot(items=items))
    assert caught.value.details["field"] == "items"


def test_one_sku_adjusted_twice_is_one_summed_delta() -> None:
    items = [
        {"sku": "A", "quantity_change": -3, "reason": "damaged"},
        {"sku": "B", "quantity_change": 5, "reason": "received"},
        {"sku": "A", "quantity_change": 10, "reason": "received"},
    ]
    report = parse({**wms_payload("inventory_adjusted"), "items": items}, topic="inventory.adjusted").event.data
    assert [(i.sku, i.on_hand_delta) for i in report.items] == [("A", 7), ("B", 5)]


def test_a_missing_or_huge_webhook_id_is_refused() -> None:
    signed = request(wms_payload())
    headers = {k: v for k, v in signed.headers.items() if k != "webhook-id"}
    with pytest.raises(ValidationFailed) as caught:
        adapter().parse(WebhookRequest(headers=headers, body=signed.body))
    assert caught.value.details["field"] == "webhook-id"
    with pytest.raises(ValidationFailed):
        parse(wms_payload(), msg_id="m" * 201)


# -- dedupe and ids ----------------------------------------------------------------------------------------------
def test_every_retry_of_one_event_shares_the_dedupe_key_and_event_id() -> None:
    first = parse(wms_payload(), timestamp=NOW)
    retry = parse(wms_payload(), timestamp=NOW + 3600, secret=[OLD_SECRET, SECRET])
    assert first.dedupe_key == retry.dedupe_key == f"wms:inventory.snapshot:{MSG_ID}"
    assert first.event.metadata.event_id == retry.event.metadata.event_id
    assert first.event.metadata.event_id == derive_id("StockReported", first.dedupe_key)


def test_another_event_gets_another_key_and_the_facility_its_correlation_id() -> None:
    one = parse(wms_payload(), msg_id="msg_one")
    two = parse(wms_payload(), msg_id="msg_two")
    assert one.dedupe_key != two.dedupe_key
    assert one.event.metadata.event_id != two.event.metadata.event_id
    # Every report about one facility shares a correlation id; another facility has its own.
    assert one.event.metadata.correlation_id == two.event.metadata.correlation_id == derive_id("stock", "wms:1")
    west = parse(wms_payload("inventory_adjusted"), topic="inventory.adjusted")
    assert west.event.metadata.correlation_id == derive_id("stock", "wms:2")


@pytest.mark.parametrize(
    ("topic", "change", "field"),
    [
        ("inventory.snapshot", {"items": [{"sku": "A", "on_hand_quantity": 10**40}]}, "items.0.on_hand_quantity"),
        ("inventory.adjusted", {"items": [{"sku": "A", "quantity_change": -(10**12)}]}, "items.0.quantity_change"),
    ],
)
def test_absurd_quantities_get_a_400(topic: str, change: dict[str, Any], field: str) -> None:
    name = "inventory_snapshot" if topic == "inventory.snapshot" else "inventory_adjusted"
    body = {**wms_payload(name), **change}
    raw = json.dumps(body).encode()
    request = WebhookRequest(headers={"webhook-id": "msg_1", "x-webhook-topic": topic}, body=raw)
    with pytest.raises(ValidationFailed) as refused:
        WmsWebhookAdapter().parse(request)
    assert refused.value.status_code == 400
    assert refused.value.details.get("field") == field


# -- shipments ---------------------------------------------------------------------------------------------------
ORDER_KEY = "shopify:acme-supply.myshopify.com:7124853309745"
REFERENCE = "shopify-61958626-7124853309745-east"


def shipped(**changes: Any) -> dict[str, Any]:
    return {**wms_payload("order_shipped"), **changes}


def product(sku: str, *quantities: int, by: str = "reference_id") -> dict[str, Any]:
    return {by: sku, "inventory_items": [{"quantity": quantity} for quantity in quantities]}


def schema_valid(event: Any) -> None:
    schema = json.loads((SCHEMAS_DIR / f"{event.detail_type}.json").read_text())
    jsonschema.validate(json.loads(event.model_dump_json()), schema)


def test_order_shipped_maps_to_a_shipment_with_a_package_per_parent_carton() -> None:
    parsed = bound(wms_payload("order_shipped"), "order.shipped")
    assert parsed.reference == REFERENCE
    assert parsed.dedupe_key == f"wms:order.shipped:{MSG_ID}"
    event = parsed.build(ORDER_KEY)
    assert isinstance(event, ShipmentDispatched)
    schema_valid(event)
    shipment = event.data
    assert (shipment.shipment_id, shipment.order_key, shipment.reference_id) == ("500002", ORDER_KEY, REFERENCE)
    assert (shipment.facility, shipment.carrier, shipment.service) == ("1", "UPS", "Ground")
    assert shipment.tracking_url == "https://www.ups.com/track?tracknum=1Z0A5E840342167593"
    assert shipment.quantities() == {"GLV-NIT4-L-CS": 12, "EYE-AF-CLR-12": 20, "VST-C2-LXL-YL": 20}
    assert shipment.tracking_numbers == ("1Z0A5E840342167593", "1Z0A5E840342167600")
    assert [{line.sku: line.quantity for line in package.lines} for package in shipment.packages] == [
        {"GLV-NIT4-L-CS": 12, "EYE-AF-CLR-12": 8},
        {"EYE-AF-CLR-12": 12, "VST-C2-LXL-YL": 20},
    ]
    assert all(package.carrier == "UPS" for package in shipment.packages)
    assert shipment.shipped_at.isoformat() == "2026-03-03T16:52:10+00:00"


def test_the_ids_derive_from_the_delivery_and_the_order() -> None:
    first = bound(wms_payload("order_shipped"), "order.shipped").build(ORDER_KEY)
    retry = bound(wms_payload("order_shipped"), "order.shipped", timestamp=NOW + 60).build(ORDER_KEY)
    other = bound(wms_payload("order_shipped"), "order.shipped", msg_id="msg_other").build(ORDER_KEY)
    assert first.metadata.event_id == retry.metadata.event_id
    assert first.metadata.event_id == derive_id("ShipmentDispatched", f"wms:order.shipped:{MSG_ID}")
    assert other.metadata.event_id != first.metadata.event_id
    assert first.metadata.correlation_id == derive_id("order", ORDER_KEY)
    assert first.metadata.source == "crossdock.intake"


def test_without_cartons_the_shipment_is_one_package_from_its_tracking() -> None:
    shipment = bound(shipped(parent_cartons=[]), "order.shipped").build(ORDER_KEY).data
    [package] = shipment.packages
    assert package.tracking_number == "1Z0A5E840342167593"
    assert package.lines == shipment.lines


def test_lines_are_summed_per_sku_across_products_and_lots() -> None:
    products = [
        product("GLV-NIT4-L-CS", 5, 7),
        product("EYE-AF-CLR-12", 3, by="sku"),
        product("GLV-NIT4-L-CS", 2),
        product("VST-C2-LXL-YL", 0),
    ]
    shipment = bound(shipped(products=products, parent_cartons=[]), "order.shipped").build(ORDER_KEY).data
    assert [(line.sku, line.quantity) for line in shipment.lines] == [("GLV-NIT4-L-CS", 14), ("EYE-AF-CLR-12", 3)]


def test_shipped_at_falls_back_to_the_tracking_shipping_date() -> None:
    tracking = {**wms_payload("order_shipped")["tracking"], "shipping_date": "2026-03-03T11:00:00-05:00"}
    payload = shipped(actual_fulfillment_date=None, tracking=tracking)
    assert bound(payload, "order.shipped").build(ORDER_KEY).data.shipped_at.isoformat() == "2026-03-03T11:00:00-05:00"


def _carton_holding(*products: dict[str, Any]) -> dict[str, Any]:
    return {"barcode": "1Z0A5E840342167611", "cartons": [{"products": list(products)}]}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"tracking": None}, "tracking"),
        ({"reference_id": ""}, "reference_id"),
        ({"location": {"id": 0}}, "location.id"),
        ({"id": "five"}, "id"),
        (
            {"actual_fulfillment_date": None, "tracking": {"carrier": "UPS", "tracking_number": "1Z"}},
            "actual_fulfillment_date",
        ),
        ({"actual_fulfillment_date": "2026-03-03T16:52:10"}, "actual_fulfillment_date"),
        ({"products": []}, "products"),
        ({"products": [product("GLV-NIT4-L-CS", 0)]}, "products"),
        ({"products": [{"inventory_items": [{"quantity": 1}]}]}, "products.0"),
        ({"products": [product("GLV-NIT4-L-CS", -1)]}, "products.0.inventory_items.0.quantity"),
        ({"products": [product("GLV-NIT4-L-CS")]}, "products.0.inventory_items"),
        ({"tracking": {"carrier": "", "tracking_number": "1Z"}}, "tracking.carrier"),
        ({"parent_cartons": [_carton_holding(product("GLV-NIT4-L-CS", 13))]}, "parent_cartons.0.cartons"),
        ({"parent_cartons": [_carton_holding(product("NOT-SHIPPED", 1))]}, "parent_cartons.0.cartons"),
        ({"parent_cartons": [{"barcode": "", "cartons": []}]}, "parent_cartons.0.barcode"),
    ],
)
def test_a_bad_shipment_names_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        adapter().parse(request(shipped(**change), topic="order.shipped"))
    assert caught.value.status_code == 400
    assert caught.value.details["field"] == field


def test_a_carton_split_across_parent_cartons_may_add_up_to_the_shipment_but_no_more() -> None:
    cartons = [_carton_holding(product("GLV-NIT4-L-CS", 6)), _carton_holding(product("GLV-NIT4-L-CS", 6))]
    shipment = bound(shipped(parent_cartons=cartons), "order.shipped").build(ORDER_KEY).data
    assert [package.lines[0].quantity for package in shipment.packages] == [6, 6]
    with pytest.raises(ValidationFailed) as caught:
        adapter().parse(request(shipped(parent_cartons=[*cartons, cartons[0]]), topic="order.shipped"))
    assert caught.value.details["field"] == "parent_cartons.2.cartons"


# -- progress ----------------------------------------------------------------------------------------------------
def test_packed_maps_to_progress_from_the_wms() -> None:
    parsed = bound(wms_payload("order_shipment_status_updated"), "order.shipment.status.updated")
    assert parsed.reference == REFERENCE
    event = parsed.build(ORDER_KEY)
    assert isinstance(event, ShipmentProgressed)
    schema_valid(event)
    progress = event.data
    assert (progress.milestone, progress.reported_by, progress.shipment_id) == (Milestone.PACKED, "wms", "500001")
    assert progress.order_key == ORDER_KEY
    assert progress.at.isoformat() == "2026-03-03T16:12:10+00:00"
    assert progress.tracking_number is None
    assert progress.detail == "Packed and ready for a label"


def test_the_newest_status_detail_decides_picked() -> None:
    payload = wms_payload("order_shipment_status_updated")
    payload["status_details"] = payload["status_details"][:1]
    progress = bound(payload, "order.shipment.status.updated").build(ORDER_KEY).data
    assert progress.milestone is Milestone.PICKED


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"status_details": []}, "status_details"),
        ({"last_update_at": None}, "last_update_at"),
    ],
)
def test_a_bad_status_update_names_the_field(change: dict[str, Any], field: str) -> None:
    payload = {**wms_payload("order_shipment_status_updated"), **change}
    with pytest.raises(ValidationFailed) as caught:
        adapter().parse(request(payload, topic="order.shipment.status.updated"))
    assert caught.value.details["field"] == field


def test_a_status_crossdock_does_not_track_is_acknowledged_and_ignored() -> None:
    change = {"status_details": [{"id": 1, "name": "Picked"}, {"id": 2, "name": "LabeledCreated"}]}
    payload = {**wms_payload("order_shipment_status_updated"), **change}
    ignored = adapter().parse(request(payload, topic="order.shipment.status.updated"))
    assert ignored == Ignored(topic="order.shipment.status.updated", reason="status LabeledCreated is not tracked")


def test_delivered_maps_to_the_delivered_milestone_with_tracking() -> None:
    parsed = bound(wms_payload("order_shipment_delivered"), "order.shipment.delivered")
    event = parsed.build(ORDER_KEY)
    schema_valid(event)
    progress = event.data
    assert (progress.milestone, progress.shipment_id, progress.carrier) == (Milestone.DELIVERED, "500002", "UPS")
    assert progress.tracking_number == "1Z0A5E840342167593"
    assert progress.at.isoformat() == "2026-03-06T01:12:44+00:00"
    assert event.metadata.event_id == derive_id("ShipmentProgressed", f"wms:order.shipment.delivered:{MSG_ID}")
    payload = {**wms_payload("order_shipment_delivered"), "delivery_date": None}
    with pytest.raises(ValidationFailed) as caught:
        adapter().parse(request(payload, topic="order.shipment.delivered"))
    assert caught.value.details["field"] == "delivery_date"


def test_an_exception_says_why() -> None:
    payload = {
        **wms_payload("order_shipment_status_updated"),
        "status": "Exception",
        "status_details": [{"id": 1, "name": "OutOfStock", "description": "Out of stock: GLV-NIT4-L-CS"}],
    }
    progress = bound(payload, "order.shipment.exception").build(ORDER_KEY).data
    assert (progress.milestone, progress.detail) == (Milestone.EXCEPTION, "Out of stock: GLV-NIT4-L-CS")
    # The topic header is not signed: a shipment whose body says otherwise is not an exception.
    with pytest.raises(ValidationFailed) as caught:
        adapter().parse(request(wms_payload("order_shipped"), topic="order.shipment.exception"))
    assert caught.value.details["field"] == "status"


# -- returns -----------------------------------------------------------------------------------------------------
RMA = "RMA-7124853309745-1"


def returned(**changes: Any) -> dict[str, Any]:
    return {**wms_payload("return_completed"), **changes}


def item(*taken: tuple[str, str | None, int], sku: str = "GLV-NIT4-L-CS") -> dict[str, Any]:
    steps = [{"action": a, "action_reason": r, "quantity_processed": q} for a, r, q in taken]
    return {"id": 9001, "sku": sku, "quantity": sum(q for _, _, q in taken), "action_taken": steps}


def test_return_completed_maps_to_a_receipt_named_by_its_rma() -> None:
    parsed = bound(wms_payload("return_completed"), "return.completed")
    assert parsed.reference == RMA
    assert parsed.dedupe_key == f"wms:return.completed:{MSG_ID}"
    event = parsed.build(ORDER_KEY)
    assert isinstance(event, ReturnReceived)
    schema_valid(event)
    receipt = event.data
    assert (receipt.receipt_id, receipt.rma_number, receipt.order_key) == ("700001", RMA, ORDER_KEY)
    assert receipt.facility == "1"
    assert receipt.received_at.isoformat() == "2026-03-09T01:12:44+00:00"
    assert [(line.sku, line.quantity, line.condition, line.disposition) for line in receipt.lines] == [
        ("GLV-NIT4-L-CS", 2, Condition.NEW, Disposition.RESTOCK),
        ("GLV-NIT4-L-CS", 1, Condition.DAMAGED, Disposition.SCRAP),
        ("EYE-AF-CLR-12", 4, Condition.OPENED, Disposition.RESTOCK),
    ]
    assert receipt.restocked() == {"GLV-NIT4-L-CS": 2, "EYE-AF-CLR-12": 4}
    assert event.metadata.event_id == derive_id("ReturnReceived", parsed.dedupe_key)


@pytest.mark.parametrize(
    ("action", "reason", "condition", "disposition"),
    [
        ("Restock", "New, unopened", Condition.NEW, Disposition.RESTOCK),
        ("Restock", "Opened", Condition.OPENED, Disposition.RESTOCK),
        ("Restock", None, Condition.NEW, Disposition.RESTOCK),
        ("restock", "Unopened, sellable", Condition.NEW, Disposition.RESTOCK),
        ("Quarantine", "Used, needs inspection", Condition.OPENED, Disposition.SCRAP),
        ("Quarantine", None, Condition.DAMAGED, Disposition.SCRAP),
        ("Dispose", "Damaged in transit", Condition.DAMAGED, Disposition.SCRAP),
        ("Dispose", "Defective", Condition.DAMAGED, Disposition.SCRAP),
    ],
)
def test_shipbob_actions_and_reasons_map_to_disposition_and_condition(
    action: str, reason: str | None, condition: Condition, disposition: Disposition
) -> None:
    parsed = bound(returned(inventory=[item((action, reason, 3))]), "return.completed")
    [line] = parsed.build(ORDER_KEY).data.lines
    assert (line.quantity, line.condition, line.disposition) == (3, condition, disposition)


def test_one_sku_processed_twice_alike_is_one_line_and_unprocessed_steps_are_skipped() -> None:
    inventory = [item(("Restock", "New", 1), ("Restock", "New", 2), ("Dispose", "Damaged", 0))]
    [line] = bound(returned(inventory=inventory), "return.completed").build(ORDER_KEY).data.lines
    assert (line.quantity, line.disposition) == (3, Disposition.RESTOCK)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"status": "Processing"}, "status"),
        ({"reference_id": ""}, "reference_id"),
        ({"completed_date": None}, "completed_date"),
        ({"fulfillment_center": {"name": "East"}}, "fulfillment_center.id"),
        ({"inventory": []}, "inventory"),
        ({"inventory": [item(("Restock", None, 0))]}, "inventory"),
        ({"inventory": [item(("Donate", None, 1))]}, "inventory.0.action_taken.0.action"),
        ({"inventory": [{"id": 9001, "quantity": 1, "action_taken": []}]}, "inventory.0.sku"),
        (
            {"inventory": [{**item(("Restock", None, -1)), "quantity": 1}]},
            "inventory.0.action_taken.0.quantity_processed",
        ),
    ],
)
def test_a_bad_return_names_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        adapter().parse(request(returned(**change), topic="return.completed"))
    assert caught.value.status_code == 400
    assert caught.value.details["field"] == field


def test_a_tampered_shipment_is_refused() -> None:
    signed = request(wms_payload("order_shipped"), topic="order.shipped")
    tampered = WebhookRequest(headers=signed.headers, body=signed.body.replace(b'"quantity":12', b'"quantity":99'))
    assert tampered.body != signed.body
    with pytest.raises(Unauthorized):
        adapter().verify(tampered, [SECRET.encode()])
