"""BigCommerce through the intake handler on moto: thin signed webhooks become ChannelOrderNotified, once."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from functions.receive_webhook.handler import lambda_handler
from infra.local.sandboxes.bigcommerce import BigCommerceSandbox
from infra.samples import bigcommerce_delivery, bigcommerce_payload, compact, http_api_event
from tests.fakes import FakeLambdaContext
from tests.integration.conftest import BIGCOMMERCE_PREVIOUS_SECRET, BIGCOMMERCE_SECRET, Aws

MSG_ID = "5f0c9a52-6a0e-4c9b-9d8e-1b2f3c4d5e6f"


def invoke(event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = lambda_handler(event, FakeLambdaContext())
    return response["statusCode"], json.loads(response["body"])


def bigcommerce_event(
    body: bytes | None = None, *, secret: str = BIGCOMMERCE_SECRET, timestamp: int | None = None
) -> dict[str, Any]:
    body = body if body is not None else compact(bigcommerce_payload("webhook_order_created"))
    headers = bigcommerce_delivery(body, secret=secret, msg_id=MSG_ID, timestamp=timestamp)
    return http_api_event("bigcommerce", headers, body)


def test_first_delivery_gets_202_and_one_channel_order_notified(aws: Aws) -> None:
    status, body = invoke(bigcommerce_event())
    assert (status, body["detail_type"], body["duplicate"]) == (202, "ChannelOrderNotified", False)
    [event] = aws.drain()
    assert (event["detail-type"], event["source"]) == ("ChannelOrderNotified", "crossdock.intake")
    assert event["detail"]["metadata"]["event_id"] == body["event_id"]
    assert event["detail"]["data"] == {
        "channel": "bigcommerce",
        "store": "abc123xyz",
        "external_id": "1207",
        "change": "created",
        "observed_by": "webhook",
        "updated_at": None,
    }


def test_a_retry_of_the_same_event_gets_200_and_publishes_nothing(aws: Aws) -> None:
    first_status, first = invoke(bigcommerce_event())
    # BigCommerce's retry: the same body and hash, signed again a minute later.
    again_status, again = invoke(bigcommerce_event(timestamp=int(time.time()) + 60))
    assert (first_status, again_status) == (202, 200)
    assert again == {**first, "duplicate": True}
    assert len(aws.drain()) == 1


def test_another_event_on_the_same_order_is_published(aws: Aws) -> None:
    invoke(bigcommerce_event())
    status, _ = invoke(bigcommerce_event(compact(bigcommerce_payload("webhook_order_updated"))))
    assert status == 202
    assert [e["detail"]["data"]["change"] for e in aws.drain()] == ["created", "updated"]


def test_previous_client_secret_is_accepted_during_rotation(aws: Aws) -> None:
    status, _ = invoke(bigcommerce_event(secret=BIGCOMMERCE_PREVIOUS_SECRET))
    assert status == 202


def test_wrong_signature_gets_401(aws: Aws) -> None:
    status, body = invoke(bigcommerce_event(secret="another-apps-client-secret"))
    assert (status, body) == (401, {"error": "invalid signature", "error_class": "auth"})
    assert aws.drain() == []


@pytest.mark.parametrize("age", [600, -600])
def test_stale_or_future_timestamp_gets_401(aws: Aws, age: int) -> None:
    status, body = invoke(bigcommerce_event(timestamp=int(time.time()) - age))
    assert (status, body["error_class"]) == (401, "auth")
    assert aws.drain() == []


def test_signed_garbage_gets_400(aws: Aws) -> None:
    status, body = invoke(bigcommerce_event(b"\x00garbage{"))
    assert (status, body["error_class"]) == (400, "validation")
    assert aws.drain() == []


def test_an_unsupported_scope_gets_404(aws: Aws) -> None:
    payload = {**bigcommerce_payload(), "scope": "store/product/updated", "data": {"type": "product", "id": 5}}
    status, _ = invoke(bigcommerce_event(compact(payload)))
    assert status == 404
    assert aws.drain() == []


def test_what_the_sandbox_sends_is_accepted_byte_for_byte(aws: Aws) -> None:
    """The sandbox signs as BigCommerce does; a duplicate delivery, then a cancellation from the control panel."""
    store = BigCommerceSandbox(client_secret=BIGCOMMERCE_SECRET)
    store.webhook_targets = ["https://crossdock.example/v1/webhooks/bigcommerce"]
    order_id = store.add_sample_order()
    store.emit_order_event("store/order/created", order_id, delays=(0.0, 0.0))
    store.set_order_status(order_id, 5)  # echoes store/order/updated and store/order/statusUpdated
    statuses = [
        invoke(http_api_event("bigcommerce", store.delivery_headers(delivery), delivery.body))[0]
        for delivery in store.outbox
    ]
    assert statuses == [202, 200, 202, 202]
    changes = [(e["detail"]["data"]["external_id"], e["detail"]["data"]["change"]) for e in aws.drain()]
    assert changes == [(str(order_id), "created"), (str(order_id), "updated"), (str(order_id), "cancelled")]
