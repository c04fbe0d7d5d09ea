"""``crossdock send``: a sample, signed with the target's own secret, posted to its intake (respx answers)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import respx

from shared.channels.base import WebhookRequest
from shared.channels.registry import adapter_for
from tests.integration.cli_world import API_URL, WEBHOOK_SECRETS, World, moto_world


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    yield from moto_world(monkeypatch)


def test_send_signs_with_the_target_secret_and_prints_the_answer(world: World) -> None:
    with respx.mock(assert_all_called=True) as mock:
        route = mock.post(f"{API_URL}/v1/webhooks/shopify").respond(202, json={"detail_type": "OrderReceived"})

        result = world.run("send", "shopify", "orders_updated")

    assert result.exit_code == 0, result.output
    assert f"POST {API_URL}/v1/webhooks/shopify → 202" in result.output
    assert '{"detail_type":"OrderReceived"}' in result.output
    sent = route.calls.last.request
    delivery = WebhookRequest(headers={k.lower(): v for k, v in sent.headers.items()}, body=sent.content)
    adapter_for("shopify").verify(delivery, [WEBHOOK_SECRETS["shopify"].encode()])
    assert delivery.header("x-shopify-topic") == "orders/updated"


def test_send_with_a_topic_and_a_refusal_exits_1(world: World) -> None:
    with respx.mock() as mock:
        route = mock.post(f"{API_URL}/v1/webhooks/wms").respond(401, json={"message": "invalid signature"})

        result = world.run("send", "wms", "order_shipment_delivered", "--topic", "order.shipment.delivered")

    assert result.exit_code == 1
    assert "401" in result.output
    assert route.calls.last.request.headers["x-webhook-topic"] == "order.shipment.delivered"


def test_send_to_an_intake_that_is_not_there_exits_2(world: World) -> None:
    with respx.mock() as mock:
        mock.post(f"{API_URL}/v1/webhooks/shopify").mock(side_effect=httpx.ConnectError("refused"))

        result = world.run("send", "shopify", "orders_create")

    assert result.exit_code == 2
    assert "cannot reach" in result.output


def test_send_of_a_platform_without_a_secret_exits_2(world: World) -> None:
    result = world.run("send", "carrier", "tracking_update")

    assert result.exit_code == 2
    assert "ResourceNotFoundException" in result.output


def test_send_of_a_file_that_is_not_json_is_a_usage_error(world: World, tmp_path: Path) -> None:
    broken = tmp_path / "order.json"
    broken.write_text('{"id": 1,')

    result = world.run("send", "shopify", str(broken))

    assert result.exit_code == 2
    assert "not JSON (Expecting" in result.output
    assert isinstance(result.exception, SystemExit)  # a usage error, no traceback
