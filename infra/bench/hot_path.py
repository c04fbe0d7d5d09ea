"""Warm hot path: µs per webhook (verify + parse + map) on a 19 KB Shopify order, and µs per SQS record in each
consumer, network excluded (``infra.bench.consumers``).

The webhook figure calls what the intake calls for one delivery: the platform's adapter from the registry, its
signature check on the raw bytes, then its parse, which maps the payload to the canonical order and its event. The
intake figure adds the rest of the intake logic on fakes: the API Gateway event read, the idempotent publish
(Powertools idempotency on an in-memory store, a fake bus) and the response.
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field
from typing import Any, cast

from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.receive_webhook.logic import IntakeDeps, receive_webhook
from infra.bench import consumers
from infra.bench.fakes import FakeLambdaContext, FakeOrderStore, FakePublisher, FakeSecrets, InMemoryPersistence
from infra.bench.memory_journey import dev_config, journeys
from infra.bench.timing import logs_to_sink, per_call_us
from infra.samples import compact, load_json, shopify_delivery, shopify_payload
from shared.channels.base import WebhookRequest
from shared.channels.registry import adapter_for
from shared.http import json_response, webhook_request

GOAL_WEBHOOK_US = 1000.0
TARGET_BODY_BYTES = 19_000
SECRET = "bench-webhook-secret"  # noqa: S105 - signs the bench's own deliveries, nothing else
PLATFORM = "shopify"
WARMUP = 1  # loops thrown away before the timed ones


@dataclass(frozen=True)
class Settings:
    webhook_calls: int = 300
    repeat: int = 7
    orders: int = 50  # distinct orders per consumer repeat


QUICK = Settings(webhook_calls=20, repeat=2, orders=10)


@dataclass(frozen=True)
class HotPathFigures:
    webhook_body_bytes: int
    webhook_line_items: int
    webhook_us: float
    intake_us: float
    consumer_us: dict[str, float] = field(default_factory=dict)
    consumer_events: dict[str, str] = field(default_factory=dict)


def large_order(target_bytes: int = TARGET_BODY_BYTES) -> dict[str, Any]:
    """The real-format ``orders/create`` sample with more line items (clones of its own, new ids and SKUs) until its
    compact JSON, as Shopify sends it, reaches ``target_bytes``."""
    payload = shopify_payload("orders_create")
    originals = payload["line_items"]
    next_id = max(int(item["id"]) for item in originals) + 1
    for index in itertools.count():
        if len(compact(payload)) >= target_bytes:
            return payload
        item = copy.deepcopy(originals[index % len(originals)])
        item["id"] = next_id + index
        item["sku"] = f"{item.get('sku') or 'ITEM'}-X{index}"
        item["admin_graphql_api_id"] = f"gid://shopify/LineItem/{item['id']}"
        payload["line_items"].append(item)
    raise AssertionError("unreachable")


def webhook_us(body: bytes, settings: Settings) -> float:
    headers = {k.lower(): v for k, v in shopify_delivery(body, secret=SECRET).items()}
    request = WebhookRequest(headers=headers, body=body)
    secrets = [SECRET.encode()]

    def deliver() -> None:
        adapter = adapter_for(PLATFORM)
        adapter.verify(request, secrets)
        adapter.parse(request)

    return per_call_us(deliver, number=settings.webhook_calls, repeat=settings.repeat)


def intake_us(body: bytes, settings: Settings) -> float:
    """The whole intake logic per delivery, each a new event (a duplicate would skip the publish)."""
    template: dict[str, Any] = load_json("apigw/http_api_v2_webhook.json")
    deps = IntakeDeps(
        secrets=FakeSecrets(**{PLATFORM: [SECRET]}),
        publisher=FakePublisher(),
        persistence=InMemoryPersistence(),
        references=FakeOrderStore(),
        dedupe_windows=dev_config().dedupe_window_seconds,
    )
    context = cast(LambdaContext, FakeLambdaContext("crossdock-bench-receive_webhook", timeout_ms=600_000))
    calls = settings.webhook_calls * (WARMUP + settings.repeat)
    events = []
    for index in range(calls):
        event = copy.deepcopy(template)
        event["pathParameters"] = {"platform": PLATFORM}
        event["headers"] = shopify_delivery(body, secret=SECRET, event_id=f"bench-{index}")
        event["body"] = body.decode()
        event["isBase64Encoded"] = False
        events.append(event)
    pending = iter(events)

    def deliver() -> None:
        event = next(pending)
        ack = receive_webhook(PLATFORM, webhook_request(event), deps, context)
        json_response(202, ack.model_dump())

    return per_call_us(deliver, number=settings.webhook_calls, repeat=settings.repeat, warmup=WARMUP)


def measure(settings: Settings = Settings()) -> HotPathFigures:
    payload = large_order()
    body = compact(payload)
    with logs_to_sink("INFO"):  # staging's and prod's level (cdk.json): the log lines are part of the work
        webhook = webhook_us(body, settings)
        intake = intake_us(body, settings)
        world, made = journeys(settings.orders)
        cases = consumers.cases(world, made)
        per_record = {case.function: consumers.per_record_us(case, settings.repeat) for case in cases}
    return HotPathFigures(
        webhook_body_bytes=len(body),
        webhook_line_items=len(payload["line_items"]),
        webhook_us=webhook,
        intake_us=intake,
        consumer_us=per_record,
        consumer_events={case.function: case.event for case in cases},
    )
