"""NetSuiteErp's shipments, returns and credits against the NetSuite sandbox over loopback HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from infra.local.clock import Clock
from infra.local.sandboxes.netsuite import RECORD_API, NetSuiteSandbox
from infra.samples import shopify_payload
from shared.channels.shopify.mapping import to_order
from shared.channels.shopify.payloads import ShopifyOrder
from shared.connections import Connection
from shared.erp.netsuite import NetSuiteErp, netsuite_client
from shared.erp.ports import CancelOutcome, ErpSalesOrder
from shared.errors import DownstreamUnavailable, NotFound, ValidationFailed
from shared.ids import safe_ref
from shared.models.lifecycle import AllocatedLine, Allocation
from shared.models.money import Money
from shared.models.order import Order
from shared.models.returns import Condition, Disposition, ReceivedLine, ReturnLine, ReturnReceipt
from shared.models.shipping import Package, Shipment, ShippedLine

SHOP = "acme-supply.myshopify.com"
GLOVES, WRAP, GLASSES, VESTS, PADS = (line["sku"] for line in shopify_payload()["line_items"])
CREDENTIALS = {"consumer_key": "ck", "consumer_secret": "cs", "token_id": "tk", "token_secret": "ts"}


@pytest.fixture(scope="module")
def server() -> Iterator[NetSuiteSandbox]:
    # One server per module: stopping one waits out the server's poll interval, so tests share it.
    sandbox = NetSuiteSandbox(Clock())
    sandbox.start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def netsuite(server: NetSuiteSandbox) -> NetSuiteSandbox:
    server.reset()
    return server


def connect(sandbox: NetSuiteSandbox, **options: Any) -> NetSuiteErp:
    connection = Connection(base_url=sandbox.url, credentials=CREDENTIALS, settings={"account_id": sandbox.account_id})
    return NetSuiteErp(connection, client=netsuite_client(connection, **{"sleep": lambda _: None, **options}))


def sample_order() -> Order:
    return to_order(ShopifyOrder.model_validate(shopify_payload()), shop_domain=SHOP)


def placed(erp: NetSuiteErp) -> tuple[Order, ErpSalesOrder]:
    """The sample order, entered in NetSuite and allocated to East."""
    order = sample_order()
    customer = erp.find_customer(order)
    assert customer is not None
    lines = tuple(
        AllocatedLine(line_id=line.line_id, sku=line.sku or "", quantity=line.quantity) for line in order.lines
    )
    return order, erp.upsert_sales_order(
        order, customer, (Allocation(warehouse="east", erp_location="1", lines=lines),)
    )


def shipment(order: Order, shipment_id: str, lines: dict[str, int]) -> Shipment:
    return Shipment(
        shipment_id=shipment_id,
        order_key=order.key,
        reference_id=safe_ref(order.key, "east"),
        facility="east-1",
        carrier="UPS",
        packages=(Package(tracking_number=f"1Z{shipment_id}"),),
        lines=tuple(ShippedLine(sku=sku, quantity=quantity) for sku, quantity in lines.items()),
        shipped_at=datetime(2026, 1, 5, 15, 30, tzinfo=UTC),
    )


def everything(order: Order) -> dict[str, int]:
    return {line.sku or "": line.quantity for line in order.lines}


def usd(amount: str) -> Money:
    return Money(amount=Decimal(amount), currency="USD")


def test_each_shipment_is_one_fulfillment_and_one_invoice_for_what_it_shipped(netsuite: NetSuiteSandbox) -> None:
    erp = connect(netsuite)
    order, sales_order = placed(erp)

    first = erp.record_shipment(order.key, shipment(order, "SHP-1", {GLOVES: 12, WRAP: 4}))
    assert first.sales_order_id == sales_order.id
    assert first.amount == usd("1303.60")  # 12 x 84.50 + 4 x 72.40
    assert erp.record_shipment(order.key, shipment(order, "SHP-1", {GLOVES: 12, WRAP: 4})) == first
    assert erp.cancel_sales_order(order) is CancelOutcome.TOO_LATE
    found = erp.find_sales_order(order)
    assert found is not None
    assert (found.status, found.shipped) == ("Partially Fulfilled", True)

    rest = {**everything(order), WRAP: 6}
    del rest[GLOVES]
    second = erp.record_shipment(order.key, shipment(order, "SHP-2", rest))
    assert second.amount == usd("1989.50")  # the order's 3293.10, less the first shipment
    found = erp.find_sales_order(order)
    assert found is not None
    assert found.status == "Billed"

    state = netsuite.snapshot()
    assert [(f["id"], f["external_id"]) for f in state["item_fulfillments"]] == [
        (first.fulfillment_id, safe_ref(order.key, "ship", "SHP-1")),
        (second.fulfillment_id, safe_ref(order.key, "ship", "SHP-2")),
    ]
    invoices = state["invoices"]
    assert [(i["id"], i["sales_order_id"], i["total"]) for i in invoices] == [
        (first.invoice_id, sales_order.id, 1303.60),
        (second.invoice_id, sales_order.id, 1989.50),
    ]
    assert [(line["sku"], line["quantity"]) for line in invoices[0]["lines"]] == [(GLOVES, 12), (WRAP, 4)]
    fulfilled_at = {f["id"]: f["created_at"] for f in state["item_fulfillments"]}
    assert invoices[0]["created_at"] >= fulfilled_at[first.fulfillment_id]


def test_shipping_what_the_order_has_not_got_left_is_refused_and_makes_nothing(netsuite: NetSuiteSandbox) -> None:
    erp = connect(netsuite)
    order, _ = placed(erp)
    with pytest.raises(ValidationFailed) as over:
        erp.record_shipment(order.key, shipment(order, "SHP-1", {GLOVES: 13}))
    assert over.value.details["field"] == "lines[0].quantity"
    with pytest.raises(ValidationFailed) as stranger:
        erp.record_shipment(order.key, shipment(order, "SHP-1", {"AER-LUB-11-12": 1}))
    assert stranger.value.details["field"] == "lines[0].sku"

    erp.record_shipment(order.key, shipment(order, "SHP-1", everything(order)))
    with pytest.raises(ValidationFailed):
        erp.record_shipment(order.key, shipment(order, "SHP-2", {GLOVES: 1}))  # all shipped already
    assert (netsuite.count("itemFulfillment"), netsuite.count("invoice")) == (1, 1)


def test_a_shipment_before_its_sales_order_is_not_found(netsuite: NetSuiteSandbox) -> None:
    order = sample_order()
    with pytest.raises(NotFound):
        connect(netsuite).record_shipment(order.key, shipment(order, "SHP-1", {GLOVES: 1}))


def test_an_erp_outage_during_shipping_is_retryable_and_ends_in_one_invoice(netsuite: NetSuiteSandbox) -> None:
    erp = connect(netsuite)
    order, _ = placed(erp)
    now = netsuite.clock.now()
    netsuite.faults = netsuite.faults.model_copy(update={"outages": [(now - 1, now + 3600)]})
    with pytest.raises(DownstreamUnavailable) as caught:
        erp.record_shipment(order.key, shipment(order, "SHP-1", {GLOVES: 12}))
    assert caught.value.retryable

    netsuite.faults = netsuite.faults.model_copy(update={"outages": []})
    erp.record_shipment(order.key, shipment(order, "SHP-1", {GLOVES: 12}))
    erp.record_shipment(order.key, shipment(order, "SHP-1", {GLOVES: 12}))
    assert (len(netsuite.snapshot()["item_fulfillments"]), len(netsuite.snapshot()["invoices"])) == (1, 1)


def test_a_fulfillment_that_committed_then_timed_out_is_found_not_repeated() -> None:
    # A server of its own: the stalled request outlives the test and holds a concurrency slot meanwhile.
    netsuite = NetSuiteSandbox(Clock())
    netsuite.start()
    try:
        erp = connect(netsuite, timeout=0.3)
        order, sales_order = placed(erp)
        netsuite.arm_timeout_after_commit(1, seconds=1.0)
        record = erp.record_shipment(order.key, shipment(order, "SHP-1", {GLOVES: 12}))
        transform = f"POST {RECORD_API}/salesOrder/{sales_order.id}/!transform/itemFulfillment"
        assert netsuite.stalled_writes == [transform]
        assert netsuite.calls["POST /salesOrder/{record_id}/!transform/itemFulfillment"] == 1
        [fulfillment] = netsuite.snapshot()["item_fulfillments"]
        assert fulfillment["id"] == record.fulfillment_id
        assert netsuite.count("invoice") == 1
    finally:
        netsuite.stop()


def receipt(order: Order, receipt_id: str, *lines: tuple[str, int, Condition]) -> ReturnReceipt:
    return ReturnReceipt(
        receipt_id=receipt_id,
        rma_number="RMA-1001",
        order_key=order.key,
        facility="east-1",
        lines=tuple(
            ReceivedLine(sku=sku, quantity=quantity, condition=condition, disposition=Disposition.RESTOCK)
            for sku, quantity, condition in lines
        ),
        received_at=datetime(2026, 1, 20, 10, tzinfo=UTC),
    )


def test_a_return_is_authorized_once_then_received_and_credited_once_per_receipt(netsuite: NetSuiteSandbox) -> None:
    erp = connect(netsuite)
    order, sales_order = placed(erp)
    erp.record_shipment(order.key, shipment(order, "SHP-1", everything(order)))
    returned = [
        ReturnLine(sku=GLOVES, quantity=2, reason_code="wrong_size"),
        ReturnLine(sku=GLASSES, quantity=3, reason_code="damaged"),
    ]
    authorization_id = erp.authorize_return(order.key, "RMA-1001", returned)
    assert erp.authorize_return(order.key, "RMA-1001", returned) == authorization_id
    [authorization] = netsuite.snapshot()["return_authorizations"]
    assert authorization["total"] == 285.85  # 2 x 84.50 + 3 x 38.95, the order's rates
    assert authorization["sales_order_id"] == sales_order.id

    percent = {"opened": 85, "damaged": 50}
    first = receipt(
        order, "RCV-1", (GLOVES, 2, Condition.NEW), (GLASSES, 1, Condition.OPENED), (GLASSES, 1, Condition.DAMAGED)
    )
    memo = erp.issue_credit_memo(order.key, "RMA-1001", first, percent)
    # 38.95 x 85% = 33.1075 and 38.95 x 50% = 19.475, each to the cent, half up.
    assert [(line.sku, line.quantity, line.amount) for line in memo.lines] == [
        (GLOVES, 2, usd("169.00")),
        (GLASSES, 1, usd("33.11")),
        (GLASSES, 1, usd("19.48")),
    ]
    assert memo.amount == usd("221.59")
    assert erp.issue_credit_memo(order.key, "RMA-1001", first, percent) == memo
    state = netsuite.record("returnAuthorization", authorization_id)
    assert state is not None
    assert state["orderStatus"]["refName"] == "Partially Received"

    last = erp.issue_credit_memo(order.key, "RMA-1001", receipt(order, "RCV-2", (GLASSES, 1, Condition.NEW)), percent)
    assert last.amount == usd("38.95")
    state = netsuite.record("returnAuthorization", authorization_id)
    assert state is not None
    assert state["orderStatus"]["refName"] == "Refunded"
    with pytest.raises(ValidationFailed):
        erp.issue_credit_memo(order.key, "RMA-1001", receipt(order, "RCV-3", (GLOVES, 1, Condition.NEW)), percent)

    snapshot = netsuite.snapshot()
    assert [r["external_id"] for r in snapshot["item_receipts"]] == [
        safe_ref(order.key, "rcv", "RCV-1"),
        safe_ref(order.key, "rcv", "RCV-2"),
    ]
    assert [(m["id"], m["return_authorization_id"], m["sales_order_id"]) for m in snapshot["credit_memos"]] == [
        (memo.credit_memo_id, authorization_id, sales_order.id),
        (last.credit_memo_id, authorization_id, sales_order.id),
    ]


def test_returning_more_than_shipped_is_refused(netsuite: NetSuiteSandbox) -> None:
    erp = connect(netsuite)
    order, _ = placed(erp)
    erp.record_shipment(order.key, shipment(order, "SHP-1", {GLOVES: 5}))
    with pytest.raises(ValidationFailed) as caught:
        erp.authorize_return(order.key, "RMA-1", [ReturnLine(sku=GLOVES, quantity=6, reason_code="x")])
    assert caught.value.details["field"] == "lines[0].quantity"
    assert netsuite.count("returnAuthorization") == 0


def test_a_receipt_for_an_rma_netsuite_never_saw_is_not_found(netsuite: NetSuiteSandbox) -> None:
    order = sample_order()
    with pytest.raises(NotFound):
        connect(netsuite).issue_credit_memo(
            order.key, "RMA-1001", receipt(order, "RCV-1", (GLOVES, 1, Condition.NEW)), {}
        )
