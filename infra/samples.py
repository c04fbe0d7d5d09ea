"""The sample payloads under ``events/``, turned into signed deliveries and API Gateway events.

The single source for tests, the demo and local invokes: nobody else hand-writes a platform payload.
"""

from __future__ import annotations

import base64
import copy
import json
import time
import uuid
from pathlib import Path
from typing import Any

from infra.assets import ROOT
from shared import standard_webhooks
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


def bigcommerce_payload(name: str = "webhook_order_created") -> dict[str, Any]:
    payload: dict[str, Any] = load_json(f"bigcommerce/{name}.json")
    return payload


def woocommerce_payload(name: str = "order") -> dict[str, Any]:
    payload: dict[str, Any] = load_json(f"woocommerce/{name}.json")
    return payload


def b2b_portal_payload(name: str = "order_created") -> dict[str, Any]:
    payload: dict[str, Any] = load_json(f"b2b_portal/{name}.json")
    return payload


def wms_payload(name: str = "inventory_snapshot") -> dict[str, Any]:
    payload: dict[str, Any] = load_json(f"wms/{name}.json")
    return payload


def wms_delivery(
    body: bytes, *, secret: str | list[str], topic: str, msg_id: str | None = None, timestamp: int | None = None
) -> dict[str, str]:
    """Headers of one WMS delivery: Standard Webhooks (``whsec_`` secrets) plus ``x-webhook-topic``, as ShipBob sends.

    ``msg_id`` is the same on every retry of one event; the timestamp and signature are per attempt.
    """
    headers = {"content-type": "application/json", "x-webhook-topic": topic}
    headers.update(standard_webhooks_headers(body, secret, msg_id or f"msg_{uuid.uuid4().hex}", timestamp))
    return headers


def standard_webhooks_headers(
    body: bytes, secret: str | list[str], msg_id: str, timestamp: int | None = None
) -> dict[str, str]:
    """Standard Webhooks headers of one attempt: ``v1`` signatures of ``{id}.{timestamp}.{body}``, one per secret.

    Several secrets are how a sender rotates: it signs with the old and the new one for a while.
    """
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    secrets = [secret] if isinstance(secret, str) else secret
    signatures = " ".join(standard_webhooks.sign(s.encode(), msg_id, stamp, body) for s in secrets)
    return {"webhook-id": msg_id, "webhook-timestamp": stamp, "webhook-signature": signatures}


def bigcommerce_delivery(
    body: bytes, *, secret: str, msg_id: str | None = None, timestamp: int | None = None
) -> dict[str, str]:
    """Headers of one BigCommerce delivery: Standard Webhooks keyed with the app's client secret itself.

    ``msg_id`` is the same on every retry of one event; the timestamp and signature are per attempt.
    """
    headers = {"Content-Type": "application/json"}
    headers.update(standard_webhooks_headers(body, secret, msg_id or str(uuid.uuid4()), timestamp))
    return headers


def woocommerce_delivery(
    body: bytes, *, secret: str, topic: str = "order.created", source: str | None = None
) -> dict[str, str]:
    """Headers of one WooCommerce delivery of ``body``: base64 HMAC-SHA256 of the raw body, a new delivery id."""
    headers: dict[str, str] = load_json("woocommerce/headers_order_created.json")
    resource, event = topic.split(".", 1)
    headers.update(
        {
            "X-WC-Webhook-Topic": topic,
            "X-WC-Webhook-Resource": resource,
            "X-WC-Webhook-Event": event,
            "X-WC-Webhook-Signature": hmac_sha256_b64(secret.encode(), body),
            "X-WC-Webhook-Delivery-ID": uuid.uuid4().hex,  # new per delivery
        }
    )
    if source:
        headers["X-WC-Webhook-Source"] = source
    return headers


def woocommerce_ping(webhook_id: int = 11) -> tuple[dict[str, str], bytes]:
    """The unsigned ping WooCommerce sends when a hook is saved: headers and body."""
    headers = {
        "User-Agent": "WooCommerce/10.2.1 Hookshot (WordPress/6.8.3)",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    return headers, f"webhook_id={webhook_id}".encode()


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
