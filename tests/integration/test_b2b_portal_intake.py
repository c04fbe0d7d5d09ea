"""A B2B portal through the intake handler on moto: Standard Webhooks, rotation, and one event per webhook-id."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import pytest

from functions.receive_webhook.handler import lambda_handler
from infra.samples import b2b_portal_payload, compact, http_api_event, standard_webhooks_headers
from tests.fakes import FakeLambdaContext
from tests.integration.conftest import B2B_PORTAL_PREVIOUS_SECRET, B2B_PORTAL_SECRET, Aws

MSG_ID = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"


def invoke(event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = lambda_handler(event, FakeLambdaContext())
    return response["statusCode"], json.loads(response["body"])


def portal_event(
    body: bytes | None = None,
    *,
    secrets: str | list[str] = B2B_PORTAL_SECRET,
    msg_id: str = MSG_ID,
    timestamp: int | None = None,
    **extra_headers: str,
) -> dict[str, Any]:
    body = body if body is not None else compact(b2b_portal_payload("order_created"))
    headers = {**standard_webhooks_headers(body, secrets, msg_id, timestamp), **extra_headers}
    return http_api_event("b2b_portal", {"Content-Type": "application/json", **headers}, body)


def test_order_created_gets_202_and_one_order_received(aws: Aws) -> None:
    status, body = invoke(portal_event())
    assert (status, body["detail_type"]) == (202, "OrderReceived")
    [event] = aws.drain()
    assert event["detail"]["metadata"]["event_id"] == body["event_id"]
    data = event["detail"]["data"]
    assert (data["channel"], data["store"], data["external_id"]) == ("b2b_portal", "default", "SO-2026-004417")


def test_a_retry_with_the_same_webhook_id_gets_200_and_publishes_nothing(aws: Aws) -> None:
    first_status, first = invoke(portal_event())
    again_status, again = invoke(portal_event(timestamp=int(time.time()) + 120))
    assert (first_status, again_status) == (202, 200)
    assert again == {**first, "duplicate": True}
    assert len(aws.drain()) == 1


def test_every_event_of_an_order_is_published(aws: Aws) -> None:
    for number, sample in enumerate(["order_created", "order_updated", "order_cancelled"]):
        status, _ = invoke(portal_event(compact(b2b_portal_payload(sample)), msg_id=f"msg_{number}"))
        assert status == 202
    events = aws.drain()
    assert [e["detail-type"] for e in events] == ["OrderReceived", "OrderUpdated", "OrderCancelled"]
    assert len({e["detail"]["metadata"]["correlation_id"] for e in events}) == 1


@pytest.mark.parametrize(
    "secrets",
    [
        B2B_PORTAL_PREVIOUS_SECRET,
        [B2B_PORTAL_PREVIOUS_SECRET, B2B_PORTAL_SECRET],
        ["whsec_b3RoZXI=", B2B_PORTAL_SECRET],
    ],
)
def test_rotation_on_either_side_is_accepted(aws: Aws, secrets: str | list[str]) -> None:
    status, _ = invoke(portal_event(secrets=secrets))
    assert status == 202


def test_wrong_signature_gets_401(aws: Aws) -> None:
    status, body = invoke(portal_event(secrets="whsec_bm90LXRoZS1wb3J0YWwta2V5"))
    assert (status, body) == (401, {"error": "invalid signature", "error_class": "auth"})
    assert aws.drain() == []


@pytest.mark.parametrize("age", [600, -600])
def test_stale_or_future_timestamp_gets_401(aws: Aws, age: int) -> None:
    status, body = invoke(portal_event(timestamp=int(time.time()) - age))
    assert (status, body["error_class"]) == (401, "auth")
    assert aws.drain() == []


def test_signed_garbage_gets_400(aws: Aws) -> None:
    status, body = invoke(portal_event(b"\x00garbage{"))
    assert (status, body["error_class"]) == (400, "validation")
    assert aws.drain() == []


def test_invalid_order_gets_400_naming_the_field(aws: Aws) -> None:
    payload = b2b_portal_payload()
    payload["data"]["lines"][0]["quantity"] = 0
    status, body = invoke(portal_event(compact(payload)))
    assert (status, body["field"]) == (400, "data.lines.0.quantity")


def test_the_portal_header_names_the_store(aws: Aws) -> None:
    status, _ = invoke(portal_event(**{"X-Portal-Id": "inside-sales"}))
    assert status == 202
    assert aws.drain()[0]["detail"]["data"]["store"] == "inside-sales"


def test_dedupe_record_carries_the_portals_window(aws: Aws) -> None:
    invoke(portal_event())
    [item] = boto3.client("dynamodb").scan(TableName="idempotency")["Items"]
    ttl = int(item["expiration"]["N"]) - time.time()
    assert 96 * 3600 - 60 < ttl <= 96 * 3600
