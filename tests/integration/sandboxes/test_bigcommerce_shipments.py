"""Shipments and refunds on the BigCommerce sandbox: BigCommerceApi end to end over loopback HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from infra.local.sandboxes.bigcommerce import BigCommerceSandbox
from shared.channels.base import RefundRequest
from shared.channels.bigcommerce.api import BigCommerceApi
from shared.connections import Connection
from shared.errors import NotFound, ValidationFailed
from shared.models.money import Money
from shared.models.shipping import Package, Shipment, ShippedLine
from shared.outbound import OutboundClient
from tests.integration.sandboxes.support import FrozenClock

START = 1_796_053_337.0  # 2026-11-30T15:42:17Z, the sample order's creation time
ORDER_ID = 1207
GLOVES, LINERS = "GLV-NIT-L-100", "TRL-55G-HD-100"  # 40 at 12.3625 and 12 at 41.6563, with tax


@pytest.fixture(scope="module")
def server() -> Iterator[BigCommerceSandbox]:
    sandbox = BigCommerceSandbox(FrozenClock(START), echo_webhooks=False)
    sandbox.start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def bigcommerce(server: BigCommerceSandbox) -> BigCommerceSandbox:
    server.reset()
    server.add_sample_order()
    return server


@pytest.fixture
def api(bigcommerce: BigCommerceSandbox) -> BigCommerceApi:
    conn = Connection.model_validate(bigcommerce.connection())
    return BigCommerceApi(conn, client=OutboundClient("bigcommerce", conn, sleep=lambda _: None))


def shipment(shipment_id: str, tracking: str, *lines: tuple[str, int]) -> Shipment:
    return Shipment(
        shipment_id=shipment_id,
        order_key=f"bigcommerce:abc123xyz:{ORDER_ID}",
        reference_id="REL-1",
        facility="WH-EAST",
        carrier="Estes",
        packages=(Package(tracking_number=tracking),),
        lines=tuple(ShippedLine(sku=sku, quantity=quantity) for sku, quantity in lines),
        shipped_at=datetime(2026, 12, 1, tzinfo=UTC),
    )


def refund_request(refund_id: str, amount: str, *lines: tuple[str, int]) -> RefundRequest:
    shipped = tuple(ShippedLine(sku=sku, quantity=quantity) for sku, quantity in lines)
    return RefundRequest(refund_id, "RMA-9", Money(amount=amount, currency="USD"), shipped)


def test_each_shipment_is_one_bigcommerce_shipment_and_moves_the_status(
    bigcommerce: BigCommerceSandbox, api: BigCommerceApi
) -> None:
    start = bigcommerce.clock.now()  # the clock is the module's: other tests move it too
    first = shipment("SHP-1", "PRO-001", (GLOVES, 40))
    made = api.create_fulfillment(str(ORDER_ID), first)
    bigcommerce.clock.advance(60)
    assert api.create_fulfillment(str(ORDER_ID), first) == made  # a redelivered shipment
    assert bigcommerce.orders[ORDER_ID]["status_id"] == 3  # Partially Shipped

    seen = httpx.get(f"{bigcommerce.url}/_sandbox/state").json()
    [shipped] = seen["shipments"][str(ORDER_ID)]
    assert (shipped["tracking_number"], shipped["shipping_method"], shipped["tracking_carrier"]) == (
        "PRO-001",
        "Estes",
        "",
    )
    assert shipped["comments"] == "[crossdock shipment SHP-1]"
    assert seen["fulfillment_log"][str(ORDER_ID)] == [
        {"id": made, "at": start, "tracking_number": "PRO-001", "items": shipped["items"]}
    ]
    assert seen["calls"]["create shipment"] == 1


def test_more_than_is_left_to_ship_is_refused(bigcommerce: BigCommerceSandbox, api: BigCommerceApi) -> None:
    api.create_fulfillment(str(ORDER_ID), shipment("SHP-1", "PRO-001", (GLOVES, 39)))
    with pytest.raises(ValidationFailed) as caught:
        api.create_fulfillment(str(ORDER_ID), shipment("SHP-2", "PRO-002", (GLOVES, 2)))
    assert caught.value.details["field"] == "lines.0.quantity"


def test_a_refund_worth_its_lines_is_refunded_by_quantity_once(
    bigcommerce: BigCommerceSandbox, api: BigCommerceApi
) -> None:
    request = refund_request("RMA-9:RCPT-1", "49.45", (GLOVES, 4))
    made = api.refund(str(ORDER_ID), request)
    assert api.refund(str(ORDER_ID), request) == made

    [refund] = bigcommerce.refunds[ORDER_ID]
    assert [(i["item_type"], i["item_id"], i["quantity"]) for i in refund["items"]] == [("PRODUCT", 3301, 4)]
    assert refund["payments"][0]["provider_id"] == "stripev3"
    assert bigcommerce.order_products[ORDER_ID][0]["quantity_refunded"] == 4
    assert bigcommerce.orders[ORDER_ID]["status_id"] == 14  # Partially Refunded
    log = bigcommerce.snapshot()["refund_log"][str(ORDER_ID)]
    assert [(entry["id"], entry["amount"]) for entry in log] == [(made, "49.45")]


def test_a_credit_worth_less_than_its_lines_is_refunded_at_order_level(
    bigcommerce: BigCommerceSandbox, api: BigCommerceApi
) -> None:
    api.refund(str(ORDER_ID), refund_request("RMA-9:RCPT-1", "40.00", (GLOVES, 4)))
    [refund] = bigcommerce.refunds[ORDER_ID]
    assert [(i["item_type"], i["requested_amount"]) for i in refund["items"]] == [("ORDER", 40.0)]
    assert bigcommerce.orders[ORDER_ID]["refunded_amount"] == "40.0000"


def test_more_than_the_order_took_is_refused(bigcommerce: BigCommerceSandbox, api: BigCommerceApi) -> None:
    with pytest.raises(ValidationFailed):
        api.refund(str(ORDER_ID), refund_request("RMA-9:RCPT-1", "5000.00", (GLOVES, 4)))
    assert bigcommerce.refunds[ORDER_ID] == []


def test_an_offline_provider_is_refunded_offline(bigcommerce: BigCommerceSandbox, api: BigCommerceApi) -> None:
    bigcommerce.orders[ORDER_ID]["payment_method"] = "Bank Deposit"
    api.refund(str(ORDER_ID), refund_request("RMA-9:RCPT-1", "49.45", (GLOVES, 4)))
    [payment] = bigcommerce.refunds[ORDER_ID][0]["payments"]
    assert (payment["provider_id"], payment["offline"]) == ("bankdeposit", True)


def test_a_missing_order_is_not_found(api: BigCommerceApi) -> None:
    with pytest.raises(NotFound):
        api.create_fulfillment("999", shipment("SHP-1", "PRO-001", (GLOVES, 1)))
    with pytest.raises(NotFound):
        api.refund("999", refund_request("RMA-9:RCPT-1", "1.00", (GLOVES, 1)))
