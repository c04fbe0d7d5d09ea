"""The WMS inventory webhooks: Standard Webhooks verification, both topics from the samples, bad bodies, dedupe."""

from __future__ import annotations

import base64
import json
from typing import Any

import jsonschema
import pytest

from infra.samples import compact, wms_delivery, wms_payload
from infra.schemas import SCHEMAS_DIR
from shared.channels.base import Delivery, WebhookRequest
from shared.channels.registry import API_PLATFORMS, adapter_for
from shared.errors import NotFound, Unauthorized, ValidationFailed
from shared.models.events import CONTRACTS, StockReported, derive_id
from shared.models.inventory import MAX_REPORT_ITEMS, ReportKind
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
    return adapter().parse(request(payload, **options))


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


@pytest.mark.parametrize(
    "topic", ["order.shipped", "order.shipment.delivered", "order.shipment.cancelled", "inventory.deleted"]
)
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
    retry = adapter().parse(request(wms_payload(), timestamp=NOW + 3600, secret=[OLD_SECRET, SECRET]))
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
