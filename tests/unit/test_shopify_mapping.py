"""Shopify order resource → canonical Order, on the real-format samples in events/shopify."""

from __future__ import annotations

from decimal import Decimal

import pytest

from infra.samples import compact, shopify_payload
from shared.channels.base import WebhookRequest
from shared.channels.shopify.adapter import ShopifyAdapter
from shared.errors import NotFound, ValidationFailed
from shared.models import FinancialStatus, OrderCancelled, OrderReceived, OrderUpdated

SHOP = "acme-supply.myshopify.com"


def parse(payload: object, topic: str = "orders/create", **extra_headers: str):  # type: ignore[no-untyped-def]
    body = payload if isinstance(payload, bytes) else compact(payload)
    headers = {
        "x-shopify-topic": topic,
        "x-shopify-shop-domain": SHOP,
        "x-shopify-event-id": "evt-1",
        "x-shopify-webhook-id": "wh-1",
        **extra_headers,
    }
    return ShopifyAdapter().parse(WebhookRequest(headers=headers, body=body))


def test_create_maps_every_line_with_money_as_decimal() -> None:
    payload = shopify_payload("orders_create")
    delivery = parse(payload)
    order = delivery.event.data
    assert isinstance(delivery.event, OrderReceived)
    assert order.external_id == str(payload["id"])
    assert order.store == SHOP
    assert order.order_number == payload["name"]
    assert order.currency == "USD"
    assert len(order.lines) == len(payload["line_items"])
    for line, item in zip(order.lines, payload["line_items"], strict=True):
        assert line.sku == item["sku"]
        assert line.quantity == item["quantity"]
        assert line.unit_price.amount == Decimal(item["price"])
        assert sum(t.amount.amount for t in line.tax_lines) == sum(Decimal(t["price"]) for t in item["tax_lines"])
    assert order.total is not None
    assert order.total.amount == Decimal(payload["total_price"])
    assert order.financial_status == FinancialStatus(payload["financial_status"])
    assert order.shipping_address is not None
    assert order.shipping_address.country_code == payload["shipping_address"]["country_code"]


def test_discount_allocations_keep_their_code() -> None:
    payload = shopify_payload("orders_create")
    order = parse(payload).event.data
    discounted = [line for line in order.lines if line.discounts]
    assert discounted, "the sample has a discounted line"
    allocated = sum(Decimal(a["amount"]) for i in payload["line_items"] for a in i["discount_allocations"])
    assert sum(d.amount.amount for line in discounted for d in line.discounts) == allocated
    codes = {d.code for line in discounted for d in line.discounts}
    assert codes == {app.get("code") or app.get("title") for app in payload["discount_applications"]}


def test_money_serialises_as_string_not_float() -> None:
    detail = parse(shopify_payload("orders_create")).event.model_dump(mode="json")
    assert isinstance(detail["data"]["lines"][0]["unit_price"]["amount"], str)


def test_custom_item_without_sku_or_address_is_still_an_order() -> None:
    order = parse(shopify_payload("orders_create_minimal")).event.data
    assert order.lines[0].sku is None
    assert order.shipping_address is None


@pytest.mark.parametrize(
    ("topic", "sample", "event_type"),
    [
        ("orders/create", "orders_create", OrderReceived),
        ("orders/updated", "orders_updated", OrderUpdated),
        ("orders/cancelled", "orders_cancelled", OrderCancelled),
    ],
)
def test_topics_map_to_contracts(topic: str, sample: str, event_type: type) -> None:
    assert isinstance(parse(shopify_payload(sample), topic=topic).event, event_type)


def test_cancelled_carries_reason() -> None:
    order = parse(shopify_payload("orders_cancelled"), topic="orders/cancelled").event.data
    assert order.cancelled_at is not None
    assert order.cancel_reason == "customer"


def test_one_correlation_id_per_order_across_topics() -> None:
    ids = {
        parse(shopify_payload(sample), topic=topic).event.metadata.correlation_id
        for topic, sample in [("orders/create", "orders_create"), ("orders/cancelled", "orders_cancelled")]
    }
    assert len(ids) == 1


def test_event_id_is_stable_per_platform_event() -> None:
    first = parse(shopify_payload("orders_create")).event.metadata.event_id
    again = parse(shopify_payload("orders_create"), **{"x-shopify-webhook-id": "wh-2"}).event.metadata.event_id
    other = parse(shopify_payload("orders_create"), **{"x-shopify-event-id": "evt-2"}).event.metadata.event_id
    assert first == again
    assert first != other


def test_dedupe_key_is_shop_topic_event() -> None:
    assert parse(shopify_payload("orders_create")).dedupe_key == f"shopify:{SHOP}:orders/create:evt-1"


def test_unknown_topic_is_not_found() -> None:
    with pytest.raises(NotFound):
        parse(shopify_payload("orders_create"), topic="products/create")


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda p: p.pop("id"), "id"),
        (lambda p: p.update(line_items=[]), "line_items"),
        (lambda p: p["line_items"][0].update(quantity=0), "line_items.0.quantity"),
        (lambda p: p["line_items"][1].update(price="ten dollars"), "line_items.1.price"),
        (lambda p: p.update(created_at="yesterday"), "created_at"),
        (lambda p: p.update(currency="dollars"), "currency"),
    ],
)
def test_invalid_payload_names_the_field(mutate, field: str) -> None:  # type: ignore[no-untyped-def]
    payload = shopify_payload("orders_create")
    mutate(payload)
    with pytest.raises(ValidationFailed) as raised:
        parse(payload)
    assert raised.value.details["field"] == field


@pytest.mark.parametrize("body", [b"", b"{", b"not json", b"[]", b"null", b"\xff\xfe"])
def test_garbage_is_a_validation_error(body: bytes) -> None:
    with pytest.raises(ValidationFailed):
        parse(body)


def test_missing_shop_domain_is_named() -> None:
    with pytest.raises(ValidationFailed) as raised:
        parse(shopify_payload("orders_create"), **{"x-shopify-shop-domain": ""})
    assert raised.value.details["field"] == "x-shopify-shop-domain"
