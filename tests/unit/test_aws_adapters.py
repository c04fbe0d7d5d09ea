"""The AWS adapters' own rules, on fake clients: partial PutEvents failures, entry limits, secret formats."""

from __future__ import annotations

from typing import Any

import pytest

from infra.samples import compact, shopify_payload
from shared.aws.event_bus import EventBridgePublisher
from shared.aws.secrets import parse_secret_value
from shared.channels.base import WebhookRequest
from shared.channels.shopify.adapter import ShopifyAdapter
from shared.errors import DownstreamUnavailable, PayloadTooLarge
from shared.models.events import EventEnvelope


class FakeEvents:
    def __init__(self, failed: int = 0) -> None:
        self.calls: list[list[dict[str, Any]]] = []
        self.failed = failed

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.calls.append(Entries)
        results = [{"EventId": str(i)} for i in range(len(Entries))]
        for result in results[: self.failed]:
            result.update(ErrorCode="ThrottlingException", ErrorMessage="slow down")
        return {"FailedEntryCount": min(self.failed, len(Entries)), "Entries": results}


def order_event() -> EventEnvelope[Any]:
    headers = {"x-shopify-topic": "orders/create", "x-shopify-shop-domain": "s.myshopify.com"}
    headers["x-shopify-event-id"] = "1"
    return ShopifyAdapter().parse(WebhookRequest(headers=headers, body=compact(shopify_payload()))).event


def test_entries_carry_source_detail_type_and_bus() -> None:
    fake = FakeEvents()
    EventBridgePublisher("bus", client=lambda: fake).publish([order_event()])
    [[entry]] = fake.calls
    assert (entry["EventBusName"], entry["Source"], entry["DetailType"]) == ("bus", "crossdock.intake", "OrderReceived")


def test_partial_failure_is_an_error_not_a_success() -> None:
    with pytest.raises(DownstreamUnavailable) as raised:
        EventBridgePublisher("bus", client=lambda: FakeEvents(failed=1)).publish([order_event(), order_event()])
    assert raised.value.details["error_codes"] == ["ThrottlingException"]


def test_batches_of_ten() -> None:
    fake = FakeEvents()
    EventBridgePublisher("bus", client=lambda: fake).publish([order_event()] * 23)
    assert [len(call) for call in fake.calls] == [10, 10, 3]


def test_event_over_256_kb_is_refused_before_the_call() -> None:
    event = order_event()
    big = event.model_copy(update={"data": event.data.model_copy(update={"lines": event.data.lines * 400})})
    fake = FakeEvents()
    with pytest.raises(PayloadTooLarge):
        EventBridgePublisher("bus", client=lambda: fake).publish([big])
    assert fake.calls == []


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('{"current": "a", "previous": "b"}', [b"a", b"b"]),
        ('{"current": "a", "previous": ""}', [b"a"]),
        ("plain-secret", [b"plain-secret"]),
    ],
)
def test_secret_formats(raw: str, expected: list[bytes]) -> None:
    assert parse_secret_value(raw) == expected


@pytest.mark.parametrize("raw", ['{"current": "", "previous": ""}', '{"other": "x"}', '""'])
def test_empty_secret_is_a_configuration_failure(raw: str) -> None:
    with pytest.raises(DownstreamUnavailable):
        parse_secret_value(raw)
