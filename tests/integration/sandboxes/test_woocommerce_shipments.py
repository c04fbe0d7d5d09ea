"""Shipments and refunds on the WooCommerce sandbox: WooCommerceApi end to end over loopback HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from infra.local.sandboxes.woocommerce import WooCommerceSandbox
from shared.channels.base import RefundRequest
from shared.channels.woocommerce.api import WooCommerceApi
from shared.connections import Connection
from shared.errors import NotFound, ValidationFailed
from shared.models.money import Money
from shared.models.shipping import Package, Shipment, ShippedLine
from shared.outbound import OutboundClient
from tests.integration.sandboxes.support import FrozenClock

START = 1_796_053_337.0  # 2026-11-30T15:42:17Z, the sample order's creation time
ORDER_ID = 30412
EVERYTHING = (("GLV-NIT-L-100", 40), ("TRL-55G-HD-100", 12), ("DSF-MS-1G", 24), ("PTW-HW8-NAT-6", 15))


@pytest.fixture(scope="module")
def server() -> Iterator[WooCommerceSandbox]:
    sandbox = WooCommerceSandbox(FrozenClock(START), echo_webhooks=False)
    sandbox.start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def woo(server: WooCommerceSandbox) -> WooCommerceSandbox:
    server.reset()
    order = server.sample_order()
    order["status"] = "processing"
    server.emit_order("order.created", order, delivered=False)
    server.add_product(412, sku="GLV-NIT-L-100", stock_quantity=100)
    return server


@pytest.fixture
def api(woo: WooCommerceSandbox) -> WooCommerceApi:
    conn = Connection.model_validate(woo.connection())
    return WooCommerceApi(conn, client=OutboundClient("woocommerce", conn, sleep=lambda _: None))


def shipment(shipment_id: str, *lines: tuple[str, int]) -> Shipment:
    return Shipment(
        shipment_id=shipment_id,
        order_key=f"woocommerce:orders.acme-supply.example:{ORDER_ID}",
        reference_id="REL-1",
        facility="WH-EAST",
        carrier="Estes",
        packages=(Package(tracking_number=f"PRO-{shipment_id}"),),
        lines=tuple(ShippedLine(sku=sku, quantity=quantity) for sku, quantity in lines),
        shipped_at=datetime(2026, 12, 1, tzinfo=UTC),
    )


def refund_request(refund_id: str, amount: str, *lines: tuple[str, int]) -> RefundRequest:
    shipped = tuple(ShippedLine(sku=sku, quantity=quantity) for sku, quantity in lines)
    return RefundRequest(refund_id, "RMA-3", Money(amount=amount, currency="USD"), shipped)


def test_each_shipment_is_one_customer_note_and_the_last_completes_the_order(
    woo: WooCommerceSandbox, api: WooCommerceApi
) -> None:
    start = woo.clock.now()  # the clock is the module's: other tests move it too
    first = api.create_fulfillment(str(ORDER_ID), shipment("SHP-1", *EVERYTHING[:2]))
    woo.clock.advance(60)
    assert api.create_fulfillment(str(ORDER_ID), shipment("SHP-1", *EVERYTHING[:2])) == first
    assert woo.orders[ORDER_ID]["status"] == "processing"
    second = api.create_fulfillment(str(ORDER_ID), shipment("SHP-2", *EVERYTHING[2:]))

    assert woo.orders[ORDER_ID]["status"] == "completed"
    seen = httpx.get(f"{woo.url}/_sandbox/state").json()
    log = seen["note_log"][str(ORDER_ID)]
    assert [(str(entry["id"]), entry["at"], entry["customer_note"]) for entry in log] == [
        (first, start, True),
        (second, start + 60, True),
    ]
    assert "Tracking: PRO-SHP-1" in log[0]["note"]
    assert seen["calls"]["add order note"] == 2


def test_more_than_is_left_to_ship_is_refused(woo: WooCommerceSandbox, api: WooCommerceApi) -> None:
    api.create_fulfillment(str(ORDER_ID), shipment("SHP-1", ("GLV-NIT-L-100", 30)))
    with pytest.raises(ValidationFailed) as caught:
        api.create_fulfillment(str(ORDER_ID), shipment("SHP-2", ("GLV-NIT-L-100", 11)))
    assert caught.value.details["field"] == "lines.0.quantity"
    assert len(woo.notes[ORDER_ID]) == 1


def test_a_refund_is_recorded_once_without_paying_through_the_gateway_or_restocking(
    woo: WooCommerceSandbox, api: WooCommerceApi
) -> None:
    request = refund_request("RMA-3:RCPT-1", "46.98", ("GLV-NIT-L-100", 4))
    made = api.refund(str(ORDER_ID), request)
    assert api.refund(str(ORDER_ID), request) == made

    [refund] = woo.refunds[ORDER_ID]
    assert (str(refund["id"]), refund["amount"], refund["refunded_payment"]) == (made, "46.98", False)
    assert [(line["refunded_item_id"], line["quantity"]) for line in refund["line_items"]] == [(8841, -4)]
    assert woo.stock("GLV-NIT-L-100") == 100  # the warehouse restocks
    assert woo.orders[ORDER_ID]["refunds"] == [{"id": refund["id"], "reason": refund["reason"], "total": "-46.98"}]
    assert [entry["amount"] for entry in woo.snapshot()["refund_log"][str(ORDER_ID)]] == ["46.98"]


def test_refunding_the_whole_order_refunds_it(woo: WooCommerceSandbox, api: WooCommerceApi) -> None:
    api.refund(str(ORDER_ID), refund_request("RMA-3:RCPT-1", "2125.51", *EVERYTHING))
    assert woo.orders[ORDER_ID]["status"] == "refunded"
    with pytest.raises(ValidationFailed) as caught:
        api.refund(str(ORDER_ID), refund_request("RMA-3:RCPT-2", "0.01", ("GLV-NIT-L-100", 1)))
    assert caught.value.details["field"] == "amount"


def test_a_gateway_refund_of_a_bank_transfer_is_refused_by_the_sandbox(woo: WooCommerceSandbox) -> None:
    body = {"amount": "5.00", "reason": "by hand"}  # api_refund defaults to true
    response = httpx.post(
        f"{woo.url}/wp-json/wc/v3/orders/{ORDER_ID}/refunds",
        auth=(woo.consumer_key, woo.consumer_secret),
        json=body,
    )
    assert response.status_code == 500
    assert response.json()["code"] == "woocommerce_rest_cannot_create_order_refund"
    assert woo.refunds.get(ORDER_ID, []) == []


def test_a_missing_order_is_not_found(api: WooCommerceApi) -> None:
    with pytest.raises(NotFound):
        api.create_fulfillment("999", shipment("SHP-1", ("GLV-NIT-L-100", 1)))
    with pytest.raises(NotFound):
        api.refund("999", refund_request("RMA-3:RCPT-1", "1.00", ("GLV-NIT-L-100", 1)))
