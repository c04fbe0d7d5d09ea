"""BigCommerce thin webhooks → ChannelOrderNotified, on the real-format samples in events/bigcommerce."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from infra.samples import bigcommerce_delivery, bigcommerce_payload, compact
from infra.schemas import SCHEMAS_DIR
from shared.channels.base import WebhookRequest
from shared.channels.bigcommerce.adapter import BigCommerceAdapter
from shared.errors import NotFound, Unauthorized, ValidationFailed
from shared.models.events import ChannelOrderNotified, derive_id

SECRET = "bc-client-secret"
NOW = 1_796_053_400


def request(payload: object, *, timestamp: int = NOW, msg_id: str = "8f4c1a2e") -> WebhookRequest:
    body = payload if isinstance(payload, bytes) else compact(payload)
    headers = bigcommerce_delivery(body, secret=SECRET, msg_id=msg_id, timestamp=timestamp)
    return WebhookRequest(headers={k.lower(): v for k, v in headers.items()}, body=body)


def parse(payload: object):  # type: ignore[no-untyped-def]
    return BigCommerceAdapter().parse(request(payload))


def status_updated(new_status_id: int) -> dict[str, Any]:
    payload = bigcommerce_payload("webhook_order_updated")
    payload["scope"] = "store/order/statusUpdated"
    payload["data"]["status"] = {"previous_status_id": 11, "new_status_id": new_status_id}
    return payload


@pytest.mark.parametrize(
    ("sample", "change"), [("webhook_order_created", "created"), ("webhook_order_updated", "updated")]
)
def test_samples_map_to_a_claim_check(sample: str, change: str) -> None:
    payload = bigcommerce_payload(sample)
    delivery = parse(payload)
    assert isinstance(delivery.event, ChannelOrderNotified)
    ref = delivery.event.data
    assert (ref.channel, ref.store, ref.external_id) == ("bigcommerce", "abc123xyz", str(payload["data"]["id"]))
    assert (ref.change, ref.observed_by) == (change, "webhook")
    assert delivery.topic == payload["scope"]
    assert delivery.event.metadata.source == "crossdock.intake"


@pytest.mark.parametrize(("new_status_id", "change"), [(5, "cancelled"), (11, "updated"), (2, "updated")])
def test_status_updated_is_a_cancellation_only_when_the_status_is_cancelled(new_status_id: int, change: str) -> None:
    assert parse(status_updated(new_status_id)).event.data.change == change


def test_status_updated_without_the_status_change_is_an_update() -> None:
    payload = bigcommerce_payload("webhook_order_updated")
    payload["scope"] = "store/order/statusUpdated"  # the overview docs' example carries only the id
    assert parse(payload).event.data.change == "updated"


def test_dedupe_key_is_the_store_and_the_event_hash() -> None:
    payload = bigcommerce_payload("webhook_order_created")
    assert parse(payload).dedupe_key == f"bigcommerce:abc123xyz:{payload['hash']}"


def test_a_duplicate_event_has_the_same_ids_and_another_event_does_not() -> None:
    created, updated = bigcommerce_payload("webhook_order_created"), bigcommerce_payload("webhook_order_updated")
    adapter = BigCommerceAdapter()
    first = adapter.parse(request(created, msg_id="a", timestamp=NOW)).event.metadata
    again = adapter.parse(request(created, msg_id="b", timestamp=NOW + 3600)).event.metadata
    other = adapter.parse(request(updated)).event.metadata
    assert first.event_id == again.event_id != other.event_id
    assert first.correlation_id == other.correlation_id == derive_id("order", "bigcommerce:abc123xyz:1207")


@pytest.mark.parametrize("scope", ["store/product/updated", "store/order/archived", "store/cart/created", ""])
def test_a_scope_we_do_not_take_is_not_found_whatever_its_data(scope: str) -> None:
    payload = {**bigcommerce_payload(), "scope": scope, "data": {"type": "product", "id": "x"}}
    with pytest.raises(NotFound):
        parse(payload)


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda p: p.pop("scope"), "scope"),
        (lambda p: p.pop("producer"), "producer"),
        (lambda p: p.update(producer="abc123xyz"), "producer"),
        (lambda p: p.pop("hash"), "hash"),
        (lambda p: p["data"].update(type="product"), "data.type"),
        (lambda p: p["data"].update(id="twelve"), "data.id"),
        (lambda p: p["data"].pop("id"), "data.id"),
        (lambda p: p.update(created_at="yesterday"), "created_at"),
    ],
)
def test_invalid_payload_names_the_field(mutate, field: str) -> None:  # type: ignore[no-untyped-def]
    payload = bigcommerce_payload()
    mutate(payload)
    with pytest.raises(ValidationFailed) as raised:
        parse(payload)
    assert raised.value.details["field"] == field


@pytest.mark.parametrize("body", [b"", b"{", b"not json", b"[]", b"null", b"\xff\xfe"])
def test_garbage_is_a_validation_error(body: bytes) -> None:
    with pytest.raises(ValidationFailed):
        parse(body)


def test_verifies_with_the_client_secret_and_a_fresh_timestamp() -> None:
    adapter = BigCommerceAdapter(now=lambda: NOW)
    adapter.verify(request(bigcommerce_payload()), [b"previous-secret", SECRET.encode()])
    with pytest.raises(Unauthorized):
        adapter.verify(request(bigcommerce_payload()), [b"another-apps-secret"])


@pytest.mark.parametrize("age", [301, -301, 48 * 3600])
def test_a_stale_or_future_attempt_is_refused(age: int) -> None:
    with pytest.raises(Unauthorized):
        BigCommerceAdapter(now=lambda: NOW).verify(request(bigcommerce_payload(), timestamp=NOW - age), [b"x"])


def test_published_detail_validates_against_its_schema() -> None:
    delivery = parse(status_updated(5))
    schema = json.loads((SCHEMAS_DIR / "ChannelOrderNotified.json").read_text())
    jsonschema.validate(json.loads(delivery.event.model_dump_json()), schema)


def test_retry_horizon_is_bigcommerces_48_hours() -> None:
    assert 48 * 3600 <= BigCommerceAdapter.retry_horizon_seconds < 49 * 3600
