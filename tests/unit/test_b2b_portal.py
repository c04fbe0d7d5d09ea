"""The B2B portal's documented payload: its JSON Schema, its samples, the mapping, and Standard Webhooks intake."""

from __future__ import annotations

import base64
import json
from decimal import Decimal

import jsonschema
import pytest

from infra.samples import b2b_portal_payload, compact, standard_webhooks_headers
from infra.schemas import B2B_PORTAL_SCHEMA, SCHEMAS_DIR, b2b_portal_schema, render
from shared.channels.b2b_portal.adapter import TOPICS, B2BPortalAdapter
from shared.channels.base import WebhookRequest
from shared.errors import NotFound, Unauthorized, ValidationFailed
from shared.models import FinancialStatus, OrderCancelled, OrderReceived, OrderUpdated

SECRET = "whsec_" + base64.b64encode(b"portal-signing-key-0123456789").decode()
SAMPLES = ["order_created", "order_updated", "order_cancelled"]
NOW = 1_796_053_400


def request(payload: object, *, msg_id: str = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", **extra: str) -> WebhookRequest:
    body = payload if isinstance(payload, bytes) else compact(payload)
    return WebhookRequest(headers={**standard_webhooks_headers(body, SECRET, msg_id, NOW), **extra}, body=body)


def parse(payload: object, **extra: str):  # type: ignore[no-untyped-def]
    return B2BPortalAdapter().parse(request(payload, **extra))


def test_committed_schema_has_not_drifted() -> None:
    assert B2B_PORTAL_SCHEMA.is_file(), f"run `make schemas`: {B2B_PORTAL_SCHEMA} is missing"
    assert B2B_PORTAL_SCHEMA.read_text() == render(b2b_portal_schema()), "run `make schemas` and review"


@pytest.mark.parametrize("sample", SAMPLES)
def test_every_sample_validates_against_the_documented_schema(sample: str) -> None:
    jsonschema.validate(b2b_portal_payload(sample), json.loads(B2B_PORTAL_SCHEMA.read_text()))


@pytest.mark.parametrize(
    ("sample", "event_type"),
    [("order_created", OrderReceived), ("order_updated", OrderUpdated), ("order_cancelled", OrderCancelled)],
)
def test_every_sample_maps_to_its_contract(sample: str, event_type: type) -> None:
    payload = b2b_portal_payload(sample)
    delivery = parse(payload)
    assert isinstance(delivery.event, event_type)
    assert delivery.topic == payload["type"]
    order, data = delivery.event.data, payload["data"]
    assert (order.channel, order.store, order.external_id) == ("b2b_portal", "default", data["id"])
    assert order.order_number == data["order_number"]
    assert order.customer.external_id == data["customer"]["account_number"]
    assert (order.customer.email, order.customer.company) == (data["customer"]["email"], data["customer"]["company"])
    for line, sent in zip(order.lines, data["lines"], strict=True):
        assert (line.line_id, line.sku, line.title, line.quantity) == (
            sent["line_id"],
            sent["sku"],
            sent["description"],
            sent["quantity"],
        )
        assert line.unit_price.amount == Decimal(sent["unit_price"])
    assert order.shipping_address is not None
    assert order.shipping_address.model_dump() == data["ship_to"]
    assert order.updated_at.isoformat().replace("+00:00", "Z") == data["updated_at"]
    assert order.financial_status == FinancialStatus.UNKNOWN  # on account: the ERP knows the terms
    schema = json.loads((SCHEMAS_DIR / f"{event_type.detail_type}.json").read_text())  # type: ignore[attr-defined]
    jsonschema.validate(json.loads(delivery.event.model_dump_json()), schema)


def test_cancellation_carries_date_and_reason_and_only_a_cancellation_does() -> None:
    cancelled = parse(b2b_portal_payload("order_cancelled")).event.data
    assert cancelled.cancelled_at is not None
    assert cancelled.cancel_reason == "Customer ordered through EDI instead"
    updated = b2b_portal_payload("order_updated")
    updated["data"]["cancel_reason"] = "stray"
    assert parse(updated).event.data.cancel_reason is None


def test_a_cancellation_without_a_date_is_dated_by_its_update() -> None:
    payload = b2b_portal_payload("order_cancelled")
    del payload["data"]["cancelled_at"]
    order = parse(payload).event.data
    assert order.cancelled_at == order.updated_at


def test_dedupe_key_is_the_portal_and_the_webhook_id() -> None:
    payload = b2b_portal_payload()
    assert parse(payload, msg_id="msg_1").dedupe_key == "b2b_portal:default:msg_1"
    assert parse(payload, msg_id="msg_1", **{"x-portal-id": "inside-sales"}).dedupe_key == (
        "b2b_portal:inside-sales:msg_1"
    )


def test_the_portal_header_names_the_store_and_correlation() -> None:
    east = parse(b2b_portal_payload(), **{"x-portal-id": "east"}).event
    default = parse(b2b_portal_payload()).event
    assert east.data.store == "east"
    assert east.metadata.correlation_id != default.metadata.correlation_id


@pytest.mark.parametrize("portal", ["a b", "../x", "é", "x" * 64, "-leading-dash"])
def test_a_malformed_portal_header_is_named(portal: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        parse(b2b_portal_payload(), **{"x-portal-id": portal})
    assert raised.value.details["field"] == "x-portal-id"


def test_retries_of_one_event_share_ids_and_other_events_do_not() -> None:
    adapter = B2BPortalAdapter()
    body = compact(b2b_portal_payload())
    first = WebhookRequest(headers=standard_webhooks_headers(body, SECRET, "msg_1", NOW), body=body)
    retry = WebhookRequest(headers=standard_webhooks_headers(body, SECRET, "msg_1", NOW + 7200), body=body)
    other = WebhookRequest(headers=standard_webhooks_headers(body, SECRET, "msg_2", NOW), body=body)
    ids = [adapter.parse(r).event.metadata.event_id for r in (first, retry, other)]
    assert ids[0] == ids[1] != ids[2]


@pytest.mark.parametrize("event_type", ["order.shipped", "invoice.paid", "order", ""])
def test_a_type_we_do_not_take_is_not_found(event_type: str) -> None:
    with pytest.raises(NotFound):
        parse({"type": event_type, "data": {"anything": True}})


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda p: p.pop("type"), "type"),
        (lambda p: p.pop("timestamp"), "timestamp"),
        (lambda p: p["data"].pop("id"), "data.id"),
        (lambda p: p["data"]["customer"].pop("account_number"), "data.customer.account_number"),
        (lambda p: p["data"].update(currency="usd"), "data.currency"),
        (lambda p: p["data"].update(lines=[]), "data.lines"),
        (lambda p: p["data"]["lines"][1].update(quantity=0), "data.lines.1.quantity"),
        (lambda p: p["data"]["lines"][2].update(unit_price="cheap"), "data.lines.2.unit_price"),
        (lambda p: p["data"]["ship_to"].update(country_code="USA"), "data.ship_to.country_code"),
        (lambda p: p["data"].update(placed_at="2026-11-30T15:42:17"), "data.placed_at"),
    ],
)
def test_invalid_payload_names_the_field(mutate, field: str) -> None:  # type: ignore[no-untyped-def]
    payload = b2b_portal_payload()
    mutate(payload)
    with pytest.raises(ValidationFailed) as raised:
        parse(payload)
    assert raised.value.details["field"] == field


@pytest.mark.parametrize("body", [b"", b"{", b"not json", b"[]", b"null", b"\xff\xfe"])
def test_garbage_is_a_validation_error(body: bytes) -> None:
    with pytest.raises(ValidationFailed):
        parse(body)


def test_verifies_either_of_the_rotating_secrets() -> None:
    adapter = B2BPortalAdapter(now=lambda: NOW)
    old = "whsec_" + base64.b64encode(b"the-previous-portal-key-0000").decode()
    body = compact(b2b_portal_payload())
    for signed_with in ([SECRET], [old], [old, SECRET]):
        headers = standard_webhooks_headers(body, signed_with, "msg_1", NOW)
        adapter.verify(WebhookRequest(headers=headers, body=body), [SECRET.encode(), old.encode()])
    with pytest.raises(Unauthorized):
        adapter.verify(request(b2b_portal_payload()), [old.encode()])


@pytest.mark.parametrize("skew", [-301, 301])
def test_stale_or_future_deliveries_are_refused(skew: int) -> None:
    with pytest.raises(Unauthorized):
        B2BPortalAdapter(now=lambda: NOW + skew).verify(request(b2b_portal_payload()), [SECRET.encode()])


def test_topics_cover_every_documented_type() -> None:
    documented = b2b_portal_schema()["properties"]["type"]["enum"]
    assert sorted(documented) == sorted(TOPICS)
