"""``crossdock send`` signs each sample as its platform does: the platform's own adapter verifies and maps it."""

from __future__ import annotations

import json

import pytest
import typer

from infra import samples
from infra.ops.send import default_topic, sample_path, signed_headers
from shared.channels.base import WebhookRequest
from shared.channels.registry import adapter_for
from shared.errors import Unauthorized

SECRETS = {
    "shopify": "shpss_unit",
    "bigcommerce": "bc_client_secret",
    "woocommerce": "wc_secret",
    "b2b_portal": "whsec_dW5pdC1wb3J0YWwta2V5",
    "wms": "whsec_dW5pdC13bXMta2V5",
    "carrier": "aftership_secret",
}


@pytest.mark.parametrize(
    ("platform", "file", "topic"),
    [
        ("shopify", "orders_create", "orders/create"),
        ("shopify", "orders_cancelled.json", "orders/cancelled"),
        ("bigcommerce", "webhook_order_created", "store/order/created"),
        ("woocommerce", "order", "order.created"),
        ("woocommerce", "order_updated", "order.updated"),
        ("b2b_portal", "order_created", "order.created"),
        ("wms", "order_shipped", "order.shipped"),
        ("wms", "inventory_snapshot", "inventory.snapshot"),
        ("carrier", "tracking_update", "tracking_update"),
    ],
)
def test_every_platform_s_sample_verifies_and_maps_as_sent(platform: str, file: str, topic: str) -> None:
    path = sample_path(platform, file)
    payload = json.loads(path.read_text())
    body = samples.compact(payload)

    headers = signed_headers(platform, body, SECRETS[platform], default_topic(platform, path, payload))

    request = WebhookRequest(headers={k.lower(): v for k, v in headers.items()}, body=body)
    adapter = adapter_for(platform)
    adapter.verify(request, [SECRETS[platform].encode()])
    assert adapter.parse(request).topic == topic


def test_a_wrong_secret_does_not_verify() -> None:
    body = samples.compact(samples.shopify_payload())
    headers = signed_headers("shopify", body, "not-the-secret", "orders/create")

    with pytest.raises(Unauthorized, match="invalid signature"):
        adapter_for("shopify").verify(
            WebhookRequest(headers={k.lower(): v for k, v in headers.items()}, body=body), [b"shpss_unit"]
        )


def test_unknown_files_are_usage_errors() -> None:
    with pytest.raises(typer.BadParameter, match="orders_create"):
        sample_path("shopify", "orders_creat")
