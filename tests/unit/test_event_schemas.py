"""The committed JSON Schemas match the models, and every sample event validates against them."""

from __future__ import annotations

import json

import jsonschema
import pytest

from infra.samples import compact, shopify_payload
from infra.schemas import SCHEMAS_DIR, contract_schemas, render
from shared.channels.base import WebhookRequest
from shared.channels.shopify.adapter import TOPICS, ShopifyAdapter


@pytest.mark.parametrize("detail_type", sorted(contract_schemas()))
def test_committed_schema_has_not_drifted(detail_type: str) -> None:
    committed = SCHEMAS_DIR / f"{detail_type}.json"
    assert committed.is_file(), f"run `make schemas`: {committed} is missing"
    assert committed.read_text() == render(contract_schemas()[detail_type]), "run `make schemas` and review"


def test_no_stale_schema_files() -> None:
    assert {p.stem for p in SCHEMAS_DIR.glob("*.json")} == set(contract_schemas())


@pytest.mark.parametrize(
    ("topic", "sample"),
    [
        ("orders/create", "orders_create"),
        ("orders/updated", "orders_updated"),
        ("orders/cancelled", "orders_cancelled"),
    ],
)
def test_published_detail_validates_against_its_schema(topic: str, sample: str) -> None:
    headers = {"x-shopify-topic": topic, "x-shopify-shop-domain": "s.myshopify.com", "x-shopify-event-id": "e"}
    delivery = ShopifyAdapter().parse(WebhookRequest(headers=headers, body=compact(shopify_payload(sample))))
    schema = json.loads((SCHEMAS_DIR / f"{TOPICS[topic].detail_type}.json").read_text())
    jsonschema.validate(json.loads(delivery.event.model_dump_json()), schema)
