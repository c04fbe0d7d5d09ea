"""The sample payloads under ``events/``, turned into signed deliveries and API Gateway events.

The single source for tests, the demo and local invokes: nobody else hand-writes a platform payload.
"""

from __future__ import annotations

import base64
import copy
import json
import uuid
from pathlib import Path
from typing import Any

from infra.assets import ROOT
from shared.signatures import hmac_sha256_b64

EVENTS_DIR = ROOT / "events"


def load_json(relative: str) -> Any:
    return json.loads((EVENTS_DIR / relative).read_text())


def compact(payload: Any) -> bytes:
    """JSON as platforms send it: compact UTF-8, no whitespace."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def shopify_payload(name: str = "orders_create") -> dict[str, Any]:
    payload: dict[str, Any] = load_json(f"shopify/{name}.json")
    return payload


def shopify_delivery(
    body: bytes,
    *,
    secret: str,
    topic: str = "orders/create",
    shop: str | None = None,
    event_id: str | None = None,
) -> dict[str, str]:
    """Headers of one Shopify delivery of ``body``, signed as Shopify signs: base64 HMAC-SHA256 of the raw body."""
    headers: dict[str, str] = load_json("shopify/headers_orders_create.json")
    headers.update(
        {
            "X-Shopify-Topic": topic,
            "X-Shopify-Hmac-Sha256": hmac_sha256_b64(secret.encode(), body),
            "X-Shopify-Webhook-Id": str(uuid.uuid4()),  # new per delivery, retries included
            "X-Shopify-Event-Id": event_id or str(uuid.uuid4()),
        }
    )
    if shop:
        headers["X-Shopify-Shop-Domain"] = shop
    return headers


def http_api_event(
    platform: str, headers: dict[str, str], body: bytes, *, base64_encoded: bool = False
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event as it reaches the function: header names lower-cased."""
    event: dict[str, Any] = copy.deepcopy(load_json("apigw/http_api_v2_webhook.json"))
    path = f"/v1/webhooks/{platform}"
    event["rawPath"] = path
    event["requestContext"]["http"]["path"] = path
    event["pathParameters"] = {"platform": platform}
    event["headers"].update({k.lower(): v for k, v in headers.items()})
    event["headers"]["content-length"] = str(len(body))
    event["isBase64Encoded"] = base64_encoded
    event["body"] = base64.b64encode(body).decode() if base64_encoded else body.decode("utf-8")
    return event


def sample_paths() -> list[Path]:
    return sorted(EVENTS_DIR.rglob("*.json"))
