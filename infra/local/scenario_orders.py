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


# -- the flash sale: one unit of one SKU per order, on every channel at once --------------------------------------
FLASH_SKU = "RSP-N95-20-FS"
FLASH_PRICE = "24.90"


def flash_shopify_order(number: int) -> dict[str, Any]:
    order = shopify_order(number)
    line = copy.deepcopy(order["line_items"][0])
    line.update(sku=FLASH_SKU, title="N95 Respirator - Box of 20", name="N95 Respirator - Box of 20")
    line.update(quantity=1, current_quantity=1, fulfillable_quantity=1, price=FLASH_PRICE, total_discount="0.00")
    line["discount_allocations"] = []
    order["line_items"] = [line]
    order.update(total_price=FLASH_PRICE, subtotal_price=FLASH_PRICE, current_total_price=FLASH_PRICE)
    return order


def flash_bigcommerce_order(order_id: int) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    order, products, addresses = bigcommerce_order(order_id)
    product = products[0]
    product.update(sku=FLASH_SKU, name="N95 Respirator - Box of 20", quantity=1)
    for field in ("base_price", "price_ex_tax", "price_inc_tax", "base_total", "total_ex_tax", "total_inc_tax"):
        product[field] = f"{FLASH_PRICE}00"
    order.update(subtotal_ex_tax=FLASH_PRICE, subtotal_inc_tax=FLASH_PRICE, total_ex_tax=FLASH_PRICE)
    order.update(total_inc_tax=FLASH_PRICE, items_total=1)
    return order, [product], addresses


def flash_woocommerce_order(order_id: int) -> dict[str, Any]:
    order = woocommerce_order(order_id)
    line = order["line_items"][0]
    line.update(sku=FLASH_SKU, name="N95 Respirator - Box of 20", quantity=1, price=float(FLASH_PRICE))
    line.update(subtotal=FLASH_PRICE, total=FLASH_PRICE, subtotal_tax="0.00", total_tax="0.00", taxes=[])
    order["line_items"] = [line]
    order.update(total=FLASH_PRICE, total_tax="0.00")
    return order
