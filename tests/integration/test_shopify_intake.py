"""The intake handler in-process on moto, fed API Gateway events built from events/."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import pytest

from functions.receive_webhook.handler import lambda_handler
from infra.samples import compact, http_api_event, shopify_delivery, shopify_payload
from tests.conftest import JsonLogs
from tests.fakes import FakeLambdaContext
from tests.integration.conftest import BUS, SHOPIFY_PREVIOUS_SECRET, SHOPIFY_SECRET, Aws


def invoke(event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = lambda_handler(event, FakeLambdaContext())
    return response["statusCode"], json.loads(response["body"])


def shopify_event(
    body: bytes | None = None, *, secret: str = SHOPIFY_SECRET, topic: str = "orders/create", **kwargs: Any
) -> dict[str, Any]:
    body = body if body is not None else compact(shopify_payload("orders_create"))
    headers = shopify_delivery(body, secret=secret, topic=topic, event_id=kwargs.pop("event_id", "evt-1"))
    return http_api_event(kwargs.pop("platform", "shopify"), headers, body, **kwargs)


def test_orders_create_gets_202_and_exactly_one_order_received(aws: Aws) -> None:
    status, body = invoke(shopify_event())
    assert status == 202
    events = aws.drain()
    assert [e["detail-type"] for e in events] == ["OrderReceived"]
    event = events[0]
    assert event["source"] == "crossdock.intake"
    assert event["detail"]["metadata"]["event_id"] == body["event_id"]
    assert event["detail"]["data"]["external_id"] == str(shopify_payload("orders_create")["id"])


def test_same_delivery_again_gets_2xx_and_no_second_event(aws: Aws) -> None:
    first_status, first = invoke(shopify_event())
    again_status, again = invoke(shopify_event())
    assert (first_status, again_status) == (202, 200)
    assert again == {**first, "duplicate": True}
    assert len(aws.drain()) == 1


def test_dedupe_record_carries_the_configured_window(aws: Aws) -> None:
    invoke(shopify_event())
    items = boto3.client("dynamodb").scan(TableName="idempotency")["Items"]
    assert len(items) == 1
    ttl = int(items[0]["expiration"]["N"]) - time.time()
    assert 72 * 3600 - 60 < ttl <= 72 * 3600


@pytest.mark.parametrize(
    ("topic", "sample", "detail_type"),
    [("orders/updated", "orders_updated", "OrderUpdated"), ("orders/cancelled", "orders_cancelled", "OrderCancelled")],
)
def test_other_order_topics(aws: Aws, topic: str, sample: str, detail_type: str) -> None:
    status, _ = invoke(shopify_event(compact(shopify_payload(sample)), topic=topic))
    assert status == 202
    assert [e["detail-type"] for e in aws.drain()] == [detail_type]


def test_previous_secret_is_accepted_during_rotation(aws: Aws) -> None:
    status, _ = invoke(shopify_event(secret=SHOPIFY_PREVIOUS_SECRET))
    assert status == 202


def test_base64_encoded_body_is_verified_on_its_raw_bytes(aws: Aws) -> None:
    status, _ = invoke(shopify_event(base64_encoded=True))
    assert status == 202


def test_wrong_signature_gets_401_and_leaks_nothing(aws: Aws, json_logs: JsonLogs) -> None:
    event = shopify_event(secret="not-the-secret")
    status, body = invoke(event)
    assert status == 401
    assert body == {"error": "invalid signature", "error_class": "auth"}
    assert aws.drain() == []
    [line] = [r for r in json_logs.records() if r["message"] == "request failed"]
    assert (line["status"], line["error_class"]) == (401, "auth")
    for secret_or_signature in (SHOPIFY_SECRET, SHOPIFY_PREVIOUS_SECRET, event["headers"]["x-shopify-hmac-sha256"]):
        assert secret_or_signature not in json_logs.text


def test_signed_garbage_gets_400(aws: Aws) -> None:
    status, body = invoke(shopify_event(b"\x00garbage{"))
    assert status == 400
    assert body["error_class"] == "validation"
    assert aws.drain() == []


def test_invalid_payload_gets_400_naming_the_field(aws: Aws) -> None:
    payload = shopify_payload("orders_create")
    payload["line_items"][0]["quantity"] = -1
    status, body = invoke(shopify_event(compact(payload)))
    assert status == 400
    assert body["field"] == "line_items.0.quantity"


def test_eleven_megabytes_gets_413(aws: Aws) -> None:
    status, body = invoke(shopify_event(b"x" * (11 * 1024 * 1024)))
    assert status == 413
    assert body["error"] == "body too large"


@pytest.mark.parametrize(("platform", "topic"), [("magento", "orders/create"), ("shopify", "carts/create")])
def test_unknown_platform_or_topic_gets_404(aws: Aws, platform: str, topic: str) -> None:
    status, _ = invoke(shopify_event(platform=platform, topic=topic))
    assert status == 404


def test_event_bus_failure_gets_5xx_then_the_retry_publishes_once(aws: Aws) -> None:
    events = boto3.client("events")
    events.remove_targets(Rule="tap", EventBusName=BUS, Ids=["tap"])
    events.delete_rule(Name="tap", EventBusName=BUS)
    events.delete_event_bus(Name=BUS)
    status, body = invoke(shopify_event())
    assert status == 503
    assert body["error_class"] == "downstream_unavailable"

    events.create_event_bus(Name=BUS)
    events.put_rule(Name="tap", EventBusName=BUS, EventPattern=json.dumps({"source": ["crossdock.intake"]}))
    tap_arn = boto3.client("sqs").get_queue_attributes(QueueUrl=aws.tap_url, AttributeNames=["QueueArn"])
    events.put_targets(Rule="tap", EventBusName=BUS, Targets=[{"Id": "tap", "Arn": tap_arn["Attributes"]["QueueArn"]}])
    status, _ = invoke(shopify_event())
    assert status == 202
    assert len(aws.drain()) == 1


def test_missing_secret_gets_503_so_the_platform_retries(aws: Aws) -> None:
    boto3.client("secretsmanager").delete_secret(
        SecretId="crossdock-test/webhooks/shopify", ForceDeleteWithoutRecovery=True
    )
    status, _ = invoke(shopify_event())
    assert status == 503
