"""Orders for the demo scenario, made from the real-format samples under ``events/``, dated now."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

from infra.samples import b2b_portal_payload, bigcommerce_payload, load_json, shopify_payload, woocommerce_payload

SHOPIFY_BASE_ID = 7_124_853_400_000
# Customers the ERP sandbox knows (infra/local/sandboxes/netsuite.py): in good standing, on credit hold.
SHOPIFY_GOOD_CUSTOMER = 8841720385329
SHOPIFY_CREDIT_HOLD_CUSTOMER = 7301195558961


def _stamp(minutes_ago: float) -> datetime:
    return datetime.now(UTC) - timedelta(minutes=minutes_ago)


def shopify_order(
    number: int,
    *,
    hours_later: int = 0,
    cancelled: bool = False,
    customer: int = SHOPIFY_GOOD_CUSTOMER,
    country: str | None = None,
) -> dict[str, Any]:
    """The sample order as order ``number``, placed minutes ago; later versions carry a later ``updated_at``."""
    order = copy.deepcopy(
        shopify_payload("orders_cancelled" if cancelled else "orders_updated" if hours_later else "orders_create")
    )
    if cancelled:
        # The cancelled sample restocks every line (quantity 0); the order kept its lines as created.
        order["line_items"] = copy.deepcopy(shopify_payload("orders_create")["line_items"])
    order["id"] = SHOPIFY_BASE_ID + number
    order["name"] = f"#{2000 + number}"
    order["order_number"] = 2000 + number
    created = _stamp(30) + timedelta(seconds=number)
    order["created_at"] = created.isoformat()
    order["updated_at"] = (created + timedelta(minutes=hours_later)).isoformat()
    if order.get("customer"):
        order["customer"]["id"] = customer
    if country:
        order["shipping_address"]["country_code"] = country
        order["shipping_address"]["province_code"] = None
    return order


def bigcommerce_order(order_id: int) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    order: dict[str, Any] = load_json("bigcommerce/order.json")
    order["id"] = order_id
    products = load_json("bigcommerce/order_products.json")
    for product in products:
        product["order_id"] = order_id
    addresses = load_json("bigcommerce/order_shipping_addresses.json")
    for address in addresses:
        address["order_id"] = order_id
    return order, products, addresses


def woocommerce_order(order_id: int) -> dict[str, Any]:
    order = copy.deepcopy(woocommerce_payload("order"))
    order["id"] = order_id
    order["number"] = str(order_id)
    return order


def b2b_order(number: int) -> dict[str, Any]:
    payload = copy.deepcopy(b2b_portal_payload("order_created"))
    payload["data"]["id"] = f"SO-2026-{number:06d}"
    payload["data"]["order_number"] = f"P-{number:06d}"
    payload["timestamp"] = datetime.now(UTC).isoformat()
    return payload


def bigcommerce_thin(order_id: int) -> dict[str, Any]:
    payload = copy.deepcopy(bigcommerce_payload("webhook_order_created"))
    payload["data"]["id"] = order_id
    return payload
