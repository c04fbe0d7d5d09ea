"""The business metrics the handlers emit (EMF on stdout, as CloudWatch reads it), from what their logic did."""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import pytest
from aws_lambda_powertools import Metrics
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.credit_return import handler as credit_handler
from functions.invoice_shipment import handler as invoice_handler
from functions.invoice_shipment.logic import shipment_to_invoice
from functions.validate_order import handler as validate_handler
from functions.validate_order.logic import Decision, oversell_prevented, time_to_erp
from shared.metrics import (
    ORDERS_ACCEPTED,
    ORDERS_HELD,
    ORDERS_RECEIVED,
    ORDERS_REJECTED,
    OVERSELL_PREVENTED,
    RETURNS_CREDITED,
    SHIPMENT_TO_INVOICE_LATENCY,
    TIME_TO_ERP,
)
from shared.models.events import OrderAccepted, OrderHeld, OrderInvoiced, OrderReceived, OrderRejected, metadata_for
from shared.models.lifecycle import OrderDecision, Reason
from shared.models.money import Money
from shared.models.order_state import OrderStatus
from shared.models.shipping import Invoice
from tests.fakes import FakeLambdaContext, FakeOrderStore
from tests.unit.test_after_sale import SHIPPED_AT, shipment
from tests.unit.test_validate_order import T0, deps, erp, item, make_order
from tests.unit.test_waiting import sqs_event


def emf(text: str) -> list[dict[str, Any]]:
    """The EMF documents among the lines a function printed."""
    documents = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    return [d for d in documents if "_aws" in d]


def values(documents: list[dict[str, Any]], name: str) -> list[float]:
    found: list[float] = []
    for document in documents:
        for directive in document["_aws"]["CloudWatchMetrics"]:
            if any(m["Name"] == name for m in directive["Metrics"]):
                assert directive["Dimensions"] == [["service"]]  # the exact set the alarms name
                value = document[name]
                found.extend(value if isinstance(value, list) else [value])
    return found


def unit_of(documents: list[dict[str, Any]], name: str) -> str:
    units: dict[str, str] = {
        m["Name"]: m["Unit"]
        for d in documents
        for directive in d["_aws"]["CloudWatchMetrics"]
        for m in directive["Metrics"]
    }
    return units[name]


@pytest.fixture
def metrics() -> Iterator[Metrics]:
    """Powertools keeps one metric set per process: start and end each test with it empty."""
    shared = Metrics()
    shared.clear_metrics()
    yield shared
    shared.clear_metrics()


def flushed(metrics: Metrics, capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    capsys.readouterr()
    metrics.flush_metrics()
    return emf(capsys.readouterr().out)


def arrived(minutes_before_decision: int = 3) -> OrderReceived:
    event = OrderReceived.for_order(
        make_order(),
        dedupe_key="k",
        source="crossdock.intake",
        occurred_at=T0 - timedelta(minutes=minutes_before_decision),
    )
    assert isinstance(event, OrderReceived)
    return event


def decided(kind: type[Decision], *codes: str) -> Decision:
    order = make_order()
    metadata = metadata_for(kind.detail_type, dedupe_key=order.key, order_key=order.key, source="crossdock.orders")
    data = OrderDecision(
        order=order,
        erp_sales_order_id="SO-1" if kind is OrderAccepted else None,
        reasons=tuple(Reason(code=code, message=code) for code in codes),
    )
    return kind(metadata=metadata.model_copy(update={"occurred_at": T0}), data=data)


# -- validate_order ---------------------------------------------------------------------------------------------
def test_an_accepted_order_counts_received_and_accepted_and_its_time_to_erp(
    metrics: Metrics, capsys: pytest.CaptureFixture[str]
) -> None:
    validate_handler.measure(arrived(minutes_before_decision=3), decided(OrderAccepted))
    documents = flushed(metrics, capsys)
    assert values(documents, ORDERS_RECEIVED) == [1]
    assert values(documents, ORDERS_ACCEPTED) == [1]
    assert values(documents, TIME_TO_ERP) == [180_000]
    assert unit_of(documents, TIME_TO_ERP) == "Milliseconds"
    assert values(documents, ORDERS_HELD) == values(documents, OVERSELL_PREVENTED) == []


def test_an_order_held_for_stock_is_an_oversell_prevented_with_no_time_to_erp(
    metrics: Metrics, capsys: pytest.CaptureFixture[str]
) -> None:
    validate_handler.measure(arrived(), decided(OrderHeld, "insufficient_stock"))
    validate_handler.measure(arrived(), decided(OrderHeld, "credit_hold"))
    validate_handler.measure(arrived(), decided(OrderRejected, "unknown_sku"))
    documents = flushed(metrics, capsys)
    assert values(documents, ORDERS_RECEIVED) == [1, 1, 1]
    assert values(documents, ORDERS_HELD) == [1, 1]
    assert values(documents, ORDERS_REJECTED) == [1]
    assert values(documents, OVERSELL_PREVENTED) == [1]
    assert values(documents, TIME_TO_ERP) == []


def test_what_the_logic_says_happened() -> None:
    assert time_to_erp(arrived(minutes_before_decision=2), decided(OrderAccepted)) == timedelta(minutes=2)
    assert time_to_erp(arrived(minutes_before_decision=-1), decided(OrderAccepted)) == timedelta(0)  # clock skew
    assert time_to_erp(arrived(), decided(OrderHeld, "insufficient_stock")) is None
    assert oversell_prevented(decided(OrderRejected, "insufficient_stock", "unknown_sku"))
    assert not oversell_prevented(decided(OrderHeld, "credit_hold"))


def test_the_validator_flushes_its_metrics_per_invocation_and_counts_no_redelivery(
    metrics: Metrics, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {
        "DLQ_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/dlq",
        "EVENT_BUS_NAME": "bus",
        "CONNECTION_PREFIX": "crossdock-test/connections/",
        "ORDERS_TABLE_NAME": "orders",
        "INVENTORY_TABLE_NAME": "inventory",
        "ORDER_RULES": "{}",
        "ROUTING_RULES": json.dumps({"warehouses": [{"id": "wh-east", "erp_location": "loc-east", "regions": ["US"]}]}),
    }.items():
        monkeypatch.setenv(name, value)
    validate_handler.env.cache_clear()
    # The ERP and the stores are fakes; the rest (parse, logic, consume, log_metrics) is the deployed code.
    states = FakeOrderStore()
    wired = deps(erp(item("GLV", "84.50")), states=states)
    monkeypatch.setattr(validate_handler, "deps", lambda: wired)
    event = OrderReceived.for_order(make_order(), dedupe_key="k", source="crossdock.intake")
    body = json.dumps(
        {"id": "e", "source": "crossdock.intake", "detail-type": "OrderReceived", "time": "2026-11-28T14:00:00Z",
         "detail": event.model_dump(mode="json")}
    )  # fmt: skip
    context = cast(LambdaContext, FakeLambdaContext())
    capsys.readouterr()
    try:
        assert validate_handler.lambda_handler(sqs_event(body), context) == {"batchItemFailures": []}
        first = emf(capsys.readouterr().out)
        # The recorder marked it decided: the redelivery decides nothing and counts nothing.
        states.advance_status(event.data.key, OrderStatus.ACCEPTED, T0)
        with pytest.warns(UserWarning, match="No application metrics"):
            validate_handler.lambda_handler(sqs_event(body), context)
        again = emf(capsys.readouterr().out)
    finally:
        validate_handler.env.cache_clear()
    assert values(first, ORDERS_RECEIVED) == values(first, ORDERS_ACCEPTED) == [1]
    assert len(values(first, TIME_TO_ERP)) == 1
    assert values(again, ORDERS_RECEIVED) == []


# -- invoice_shipment and credit_return -------------------------------------------------------------------------
def test_an_invoice_measures_the_time_since_the_warehouse_shipped(
    metrics: Metrics, capsys: pytest.CaptureFixture[str]
) -> None:
    made = shipment()
    invoice = Invoice(
        order_key=made.order_key, shipment=made, erp_sales_order_id="SO-1", erp_fulfillment_id="IF-1",
        erp_invoice_id="INV-1", amount=Money(amount=Decimal("10.00"), currency="USD"),
    )  # fmt: skip
    invoiced = OrderInvoiced.about(invoice, dedupe_key="k", source="crossdock.billing")
    invoiced = invoiced.model_copy(
        update={"metadata": invoiced.metadata.model_copy(update={"occurred_at": SHIPPED_AT + timedelta(minutes=7)})}
    )
    assert shipment_to_invoice(invoiced) == timedelta(minutes=7)
    invoice_handler.measure(invoiced)
    documents = flushed(metrics, capsys)
    assert values(documents, SHIPMENT_TO_INVOICE_LATENCY) == [420_000]
    assert unit_of(documents, SHIPMENT_TO_INVOICE_LATENCY) == "Milliseconds"


def test_a_credit_memo_counts_one_return_credited(metrics: Metrics, capsys: pytest.CaptureFixture[str]) -> None:
    credit_handler.measure()
    documents = flushed(metrics, capsys)
    assert values(documents, RETURNS_CREDITED) == [1]
    assert unit_of(documents, RETURNS_CREDITED) == "Count"
    assert {d["_aws"]["CloudWatchMetrics"][0]["Namespace"] for d in documents} == {"Crossdock"}


def test_every_metric_a_function_emits_is_named_in_shared_metrics() -> None:
    """A name typed as a string in a handler drifts from the one the dashboards and alarms use."""
    root = Path(__file__).parents[2] / "functions"
    literal: list[str] = []
    for source in sorted(root.glob("*/*.py")):
        for call in ast.walk(ast.parse(source.read_text())):
            if not isinstance(call, ast.Call):
                continue
            function = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")
            if function not in ("add_metric", "single_metric"):
                continue
            for keyword in call.keywords:
                if keyword.arg == "name" and isinstance(keyword.value, ast.Constant):
                    literal.append(f"{source.relative_to(root)}:{call.lineno} {keyword.value.value}")
    assert literal == []
