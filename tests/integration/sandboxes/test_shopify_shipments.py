"""Shipments and refunds on the Shopify sandbox: ShopifyApi end to end over loopback HTTP, and the raw mutations."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from infra.local.sandboxes.shopify import ShopifySandbox
from infra.samples import shopify_payload
from shared.channels.base import RefundRequest
from shared.channels.shopify.api import ShopifyApi
from shared.connections import Connection
from shared.errors import ValidationFailed
from shared.models.money import Money
from shared.models.shipping import Package, Shipment, ShippedLine
from shared.outbound import OutboundClient
from tests.integration.sandboxes.support import FrozenClock

START = 1_795_900_000.0  # 2026-11-28, the day of the sample order
ORDER_ID = 7124853309745
SHOP = "acme-supply.myshopify.com"
GLOVES, VESTS = "GLV-NIT4-L-CS", "VST-C2-LXL-YL"  # 12 and 50 on the sample order
REFUND_CREATE = """
mutation Refund($input: RefundInput!) {
  refundCreate(input: $input) { refund { id } userErrors { field message } }
}"""


@pytest.fixture(scope="module")
def server() -> Iterator[ShopifySandbox]:
    sandbox = ShopifySandbox(FrozenClock(START), echo_webhooks=False)
    sandbox.start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def shopify(server: ShopifySandbox) -> ShopifySandbox:
    server.reset()
    server.emit_order("orders/create", shopify_payload(), delivered=False)
    return server


@pytest.fixture
def api(shopify: ShopifySandbox) -> ShopifyApi:
    conn = Connection.model_validate(shopify.connection())
    return ShopifyApi(conn, client=OutboundClient("shopify", conn, sleep=lambda _: None))


def shipment(shipment_id: str, tracking: tuple[str, ...], *lines: tuple[str, int]) -> Shipment:
    return Shipment(
        shipment_id=shipment_id,
        order_key=f"shopify:{SHOP}:{ORDER_ID}",
        reference_id="REL-1",
        facility="WH-EAST",
        carrier="UPS",
        packages=tuple(Package(tracking_number=number) for number in tracking),
        lines=tuple(ShippedLine(sku=sku, quantity=quantity) for sku, quantity in lines),
        shipped_at=datetime(2026, 11, 30, tzinfo=UTC),
    )


def refund_request(refund_id: str, amount: str, *lines: tuple[str, int]) -> RefundRequest:
    shipped = tuple(ShippedLine(sku=sku, quantity=quantity) for sku, quantity in lines)
    return RefundRequest(refund_id, "RMA-7", Money(amount=amount, currency="USD"), shipped)


def graphql(sandbox: ShopifySandbox, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(
        f"{sandbox.url}/admin/api/2026-07/graphql.json",
        headers={"X-Shopify-Access-Token": "shpat_local"},
        json={"query": query, "variables": variables},
    )
    body: dict[str, Any] = response.json()
    return body


def test_each_shipment_is_one_fulfillment_and_the_last_one_fulfills_the_order(
    shopify: ShopifySandbox, api: ShopifyApi
) -> None:
    start = shopify.clock.now()  # the clock is the module's: other tests move it too
    first = shipment("SHP-1", ("1Z001", "1Z002"), (GLOVES, 5))
    made = api.create_fulfillment(str(ORDER_ID), first)
    shopify.clock.advance(60)
    assert api.create_fulfillment(str(ORDER_ID), first) == made  # a redelivered shipment
    assert shopify.snapshot()["orders"][str(ORDER_ID)]["display_fulfillment_status"] == "PARTIALLY_FULFILLED"

    rest = [(line["sku"], line["quantity"]) for line in shopify_payload()["line_items"]]
    rest = [(sku, quantity - 5 if sku == GLOVES else quantity) for sku, quantity in rest]
    second = api.create_fulfillment(str(ORDER_ID), shipment("SHP-2", ("1Z003",), *rest))

    seen = shopify.snapshot()
    assert seen["orders"][str(ORDER_ID)]["display_fulfillment_status"] == "FULFILLED"
    log = seen["fulfillment_log"][str(ORDER_ID)]
    assert [(entry["id"], entry["tracking_numbers"], entry["at"]) for entry in log] == [
        (made, ["1Z001", "1Z002"], start),
        (second, ["1Z003"], start + 60),
    ]
    assert seen["mutations"] == {"fulfillmentCreate": 2}


def test_a_shipment_of_more_than_is_left_is_refused(shopify: ShopifySandbox, api: ShopifyApi) -> None:
    api.create_fulfillment(str(ORDER_ID), shipment("SHP-1", ("1Z001",), (GLOVES, 10)))
    with pytest.raises(ValidationFailed) as caught:
        api.create_fulfillment(str(ORDER_ID), shipment("SHP-2", ("1Z002",), (GLOVES, 3)))
    assert caught.value.details["field"] == "lines.0.quantity"


def test_a_refund_is_made_once_against_the_payment_and_restocks_nothing(
    shopify: ShopifySandbox, api: ShopifyApi
) -> None:
    shopify.add_inventory_item(GLOVES, available=100)
    shopify.mark_paid(ORDER_ID, gateway="manual")
    request = refund_request("RMA-7:RCPT-1", "338.00", (GLOVES, 4))
    start = shopify.clock.now()
    made = api.refund(str(ORDER_ID), request)
    shopify.clock.advance(30)
    assert api.refund(str(ORDER_ID), request) == made

    seen = shopify.snapshot()
    assert [(e["id"], e["amount"], e["at"]) for e in seen["refund_log"][str(ORDER_ID)]] == [
        (made, Decimal("338.00"), start)
    ]
    assert seen["refund_log"][str(ORDER_ID)][0]["line_items"][0]["restock_type"] == "NO_RESTOCK"
    assert seen["orders"][str(ORDER_ID)]["financial_status"] == "partially_refunded"
    assert shopify.available(GLOVES) == 100  # the warehouse restocks; Shopify must not count it twice
    assert seen["mutations"] == {"refundCreate": 1}


def test_more_than_was_paid_is_refused(shopify: ShopifySandbox, api: ShopifyApi) -> None:
    shopify.mark_paid(ORDER_ID)
    with pytest.raises(ValidationFailed) as caught:
        api.refund(str(ORDER_ID), refund_request("RMA-7:RCPT-1", "9999.00", (GLOVES, 1)))
    assert caught.value.details["field"] == "transactions.0.amount"
    assert shopify.refunds == {}


def test_an_unpaid_order_gets_its_lines_back_and_no_money(shopify: ShopifySandbox, api: ShopifyApi) -> None:
    made = api.refund(str(ORDER_ID), refund_request("RMA-7:RCPT-1", "10.00", (GLOVES, 1)))
    again = api.refund(str(ORDER_ID), refund_request("RMA-7:RCPT-1", "10.00", (GLOVES, 1)))
    assert made == again
    [refund] = shopify.snapshot()["refund_log"][str(ORDER_ID)]
    assert refund["amount"] == 0
    assert "credited against the invoice" in refund["note"]


def test_refund_create_needs_the_idempotent_directive_and_replays_a_key(shopify: ShopifySandbox) -> None:
    payload = shopify_payload()
    payload.update(id=ORDER_ID + 1, financial_status="paid", payment_gateway_names=["shopify_payments"])
    shopify.emit_order("orders/create", payload, delivered=False)
    order = graphql(
        shopify, "query O($id: ID!) { order(id: $id) { id } }", {"id": f"gid://shopify/Order/{ORDER_ID + 1}"}
    )
    sale = order["data"]["order"]["transactions"][0]
    assert (sale["kind"], sale["gateway"], sale["amountSet"]["shopMoney"]["amount"]) == (
        "SALE",
        "shopify_payments",
        "3559.77",
    )
    transaction = {"orderId": order["data"]["order"]["id"], "parentId": sale["id"], "gateway": "shopify_payments"}
    refund_input = {
        "orderId": transaction["orderId"],
        "transactions": [{**transaction, "kind": "REFUND", "amount": "5"}],
    }

    unkeyed = graphql(shopify, REFUND_CREATE, {"input": refund_input})
    assert unkeyed["errors"][0]["message"] == "The @idempotent directive is required for this mutation."

    keyed = REFUND_CREATE.replace("Refund($input: RefundInput!)", "Refund($input: RefundInput!, $key: String!)")
    keyed = keyed.replace("refundCreate(input: $input)", "refundCreate(input: $input) @idempotent(key: $key)")
    first = graphql(shopify, keyed, {"input": refund_input, "key": "k-1"})["data"]["refundCreate"]
    again = graphql(shopify, keyed, {"input": refund_input, "key": "k-1"})["data"]["refundCreate"]
    assert first == again
    assert len(shopify.refunds) == 1
    other = graphql(shopify, keyed, {"input": {**refund_input, "note": "changed"}, "key": "k-1"})
    assert "errors" in other
