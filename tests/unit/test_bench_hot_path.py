"""The warm hot path's pieces: the 19 KB order, every SQS consumer in the bench, failures refused rather than timed.
Tiny loop counts: these check what is run, never how fast."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infra.bench import consumers, hot_path
from infra.bench.consumers import ConsumerCase
from infra.bench.timing import logs_to_sink, per_call_us
from infra.samples import compact, shopify_payload
from shared.channels.base import WebhookRequest
from shared.channels.shopify.adapter import ShopifyAdapter
from shared.errors import ValidationFailed
from shared.observability import logger

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"


def sqs_consumers() -> set[str]:
    """Every function whose handler takes an SQS batch (it reads the event's Records, itself or through consume)."""
    return {
        path.parent.name
        for path in FUNCTIONS.glob("*/handler.py")
        if "consume(" in path.read_text() or '"Records"' in path.read_text()
    }


def test_the_webhook_order_is_the_real_sample_padded_with_line_items_to_19_kb() -> None:
    payload = hot_path.large_order()
    body = compact(payload)
    sample_lines = len(shopify_payload("orders_create")["line_items"])
    one_line = len(compact(payload["line_items"][0]))
    assert hot_path.TARGET_BODY_BYTES <= len(body) < hot_path.TARGET_BODY_BYTES + one_line + 100
    assert len(payload["line_items"]) > sample_lines
    assert len({item["id"] for item in payload["line_items"]}) == len(payload["line_items"])
    headers = {
        "x-shopify-topic": "orders/create",
        "x-shopify-shop-domain": "s.myshopify.com",
        "x-shopify-event-id": "1",
    }
    order = ShopifyAdapter().parse(WebhookRequest(headers=headers, body=body)).event.data
    assert len(order.lines) == len(payload["line_items"])


def test_every_sqs_consumer_runs_its_records_without_a_failure() -> None:
    figures = hot_path.measure(hot_path.Settings(webhook_calls=2, repeat=1, orders=10))
    assert set(figures.consumer_us) == sqs_consumers()
    assert all(us > 0 for us in figures.consumer_us.values())
    assert figures.webhook_us > 0
    assert figures.intake_us > 0
    assert figures.webhook_body_bytes >= hot_path.TARGET_BODY_BYTES


def test_a_record_that_fails_stops_the_bench_instead_of_being_timed() -> None:
    def refuses(_body: str) -> None:
        raise ValidationFailed("bad record")

    dead_lettered = ConsumerCase("refuses", "OrderReceived", ("{}",), consumers.consuming("refuses", lambda: refuses))
    with logs_to_sink(), pytest.raises(RuntimeError, match="dead-lettered"):
        consumers.per_record_us(dead_lettered, repeat=1)

    def reports_a_failure() -> Any:
        return lambda event: {"batchItemFailures": [{"itemIdentifier": "1"}]}

    failing = ConsumerCase("failing", "OrderReceived", ("{}",), reports_a_failure)
    with pytest.raises(RuntimeError, match="1 records failed"):
        consumers.per_record_us(failing, repeat=1)


def test_per_call_us_warms_up_then_times_every_repeat() -> None:
    calls: list[int] = []
    assert per_call_us(lambda: calls.append(1), number=5, repeat=3, warmup=2) > 0
    assert len(calls) == 25


def test_logs_go_to_a_sink_during_the_bench_and_come_back_after(capsys: pytest.CaptureFixture[str]) -> None:
    level = logger.log_level
    with logs_to_sink("INFO"):
        logger.info("inside the bench")
        print("a metric flush")  # noqa: T201 - what Powertools metrics does
    assert logger.log_level == level
    assert capsys.readouterr().out == ""
