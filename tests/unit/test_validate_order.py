"""Validation against the ERP: each check, the action the rules give it, routing, and the use case's idempotency."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from functions.validate_order.logic import ValidateDeps, validate_order
from functions.validate_order.routing import route
from infra.samples import compact, shopify_payload
from shared.channels.base import WebhookRequest
from shared.channels.shopify.adapter import ShopifyAdapter
from shared.erp.ports import ErpCustomer, ErpItem
from shared.errors import DownstreamUnavailable, ValidationFailed
from shared.models.events import (
    InventoryAdjusted,
    OrderAccepted,
    OrderHeld,
    OrderReceived,
    OrderRejected,
    OversellPrevented,
    derive_id,
)
from shared.models.inventory import ReservationLine
from shared.models.lifecycle import AllocatedLine, Allocation
from shared.models.money import Money
from shared.models.order import Address, Channel, CustomerRef, FinancialStatus, Order, OrderLine
from shared.models.order_state import OrderStatus
from shared.models.rules import Action, OrderRules, RoutingRules, Warehouse
from tests.fakes import FakeErp, FakeOrderStore, FakePublisher
from tests.fakes_inventory import InMemoryLedger

EMAIL = "buyer@example.com"
T0 = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)
MA = Address(country_code="US", region_code="MA")


def usd(amount: str) -> Money:
    return Money(amount=Decimal(amount), currency="USD")


def line(sku: str | None, quantity: int = 1, price: str = "10.00", line_id: str | None = None) -> OrderLine:
    return OrderLine(
        line_id=line_id or f"L-{sku}", sku=sku, title=sku or "custom", quantity=quantity, unit_price=usd(price)
    )


def make_order(*lines: OrderLine, **changes: Any) -> Order:
    fields: dict[str, Any] = {
        "channel": Channel.SHOPIFY,
        "store": "acme.myshopify.com",
        "external_id": "1001",
        "customer": CustomerRef(email=EMAIL),
        "currency": "USD",
        "lines": lines or (line("GLV", 10, "84.50"),),
        "shipping_address": MA,
        "financial_status": FinancialStatus.PENDING,
        "total": usd("845.00"),
        "placed_at": T0,
        "updated_at": T0,
    }
    return Order(**{**fields, **changes})


def customer(**changes: Any) -> ErpCustomer:
    fields: dict[str, Any] = {
        "id": "C-1",
        "active": True,
        "credit_hold": False,
        "terms": "Net 30",
        "credit_limit": Decimal(10000),
        "balance": Decimal(0),
    }
    return ErpCustomer(**{**fields, **changes})


def item(sku: str, price: str = "10.00", stock: dict[str, int] | None = None, **changes: Any) -> ErpItem:
    return ErpItem(id=f"I-{sku}", sku=sku, price=Decimal(price), available=stock or {"loc-east": 100}, **changes)


def erp(*items: ErpItem, buyer: ErpCustomer | None = None) -> FakeErp:
    return FakeErp(customers={EMAIL: buyer or customer()}, catalog={i.sku: i for i in items or (item("GLV", "84.50"),)})


EAST = Warehouse(id="wh-east", erp_location="loc-east", regions=("US",))
ONE_WAREHOUSE = RoutingRules(warehouses=(EAST,))


def stocked_ledger(fake_erp: FakeErp, routing: RoutingRules) -> InMemoryLedger:
    """The ledger holding what the ERP items say each warehouse has (the tests state stock on the items)."""
    ledger = InMemoryLedger()
    for sku, erp_item in fake_erp.catalog.items():
        for warehouse in routing.warehouses:
            ledger.stock(sku, warehouse.id, erp_item.available.get(warehouse.erp_location, 0))
    return ledger


def deps(
    fake_erp: FakeErp,
    rules: OrderRules | None = None,
    routing: RoutingRules = ONE_WAREHOUSE,
    states: FakeOrderStore | None = None,
    ledger: InMemoryLedger | None = None,
) -> ValidateDeps:
    return ValidateDeps(
        erp=fake_erp,
        publisher=FakePublisher(),
        states=states or FakeOrderStore(),
        rules=rules or OrderRules(),
        routing=routing,
        ledger=ledger or stocked_ledger(fake_erp, routing),
    )


def received(order: Order) -> OrderReceived:
    event = OrderReceived.for_order(order, dedupe_key=f"{order.key}:create", source="crossdock.intake")
    assert isinstance(event, OrderReceived)
    return event


def decide(
    order: Order, fake_erp: FakeErp, rules: OrderRules | None = None
) -> OrderAccepted | OrderHeld | OrderRejected:
    decision = validate_order(received(order), deps(fake_erp, rules))
    assert decision is not None
    return decision


def codes(decision: OrderAccepted | OrderHeld | OrderRejected) -> list[str]:
    return [reason.code for reason in decision.data.reasons]


def with_actions(**actions: Action) -> OrderRules:
    return OrderRules(actions={**OrderRules().actions, **actions})


# -- customer checks ---------------------------------------------------------------------------------------------


def test_a_known_active_customer_with_terms_and_credit_is_accepted() -> None:
    decision = decide(make_order(), erp())
    assert isinstance(decision, OrderAccepted)
    assert codes(decision) == []


def test_an_unknown_customer_is_held() -> None:
    decision = decide(make_order(), FakeErp(catalog={"GLV": item("GLV", "84.50")}))
    assert isinstance(decision, OrderHeld)
    assert codes(decision) == ["unknown_customer"]


def test_a_customer_is_found_by_order_key_when_the_email_is_unknown() -> None:
    order = make_order(customer=CustomerRef(email="someone-else@example.com"))
    fake_erp = FakeErp(customers={order.key: customer()}, catalog={"GLV": item("GLV", "84.50")})
    assert isinstance(decide(order, fake_erp), OrderAccepted)


@pytest.mark.parametrize(
    ("changes", "code", "decision"),
    [
        ({"active": False}, "inactive_customer", OrderRejected),
        ({"credit_hold": True}, "credit_hold", OrderHeld),
        ({"credit_limit": Decimal(1000), "balance": Decimal("155.01")}, "over_credit_limit", OrderHeld),
        ({"terms": None}, "no_terms", OrderHeld),
    ],
)
def test_customer_problems_take_the_default_action(changes: dict[str, Any], code: str, decision: type) -> None:
    result = decide(make_order(), erp(item("GLV", "84.50"), buyer=customer(**changes)))
    assert type(result) is decision
    assert codes(result) == [code]


def test_an_order_that_exactly_reaches_the_credit_limit_is_within_it() -> None:
    buyer = customer(credit_limit=Decimal(1000), balance=Decimal("155.00"))  # 155.00 + 845.00 = 1000
    assert isinstance(decide(make_order(), erp(item("GLV", "84.50"), buyer=buyer)), OrderAccepted)


@pytest.mark.parametrize(
    "status",
    [FinancialStatus.PENDING, FinancialStatus.AUTHORIZED, FinancialStatus.PARTIALLY_PAID, FinancialStatus.UNKNOWN],
)
def test_an_unpaid_order_needs_terms(status: FinancialStatus) -> None:
    result = decide(make_order(financial_status=status), erp(item("GLV", "84.50"), buyer=customer(terms=None)))
    assert codes(result) == ["no_terms"]


def test_a_paid_order_needs_no_terms() -> None:
    result = decide(
        make_order(financial_status=FinancialStatus.PAID), erp(item("GLV", "84.50"), buyer=customer(terms=None))
    )
    assert isinstance(result, OrderAccepted)


# -- line checks -------------------------------------------------------------------------------------------------


def test_a_line_without_sku_is_held_with_its_line_id() -> None:
    result = decide(make_order(line("GLV", 1, "84.50"), line(None, line_id="L-custom")), erp())
    assert isinstance(result, OrderHeld)
    assert [(r.code, r.line_id) for r in result.data.reasons] == [("missing_sku", "L-custom")]


def test_a_sku_the_erp_does_not_know_is_held() -> None:
    result = decide(make_order(line("NOPE", line_id="L-nope")), erp())
    assert isinstance(result, OrderHeld)
    assert [(r.code, r.line_id) for r in result.data.reasons] == [("unknown_sku", "L-nope")]


def test_a_restricted_product_is_rejected() -> None:
    result = decide(make_order(), erp(item("GLV", "84.50", restricted=True)))
    assert isinstance(result, OrderRejected)
    assert codes(result) == ["restricted_product"]


def test_a_price_below_the_erp_price_beyond_the_tolerance_is_held() -> None:
    # ERP 100.00, default tolerance 2 %: the floor is 98.00.
    result = decide(make_order(line("GLV", 1, "97.99")), erp(item("GLV", "100.00")))
    assert isinstance(result, OrderHeld)
    assert codes(result) == ["price_below_erp"]


@pytest.mark.parametrize("price", ["98.00", "100.00", "120.00"])
def test_a_price_within_the_tolerance_or_above_passes(price: str) -> None:
    assert isinstance(decide(make_order(line("GLV", 1, price)), erp(item("GLV", "100.00"))), OrderAccepted)


def test_the_price_tolerance_is_data() -> None:
    order, fake_erp = make_order(line("GLV", 1, "95.00")), erp(item("GLV", "100.00"))
    assert isinstance(decide(order, fake_erp), OrderHeld)
    assert isinstance(decide(order, fake_erp, OrderRules(price_tolerance_pct=Decimal(5))), OrderAccepted)


def test_an_erp_price_in_another_currency_is_held_and_not_compared() -> None:
    result = decide(make_order(line("GLV", 1, "1.00")), erp(item("GLV", "100.00", currency="EUR")))
    assert isinstance(result, OrderHeld)
    assert codes(result) == ["currency_mismatch"]


# -- destination checks ------------------------------------------------------------------------------------------


def test_a_restricted_destination_is_rejected() -> None:
    result = decide(make_order(shipping_address=Address(country_code="CU")), erp())
    assert isinstance(result, OrderRejected)
    assert codes(result) == ["restricted_destination"]


def test_the_restricted_destinations_are_data() -> None:
    rules = OrderRules(restricted_destinations=("US",))
    assert isinstance(decide(make_order(), erp(), rules), OrderRejected)


def test_a_taxable_us_order_without_a_state_is_held() -> None:
    result = decide(make_order(shipping_address=Address(country_code="US")), erp())
    assert isinstance(result, OrderHeld)
    assert codes(result) == ["missing_tax_context"]


def test_a_non_taxable_us_order_needs_no_state() -> None:
    order = make_order(shipping_address=Address(country_code="US"))
    assert isinstance(decide(order, erp(item("GLV", "84.50", taxable=False))), OrderAccepted)


def test_an_order_without_a_ship_to_is_held() -> None:
    result = decide(make_order(shipping_address=None), erp())
    assert isinstance(result, OrderHeld)
    assert codes(result) == ["missing_tax_context"]


# -- actions are data --------------------------------------------------------------------------------------------


def test_the_same_problem_holds_rejects_or_passes_as_the_rules_say() -> None:
    order, fake_erp = make_order(), erp(item("GLV", "84.50"), buyer=customer(credit_hold=True))
    assert isinstance(decide(order, fake_erp), OrderHeld)
    assert isinstance(decide(order, fake_erp, with_actions(credit_hold=Action.REJECT)), OrderRejected)
    accepted = decide(order, fake_erp, with_actions(credit_hold=Action.IGNORE))
    assert isinstance(accepted, OrderAccepted)
    assert codes(accepted) == []


def test_a_code_missing_from_the_actions_holds() -> None:
    result = decide(make_order(), erp(item("GLV", "84.50"), buyer=customer(active=False)), OrderRules(actions={}))
    assert isinstance(result, OrderHeld)
    assert codes(result) == ["inactive_customer"]


def test_reject_wins_over_hold() -> None:
    result = decide(make_order(), erp(item("GLV", "84.50", restricted=True), buyer=customer(credit_hold=True)))
    assert isinstance(result, OrderRejected)
    assert set(codes(result)) == {"credit_hold", "restricted_product"}


def test_ignored_problems_are_left_out_of_the_reasons() -> None:
    fake_erp = erp(item("GLV", "100.00"), buyer=customer(credit_hold=True))
    result = decide(make_order(line("GLV", 1, "50.00")), fake_erp, with_actions(price_below_erp=Action.IGNORE))
    assert isinstance(result, OrderHeld)
    assert codes(result) == ["credit_hold"]


# -- routing -----------------------------------------------------------------------------------------------------


def warehouse(name: str, *regions: str, priority: int = 100) -> Warehouse:
    return Warehouse(id=name, erp_location=f"loc-{name}", regions=regions, priority=priority)


def stocked(stock: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """SKU → {warehouse id → quantity}, turned into what routing reads: warehouse id → SKU → quantity."""
    by_warehouse: dict[str, dict[str, int]] = {}
    for sku, quantities in stock.items():
        for warehouse_id, quantity in quantities.items():
            by_warehouse.setdefault(warehouse_id, {})[sku] = quantity
    return by_warehouse


TWO_LINES = make_order(line("A", 2, line_id="L1"), line("B", 3, line_id="L2"))


def test_one_warehouse_that_can_ship_everything_is_preferred_to_a_split() -> None:
    rules = RoutingRules(warehouses=(warehouse("near", "US-MA", priority=1), warehouse("far", "US", priority=9)))
    items = stocked({"A": {"near": 5, "far": 5}, "B": {"far": 5}})
    allocations, reasons = route(TWO_LINES, items, rules)
    assert reasons == []
    assert allocations == [
        Allocation(
            warehouse="far",
            erp_location="loc-far",
            lines=(AllocatedLine(line_id="L1", sku="A", quantity=2), AllocatedLine(line_id="L2", sku="B", quantity=3)),
        )
    ]


def test_a_region_match_beats_a_country_match_beats_anywhere() -> None:
    # The broader the match, the better its priority: the match still decides first.
    region, country = warehouse("ma", "US-MA", priority=9), warehouse("us", "US", priority=5)
    anywhere = warehouse("any", "*", priority=1)
    items = stocked({"A": {"ma": 9, "us": 9, "any": 9}, "B": {"ma": 9, "us": 9, "any": 9}})

    def winner(*warehouses: Warehouse) -> str:
        [allocation], _ = route(TWO_LINES, items, RoutingRules(warehouses=warehouses))
        return allocation.warehouse

    assert winner(anywhere, country, region) == "ma"
    assert winner(anywhere, country) == "us"
    assert winner(anywhere) == "any"


def test_priority_breaks_ties_between_equal_matches() -> None:
    rules = RoutingRules(warehouses=(warehouse("second", "US", priority=5), warehouse("first", "US", priority=1)))
    items = stocked({"A": {"first": 9, "second": 9}, "B": {"first": 9, "second": 9}})
    [allocation], _ = route(TWO_LINES, items, rules)
    assert allocation.warehouse == "first"


def test_lines_are_split_across_warehouses_when_allowed() -> None:
    rules = RoutingRules(warehouses=(warehouse("one", "US", priority=1), warehouse("two", "US", priority=2)))
    allocations, reasons = route(TWO_LINES, stocked({"A": {"one": 2}, "B": {"two": 3}}), rules)
    assert reasons == []
    assert {a.warehouse: [(line.line_id, line.quantity) for line in a.lines] for a in allocations} == {
        "one": [("L1", 2)],
        "two": [("L2", 3)],
    }


def test_no_split_allowed_means_insufficient_stock() -> None:
    rules = RoutingRules(warehouses=(warehouse("one", "US"), warehouse("two", "US")), allow_split=False)
    allocations, reasons = route(TWO_LINES, stocked({"A": {"one": 2}, "B": {"two": 3}}), rules)
    assert allocations == []
    assert [r.code for r in reasons] == ["insufficient_stock"]


def test_a_line_no_warehouse_can_ship_is_insufficient_stock() -> None:
    rules = RoutingRules(warehouses=(warehouse("one", "US"),))
    allocations, reasons = route(TWO_LINES, stocked({"A": {"one": 2}, "B": {"one": 2}}), rules)
    assert allocations == []
    assert [(r.code, r.line_id) for r in reasons] == [("insufficient_stock", "L2")]


def test_no_warehouse_serving_the_destination_is_no_warehouse() -> None:
    rules = RoutingRules(warehouses=(warehouse("ca", "CA"),))
    allocations, reasons = route(TWO_LINES, stocked({"A": {"ca": 9}, "B": {"ca": 9}}), rules)
    assert allocations == []
    assert [r.code for r in reasons] == ["no_warehouse"]


def test_no_warehouse_is_held_by_default() -> None:
    result = decide(make_order(shipping_address=Address(country_code="CA")), erp())
    assert isinstance(result, OrderHeld)
    assert codes(result) == ["no_warehouse"]


def test_two_lines_of_one_sku_are_checked_against_the_stock_together() -> None:
    order = make_order(line("A", 5, line_id="L1"), line("A", 5, line_id="L2"))
    allocations, reasons = route(order, stocked({"A": {"one": 6}}), RoutingRules(warehouses=(warehouse("one", "US"),)))
    assert allocations == []
    assert {r.code for r in reasons} == {"insufficient_stock"}


def test_a_split_takes_each_unit_once() -> None:
    order = make_order(line("A", 5, line_id="L1"), line("A", 5, line_id="L2"))
    rules = RoutingRules(warehouses=(warehouse("one", "US", priority=1), warehouse("two", "US", priority=2)))
    allocations, reasons = route(order, stocked({"A": {"one": 6, "two": 6}}), rules)
    assert reasons == []
    assert {a.warehouse: [line.line_id for line in a.lines] for a in allocations} == {"one": ["L1"], "two": ["L2"]}


# -- the use case ------------------------------------------------------------------------------------------------


def test_an_accepted_order_gets_one_sales_order_and_its_allocations() -> None:
    fake_erp = erp()
    use = deps(fake_erp)
    decision = validate_order(received(make_order()), use)
    assert isinstance(decision, OrderAccepted)
    assert fake_erp.calls.count("upsert_sales_order") == 1
    assert fake_erp.creates == 1
    [sales_order] = fake_erp.sales_orders.values()
    assert decision.data.erp_sales_order_id == sales_order.id
    assert decision.data.allocations == (
        Allocation(
            warehouse="wh-east",
            erp_location="loc-east",
            lines=(AllocatedLine(line_id="L-GLV", sku="GLV", quantity=10),),
        ),
    )
    adjusted, decided = use.publisher.events  # type: ignore[attr-defined]  # inventory first, the decision last
    assert decided == decision
    assert decision.metadata.source == "crossdock.orders"
    # The reservation, for the channel syncs: 10 of 100 held.
    assert isinstance(adjusted, InventoryAdjusted)
    assert [(x.sku, x.location, x.reserved, x.atp) for x in adjusted.data.levels] == [("GLV", "wh-east", 10, 90)]


def test_the_shopify_sample_order_is_accepted() -> None:
    headers = {
        "x-shopify-topic": "orders/create",
        "x-shopify-shop-domain": "s.myshopify.com",
        "x-shopify-event-id": "1",
    }
    event = ShopifyAdapter().parse(WebhookRequest(headers=headers, body=compact(shopify_payload()))).event
    assert isinstance(event, OrderReceived)
    catalog = {line.sku: item(line.sku, str(line.unit_price.amount)) for line in event.data.lines if line.sku}
    fake_erp = FakeErp(customers={"dana.whitfield@example.com": customer()}, catalog=catalog)
    decision = validate_order(event, deps(fake_erp))
    assert isinstance(decision, OrderAccepted)
    assert [len(a.lines) for a in decision.data.allocations] == [5]


@pytest.mark.parametrize(
    ("make_erp", "decision"),
    [
        (lambda: erp(item("GLV", "84.50"), buyer=customer(credit_hold=True)), OrderHeld),
        (lambda: erp(item("GLV", "84.50", restricted=True)), OrderRejected),
        (lambda: erp(item("GLV", "84.50", stock={"loc-east": 1})), OrderHeld),
    ],
    ids=["held", "rejected", "out-of-stock"],
)
def test_a_held_or_rejected_order_has_reasons_and_no_sales_order(
    make_erp: Callable[[], FakeErp], decision: type
) -> None:
    fake_erp = make_erp()
    use = deps(fake_erp)
    result = validate_order(received(make_order()), use)
    assert type(result) is decision
    assert result is not None
    assert result.data.reasons
    assert result.data.erp_sales_order_id is None
    assert result.data.allocations == ()
    assert fake_erp.sales_orders == {}
    assert "upsert_sales_order" not in fake_erp.calls
    assert use.publisher.events[-1] == result  # type: ignore[attr-defined]
    # Only a shortage says the channel sold what stock could not cover.
    extra = [type(event) for event in use.publisher.events[:-1]]  # type: ignore[attr-defined]
    assert extra == ([OversellPrevented] if "insufficient_stock" in [r.code for r in result.data.reasons] else [])


def test_out_of_stock_is_held_with_insufficient_stock() -> None:
    result = decide(make_order(), erp(item("GLV", "84.50", stock={"loc-east": 1})))
    assert codes(result) == ["insufficient_stock"]


@pytest.mark.parametrize(
    "status", [s for s in OrderStatus if s.rank > OrderStatus.RECEIVED.rank], ids=lambda s: s.value
)
def test_an_order_already_decided_is_left_alone(status: OrderStatus) -> None:
    order, fake_erp, states = make_order(), erp(), FakeOrderStore()
    states.advance_status(order.key, status, T0)
    use = deps(fake_erp, states=states)
    assert validate_order(received(order), use) is None
    assert use.publisher.events == []
    assert fake_erp.calls == []


def test_an_order_only_received_is_decided() -> None:
    order, states = make_order(), FakeOrderStore()
    states.advance_status(order.key, OrderStatus.RECEIVED, T0)
    assert isinstance(validate_order(received(order), deps(erp(), states=states)), OrderAccepted)


def test_a_redone_decision_has_the_same_event_id_and_one_sales_order() -> None:
    order, fake_erp = make_order(), erp()
    first = validate_order(received(order), deps(fake_erp))
    again = validate_order(received(order), deps(fake_erp))
    assert first is not None
    assert again is not None
    assert again.metadata.event_id == first.metadata.event_id == derive_id("OrderAccepted", order.key)
    assert again.metadata.correlation_id == derive_id("order", order.key)
    assert fake_erp.creates == 1
    assert again.data.erp_sales_order_id == first.data.erp_sales_order_id


def test_a_held_decision_redone_has_the_same_event_id() -> None:
    order, fake_erp = make_order(), erp(buyer=customer(credit_hold=True))
    first, again = decide(order, fake_erp), decide(order, fake_erp)
    assert again.metadata.event_id == first.metadata.event_id


def test_an_erp_timeout_after_the_commit_still_makes_one_sales_order() -> None:
    order, fake_erp = make_order(), erp()
    fake_erp.fail_next("upsert_sales_order", DownstreamUnavailable("netsuite timed out"), after_commit=True)
    use = deps(fake_erp)
    with pytest.raises(DownstreamUnavailable):
        validate_order(received(order), use)
    assert use.publisher.events == []
    decision = validate_order(received(order), use)
    assert isinstance(decision, OrderAccepted)
    assert fake_erp.creates == 1
    assert use.publisher.events[-1] == decision  # type: ignore[attr-defined]
    assert use.ledger.reservations(order.key)  # reserved once, kept through the retry


def test_an_order_of_only_custom_lines_with_missing_sku_ignored_is_held_with_nothing_to_ship() -> None:
    use = deps(erp(), with_actions(missing_sku=Action.IGNORE))
    decision = validate_order(received(make_order(line(None, line_id="L-install"))), use)
    assert isinstance(decision, OrderHeld)
    assert codes(decision) == ["nothing_to_ship"]
    assert use.publisher.events == [decision]


def test_a_cancellation_that_lands_during_validation_undoes_the_sales_order() -> None:
    """The channel cancels while the ERP call is in flight: the sales order is closed and nothing is released."""
    order = make_order(line("GLV", 1, "84.50"))
    states = FakeOrderStore()

    class CancelledMeanwhile(FakeErp):
        def upsert_sales_order(self, *args: Any, **kwargs: Any) -> Any:
            made = super().upsert_sales_order(*args, **kwargs)
            states.advance_status(order.key, OrderStatus.CANCELLED, datetime.now(UTC))
            return made

    fake = CancelledMeanwhile(customers={EMAIL: customer()}, catalog={"GLV": item("GLV", "84.50")})
    wiring = deps(fake, states=states)
    assert validate_order(received(order), wiring) is None
    assert isinstance(wiring.publisher, FakePublisher)
    assert wiring.publisher.events == []
    [sales_order] = fake.sales_orders.values()
    assert sales_order.cancelled


# -- the reservation gate ----------------------------------------------------------------------------------------


TWO_WAREHOUSES = RoutingRules(
    warehouses=(
        Warehouse(id="wh-east", erp_location="loc-east", regions=("US-MA",), priority=1),
        Warehouse(id="wh-west", erp_location="loc-west", regions=("US",), priority=2),
    )
)


def test_the_second_order_for_the_last_units_is_held_and_the_oversell_reported() -> None:
    fake_erp = erp(item("GLV", "84.50", stock={"loc-east": 10}))
    use = deps(fake_erp)
    first = validate_order(received(make_order(external_id="1")), use)
    use.publisher = FakePublisher()
    second = validate_order(received(make_order(external_id="2")), use)
    assert isinstance(first, OrderAccepted)
    assert isinstance(second, OrderHeld)
    assert codes(second) == ["insufficient_stock"]
    [prevented] = [e for e in use.publisher.events if isinstance(e, OversellPrevented)]
    assert [(s.sku, s.wanted, s.available) for s in prevented.data.shortages] == [("GLV", 10, 0)]
    assert prevented.metadata.correlation_id == second.metadata.correlation_id  # on the held order's trace


class RacingLedger(InMemoryLedger):
    """Another order takes the east units between our read and our reservation, once."""

    def __init__(self) -> None:
        super().__init__()
        self.raced = False

    def reserve(self, order_key: str, lines: Any, at: datetime) -> Any:
        if not self.raced:
            self.raced = True
            rival = [ReservationLine(line_id="R1", sku="GLV", location="wh-east", quantity=10)]
            assert super().reserve("rival", rival, at).reserved
        return super().reserve(order_key, lines, at)


def test_a_reservation_that_loses_a_race_routes_again_from_fresh_stock() -> None:
    ledger = RacingLedger()
    ledger.stock("GLV", "wh-east", 10)
    ledger.stock("GLV", "wh-west", 10)
    use = deps(erp(), routing=TWO_WAREHOUSES, ledger=ledger)
    decision = validate_order(received(make_order()), use)
    assert isinstance(decision, OrderAccepted)
    assert [a.warehouse for a in decision.data.allocations] == ["wh-west"]
    assert ledger.levels([("GLV", "wh-west")])[("GLV", "wh-west")].reserved == 10


def test_an_order_the_erp_refuses_gives_its_units_back() -> None:
    fake_erp = erp()
    fake_erp.fail_next("upsert_sales_order", ValidationFailed("netsuite refused the sales order"))
    use = deps(fake_erp)
    order = make_order()
    with pytest.raises(ValidationFailed):
        validate_order(received(order), use)
    assert use.ledger.reservations(order.key) == []
    assert use.ledger.levels([("GLV", "wh-east")])[("GLV", "wh-east")].reserved == 0


def test_an_order_cancelled_during_validation_gives_its_units_back() -> None:
    states, order = FakeOrderStore(), make_order()
    fake_erp = erp()
    original = fake_erp.upsert_sales_order

    def cancel_meanwhile(*args: Any) -> Any:
        states.request_cancel(order.key, T0)  # the channel's cancellation lands while the ERP works
        return original(*args)

    fake_erp.upsert_sales_order = cancel_meanwhile  # type: ignore[method-assign]
    use = deps(fake_erp, states=states)
    assert validate_order(received(order), use) is None
    assert use.ledger.levels([("GLV", "wh-east")])[("GLV", "wh-east")].reserved == 0


def test_a_redo_after_the_channel_cancelled_gives_back_what_the_first_attempt_reserved() -> None:
    states, order = FakeOrderStore(), make_order()
    fake_erp = erp()
    fake_erp.fail_next("upsert_sales_order", DownstreamUnavailable("netsuite timed out"))
    use = deps(fake_erp, states=states)
    with pytest.raises(DownstreamUnavailable):
        validate_order(received(order), use)  # reserved, then the ERP failed
    states.request_cancel(order.key, T0)  # the cancellation lands before the redelivery
    assert validate_order(received(order), use) is None
    assert use.ledger.levels([("GLV", "wh-east")])[("GLV", "wh-east")].reserved == 0
    [announced] = [e for e in use.publisher.events if isinstance(e, InventoryAdjusted)]  # type: ignore[attr-defined]
    assert announced.data.cause == "release"


def test_an_order_with_more_lines_than_one_reservation_holds_is_held_with_a_reason() -> None:
    lines = [line("GLV", 1, "84.50", line_id=f"L{n}") for n in range(51)]
    decision = decide(make_order(*lines, total=usd("4309.50")), erp(item("GLV", "84.50", stock={"loc-east": 500})))
    assert isinstance(decision, OrderHeld)
    assert codes(decision) == ["too_many_lines"]
