"""The carrier adapter (AfterShip tracking webhooks): signature and rotation, tag → milestone, ids, bad bodies."""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonschema
import pytest

from infra.samples import compact, load_json
from infra.schemas import SCHEMAS_DIR
from shared.carrier.adapter import CarrierWebhookAdapter
from shared.channels.base import Ignored, OrderBound, WebhookRequest
from shared.channels.registry import API_PLATFORMS, adapter_for
from shared.errors import Unauthorized, ValidationFailed
from shared.models.events import ShipmentProgressed, derive_id
from shared.models.shipping import Milestone
from shared.signatures import hmac_sha256_b64

SECRET = "aftership-webhook-secret-current"
OLD_SECRET = "aftership-webhook-secret-previous"
ORDER_KEY = "shopify:acme-supply.myshopify.com:7124853309745"
REFERENCE = "shopify-61958626-7124853309745-east"
TRACKING = "1Z0A5E840342167593"


def sample(**msg_changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = copy.deepcopy(load_json("carrier/tracking_update.json"))
    payload["msg"].update(msg_changes)
    return payload


def request(payload: object, *, secret: str = SECRET, signature: str | None = None) -> WebhookRequest:
    body = payload if isinstance(payload, bytes) else compact(payload)
    headers = {
        "content-type": "application/json",
        "aftership-hmac-sha256": signature if signature is not None else hmac_sha256_b64(secret.encode(), body),
    }
    return WebhookRequest(headers=headers, body=body)


def parse_any(payload: object) -> OrderBound | Ignored:
    return CarrierWebhookAdapter().parse(request(payload))


def parse(payload: object) -> OrderBound:
    parsed = parse_any(payload)
    assert isinstance(parsed, OrderBound)
    return parsed


def progress_of(payload: object) -> Any:
    return parse(payload).build(ORDER_KEY).data


def checkpoint(tag: str, time: str | None, message: str = "Scanned") -> dict[str, Any]:
    return {"checkpoint_time": time, "tag": tag, "message": message, "location": None}


# -- registry ----------------------------------------------------------------------------------------------------
def test_registered_as_carrier_and_never_called_back() -> None:
    assert isinstance(adapter_for("carrier"), CarrierWebhookAdapter)
    assert "carrier" not in API_PLATFORMS


def test_retry_horizon_is_aftership_schedule() -> None:
    # 14 attempts, 2^(retry - 1) x 30 s apart: the last one 245,730 s after the first.
    assert CarrierWebhookAdapter.retry_horizon_seconds == 245_730


# -- verify ------------------------------------------------------------------------------------------------------
def test_a_good_signature_verifies() -> None:
    CarrierWebhookAdapter().verify(request(sample()), [SECRET.encode()])


@pytest.mark.parametrize("signature", ["", "not-base64", hmac_sha256_b64(b"another secret", b"{}")])
def test_a_missing_or_wrong_signature_is_refused(signature: str) -> None:
    with pytest.raises(Unauthorized):
        CarrierWebhookAdapter().verify(request(sample(), signature=signature), [SECRET.encode()])


def test_a_signature_under_another_secret_or_a_tampered_body_is_refused() -> None:
    with pytest.raises(Unauthorized):
        CarrierWebhookAdapter().verify(request(sample(), secret=OLD_SECRET), [SECRET.encode()])
    signed = request(sample())
    tampered = WebhookRequest(headers=signed.headers, body=signed.body.replace(b"InTransit", b"Delivered"))
    with pytest.raises(Unauthorized):
        CarrierWebhookAdapter().verify(tampered, [SECRET.encode()])


def test_rotation_either_live_secret_verifies() -> None:
    # While ops rotate, the secret holds the current and the previous one: a delivery signed with either passes.
    live = [SECRET.encode(), OLD_SECRET.encode()]
    CarrierWebhookAdapter().verify(request(sample(), secret=SECRET), live)
    CarrierWebhookAdapter().verify(request(sample(), secret=OLD_SECRET), live)
    CarrierWebhookAdapter().verify(request(sample(), secret=OLD_SECRET), live[::-1])
    with pytest.raises(Unauthorized):
        CarrierWebhookAdapter().verify(request(sample(), secret=SECRET), [OLD_SECRET.encode()])


# -- parse -------------------------------------------------------------------------------------------------------
def test_the_sample_maps_to_in_transit_progress_for_the_wms_reference() -> None:
    payload = sample()
    parsed = parse(payload)
    assert (parsed.reference, parsed.topic) == (REFERENCE, "tracking_update")
    assert parsed.dedupe_key == f"carrier:{payload['event_id']}"
    event = parsed.build(ORDER_KEY)
    assert isinstance(event, ShipmentProgressed)
    schema = json.loads((SCHEMAS_DIR / "ShipmentProgressed.json").read_text())
    jsonschema.validate(json.loads(event.model_dump_json()), schema)
    progress = event.data
    assert (progress.order_key, progress.milestone, progress.reported_by) == (
        ORDER_KEY,
        Milestone.IN_TRANSIT,
        "carrier",
    )
    assert (progress.tracking_number, progress.carrier, progress.shipment_id) == (TRACKING, "ups", None)
    assert progress.at.isoformat() == "2026-03-04T22:12:44+00:00"
    assert progress.detail == "Departed from facility (Hodgkins, IL, US)"
    assert event.metadata.correlation_id == derive_id("order", ORDER_KEY)
    assert event.metadata.source == "crossdock.intake"


@pytest.mark.parametrize(
    ("tag", "milestone"),
    [
        ("InTransit", Milestone.IN_TRANSIT),
        ("OutForDelivery", Milestone.OUT_FOR_DELIVERY),
        ("AvailableForPickup", Milestone.OUT_FOR_DELIVERY),
        ("Delivered", Milestone.DELIVERED),
        ("Exception", Milestone.EXCEPTION),
        ("AttemptFail", Milestone.EXCEPTION),
        ("Expired", Milestone.EXCEPTION),
    ],
)
def test_tags_map_to_milestones(tag: str, milestone: Milestone) -> None:
    payload = sample(tag=tag, checkpoints=[checkpoint(tag, "2026-03-05T09:30:00-05:00", "Handed over")])
    progress = progress_of(payload)
    assert (progress.milestone, progress.detail) == (milestone, "Handed over")
    assert progress.at.isoformat() == "2026-03-05T09:30:00-05:00"


@pytest.mark.parametrize("tag", ["InfoReceived", "Pending", "Unheard"])
def test_a_tag_with_no_milestone_is_acknowledged_and_ignored(tag: str) -> None:
    ignored = parse_any(sample(tag=tag))
    assert isinstance(ignored, Ignored)
    assert tag in ignored.reason


@pytest.mark.parametrize("event", ["edd_revise", "tracking_pending_time"])
def test_an_event_we_do_not_take_is_ignored_before_the_body_is_judged(event: str) -> None:
    ignored = parse_any({"event": event, "event_id": "e-1", "msg": {"estimated_delivery_date": "2026-03-06"}})
    assert ignored == Ignored(topic=event, reason="not a tracking update")


def test_the_event_id_is_the_checkpoint_whichever_aftership_event_announced_it() -> None:
    first, again = sample(), sample()
    again["event_id"] = "7d3c3f9e-52a4-4f4b-9a0e-1f0c2b7d9e11"  # AfterShip announced the same checkpoint twice
    one, two = parse(first), parse(again)
    assert one.dedupe_key != two.dedupe_key
    assert one.build(ORDER_KEY).metadata.event_id == two.build(ORDER_KEY).metadata.event_id
    time = first["msg"]["checkpoints"][-1]["checkpoint_time"]
    expected = derive_id("ShipmentProgressed", f"carrier:ups:{TRACKING}:InTransit:{time}")
    assert one.build(ORDER_KEY).metadata.event_id == expected
    later = sample(checkpoints=[*first["msg"]["checkpoints"], checkpoint("InTransit", "2026-03-05T06:02:00+00:00")])
    assert parse(later).build(ORDER_KEY).metadata.event_id != expected


def test_the_newest_checkpoint_of_the_tracking_tag_is_the_one_reported() -> None:
    checkpoints = [
        checkpoint("InTransit", "2026-03-04T10:00:00+00:00", "Departed"),
        checkpoint("OutForDelivery", "2026-03-05T07:00:00+00:00", "Out for delivery"),
        checkpoint("Exception", "2026-03-05T15:00:00+00:00", "Address not found"),
        checkpoint("OutForDelivery", "2026-03-06T07:10:00+00:00", "Out for delivery again"),
        checkpoint("InTransit", "2026-03-06T08:00:00+00:00", "Misrouted"),
    ]
    progress = progress_of(sample(tag="OutForDelivery", checkpoints=checkpoints))
    assert (progress.detail, progress.at.isoformat()) == ("Out for delivery again", "2026-03-06T07:10:00+00:00")


@pytest.mark.parametrize(
    ("checkpoints", "updated_at", "at"),
    [
        ([checkpoint("InTransit", "2026-03-04T17:12:44")], "2026-03-04T22:13:00+00:00", "2026-03-04T22:13:00+00:00"),
        ([checkpoint("InTransit", "2026-03-04")], "2026-03-04T22:13:00+00:00", "2026-03-04T22:13:00+00:00"),
        ([checkpoint("InTransit", "yesterday")], "2026-03-04T22:13:00+00:00", "2026-03-04T22:13:00+00:00"),
        ([], "2026-03-04T22:13:00+00:00", "2026-03-04T22:13:00+00:00"),
        ([], None, "2026-03-04T22:12:44+00:00"),  # the webhook's ts
    ],
)
def test_a_checkpoint_time_without_offset_falls_back_to_when_aftership_updated(
    checkpoints: list[dict[str, Any]], updated_at: str | None, at: str
) -> None:
    payload = sample(checkpoints=checkpoints, updated_at=updated_at)
    payload["ts"] = 1772662364
    assert progress_of(payload).at.isoformat() == at


def test_without_a_checkpoint_the_detail_is_the_subtag_message_and_long_details_are_cut() -> None:
    assert progress_of(sample(checkpoints=[])).detail == "In transit"
    long = [checkpoint("InTransit", "2026-03-04T10:00:00+00:00", "x" * 900)]
    assert len(progress_of(sample(checkpoints=long)).detail or "") == 500


def _without(payload: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k != key}


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (sample(order_id=None), "msg.order_id"),
        (sample(order_id=""), "msg.order_id"),
        (sample(tracking_number=""), "msg.tracking_number"),
        (sample(slug=None), "msg.slug"),
        (sample(tag=None), "msg.tag"),
        (sample(updated_at="2026-03-04T22:12:44"), "msg.updated_at"),
        (sample(checkpoints=[{"checkpoint_time": 5}]), "msg.checkpoints.0.checkpoint_time"),
        (_without(sample(), "event_id"), "event_id"),
        (_without(sample(), "msg"), "msg"),
        ({**sample(), "ts": -1}, "ts"),
    ],
)
def test_a_bad_tracking_update_names_the_field(payload: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse(payload)
    assert caught.value.status_code == 400
    assert caught.value.details["field"] == field


def test_malformed_json_is_a_validation_failure() -> None:
    with pytest.raises(ValidationFailed, match="malformed JSON"):
        parse(b'{"event": "tracking_update", ')


def test_a_timestamp_no_datetime_can_hold_is_a_clear_400() -> None:
    payload = sample(checkpoints=[])
    payload["msg"]["updated_at"] = None
    payload["ts"] = 10**20
    with pytest.raises(ValidationFailed) as caught:
        parse(payload)
    assert caught.value.details["field"] == "ts"
