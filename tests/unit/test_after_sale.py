"""Shipment-to-invoice and return-to-credit logic on fakes: invoice, fulfil, authorize, credit, refund, record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

import pytest
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.authorize_return.logic import ReturnDeps, authorize_return, rma_number_for
from functions.credit_return.logic import CreditDeps, credit_return
from functions.fulfil_channel.logic import FulfilDeps, fulfil_channel
from functions.invoice_shipment.logic import InvoiceDeps, invoice_shipment
from functions.record_order.logic import record_event
from functions.refund_channel.logic import RefundDeps, refund_channel
from shared.channels.base import ChannelApi
from shared.erp.ports import ErpCustomer
from shared.errors import Conflict, DownstreamUnavailable, NotFound, Unprocessable, ValidationFailed
from shared.models.events import (
    ChannelFulfilled,
    CreditMemoIssued,
    OrderInvoiced,
    RefundIssued,
    ReturnAuthorized,
    ReturnReceived,
    ShipmentDispatched,
)
from shared.models.money import Money
from shared.models.order import Channel
from shared.models.order_state import OrderStatus, OrderVersion
from shared.models.returns import (
    Condition,
    CreditedLine,
    CreditMemo,
    Disposition,
    ReceivedLine,
    ReturnLine,
    ReturnPolicy,
    ReturnReceipt,
    ReturnRequest,
)
from shared.models.shipping import Package, Shipment, ShippedLine
from shared.once import Once
from tests.fakes import (
    FakeChannelApi,
    FakeErp,
    FakeLambdaContext,
    FakeOrderStore,
    FakePublisher,
    InMemoryPersistence,
)
from tests.unit.test_order_journey import ORDER

INTAKE, BILLING = "crossdock.intake", "crossdock.billing"
SHIPPED_AT = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
SKU = ORDER.lines[0].sku or ""


def shipment(shipment_id: str = "9001", quantity: int = 1, packages: int = 1) -> Shipment:
    return Shipment(
        shipment_id=shipment_id,
        order_key=ORDER.key,
        reference_id="ref-1",
        facility="1",
        carrier="UPS",
        service="Ground",
        packages=tuple(Package(tracking_number=f"1Z{shipment_id}{n}") for n in range(packages)),
        lines=(ShippedLine(sku=SKU, quantity=quantity),),
        shipped_at=SHIPPED_AT,
    )


def dispatched(made: Shipment | None = None) -> ShipmentDispatched:
    made = made or shipment()
    return ShipmentDispatched.about(made, dedupe_key=f"wms:order.shipped:{made.shipment_id}", source=INTAKE)


def erp_with_order() -> FakeErp:
    erp = FakeErp()
    erp.upsert_sales_order(ORDER, ErpCustomer(id="C1", active=True, credit_hold=False), ())
    return erp


# -- invoice_shipment --------------------------------------------------------------------------------------------


def test_a_shipment_is_invoiced_once_however_often_it_arrives() -> None:
    erp, publisher = erp_with_order(), FakePublisher()
    deps = InvoiceDeps(erp=erp, publisher=publisher)
    first = invoice_shipment(dispatched(), deps)
    again = invoice_shipment(dispatched(), deps)
    assert len(erp.shipments) == 1
    assert first.metadata.event_id == again.metadata.event_id  # the recorder keeps one timeline entry
    assert first.data.erp_invoice_id == "INV-1"
    assert first.data.amount == Money(amount=Decimal("10.00"), currency="USD")
    assert first.metadata.correlation_id == dispatched().metadata.correlation_id


def test_a_timeout_that_hid_the_invoice_finds_it_on_the_retry() -> None:
    erp = erp_with_order()
    erp.fail_next("record_shipment", DownstreamUnavailable("timeout"), after_commit=True)
    deps = InvoiceDeps(erp=erp, publisher=FakePublisher())
    with pytest.raises(DownstreamUnavailable):
        invoice_shipment(dispatched(), deps)
    invoice_shipment(dispatched(), deps)
    assert len(erp.shipments) == 1


def test_a_shipment_for_a_sales_order_the_erp_lacks_waits_instead_of_failing_for_good() -> None:
    with pytest.raises(DownstreamUnavailable):
        invoice_shipment(dispatched(), InvoiceDeps(erp=FakeErp(), publisher=FakePublisher()))


# -- fulfil_channel ------------------------------------------------------------------------------------------------


def invoiced(made: Shipment | None = None) -> OrderInvoiced:
    return invoice_shipment(dispatched(made), InvoiceDeps(erp=erp_with_order(), publisher=FakePublisher()))


def channel_with_order() -> FakeChannelApi:
    return FakeChannelApi(orders=[ORDER])


def test_the_channel_is_fulfilled_from_the_invoice_with_tracking_once_per_shipment() -> None:
    api, publisher = channel_with_order(), FakePublisher()
    deps = FulfilDeps(api_for=lambda _: api, publisher=publisher)
    made = shipment(packages=2)
    first = fulfil_channel(invoiced(made), deps)
    fulfil_channel(invoiced(made), deps)
    assert first is not None
    assert isinstance(first, ChannelFulfilled)
    assert api.fulfillments == {ORDER.external_id: {"9001": first.data.channel_fulfillment_id}}
    assert first.data.tracking_numbers == ("1Z90010", "1Z90011")
    assert [e.metadata.event_id for e in publisher.events] == [first.metadata.event_id] * 2


def test_with_the_rule_on_a_bare_shipment_never_reaches_the_channel() -> None:
    api = channel_with_order()
    assert fulfil_channel(dispatched(), FulfilDeps(api_for=lambda _: api, publisher=FakePublisher())) is None
    assert api.fulfillment_calls == 0


def test_with_the_rule_off_the_channel_hears_of_the_shipment_directly() -> None:
    api = channel_with_order()
    deps = FulfilDeps(api_for=lambda _: api, publisher=FakePublisher(), invoice_before_fulfil=False)
    assert fulfil_channel(dispatched(), deps) is not None
    assert api.fulfillment_calls == 1


def test_a_channel_with_no_api_is_recorded_as_fulfilled_without_a_call() -> None:
    def no_api(_: str) -> ChannelApi | None:
        return None

    made = fulfil_channel(invoiced(), FulfilDeps(api_for=no_api, publisher=FakePublisher()))
    assert made is not None
    assert made.data.channel_fulfillment_id is None


# -- authorize_return ---------------------------------------------------------------------------------------------


def store_with_shipment(quantity: int = 3) -> FakeOrderStore:
    store = FakeOrderStore()
    store.apply_version(
        OrderVersion(
            order_key=ORDER.key,
            channel=ORDER.channel.value,
            store=ORDER.store,
            external_id=ORDER.external_id,
            version=1,
            correlation_id="c",
            last_event_id="e",
        )
    )
    store.record_shipment(shipment(quantity=quantity))
    return store


def return_request(quantity: int = 1, request_id: str = "req-1", reason: str = "damaged") -> ReturnRequest:
    return ReturnRequest(
        channel=Channel.SHOPIFY,
        external_id=ORDER.external_id,
        request_id=request_id,
        lines=(ReturnLine(sku=SKU, quantity=quantity, reason_code=reason),),
    )


def return_deps(store: FakeOrderStore, erp: FakeErp | None = None, publisher: FakePublisher | None = None) -> Any:
    return ReturnDeps(
        store=store, erp=erp or FakeErp(), publisher=publisher or FakePublisher(), policy=ReturnPolicy(window_days=30)
    )


NOW = SHIPPED_AT + timedelta(days=3)


def test_an_rma_is_authorized_in_the_erp_and_announced() -> None:
    erp, publisher = FakeErp(), FakePublisher()
    rma, created = authorize_return(return_request(2), return_deps(store_with_shipment(), erp, publisher), NOW)
    assert created
    assert rma.rma_number == rma_number_for(ORDER.key, "req-1")
    assert rma.erp_return_authorization_id == "RA-1"
    assert rma.expires_at == SHIPPED_AT + timedelta(days=30)
    assert [type(e) for e in publisher.events] == [ReturnAuthorized]


def test_a_retried_request_gets_the_same_rma_and_one_erp_authorization() -> None:
    store, erp = store_with_shipment(), FakeErp()
    first, _ = authorize_return(return_request(), return_deps(store, erp), NOW)
    again, created = authorize_return(return_request(), return_deps(store, erp), NOW)
    assert again == first
    assert not created
    assert erp.calls.count("authorize_return") == 1


def test_a_request_that_failed_at_the_erp_is_finished_by_its_retry() -> None:
    store, erp = store_with_shipment(), FakeErp()
    erp.fail_next("authorize_return", DownstreamUnavailable("erp down"))
    with pytest.raises(DownstreamUnavailable):
        authorize_return(return_request(), return_deps(store, erp), NOW)
    rma, created = authorize_return(return_request(), return_deps(store, erp), NOW)
    assert rma.erp_return_authorization_id == "RA-1"
    assert not created


@pytest.mark.parametrize(
    ("request_", "now", "field", "reason"),
    [
        (return_request(4), NOW, "lines.0.quantity", "more than shipped and not yet returned"),
        (return_request(1), SHIPPED_AT + timedelta(days=31), "external_id", "outside the return window"),
        (return_request(1, reason="changed_mind"), NOW, "lines.0.reason_code", "unknown reason code"),
    ],
)
def test_a_return_the_rules_refuse_gets_a_422_with_the_reason(
    request_: ReturnRequest, now: datetime, field: str, reason: str
) -> None:
    erp = FakeErp()
    with pytest.raises(Unprocessable) as refused:
        authorize_return(request_, return_deps(store_with_shipment(), erp), now)
    assert refused.value.status_code == 422
    assert (refused.value.message, refused.value.details["field"]) == (reason, field)
    assert erp.calls == []


def test_units_already_returned_cannot_be_returned_again() -> None:
    store = store_with_shipment(quantity=3)
    authorize_return(return_request(2, "a"), return_deps(store), NOW)
    with pytest.raises(Unprocessable) as refused:
        authorize_return(return_request(2, "b"), return_deps(store), NOW)
    assert "already returned 2" in refused.value.details["detail"]
    authorize_return(return_request(1, "c"), return_deps(store), NOW)


def test_nothing_shipped_or_no_such_order_is_refused_clearly() -> None:
    store = store_with_shipment()
    store.shipped.clear()
    with pytest.raises(Unprocessable, match="nothing of this order has shipped"):
        authorize_return(return_request(), return_deps(store), NOW)
    with pytest.raises(NotFound):
        authorize_return(return_request(), return_deps(FakeOrderStore()), NOW)


def test_a_request_id_reused_for_other_lines_is_refused() -> None:
    store = store_with_shipment()
    authorize_return(return_request(1), return_deps(store), NOW)
    with pytest.raises(Unprocessable, match="request_id already used"):
        authorize_return(return_request(2), return_deps(store), NOW)


def test_a_racing_rma_makes_the_check_run_again_on_fresh_returns() -> None:
    store = store_with_shipment(quantity=3)
    saves: list[bool] = []
    real_save = store.save_return

    def save_after_a_rival(authorization: Any, known: int) -> bool:
        if not saves:  # a rival takes 2 units between our read and our write
            saves.append(real_save(authorization.model_copy(update={"rma_number": "RMA-RIVAL"}), known))
            return real_save(authorization, known)
        return real_save(authorization, known)

    store.save_return = save_after_a_rival  # type: ignore[method-assign]
    with pytest.raises(Unprocessable, match="more than shipped"):
        authorize_return(return_request(2), return_deps(store), NOW)

    stuck = store_with_shipment()
    stuck.save_return = lambda authorization, known: False  # type: ignore[method-assign]
    with pytest.raises(Conflict):
        authorize_return(return_request(1), return_deps(stuck), NOW)


# -- credit_return and refund_channel -------------------------------------------------------------------------


def received(*lines: ReceivedLine, rma_number: str | None = None, receipt_id: str = "R-1") -> ReturnReceived:
    receipt = ReturnReceipt(
        receipt_id=receipt_id,
        rma_number=rma_number or rma_number_for(ORDER.key, "req-1"),
        order_key=ORDER.key,
        facility="1",
        lines=lines or (ReceivedLine(sku=SKU, quantity=2, condition=Condition.NEW, disposition=Disposition.RESTOCK),),
        received_at=NOW,
    )
    return ReturnReceived.about(receipt, dedupe_key=f"wms:return.completed:{receipt_id}", source=INTAKE)


def authorized_store(quantity: int = 2) -> FakeOrderStore:
    store = store_with_shipment()
    authorize_return(return_request(quantity), return_deps(store), NOW)
    return store


def test_a_received_return_is_credited_once_at_the_policy_s_percentages() -> None:
    erp, store, publisher = FakeErp(), authorized_store(), FakePublisher()
    deps = CreditDeps(erp=erp, publisher=publisher, returns=store, credit_percent={"damaged": 50})
    lines = (
        ReceivedLine(sku=SKU, quantity=1, condition=Condition.NEW, disposition=Disposition.RESTOCK),
        ReceivedLine(sku=SKU, quantity=1, condition=Condition.DAMAGED, disposition=Disposition.SCRAP),
    )
    first = credit_return(received(*lines), deps)
    again = credit_return(received(*lines), deps)
    assert len(erp.credit_memos) == 1
    assert first.metadata.event_id == again.metadata.event_id
    assert first.data.amount == Money(amount=Decimal("15.00"), currency="USD")  # 10 + 50 % of 10


def test_a_return_crossdock_never_authorized_goes_to_the_dlq_with_its_reason() -> None:
    deps = CreditDeps(erp=FakeErp(), publisher=FakePublisher(), returns=authorized_store())
    with pytest.raises(NotFound, match="did not authorize"):
        credit_return(received(rma_number="RMA-NOPE"), deps)


def test_more_received_than_authorized_is_for_a_person_to_decide() -> None:
    deps = CreditDeps(erp=FakeErp(), publisher=FakePublisher(), returns=authorized_store(quantity=1))
    with pytest.raises(ValidationFailed, match="more than the RMA authorized"):
        credit_return(received(), deps)


def test_a_receipt_whose_rma_is_still_being_made_waits() -> None:
    store = store_with_shipment()
    erp = FakeErp()
    erp.fail_next("authorize_return", DownstreamUnavailable("erp down"))
    with pytest.raises(DownstreamUnavailable):
        authorize_return(return_request(2), return_deps(store, erp), NOW)
    with pytest.raises(DownstreamUnavailable):
        credit_return(received(), CreditDeps(erp=erp, publisher=FakePublisher(), returns=store))


def memo(amount: str = "15.00") -> CreditMemoIssued:
    data = CreditMemo(
        order_key=ORDER.key,
        rma_number="RMA-1",
        receipt_id="R-1",
        erp_credit_memo_id="CM-1",
        amount=Money(amount=Decimal(amount), currency="USD"),
        lines=(CreditedLine(sku=SKU, quantity=2, amount=Money(amount=Decimal(amount), currency="USD")),),
    )
    return CreditMemoIssued.about(data, dedupe_key=f"{ORDER.key}:R-1", source=BILLING)


def test_the_channel_refunds_what_the_erp_credited_once_per_receipt() -> None:
    api, publisher = channel_with_order(), FakePublisher()
    deps = RefundDeps(api_for=lambda _: api, publisher=publisher)
    first = refund_channel(memo(), deps)
    refund_channel(memo(), deps)
    ((refund_id, request),) = api.refunds[ORDER.external_id].values()
    assert isinstance(first, RefundIssued)
    assert first.data.channel_refund_id == refund_id
    assert request.amount.amount == Decimal("15.00")
    assert request.refund_id == "RMA-1:R-1"
    assert len(api.refunds[ORDER.external_id]) == 1


def test_a_zero_credit_is_not_sent_to_the_channel() -> None:
    api = channel_with_order()
    made = refund_channel(memo("0.00"), RefundDeps(api_for=lambda _: api, publisher=FakePublisher()))
    assert api.refund_calls == 0
    assert made.data.channel_refund_id is None


# -- the timeline ------------------------------------------------------------------------------------------------


def test_the_recorder_moves_the_status_through_shipped_invoiced_fulfilled_and_keeps_what_shipped() -> None:
    store = FakeOrderStore()
    made = shipment()
    invoice = invoiced(made)
    api = channel_with_order()
    fulfilled = fulfil_channel(invoice, FulfilDeps(api_for=lambda _: api, publisher=FakePublisher()))
    assert fulfilled is not None
    # Out of order: the fulfillment is recorded first; statuses only move forward.
    for event in (fulfilled, dispatched(made), invoice):
        record_event(event, store)
    assert store.statuses[ORDER.key] is OrderStatus.FULFILLED
    assert store.shipments(ORDER.key) == [made]
    whats = [entry.what for entry in store.entries[ORDER.key]]
    assert whats == ["ChannelFulfilled", "ShipmentDispatched", "OrderInvoiced"]
    assert store.entries[ORDER.key][1].ids["tracking_numbers"] == "1Z90010"


# -- once: two copies of one event at the same moment --------------------------------------------------------------


def guarded(name: str) -> Once:
    once = Once(InMemoryPersistence(), name)
    once.register(cast(LambdaContext, FakeLambdaContext()))
    return once


def test_a_channel_call_raced_by_a_copy_of_its_event_is_made_once() -> None:
    once = guarded("fulfil_channel")
    api, calls = channel_with_order(), []

    def create() -> str | None:
        calls.append(1)
        # The copy arrives while the first is still calling the channel: it must not call too.
        with pytest.raises(Conflict):
            once("fulfil:k:9001", lambda: api.create_fulfillment(ORDER.external_id, shipment()))
        return api.create_fulfillment(ORDER.external_id, shipment())

    first = once("fulfil:k:9001", create)
    again = once("fulfil:k:9001", lambda: pytest.fail("a finished call is not made again"))
    assert first == again == "F-" + ORDER.external_id + "-1"
    assert (len(calls), api.fulfillment_calls) == (1, 1)


def test_a_failed_channel_call_leaves_nothing_behind_so_the_retry_makes_it() -> None:
    once, api = guarded("refund_channel"), channel_with_order()

    def down() -> str | None:
        raise DownstreamUnavailable("channel down")

    with pytest.raises(DownstreamUnavailable):
        once("refund:k:R-1", down)
    deps = RefundDeps(api_for=lambda _: api, publisher=FakePublisher(), once=once)
    assert refund_channel(memo(), deps).data.channel_refund_id is not None


def test_a_sku_credited_in_two_conditions_is_refunded_as_one_line() -> None:
    api = channel_with_order()
    data = memo().data.model_copy(
        update={
            "lines": (
                CreditedLine(sku=SKU, quantity=1, amount=Money(amount=Decimal("10.00"), currency="USD")),
                CreditedLine(sku=SKU, quantity=1, amount=Money(amount=Decimal("5.00"), currency="USD")),
            )
        }
    )
    event = CreditMemoIssued.about(data, dedupe_key="d", source=BILLING)
    refund_channel(event, RefundDeps(api_for=lambda _: api, publisher=FakePublisher()))
    ((_, request),) = api.refunds[ORDER.external_id].values()
    assert request.lines == (ShippedLine(sku=SKU, quantity=2),)


def test_an_rma_the_erp_refuses_for_good_is_taken_back_and_its_units_stay_returnable() -> None:
    store, erp = store_with_shipment(quantity=3), FakeErp()
    erp.fail_next("authorize_return", ValidationFailed("return exceeds what was fulfilled"))
    with pytest.raises(Unprocessable) as refused:
        authorize_return(return_request(3, "a"), return_deps(store, erp), NOW)
    assert refused.value.details["detail"] == "return exceeds what was fulfilled"
    assert store.returns(ORDER.key) == []
    rma, created = authorize_return(return_request(3, "b"), return_deps(store, erp), NOW)
    assert created
    assert rma.erp_return_authorization_id is not None


def test_a_retry_after_a_failed_publish_announces_the_rma() -> None:
    store, publisher = store_with_shipment(), FakePublisher()
    publisher.failures_left = 1
    with pytest.raises(DownstreamUnavailable):
        authorize_return(return_request(), return_deps(store, publisher=publisher), NOW)
    authorize_return(return_request(), return_deps(store, publisher=publisher), NOW)
    assert [type(e) for e in publisher.events] == [ReturnAuthorized]
