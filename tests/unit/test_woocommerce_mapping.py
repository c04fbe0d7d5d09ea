"""WooCommerce REST v3 order → canonical Order, on the real-format samples in events/woocommerce."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import jsonschema
import pytest

from infra.local.sandboxes.woocommerce import wp_json
from infra.samples import compact, woocommerce_delivery, woocommerce_payload, woocommerce_ping
from infra.schemas import SCHEMAS_DIR
from shared.channels.base import WebhookRequest
from shared.channels.woocommerce.adapter import WooCommerceAdapter
from shared.errors import NotFound, Unauthorized, ValidationFailed
from shared.models import FinancialStatus, OrderCancelled, OrderReceived, OrderUpdated
from shared.models.events import ChannelOrderNotified

SECRET = "wc-webhook-secret"
STORE = "orders.acme-supply.example"


def request(payload: object, topic: str = "order.created", **extra_headers: str) -> WebhookRequest:
    body = payload if isinstance(payload, bytes) else compact(payload)
    headers = {k.lower(): v for k, v in woocommerce_delivery(body, secret=SECRET, topic=topic).items()}
    return WebhookRequest(headers={**headers, **extra_headers}, body=body)


def parse(payload: object, topic: str = "order.created", **extra_headers: str):  # type: ignore[no-untyped-def]
    return WooCommerceAdapter().parse(request(payload, topic, **extra_headers))


def test_order_maps_lines_skus_and_money_as_decimal() -> None:
    payload = woocommerce_payload("order")
    order = parse(payload).event.data
    assert (order.channel, order.store, order.external_id) == ("woocommerce", STORE, "30412")
    assert order.order_number == payload["number"]
    assert order.currency == "USD"
    assert order.total is not None
    assert order.total.amount == Decimal(payload["total"])
    assert [line.sku for line in order.lines] == [item["sku"] for item in payload["line_items"]]
    for line, item in zip(order.lines, payload["line_items"], strict=True):
        assert line.line_id == str(item["id"])
        assert line.title == item["name"]
        assert line.quantity == item["quantity"]
        # The unit price is before discounts: WooCommerce's own ``price`` is after them.
        assert line.unit_price.amount * line.quantity == Decimal(item["subtotal"])


def test_coupons_become_line_discounts_that_add_up_to_the_coupon() -> None:
    payload = woocommerce_payload("order")
    order = parse(payload).event.data
    discounts = [d for line in order.lines for d in line.discounts]
    assert {d.code for d in discounts} == {"b2b5"}
    assert sum(d.amount.amount for d in discounts) == Decimal(payload["coupon_lines"][0]["discount"])
    for line, item in zip(order.lines, payload["line_items"], strict=True):
        assert line.unit_price.amount * line.quantity - line.discounts[0].amount.amount == Decimal(item["total"])


def test_several_coupons_are_named_together_and_an_undiscounted_line_has_none() -> None:
    payload = woocommerce_payload("order")
    payload["coupon_lines"].append({**payload["coupon_lines"][0], "code": "freight10"})
    payload["line_items"][0]["total"] = payload["line_items"][0]["subtotal"]
    order = parse(payload).event.data
    assert order.lines[0].discounts == ()
    assert order.lines[1].discounts[0].code == "b2b5,freight10"


def test_line_taxes_carry_the_orders_rate_and_label() -> None:
    payload = woocommerce_payload("order")
    order = parse(payload).event.data
    for line, item in zip(order.lines, payload["line_items"], strict=True):
        [tax] = line.tax_lines
        assert (tax.title, tax.rate) == ("Sales Tax", Decimal("0.075"))
        assert tax.amount.amount == Decimal(item["taxes"][0]["total"])


def test_a_line_tax_with_an_undescribed_rate_keeps_its_amount() -> None:
    payload = woocommerce_payload("order")
    payload["tax_lines"] = []
    payload["line_items"][1]["taxes"].append({"id": 9, "total": "", "subtotal": ""})
    order = parse(payload).event.data
    [tax] = order.lines[1].tax_lines
    assert (tax.title, tax.rate, tax.amount.amount) == ("tax rate 4", Decimal(0), Decimal("33.13125"))


def test_gmt_dates_are_utc_and_site_dates_are_ignored() -> None:
    order = parse(woocommerce_payload("order_updated"), topic="order.updated").event.data
    assert order.placed_at == datetime(2026, 11, 30, 15, 42, 17, tzinfo=UTC)
    assert order.updated_at == datetime(2026, 12, 1, 14, 15, 3, tzinfo=UTC)


def test_customer_shipping_address_and_payment() -> None:
    order = parse(woocommerce_payload("order")).event.data
    assert order.customer.model_dump() == {
        "external_id": "1184",
        "email": "purchasing@riverside-facilities.example",
        "company": "Riverside Facilities Group LLC",
    }
    assert order.shipping_address is not None
    assert order.shipping_address.name == "Receiving Dock 3"
    assert (order.shipping_address.city, order.shipping_address.country_code) == ("Obetz", "US")
    assert order.financial_status == FinancialStatus.PENDING  # on-hold: waiting for the bank transfer
    paid = parse(woocommerce_payload("order_updated"), topic="order.updated").event.data
    assert paid.financial_status == FinancialStatus.PAID


def test_a_guest_with_a_blank_shipping_address() -> None:
    payload = woocommerce_payload("order")
    payload["customer_id"] = 0
    payload["shipping"] = dict.fromkeys(payload["shipping"], "")
    payload["line_items"][0]["sku"] = ""
    order = parse(payload).event.data
    assert order.customer.external_id is None
    assert order.shipping_address is None
    assert order.lines[0].sku is None


@pytest.mark.parametrize(
    ("topic", "status", "event_type"),
    [
        ("order.created", "on-hold", OrderReceived),
        ("order.updated", "processing", OrderUpdated),
        ("order.updated", "cancelled", OrderCancelled),
        ("order.restored", "processing", OrderUpdated),
    ],
)
def test_topics_map_to_contracts(topic: str, status: str, event_type: type) -> None:
    payload = {**woocommerce_payload("order_updated"), "status": status}
    delivery = parse(payload, topic=topic)
    assert isinstance(delivery.event, event_type)
    assert delivery.topic == topic


def test_cancelled_is_dated_by_its_last_modification() -> None:
    payload = {**woocommerce_payload("order_updated"), "status": "cancelled"}
    order = parse(payload, topic="order.updated").event.data
    assert order.cancelled_at == order.updated_at


def test_deleted_carries_the_id_alone_and_is_announced_as_a_cancellation() -> None:
    delivery = parse(b'{"id":30412}', topic="order.deleted")
    assert isinstance(delivery.event, ChannelOrderNotified)
    ref = delivery.event.data
    assert (ref.store, ref.external_id, ref.change, ref.observed_by) == (STORE, "30412", "cancelled", "webhook")
    assert delivery.dedupe_key == f"woocommerce:{STORE}:order.deleted:30412"
    created = parse(woocommerce_payload("order"))
    assert delivery.event.metadata.correlation_id == created.event.metadata.correlation_id


def test_dedupe_key_is_the_order_version_per_topic() -> None:
    payload = woocommerce_payload("order_updated")
    assert (
        parse(payload, topic="order.updated").dedupe_key
        == f"woocommerce:{STORE}:order.updated:30412:2026-12-01T14:15:03+00:00"
    )
    # A create and an update of the same version are two events; the same version sent twice is one.
    assert parse(payload, topic="order.created").dedupe_key != parse(payload, topic="order.updated").dedupe_key
    again = parse(payload, topic="order.updated", **{"x-wc-webhook-delivery-id": "another-delivery"})
    assert again.event.metadata.event_id == parse(payload, topic="order.updated").event.metadata.event_id


@pytest.mark.parametrize("topic", ["order.coupon", "product.updated", "customer.created", "action.woocommerce_x"])
def test_a_topic_we_do_not_take_is_not_found(topic: str) -> None:
    with pytest.raises(NotFound):
        parse(woocommerce_payload("order"), topic=topic)


def test_a_signed_delivery_without_a_topic_is_not_found() -> None:
    signed = request(woocommerce_payload("order"))
    headers = {k: v for k, v in signed.headers.items() if k != "x-wc-webhook-topic"}
    with pytest.raises(NotFound):
        WooCommerceAdapter().parse(WebhookRequest(headers=headers, body=signed.body))


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda p: p.pop("id"), "id"),
        (lambda p: p.update(line_items=[]), "line_items"),
        (lambda p: p["line_items"][0].update(quantity=0), "line_items.0.quantity"),
        (lambda p: p["line_items"][1].update(subtotal="ten dollars"), "line_items.1.subtotal"),
        (lambda p: p.update(date_modified_gmt="yesterday"), "date_modified_gmt"),
        (lambda p: p.pop("date_created_gmt"), "date_created_gmt"),
        (lambda p: p.update(currency="dollars"), "currency"),
        (lambda p: p["shipping"].update(country="United States"), "shipping.country"),
    ],
)
def test_invalid_payload_names_the_field(mutate, field: str) -> None:  # type: ignore[no-untyped-def]
    payload = woocommerce_payload("order")
    mutate(payload)
    with pytest.raises(ValidationFailed) as raised:
        parse(payload)
    assert raised.value.details["field"] == field


@pytest.mark.parametrize("body", [b"", b"{", b"not json", b"[]", b"null", b"\xff\xfe", b"webhook_id=11"])
def test_garbage_is_a_validation_error(body: bytes) -> None:
    with pytest.raises(ValidationFailed):
        parse(body)


@pytest.mark.parametrize("source", ["", "not a url", "/relative/path"])
def test_a_missing_source_is_named(source: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        parse(woocommerce_payload("order"), **{"x-wc-webhook-source": source})
    assert raised.value.details["field"] == "x-wc-webhook-source"


def test_the_store_is_the_sites_host() -> None:
    source = {"x-wc-webhook-source": "https://Shop.Example.com:8443/wholesale/"}
    assert parse(woocommerce_payload("order"), **source).event.data.store == "shop.example.com"


# -- the creation ping ------------------------------------------------------------------------------------------
def test_the_creation_ping_gets_a_small_reply_and_no_verification() -> None:
    headers, body = woocommerce_ping(webhook_id=17)
    ping = WebhookRequest(headers={k.lower(): v for k, v in headers.items()}, body=body)
    assert WooCommerceAdapter().handshake(ping) == {"ping": "ok", "webhook_id": 17}


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        ({}, b'{"id":1}'),
        ({}, b"webhook_id=abc"),
        ({}, b"webhook_id=1&topic=order.created"),
        ({"x-wc-webhook-signature": "c2ln"}, b"webhook_id=11"),
        ({"x-wc-webhook-topic": "order.created"}, b"webhook_id=11"),
    ],
)
def test_anything_else_is_not_a_ping(headers: dict[str, str], body: bytes) -> None:
    assert WooCommerceAdapter().handshake(WebhookRequest(headers=headers, body=body)) is None


# -- signatures -------------------------------------------------------------------------------------------------
def test_verifies_the_bytes_wordpress_sent_escaped_slashes_and_all() -> None:
    payload = woocommerce_payload("order")
    body = wp_json(payload)
    assert b"\\/" in body
    adapter = WooCommerceAdapter()
    adapter.verify(request(body), [b"old-secret", SECRET.encode()])
    assert adapter.parse(request(body)).event.data == parse(payload).event.data
    reserialised = request(compact(payload))
    signed_escaped = WebhookRequest(
        headers={**reserialised.headers, "x-wc-webhook-signature": request(body).headers["x-wc-webhook-signature"]},
        body=reserialised.body,
    )
    with pytest.raises(Unauthorized):
        adapter.verify(signed_escaped, [SECRET.encode()])


@pytest.mark.parametrize("signature", [None, "", "c2lnbmF0dXJl"])
def test_a_missing_or_wrong_signature_is_unauthorized(signature: str | None) -> None:
    signed = request(woocommerce_payload("order"))
    headers: dict[str, Any] = {k: v for k, v in signed.headers.items() if k != "x-wc-webhook-signature"}
    if signature is not None:
        headers["x-wc-webhook-signature"] = signature
    with pytest.raises(Unauthorized):
        WooCommerceAdapter().verify(WebhookRequest(headers=headers, body=signed.body), [SECRET.encode()])


@pytest.mark.parametrize(
    ("topic", "sample"), [("order.created", "order"), ("order.updated", "order_updated"), ("order.deleted", None)]
)
def test_published_detail_validates_against_its_schema(topic: str, sample: str | None) -> None:
    delivery = parse(woocommerce_payload(sample) if sample else b'{"id":30412}', topic=topic)
    schema = json.loads((SCHEMAS_DIR / f"{delivery.event.detail_type}.json").read_text())
    jsonschema.validate(json.loads(delivery.event.model_dump_json()), schema)


def test_no_retries_so_no_horizon() -> None:
    assert WooCommerceAdapter.retry_horizon_seconds == 0
