"""NetSuiteErp and ShipBobWms against the NetSuite and ShipBob sandboxes over loopback HTTP."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from infra.local.clock import Clock
from infra.local.sandboxes.netsuite import RECORD_API, NetSuiteFaults, NetSuiteSandbox
from infra.local.sandboxes.wms import WmsSandbox
from infra.samples import shopify_payload
from shared.channels.shopify.mapping import to_order
from shared.channels.shopify.payloads import ShopifyOrder
from shared.connections import Connection
from shared.erp.netsuite import NetSuiteErp, erp_external_id, netsuite_client
from shared.erp.ports import CancelOutcome, ErpCustomer
from shared.errors import DownstreamUnavailable
from shared.models.lifecycle import AllocatedLine, Allocation, FulfillmentRequest
from shared.models.order import Channel, CustomerRef, Order
from shared.wms.ports import WmsCancelOutcome
from shared.wms.shipbob import ShipBobWms, shipbob_client

SHOP = "acme-supply.myshopify.com"
NETSUITE_CREDENTIALS = {"consumer_key": "ck", "consumer_secret": "cs", "token_id": "tk", "token_secret": "ts"}
SAMPLE_SKUS = [line["sku"] for line in shopify_payload()["line_items"]]


def no_sleep(_: float) -> None:
    return None


# -- NetSuite --------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def netsuite_server() -> Iterator[NetSuiteSandbox]:
    # One server per module: stopping one waits out the server's poll interval, so tests share it.
    sandbox = NetSuiteSandbox(Clock())
    sandbox.start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def netsuite(netsuite_server: NetSuiteSandbox) -> NetSuiteSandbox:
    netsuite_server.reset()
    return netsuite_server


def netsuite_erp(sandbox: NetSuiteSandbox, **options: Any) -> NetSuiteErp:
    connection = Connection(
        base_url=sandbox.url, credentials=NETSUITE_CREDENTIALS, settings={"account_id": sandbox.account_id}
    )
    return NetSuiteErp(connection, client=netsuite_client(connection, **{"sleep": no_sleep, **options}))


def sample_order() -> Order:
    return to_order(ShopifyOrder.model_validate(shopify_payload()), shop_domain=SHOP)


def bought_by(channel: Channel, store: str, customer_id: str | None, email: str | None) -> Order:
    """The sample order as if another buyer had placed it on another channel."""
    customer = CustomerRef(external_id=customer_id, email=email)
    return sample_order().model_copy(update={"channel": channel, "store": store, "customer": customer})


def east(order: Order) -> tuple[Allocation, ...]:
    lines = tuple(
        AllocatedLine(line_id=line.line_id, sku=line.sku or "", quantity=line.quantity) for line in order.lines
    )
    return (Allocation(warehouse="east", erp_location="1", lines=lines),)


def harbor_point(erp: NetSuiteErp) -> ErpCustomer:
    customer = erp.find_customer(sample_order())
    assert customer is not None
    return customer


def test_customers_in_good_standing_on_hold_and_inactive(netsuite: NetSuiteSandbox) -> None:
    erp = netsuite_erp(netsuite)
    good = harbor_point(erp)
    assert (good.id, good.active, good.credit_hold, good.terms) == ("101", True, False, "Net 30")
    assert (good.credit_limit, good.balance) == (Decimal("50000.0"), Decimal("12450.0"))

    on_hold = erp.find_customer(bought_by(Channel.SHOPIFY, SHOP, "7301195558961", None))
    assert on_hold is not None
    assert (on_hold.id, on_hold.credit_hold, on_hold.balance) == ("102", True, Decimal("14880.55"))

    inactive = erp.find_customer(bought_by(Channel.SHOPIFY, SHOP, "6620984511025", None))
    assert inactive is not None
    assert (inactive.id, inactive.active, inactive.terms) == ("103", False, "Net 15")


def test_customers_by_channel_id_else_by_email_else_none(netsuite: NetSuiteSandbox) -> None:
    erp = netsuite_erp(netsuite)
    riverside = "purchasing@riverside-facilities.example"
    by_id = erp.find_customer(bought_by(Channel.BIGCOMMERCE, "abc123xyz", "88", None))
    by_email = erp.find_customer(bought_by(Channel.WOOCOMMERCE, "orders.acme-supply.example", "1184", riverside))
    assert by_id is not None
    assert by_email is not None
    assert by_id.id == by_email.id == "104"  # one account buying on two channels
    assert erp.find_customer(bought_by(Channel.SHOPIFY, SHOP, "999", "nobody@example.com")) is None
    assert erp.find_customer(bought_by(Channel.SHOPIFY, SHOP, None, None)) is None


def test_items_with_prices_availability_and_restrictions(netsuite: NetSuiteSandbox) -> None:
    erp = netsuite_erp(netsuite)
    found = erp.items([*SAMPLE_SKUS, "AER-LUB-11-12", "NO-SUCH-SKU"])
    assert set(found) == {*SAMPLE_SKUS, "AER-LUB-11-12"}
    prices = {line["sku"]: Decimal(line["price"]) for line in shopify_payload()["line_items"]}
    assert {sku: found[sku].price for sku in SAMPLE_SKUS} == prices  # the sample's prices are the base prices
    assert found["GLV-NIT4-L-CS"].available == {"1": 180, "2": 30}
    assert found["AER-LUB-11-12"].restricted
    assert not any(found[sku].restricted for sku in SAMPLE_SKUS)
    # East can fill the sample order alone; West cannot.
    order = sample_order()
    assert all(found[line.sku or ""].available["1"] >= line.quantity for line in order.lines)
    assert not all(found[line.sku or ""].available["2"] >= line.quantity for line in order.lines)


def test_items_at_a_customers_price_level(netsuite: NetSuiteSandbox) -> None:
    erp = netsuite_erp(netsuite)
    keystone = erp.find_customer(bought_by(Channel.SHOPIFY, SHOP, "7301195558961", None))
    assert erp.items(["GLV-NIT4-L-CS"], keystone)["GLV-NIT4-L-CS"].price == Decimal("76.05")  # wholesale


def test_upsert_twice_makes_one_sales_order(netsuite: NetSuiteSandbox) -> None:
    erp = netsuite_erp(netsuite)
    order = sample_order()
    customer = harbor_point(erp)
    first = erp.upsert_sales_order(order, customer, east(order))
    second = netsuite_erp(netsuite).upsert_sales_order(order, customer, east(order))
    assert first == second
    assert (first.status, first.shipped, first.cancelled) == ("Pending Fulfillment", False, False)
    [record] = netsuite.records_with_external_id("salesOrder", erp_external_id(order.key))
    assert record["entity"]["id"] == "101"
    assert record["location"] == {"id": "1"}
    assert record["total"] == 3293.10  # the sample's line prices, as rates
    assert netsuite.calls["PUT /salesOrder/{record_id}"] == 1  # the second call found it and wrote nothing


def test_a_write_that_committed_then_timed_out_is_found_not_repeated() -> None:
    # A server of its own: the stalled request outlives the test and holds a concurrency slot meanwhile.
    netsuite = NetSuiteSandbox(Clock())
    netsuite.start()
    try:
        erp = netsuite_erp(netsuite, timeout=0.3)
        order = sample_order()
        customer = harbor_point(erp)
        netsuite.arm_timeout_after_commit(1, seconds=1.0)
        written = erp.upsert_sales_order(order, customer, east(order))
        again = erp.upsert_sales_order(order, customer, east(order))
        assert netsuite.stalled_writes == [f"PUT {RECORD_API}/salesOrder/eid:{erp_external_id(order.key)}"]
        assert written == again
        assert len(netsuite.records_with_external_id("salesOrder", erp_external_id(order.key))) == 1
        assert netsuite.count("salesOrder") == 1
    finally:
        netsuite.stop()


def test_the_concurrency_limit_is_answered_with_retries(netsuite: NetSuiteSandbox) -> None:
    netsuite.faults = NetSuiteFaults(max_concurrency=1, latency_ms=40)
    callers = 4
    start = threading.Barrier(callers)
    found: list[ErpCustomer | None] = []
    failures: list[Exception] = []

    def call() -> None:
        erp = netsuite_erp(netsuite, attempts=8, base_delay=0.05, sleep=time.sleep)
        start.wait()
        try:
            found.append(erp.find_customer(sample_order()))
        except Exception as error:  # reported by the assertion below
            failures.append(error)

    threads = [threading.Thread(target=call) for _ in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert [customer.id for customer in found if customer] == ["101"] * callers
    assert netsuite.calls["GET /customer/{record_id}"] > callers  # some were refused with 429 and came back


def test_cancel_before_fulfilment_closes_the_order(netsuite: NetSuiteSandbox) -> None:
    erp = netsuite_erp(netsuite)
    order = sample_order()
    erp.upsert_sales_order(order, harbor_point(erp), east(order))
    assert erp.cancel_sales_order(order) is CancelOutcome.CANCELLED
    assert erp.cancel_sales_order(order) is CancelOutcome.ALREADY_CANCELLED
    found = erp.find_sales_order(order)
    assert found is not None
    assert (found.status, found.cancelled) == ("Closed", True)
    [record] = netsuite.records_with_external_id("salesOrder", erp_external_id(order.key))
    assert all(line["isClosed"] for line in record["item"]["items"])


def test_cancel_after_fulfilment_is_too_late(netsuite: NetSuiteSandbox) -> None:
    erp = netsuite_erp(netsuite)
    order = sample_order()
    written = erp.upsert_sales_order(order, harbor_point(erp), east(order))
    partial = {"inventoryLocation": {"id": "1"}, "item": {"items": [{"orderLine": 1, "quantity": 5}]}}
    shipped = httpx.post(
        f"{netsuite.url}{RECORD_API}/salesOrder/{written.id}/!transform/itemFulfillment",
        json=partial,
        headers={"Authorization": 'OAuth realm="1234567_SB1"'},
    )
    assert shipped.status_code == 204
    assert erp.cancel_sales_order(order) is CancelOutcome.TOO_LATE
    found = erp.find_sales_order(order)
    assert found is not None
    assert (found.shipped, found.cancelled) == (True, False)
    assert netsuite.calls["PATCH /salesOrder/{record_id}"] == 0
    assert erp.cancel_sales_order(bought_by(Channel.SHOPIFY, "other.myshopify.com", None, None)) is (
        CancelOutcome.NOT_FOUND
    )


# -- ShipBob ---------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def wms_server() -> Iterator[WmsSandbox]:
    sandbox = WmsSandbox(Clock())
    sandbox.start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def shipbob(wms_server: WmsSandbox) -> WmsSandbox:
    wms_server.reset()
    return wms_server


def shipbob_wms(sandbox: WmsSandbox, **options: Any) -> ShipBobWms:
    connection = Connection(
        base_url=sandbox.url, credentials={"access_token": "pat_sandbox"}, settings={"shipbob_channel_id": "4242"}
    )
    return ShipBobWms(connection, client=shipbob_client(connection, **{"sleep": no_sleep, **options}))


def release_request(reference_id: str = "shopify-61958626-7124853309745-1") -> FulfillmentRequest:
    order = sample_order()
    [allocation] = east(order)
    return FulfillmentRequest(
        order_key=order.key,
        reference_id=reference_id,
        warehouse=allocation.warehouse,
        lines=allocation.lines,
        ship_to=order.shipping_address,
        order_number=order.order_number,
    )


def test_release_twice_makes_one_wms_order(shipbob: WmsSandbox) -> None:
    request = release_request()
    first = shipbob_wms(shipbob).release(request)
    second = shipbob_wms(shipbob).release(request)
    assert (first.created, second.created) == (True, False)
    assert first.id == second.id
    [stored] = shipbob.orders_with_reference_id(request.reference_id)
    assert stored["channel"]["id"] == 4242
    assert stored["recipient"]["address"]["city"] == "Worcester"
    assert [(p["reference_id"], p["quantity"]) for p in stored["products"]] == [
        (line.sku, line.quantity) for line in request.lines
    ]


def test_a_create_that_lands_after_the_timeout_still_makes_one_order() -> None:
    # A server of its own: the slow creates finish after the client has given up.
    wms = WmsSandbox(Clock())
    wms.start()
    try:
        request = release_request()
        wms.faults = wms.faults.model_copy(update={"latency_ms": 400})
        with pytest.raises(DownstreamUnavailable):
            shipbob_wms(wms, timeout=0.2).release(request)  # the create timed out, and so did the lookups
        deadline = time.monotonic() + 5
        while not wms.orders_with_reference_id(request.reference_id) and time.monotonic() < deadline:
            time.sleep(0.05)  # the abandoned create lands late
        wms.faults = wms.faults.model_copy(update={"latency_ms": 0})
        retried = shipbob_wms(wms).release(request)
        assert not retried.created
        assert len(wms.orders_with_reference_id(request.reference_id)) == 1
    finally:
        wms.stop()


def test_cancel_before_and_after_shipping(shipbob: WmsSandbox) -> None:
    adapter = shipbob_wms(shipbob)
    unshipped, shipped = release_request("ref-unshipped"), release_request("ref-shipped")
    adapter.release(unshipped)
    released = adapter.release(shipped)
    shipbob.ship(int(released.id))
    assert adapter.cancel(unshipped.reference_id) is WmsCancelOutcome.CANCELLED
    assert adapter.cancel(unshipped.reference_id) is WmsCancelOutcome.CANCELLED  # again: nothing changes
    assert adapter.cancel(shipped.reference_id) is WmsCancelOutcome.TOO_LATE
    assert adapter.cancel("ref-never-released") is WmsCancelOutcome.NOT_FOUND
    statuses = {order["reference_id"]: order["status"] for order in shipbob.snapshot()["orders"].values()}
    assert statuses == {"ref-unshipped": "Cancelled", "ref-shipped": "Fulfilled"}
