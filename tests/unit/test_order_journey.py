"""After validation: release to the WMS, tell the channel, cancel, fetch, reconcile, read, and record every event."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from botocore.exceptions import ClientError

from functions.cancel_order.logic import CancelDeps, cancel_order
from functions.fetch_order.logic import FetchDeps, fetch_order
from functions.get_order.logic import get_order
from functions.reconcile_orders.logic import ReconcileDeps, reconcile_orders
from functions.record_order.logic import record_event
from functions.release_fulfillment.logic import ReleaseDeps, release_fulfillment
from functions.update_channel.logic import UpdateChannelDeps, update_channel
from functions.validate_order.logic import ValidateDeps, validate_order
from infra.samples import compact, shopify_payload
from shared.aws.order_store import DynamoOrderStore
from shared.channels.base import ChannelApi, WebhookRequest
from shared.channels.shopify.adapter import ShopifyAdapter
from shared.erp.ports import ErpCustomer, ErpItem
from shared.errors import DownstreamUnavailable, NotFound, ValidationFailed
from shared.models.events import (
    ChannelOrderNotified,
    EventEnvelope,
    FulfillmentReleased,
    OrderAccepted,
    OrderCancelled,
    OrderEvent,
    OrderHeld,
    OrderReceived,
    OrderRejected,
    OrderUpdated,
    metadata_for,
)
from shared.models.lifecycle import (
    AllocatedLine,
    Allocation,
    ChannelOrderRef,
    ChannelStatus,
    FulfillmentRelease,
    FulfillmentRequest,
    OrderDecision,
    Reason,
)
from shared.models.order import Channel, Order
from shared.models.order_state import OrderStatus, OrderVersion, TimelineEntry
from shared.models.rules import OrderRules, RoutingRules, Warehouse
from shared.observability import logger
from tests.conftest import JsonLogs
from tests.fakes import FakeChannelApi, FakeErp, FakeOrderStore, FakePublisher, FakeWms
from tests.fakes_inventory import InMemoryLedger

SHOP = "s.myshopify.com"
INTAKE, ORDERS = "crossdock.intake", "crossdock.orders"
ROUTING = RoutingRules(
    warehouses=(
        Warehouse(id="wh-east", erp_location="loc-east", regions=("US-MA",)),
        Warehouse(id="wh-west", erp_location="loc-west", regions=("US",)),
    )
)
SAFE = re.compile(r"^[A-Za-z0-9_-]+$")


def shopify(sample: str = "orders_create", topic: str = "orders/create", event_id: str = "1") -> OrderEvent:
    headers = {"x-shopify-topic": topic, "x-shopify-shop-domain": SHOP, "x-shopify-event-id": event_id}
    event = ShopifyAdapter().parse(WebhookRequest(headers=headers, body=compact(shopify_payload(sample)))).event
    assert isinstance(event, OrderEvent)
    return event


def created(event_id: str = "1") -> OrderEvent:
    return shopify("orders_create", "orders/create", event_id)


def updated(event_id: str = "2") -> OrderEvent:
    return shopify("orders_updated", "orders/updated", event_id)


def channel_cancelled(event_id: str = "3") -> OrderEvent:
    return shopify("orders_cancelled", "orders/cancelled", event_id)


ORDER = created().data


def decision(kind: type[OrderAccepted | OrderHeld | OrderRejected], order: Order = ORDER, **data: Any) -> Any:
    metadata = metadata_for(kind.detail_type, dedupe_key=order.key, order_key=order.key, source=ORDERS)
    return kind(metadata=metadata, data=OrderDecision(order=order, **data))


def accepted(order: Order = ORDER) -> OrderAccepted:
    """East ships the first two lines, west the rest."""
    lines = [AllocatedLine(line_id=line.line_id, sku=line.sku or "", quantity=line.quantity) for line in order.lines]
    allocations = (
        Allocation(warehouse="wh-east", erp_location="1", lines=tuple(lines[:2])),
        Allocation(warehouse="wh-west", erp_location="2", lines=tuple(lines[2:])),
    )
    made: OrderAccepted = decision(OrderAccepted, order, erp_sales_order_id="SO-1", allocations=allocations)
    return made


def cancelled_by_orders(order: Order = ORDER) -> OrderCancelled:
    metadata = metadata_for(
        OrderCancelled.detail_type, dedupe_key=f"{order.key}:cancel", order_key=order.key, source=ORDERS
    )
    return OrderCancelled(metadata=metadata, data=order)


def event_ids(publisher: FakePublisher) -> list[str]:
    return [event.metadata.event_id for event in publisher.events]


# -- release_fulfillment -----------------------------------------------------------------------------------------


@contextmanager
def logs_at(level: str) -> Iterator[None]:
    previous = logger.log_level
    logger.setLevel(level)
    try:
        yield
    finally:
        logger.setLevel(previous)


def release(
    event: OrderAccepted,
    wms: FakeWms,
    publisher: FakePublisher | None = None,
    states: FakeOrderStore | None = None,
) -> list[FulfillmentReleased]:
    deps = ReleaseDeps(wms=wms, publisher=publisher or FakePublisher(), states=states or FakeOrderStore())
    return release_fulfillment(event, deps)


def test_an_order_the_channel_cancelled_is_not_released() -> None:
    wms, states = FakeWms(), FakeOrderStore()
    states.request_cancel(ORDER.key, datetime.now(UTC))
    assert release(accepted(ORDER), wms, states=states) == []
    assert wms.creates == 0


def test_a_release_made_while_the_channel_cancelled_is_withdrawn() -> None:
    """The cancellation lands between the WMS create and the publish: the release is cancelled again."""
    states = FakeOrderStore()

    class CancelledMeanwhile(FakeWms):
        def release(self, request: Any) -> Any:
            made = super().release(request)
            states.request_cancel(ORDER.key, datetime.now(UTC))
            return made

    wms, publisher = CancelledMeanwhile(), FakePublisher()
    assert release(accepted(ORDER), wms, publisher, states) == []
    assert publisher.events == []
    assert all(order.status == "Cancelled" for order in wms.orders.values())


def test_release_makes_one_request_per_allocation() -> None:
    wms, publisher, event = FakeWms(), FakePublisher(), accepted()
    released = release(event, wms, publisher)
    assert sorted(r.warehouse for r in wms.requests.values()) == ["wh-east", "wh-west"]
    for allocation in event.data.allocations:
        [request] = [r for r in wms.requests.values() if r.warehouse == allocation.warehouse]
        assert request.lines == allocation.lines
        assert request.ship_to == ORDER.shipping_address
        assert request.order_number == "#1001"
        assert request.order_key == ORDER.key
    assert publisher.events == released
    assert {r.data.wms_order_id for r in released} == {o.id for o in wms.orders.values()}
    assert {r.metadata.source for r in released} == {"crossdock.fulfillment"}


def test_each_release_names_its_warehouse_s_wms_facility_and_is_findable_by_its_reference() -> None:
    routing = RoutingRules(
        warehouses=(
            Warehouse(id="wh-east", erp_location="1", wms_facility="1", regions=("US-MA",)),
            Warehouse(id="wh-west", erp_location="2", wms_facility="2", regions=("US",)),
        )
    )
    wms, states = FakeWms(), FakeOrderStore()
    release_fulfillment(accepted(), ReleaseDeps(wms=wms, publisher=FakePublisher(), states=states, routing=routing))
    assert {r.warehouse: r.facility for r in wms.requests.values()} == {"wh-east": "1", "wh-west": "2"}
    # Remembered before the WMS had it: its shipment webhooks name the order by this reference only.
    assert {states.order_for(ref) for ref in wms.requests} == {ORDER.key}


def test_reference_ids_are_stable_distinct_per_warehouse_and_safe_for_netsuite_and_shipbob() -> None:
    first, again = release(accepted(), FakeWms()), release(accepted(), FakeWms())
    refs = [r.data.request.reference_id for r in first]
    assert refs == [r.data.request.reference_id for r in again]
    assert len(set(refs)) == 2
    assert all(SAFE.match(ref) for ref in refs), refs


def test_reference_ids_of_an_order_id_with_odd_characters_are_safe() -> None:
    portal = ORDER.model_copy(
        update={"channel": Channel.B2B_PORTAL, "store": "portal.acme:8443", "external_id": "PO/17 #3"}
    )
    [ref, _] = [r.data.request.reference_id for r in release(accepted(portal), FakeWms())]
    assert SAFE.match(ref), ref


def test_a_redone_release_publishes_the_same_events_and_creates_nothing_new() -> None:
    wms, publisher = FakeWms(), FakePublisher()
    release(accepted(), wms, publisher)
    first_ids, orders = event_ids(publisher), dict(wms.orders)
    release(accepted(), wms, publisher)
    assert event_ids(publisher) == first_ids + first_ids
    assert wms.creates == 2
    assert wms.orders == orders


def test_a_release_that_timed_out_after_its_commit_is_finished_by_the_retry() -> None:
    wms, publisher = FakeWms(), FakePublisher()
    wms.fail_next("release", DownstreamUnavailable("shipbob timed out"), after_commit=True)
    with pytest.raises(DownstreamUnavailable):
        release(accepted(), wms, publisher)
    assert publisher.events == []
    assert wms.creates == 1
    released = release(accepted(), wms, publisher)
    assert wms.creates == 2
    assert publisher.events == released
    assert len(released) == 2


def test_a_release_logs_each_warehouse_at_info(json_logs: JsonLogs) -> None:
    # 'created' is a LogRecord attribute: logging it as a field raised KeyError after the WMS order was made.
    with logs_at("INFO"):
        released = release(accepted(), FakeWms())
    assert len(released) == 2
    lines = [r for r in json_logs.records() if r["message"] == "fulfillment released"]
    assert [r["warehouse"] for r in lines] == ["wh-east", "wh-west"]


def test_two_orders_never_share_a_reference_id() -> None:
    wms = FakeWms()
    for external_id in ("PO.1001", "PO_1001"):
        portal = ORDER.model_copy(update={"channel": Channel.B2B_PORTAL, "store": "portal", "external_id": external_id})
        release(accepted(portal), wms)
    assert wms.creates == 4


# -- update_channel ----------------------------------------------------------------------------------------------


def tell(
    event: EventEnvelope[Any],
    api: ChannelApi | None,
    publisher: FakePublisher | None = None,
    states: FakeOrderStore | None = None,
) -> Any:
    deps = UpdateChannelDeps(
        api_for={"shopify": api}.get, publisher=publisher or FakePublisher(), states=states or FakeOrderStore()
    )
    return update_channel(event, deps)


def test_a_push_overtaken_by_a_later_status_is_not_sent() -> None:
    """A retried "accepted" after the order was cancelled must not put "accepted" back on the channel."""
    api, states = FakeChannelApi(), FakeOrderStore()
    states.advance_status(ORDER.key, OrderStatus.CANCELLED, datetime.now(UTC))
    assert tell(accepted(ORDER), api, states=states) is None
    assert api.pushed == []


@pytest.mark.parametrize(
    ("make", "status"),
    [
        (accepted, ChannelStatus.ACCEPTED),
        (lambda: decision(OrderHeld), ChannelStatus.ON_HOLD),
        (lambda: decision(OrderRejected), ChannelStatus.REJECTED),
        (cancelled_by_orders, ChannelStatus.CANCELLED),
    ],
    ids=["accepted", "held", "rejected", "cancelled"],
)
def test_the_channel_is_told_the_status_of_each_decision(make: Any, status: ChannelStatus) -> None:
    api, publisher = FakeChannelApi(), FakePublisher()
    result = tell(make(), api, publisher)
    assert api.pushed == [(ORDER.external_id, status, ())]
    assert publisher.events == [result]
    assert (result.data.status, result.data.order_key, result.metadata.source) == (
        status,
        ORDER.key,
        "crossdock.channels",
    )


def test_the_reasons_go_to_the_channel() -> None:
    reasons = (Reason(code="credit_hold", message="on hold"), Reason(code="no_terms", message="no terms"))
    api = FakeChannelApi()
    result = tell(decision(OrderHeld, reasons=reasons), api)
    assert api.pushed == [(ORDER.external_id, ChannelStatus.ON_HOLD, reasons)]
    assert result.data.reasons == reasons


def test_a_channel_without_an_api_is_skipped() -> None:
    publisher = FakePublisher()
    assert tell(accepted(), None, publisher) is None
    assert publisher.events == []


def test_a_redone_update_pushes_nothing_new_and_repeats_its_event_id() -> None:
    api, publisher = FakeChannelApi(), FakePublisher()
    tell(accepted(), api, publisher)
    tell(accepted(), api, publisher)
    assert len(api.pushed) == 1
    [first, again] = event_ids(publisher)
    assert first == again


# -- cancel_order ------------------------------------------------------------------------------------------------


def released_order() -> tuple[FakeErp, FakeWms]:
    """The sample order with its ERP sales order and both warehouse releases."""
    erp, wms = FakeErp(), FakeWms()
    buyer = ErpCustomer(id="C-1", active=True, credit_hold=False)
    erp.upsert_sales_order(ORDER, buyer, accepted().data.allocations)
    release(accepted(), wms)
    return erp, wms


def cancel(erp: FakeErp, wms: FakeWms, states: FakeOrderStore, publisher: FakePublisher) -> OrderCancelled | OrderHeld:
    event = channel_cancelled()
    assert isinstance(event, OrderCancelled)
    return cancel_order(event, CancelDeps(erp=erp, wms=wms, publisher=publisher, states=states, routing=ROUTING))


def test_a_cancellation_cancels_in_the_erp_and_every_warehouse() -> None:
    (erp, wms), states, publisher = released_order(), FakeOrderStore(), FakePublisher()
    result = cancel(erp, wms, states, publisher)
    assert isinstance(result, OrderCancelled)
    assert [so.cancelled for so in erp.sales_orders.values()] == [True]
    assert {o.status for o in wms.orders.values()} == {"Cancelled"}
    assert states.statuses[ORDER.key] is OrderStatus.CANCELLED
    assert publisher.events == [result]
    assert result.metadata.source == ORDERS
    assert result.metadata.event_id != channel_cancelled().metadata.event_id


def test_an_order_not_yet_in_the_erp_or_a_warehouse_is_cancelled() -> None:
    states, publisher = FakeOrderStore(), FakePublisher()
    assert isinstance(cancel(FakeErp(), FakeWms(), states, publisher), OrderCancelled)
    assert states.statuses[ORDER.key] is OrderStatus.CANCELLED


def test_a_redone_cancellation_publishes_the_same_event() -> None:
    (erp, wms), states, publisher = released_order(), FakeOrderStore(), FakePublisher()
    cancel(erp, wms, states, publisher)
    cancel(erp, wms, states, publisher)
    [first, again] = publisher.events
    assert isinstance(again, OrderCancelled)
    assert again.metadata.event_id == first.metadata.event_id


def test_too_late_in_the_erp_holds_the_order_and_cancels_nothing() -> None:
    (erp, wms), states, publisher = released_order(), FakeOrderStore(), FakePublisher()
    erp.ship(ORDER)
    result = cancel(erp, wms, states, publisher)
    assert isinstance(result, OrderHeld)
    assert [r.code for r in result.data.reasons] == ["too_late_to_cancel"]
    assert result.metadata.source == ORDERS
    assert publisher.events == [result]
    assert ORDER.key not in states.statuses
    assert [so.cancelled for so in erp.sales_orders.values()] == [False]


def test_too_late_in_a_warehouse_holds_the_order() -> None:
    (erp, wms), states, publisher = released_order(), FakeOrderStore(), FakePublisher()
    [east] = [ref for ref, request in wms.requests.items() if request.warehouse == "wh-east"]
    wms.ship(east)
    result = cancel(erp, wms, states, publisher)
    assert isinstance(result, OrderHeld)
    assert [(r.code, "wh-east" in r.message) for r in result.data.reasons] == [("too_late_to_cancel", True)]
    assert publisher.events == [result]
    assert ORDER.key not in states.statuses


def test_a_warehouse_that_already_shipped_leaves_the_erp_sales_order_open() -> None:
    (erp, wms), states, publisher = released_order(), FakeOrderStore(), FakePublisher()
    [east] = [ref for ref, request in wms.requests.items() if request.warehouse == "wh-east"]
    wms.ship(east)
    cancel(erp, wms, states, publisher)
    assert [so.cancelled for so in erp.sales_orders.values()] == [False]


def test_a_cancellation_stops_a_validation_still_to_come() -> None:
    states, erp, publisher = FakeOrderStore(), FakeErp(), FakePublisher()
    cancel(erp, FakeWms(), states, FakePublisher())
    erp.calls.clear()
    deps = ValidateDeps(
        erp=erp, publisher=publisher, states=states, rules=OrderRules(), routing=ROUTING, ledger=InMemoryLedger()
    )
    event = created()
    assert isinstance(event, OrderReceived)
    assert validate_order(event, deps) is None
    assert publisher.events == []
    assert erp.calls == []


# -- fetch_order -------------------------------------------------------------------------------------------------


def notified(change: str, observed_by: str = "webhook", order: Order = ORDER) -> ChannelOrderNotified:
    ref = ChannelOrderRef(
        channel=order.channel, store=order.store, external_id=order.external_id, change=change, observed_by=observed_by
    )
    metadata = metadata_for(
        ChannelOrderNotified.detail_type, dedupe_key=f"{observed_by}:{change}", order_key=ref.key, source=INTAKE
    )
    return ChannelOrderNotified(metadata=metadata, data=ref)


def fetch(event: ChannelOrderNotified, api: ChannelApi | None, publisher: FakePublisher | None = None) -> OrderEvent:
    return fetch_order(event, FetchDeps(api_for={"shopify": api}.get, publisher=publisher or FakePublisher()))


@pytest.mark.parametrize(
    ("change", "in_channel", "kind"),
    [
        ("created", created().data, OrderReceived),
        ("updated", updated().data, OrderUpdated),
        ("updated", channel_cancelled().data, OrderCancelled),
        ("created", channel_cancelled().data, OrderCancelled),
        ("cancelled", updated().data, OrderCancelled),
    ],
    ids=["created", "updated", "cancelled_at", "created-but-cancelled", "cancelled-change"],
)
def test_a_fetched_order_is_published_as_the_event_it_is(change: str, in_channel: Order, kind: type) -> None:
    publisher = FakePublisher()
    result = fetch(notified(change), FakeChannelApi(orders=[in_channel]), publisher)
    assert type(result) is kind
    assert result.data == in_channel
    assert result.metadata.source == INTAKE
    assert publisher.events == [result]


def test_the_same_change_fetched_twice_is_one_event() -> None:
    api = FakeChannelApi(orders=[updated().data])
    by_webhook = fetch(notified("updated", "webhook"), api)
    by_reconciliation = fetch(notified("updated", "reconciliation"), api)
    assert by_webhook.metadata.event_id == by_reconciliation.metadata.event_id


def test_a_newer_version_fetched_is_a_new_event() -> None:
    before = fetch(notified("updated"), FakeChannelApi(orders=[created().data]))
    after = fetch(notified("updated"), FakeChannelApi(orders=[updated().data]))
    assert before.metadata.event_id != after.metadata.event_id


def test_a_channel_without_an_api_cannot_be_fetched_from() -> None:
    publisher = FakePublisher()
    with pytest.raises(NotFound):
        fetch(notified("created"), None, publisher)
    assert publisher.events == []


# -- reconcile_orders --------------------------------------------------------------------------------------------

NOW = datetime(2026, 11, 28, 22, 0, tzinfo=UTC)
LOOKBACK = timedelta(hours=12)


def in_channel(order: Order) -> ChannelOrderRef:
    return ChannelOrderRef(
        channel=order.channel,
        store=order.store,
        external_id=order.external_id,
        change="updated",
        observed_by="reconciliation",
        updated_at=order.updated_at,
    )


def reconcile(
    api: FakeChannelApi, states: FakeOrderStore, publisher: FakePublisher | None = None
) -> list[ChannelOrderNotified]:
    deps = ReconcileDeps(api=api, states=states, publisher=publisher or FakePublisher())
    return reconcile_orders(NOW, LOOKBACK, deps)


def test_an_order_missing_from_the_ledger_is_re_injected_as_created() -> None:
    publisher = FakePublisher()
    [found] = reconcile(FakeChannelApi(updated=[in_channel(ORDER)]), FakeOrderStore(), publisher)
    assert (found.data.key, found.data.change, found.data.observed_by) == (ORDER.key, "created", "reconciliation")
    assert found.metadata.source == "crossdock.reconciliation"
    assert publisher.events == [found]


def test_an_order_newer_in_the_channel_is_re_injected_as_updated() -> None:
    states = FakeOrderStore()
    record_event(created(), states)
    [found] = reconcile(FakeChannelApi(updated=[in_channel(updated().data)]), states)
    assert found.data.change == "updated"


def test_an_order_up_to_date_publishes_nothing() -> None:
    states, publisher = FakeOrderStore(), FakePublisher()
    record_event(created(), states)
    record_event(updated(), states)
    assert reconcile(FakeChannelApi(updated=[in_channel(created().data)]), states, publisher) == []
    assert reconcile(FakeChannelApi(updated=[in_channel(updated().data)]), states, publisher) == []
    assert publisher.events == []


def test_reconciliation_asks_for_the_look_back_window() -> None:
    api = FakeChannelApi()
    reconcile(api, FakeOrderStore())
    assert api.asked_since == [NOW - LOOKBACK]


def test_reconciling_twice_finds_the_same_events() -> None:
    api = FakeChannelApi(updated=[in_channel(ORDER)])
    [first], [again] = reconcile(api, FakeOrderStore()), reconcile(api, FakeOrderStore())
    assert first.metadata.event_id == again.metadata.event_id


def test_an_order_known_only_from_an_update_is_re_injected_as_created() -> None:
    states = FakeOrderStore()
    record_event(updated(), states)  # the orders/create webhook never arrived
    recovered = reconcile(FakeChannelApi(updated=[in_channel(updated().data)]), states)
    assert [r.data.change for r in recovered] == ["created"]


# -- get_order ---------------------------------------------------------------------------------------------------


def version(store: str = SHOP, external_id: str = ORDER.external_id) -> OrderVersion:
    return OrderVersion(
        order_key=f"shopify:{store}:{external_id}",
        channel="shopify",
        store=store,
        external_id=external_id,
        version=1,
        correlation_id="c-1",
        last_event_id="e-1",
    )


def test_an_order_is_read_with_its_state_and_timeline() -> None:
    states = FakeOrderStore()
    record_event(created(), states)
    record_event(accepted(), states)
    found = get_order("shopify", ORDER.external_id, None, states)
    assert found["order_key"] == ORDER.key
    assert (found["channel"], found["store"], found["external_id"]) == ("shopify", SHOP, ORDER.external_id)
    assert found["status"] == "accepted"
    assert found["correlation_id"] == created().metadata.correlation_id
    assert [e["what"] for e in found["timeline"]] == ["OrderReceived", "OrderAccepted"]
    assert "order_key" not in found["timeline"][0]


def test_an_unknown_order_is_not_found() -> None:
    with pytest.raises(NotFound):
        get_order("shopify", "404", None, FakeOrderStore())


def test_an_order_id_in_two_stores_needs_the_store() -> None:
    states = FakeOrderStore()
    states.apply_version(version("one.myshopify.com", "42"))
    states.apply_version(version("two.myshopify.com", "42"))
    with pytest.raises(ValidationFailed):
        get_order("shopify", "42", None, states)
    assert get_order("shopify", "42", "two.myshopify.com", states)["store"] == "two.myshopify.com"
    with pytest.raises(NotFound):
        get_order("shopify", "42", "three.myshopify.com", states)


class KeyOrderedTimeline(FakeOrderStore):
    """A reader that returns the timeline in key (event id) order: the port promises no order."""

    def timeline(self, order_key: str) -> list[TimelineEntry]:
        return sorted(self.entries.get(order_key, []), key=lambda e: e.event_id)


def test_the_timeline_is_in_time_order_whatever_the_reader_returns() -> None:
    states = KeyOrderedTimeline()
    states.apply_version(version())
    key = version().order_key
    # 15:00 UTC written at -05:00, then 14:00 UTC: in neither key nor text order is the earlier one first.
    later = TimelineEntry(
        order_key=key,
        event_id="a",
        what="OrderAccepted",
        at=datetime(2026, 11, 28, 10, tzinfo=timezone(timedelta(hours=-5))),
        system=ORDERS,
        ids={},
    )
    earlier = later.model_copy(
        update={"event_id": "b", "what": "OrderReceived", "at": datetime(2026, 11, 28, 14, tzinfo=UTC)}
    )
    states.append(later)
    states.append(earlier)
    assert [e.what for e in states.timeline(key)] == ["OrderAccepted", "OrderReceived"]
    found = get_order("shopify", ORDER.external_id, None, states)
    assert [e["what"] for e in found["timeline"]] == ["OrderReceived", "OrderAccepted"]


# -- record_event ------------------------------------------------------------------------------------------------


def whats(states: FakeOrderStore) -> list[str]:
    return [entry.what for entry in states.entries[ORDER.key]]


def ms(order: Order) -> int:
    return int(order.updated_at.timestamp() * 1000)


def released_event() -> FulfillmentReleased:
    request = FulfillmentRequest(
        order_key=ORDER.key, reference_id="ref-east", warehouse="wh-east", lines=accepted().data.allocations[0].lines
    )
    metadata = metadata_for(
        FulfillmentReleased.detail_type, dedupe_key="r", order_key=ORDER.key, source="crossdock.fulfillment"
    )
    return FulfillmentReleased(metadata=metadata, data=FulfillmentRelease(request=request, wms_order_id="WMS-1"))


def test_events_in_order_apply_the_newest_version() -> None:
    states = FakeOrderStore()
    assert record_event(created(), states)
    assert record_event(updated(), states)
    assert record_event(channel_cancelled(), states)
    state = states.get(ORDER.key)
    assert state is not None
    assert state.version == ms(channel_cancelled().data)
    assert whats(states) == ["OrderReceived", "OrderUpdated", "OrderCancelled"]


def test_an_older_update_after_a_newer_one_is_recorded_as_stale() -> None:
    states = FakeOrderStore()
    record_event(channel_cancelled(), states)
    assert not record_event(updated(), states)
    state = states.get(ORDER.key)
    assert state is not None
    assert state.version == ms(channel_cancelled().data)
    assert whats(states) == ["OrderCancelled", "OrderUpdated (stale, not applied)"]


def test_a_redelivered_event_adds_nothing() -> None:
    states = FakeOrderStore()
    record_event(created(), states)
    assert not record_event(created(), states)
    assert whats(states) == ["OrderReceived"]


@pytest.mark.parametrize(
    ("make", "status"),
    [
        (created, OrderStatus.RECEIVED),
        (lambda: decision(OrderHeld), OrderStatus.HELD),
        (lambda: decision(OrderRejected), OrderStatus.REJECTED),
        (accepted, OrderStatus.ACCEPTED),
        (released_event, OrderStatus.RELEASED),
        (cancelled_by_orders, OrderStatus.CANCELLED),
    ],
    ids=lambda v: v.value if isinstance(v, OrderStatus) else "",
)
def test_each_step_records_its_status(make: Any, status: OrderStatus) -> None:
    states = FakeOrderStore()
    assert record_event(make(), states)
    assert states.statuses[ORDER.key] is status


def test_statuses_only_move_forward() -> None:
    states = FakeOrderStore()
    for event in (created(), accepted(), released_event()):
        assert record_event(event, states)
    record_event(decision(OrderHeld, reasons=(Reason(code="too_late_to_cancel", message="late"),)), states)
    state = states.get(ORDER.key)
    assert state is not None
    assert state.status is OrderStatus.RELEASED
    assert whats(states) == ["OrderReceived", "OrderAccepted", "FulfillmentReleased", "OrderHeld"]


@pytest.mark.parametrize("late", [lambda: decision(OrderHeld), accepted], ids=["late-held", "redelivered-accepted"])
def test_a_decision_whose_status_has_passed_changes_nothing(late: Any) -> None:
    states = FakeOrderStore()
    for event in (created(), accepted(), released_event()):
        record_event(event, states)
    assert not record_event(late(), states)


def test_the_channel_cancelling_is_a_request_crossdock_cancelling_is_the_fact() -> None:
    states = FakeOrderStore()
    record_event(created(), states)
    record_event(channel_cancelled(), states)
    assert states.statuses[ORDER.key] is OrderStatus.RECEIVED
    record_event(cancelled_by_orders(), states)
    assert states.statuses[ORDER.key] is OrderStatus.CANCELLED


def test_the_timeline_names_the_ids_in_the_other_systems() -> None:
    states = FakeOrderStore()
    record_event(accepted(), states)
    record_event(released_event(), states)
    [decided, released] = states.entries[ORDER.key]
    assert decided.ids["erp_sales_order_id"] == "SO-1"
    assert decided.ids["warehouses"] == "wh-east,wh-west"
    assert (released.ids["wms_order_id"], released.ids["reference_id"]) == ("WMS-1", "ref-east")


def test_a_received_order_recorded_after_its_decision_is_not_labelled_stale() -> None:
    states = FakeOrderStore()
    record_event(accepted(), states)
    record_event(created(), states)
    state = states.get(ORDER.key)
    assert state is not None
    assert state.version == ms(ORDER)
    assert whats(states) == ["OrderAccepted", "OrderReceived"]


class ItemsByKey:
    """DynamoDB's ``put_item`` with ``attribute_not_exists(pk)``: the condition sees only the item at (pk, sk)."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}

    def put_item(self, TableName: str, Item: dict[str, Any], ConditionExpression: str) -> None:
        key = (Item["pk"]["S"], Item["sk"]["S"])
        if key in self.items:
            raise ClientError({"Error": {"Code": "ConditionalCheckFailedException"}}, "PutItem")
        self.items[key] = Item


def test_the_orders_table_keeps_one_timeline_entry_per_event_id() -> None:
    table = ItemsByKey()
    store = DynamoOrderStore("orders", client=lambda: table)
    first = TimelineEntry(
        order_key=ORDER.key, event_id="e-1", what="FulfillmentReleased", at=NOW, system=ORDERS, ids={}
    )
    assert store.append(first)
    assert not store.append(first)
    assert not store.append(first.model_copy(update={"at": NOW + timedelta(seconds=3)}))


# -- the journey -------------------------------------------------------------------------------------------------


def test_a_received_order_is_accepted_released_and_the_channel_told() -> None:
    states, publisher, wms, api = FakeOrderStore(), FakePublisher(), FakeWms(), FakeChannelApi()
    catalog = {
        line.sku: ErpItem(id=line.sku, sku=line.sku, price=line.unit_price.amount, available={"loc-east": 999})
        for line in ORDER.lines
        if line.sku
    }
    buyer = ErpCustomer(id="C-1", active=True, credit_hold=False, terms="Net 30")
    erp = FakeErp(customers={"dana.whitfield@example.com": buyer}, catalog=catalog)
    event = created()
    assert isinstance(event, OrderReceived)
    record_event(event, states)
    ledger = InMemoryLedger()
    for sku in catalog:
        ledger.stock(sku, "wh-east", 999)
    validate = ValidateDeps(
        erp=erp, publisher=publisher, states=states, rules=OrderRules(), routing=ROUTING, ledger=ledger
    )
    decided = validate_order(event, validate)
    assert isinstance(decided, OrderAccepted)
    record_event(decided, states)
    for released in release(decided, wms, publisher):
        record_event(released, states)
    record_event(tell(decided, api, publisher), states)
    assert (erp.creates, wms.creates) == (1, 1)
    assert api.pushed == [(ORDER.external_id, ChannelStatus.ACCEPTED, ())]
    found = get_order("shopify", ORDER.external_id, SHOP, states)
    assert found["status"] == "released"
    assert sorted(e["what"] for e in found["timeline"]) == [
        "ChannelStatusUpdated",
        "FulfillmentReleased",
        "OrderAccepted",
        "OrderReceived",
    ]
