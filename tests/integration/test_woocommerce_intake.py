"""WooCommerce through the intake handler on moto: the ping, signed order topics, and one event per order version."""

from __future__ import annotations

import json
from typing import Any

from functions.receive_webhook.handler import lambda_handler
from infra.local.sandboxes.woocommerce import WooCommerceSandbox, wp_json
from infra.samples import compact, http_api_event, woocommerce_delivery, woocommerce_payload, woocommerce_ping
from tests.fakes import FakeLambdaContext
from tests.integration.conftest import WOOCOMMERCE_SECRET, Aws


def invoke(event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = lambda_handler(event, FakeLambdaContext())
    return response["statusCode"], json.loads(response["body"])


def woocommerce_event(
    body: bytes | None = None, *, secret: str = WOOCOMMERCE_SECRET, topic: str = "order.created"
) -> dict[str, Any]:
    body = body if body is not None else wp_json(woocommerce_payload("order"))
    return http_api_event("woocommerce", woocommerce_delivery(body, secret=secret, topic=topic), body)


def test_order_created_gets_202_and_one_order_received(aws: Aws) -> None:
    status, body = invoke(woocommerce_event())
    assert (status, body["detail_type"]) == (202, "OrderReceived")
    [event] = aws.drain()
    assert (event["detail-type"], event["source"]) == ("OrderReceived", "crossdock.intake")
    assert event["detail"]["metadata"]["event_id"] == body["event_id"]
    data = event["detail"]["data"]
    assert (data["channel"], data["store"], data["external_id"]) == (
        "woocommerce",
        "orders.acme-supply.example",
        "30412",
    )


def test_the_same_order_version_again_gets_200_and_publishes_nothing(aws: Aws) -> None:
    first_status, first = invoke(woocommerce_event())
    again_status, again = invoke(woocommerce_event())  # a new X-WC-Webhook-Delivery-ID, the same order version
    assert (first_status, again_status) == (202, 200)
    assert again == {**first, "duplicate": True}
    assert len(aws.drain()) == 1


def test_a_newer_version_and_a_cancellation_are_each_published(aws: Aws) -> None:
    invoke(woocommerce_event())
    updated = woocommerce_payload("order_updated")
    cancelled = {**updated, "status": "cancelled", "date_modified_gmt": "2026-12-02T09:03:40"}
    for payload in (updated, cancelled):
        status, _ = invoke(woocommerce_event(wp_json(payload), topic="order.updated"))
        assert status == 202
    assert [e["detail-type"] for e in aws.drain()] == ["OrderReceived", "OrderUpdated", "OrderCancelled"]


def test_the_creation_ping_gets_200_and_publishes_nothing(aws: Aws) -> None:
    headers, body = woocommerce_ping(webhook_id=11)
    status, reply = invoke(http_api_event("woocommerce", headers, body))
    assert (status, reply) == (200, {"ping": "ok", "webhook_id": 11})
    assert aws.drain() == []


def test_wrong_signature_gets_401(aws: Aws) -> None:
    status, body = invoke(woocommerce_event(secret="not-the-secret"))
    assert (status, body) == (401, {"error": "invalid signature", "error_class": "auth"})
    assert aws.drain() == []


def test_reserialised_json_does_not_verify(aws: Aws) -> None:
    event = woocommerce_event()
    event["body"] = compact(woocommerce_payload("order")).decode()  # "/" where WordPress sent "\/"
    status, _ = invoke(event)
    assert status == 401


def test_signed_garbage_gets_400(aws: Aws) -> None:
    status, body = invoke(woocommerce_event(b"\x00garbage{"))
    assert (status, body["error_class"]) == (400, "validation")
    assert aws.drain() == []


def test_an_unsupported_topic_gets_404(aws: Aws) -> None:
    status, _ = invoke(woocommerce_event(topic="product.updated"))
    assert status == 404


def test_what_the_sandbox_sends_is_accepted_byte_for_byte(aws: Aws) -> None:
    """The ping, a duplicated order.created, and a trash, exactly as the sandbox (and WooCommerce) send them."""
    shop = WooCommerceSandbox(webhook_secret=WOOCOMMERCE_SECRET)
    shop.webhook_targets = ["https://crossdock.example/v1/webhooks/woocommerce"]
    shop.send_ping(11)
    shop.emit_order("order.created", shop.sample_order("order"), delays=(0.0, 0.0))
    shop.emit_order("order.deleted", shop.sample_order("order"))
    statuses = [
        invoke(http_api_event("woocommerce", shop.delivery_headers(delivery), delivery.body))[0]
        for delivery in shop.outbox
    ]
    assert statuses == [200, 202, 200, 202]
    assert [e["detail-type"] for e in aws.drain()] == ["OrderReceived", "ChannelOrderNotified"]
