"""Properties of an order's recorded state, as a state machine: DynamoOrderStore and FakeOrderStore in lockstep.

The adapter runs on moto with the orders table as the stack defines it (both indexes), the fake beside it, and a
model beside both. Rules deliver versions late, early and twice, move statuses forward and back, request
cancellations, append timeline entries again, and send real events through ``record_event`` (the consumer's
logic), then replay what was recorded. After every step the stores agree with each other and with the model: the
version is the newest delivered, the status the highest rank reached (cancelled, the highest, never leaves),
one timeline entry per event id (the first), and the sparse open-status index holds exactly the open orders.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Protocol, TypeVar

from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from functions.record_order.logic import ids_of, record_event
from infra.samples import compact, shopify_payload
from shared.aws.order_store import OPEN_STATUSES, DynamoOrderStore
from shared.channels.base import WebhookRequest
from shared.channels.shopify.adapter import ShopifyAdapter
from shared.models.events import (
    EventEnvelope,
    FulfillmentReleased,
    OrderAccepted,
    OrderCancelled,
    OrderEvent,
    OrderHeld,
    OrderRejected,
    metadata_for,
)
from shared.models.lifecycle import AllocatedLine, FulfillmentRelease, FulfillmentRequest, OrderDecision
from shared.models.order_state import OrderState, OrderStatus, OrderVersion, TimelineEntry
from shared.models.shipping import Shipment
from tests import tables
from tests.fakes import FakeOrderStore
from tests.unit.stateful_support import moto_table

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SHOP = "s.myshopify.com"
ORDERS = "crossdock.orders"


def channel_event(sample: str, topic: str) -> OrderEvent:
    headers = {"x-shopify-topic": topic, "x-shopify-shop-domain": SHOP, "x-shopify-event-id": "0"}
    made = ShopifyAdapter().parse(WebhookRequest(headers=headers, body=compact(shopify_payload(sample)))).event
    assert isinstance(made, OrderEvent)
    return made


# What the intake publishes: each carries a version (the order's updated_at).
CHANNEL = {
    "received": channel_event("orders_create", "orders/create"),
    "updated": channel_event("orders_updated", "orders/updated"),
    "channel-cancelled": channel_event("orders_cancelled", "orders/cancelled"),
}
ORDER = CHANNEL["received"].data
OTHER = "shopify:other.myshopify.com:2002"  # an order only store-level rules touch: nothing may leak between them
KEYS = (ORDER.key, OTHER)


def _decision(kind: type[OrderAccepted | OrderHeld | OrderRejected]) -> EventEnvelope[Any]:
    metadata = metadata_for(kind.detail_type, dedupe_key=ORDER.key, order_key=ORDER.key, source=ORDERS)
    return kind(metadata=metadata, data=OrderDecision(order=ORDER))


def _released() -> FulfillmentReleased:
    lines = tuple(
        AllocatedLine(line_id=line.line_id, sku=line.sku or "", quantity=line.quantity) for line in ORDER.lines
    )
    request = FulfillmentRequest(order_key=ORDER.key, reference_id="ref-east", warehouse="wh-east", lines=lines)
    metadata = metadata_for(FulfillmentReleased.detail_type, dedupe_key="r", order_key=ORDER.key, source=ORDERS)
    return FulfillmentReleased(metadata=metadata, data=FulfillmentRelease(request=request, wms_order_id="WMS-1"))


def _cancelled() -> OrderCancelled:
    metadata = metadata_for(
        OrderCancelled.detail_type, dedupe_key=f"{ORDER.key}:cancel", order_key=ORDER.key, source=ORDERS
    )
    return OrderCancelled(metadata=metadata, data=ORDER)


# What crossdock itself publishes about the order: each carries a status.
DECIDED: dict[str, tuple[EventEnvelope[Any], OrderStatus]] = {
    "held": (_decision(OrderHeld), OrderStatus.HELD),
    "rejected": (_decision(OrderRejected), OrderStatus.REJECTED),
    "accepted": (_decision(OrderAccepted), OrderStatus.ACCEPTED),
    "released": (_released(), OrderStatus.RELEASED),
    "cancelled": (_cancelled(), OrderStatus.CANCELLED),
}

VERSIONS = st.integers(0, 6)  # minutes after T0: few, so versions repeat and arrive out of order
# Few instants too (ties), in more than one offset: the index sorts ``status_at`` as text, so it must be UTC.
instants = st.builds(
    lambda minutes, zone: (T0 + timedelta(minutes=minutes)).astimezone(zone),
    st.integers(0, 8),
    st.sampled_from((UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8)))),
)


def ms(minutes: int) -> int:
    return int((T0 + timedelta(minutes=minutes)).timestamp() * 1000)


def sortable(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


# -- the model ------------------------------------------------------------------------------------------------
@dataclass
class Expected:
    """One order as the rules say it must be."""

    key: str
    version: OrderVersion | None = None
    status: OrderStatus | None = None
    status_at: datetime | None = None
    cancel_requested: bool = False
    timeline: dict[str, TimelineEntry] = field(default_factory=dict)

    def apply_version(self, state: OrderVersion) -> bool:
        if self.version is not None and self.version.version >= state.version:
            return False
        self.version = state
        return True

    def advance(self, status: OrderStatus, at: datetime) -> bool:
        if self.status is not None and self.status.rank >= status.rank:
            return False
        self.status, self.status_at = status, at
        return True

    def append(self, entry: TimelineEntry) -> bool:
        if entry.event_id in self.timeline:
            return False
        self.timeline[entry.event_id] = entry
        return True

    def state(self) -> OrderState | None:
        if self.version is None and self.status is None and not self.cancel_requested:
            return None
        version = self.version
        return OrderState(
            order_key=self.key,
            channel=version.channel if version else None,
            store=version.store if version else None,
            external_id=version.external_id if version else None,
            version=version.version if version else None,
            status=self.status,
            correlation_id=version.correlation_id if version else None,
            cancel_requested=self.cancel_requested,
        )


class Store(Protocol):
    def apply_version(self, state: OrderVersion) -> bool: ...
    def advance_status(self, order_key: str, status: OrderStatus, at: datetime) -> bool: ...
    def request_cancel(self, order_key: str, at: datetime) -> None: ...
    def append(self, entry: TimelineEntry) -> bool: ...
    def record_shipment(self, shipment: Shipment) -> bool: ...
    def get(self, order_key: str) -> OrderState | None: ...
    def timeline(self, order_key: str) -> list[TimelineEntry]: ...
    def find(self, channel: str, external_id: str) -> list[OrderState]: ...


T = TypeVar("T")
EVERYTHING = ("state", "timeline", "find", "index")


class OrderMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self._table = moto_table("orders", tables.ORDERS)
        self.client = self._table.__enter__()
        self.dynamo = DynamoOrderStore("orders", client=lambda: self.client)
        self.fake = FakeOrderStore()
        self.model = {key: Expected(key) for key in KEYS}
        self.recorded: list[EventEnvelope[Any]] = []  # what record_event took, for replays
        # What each step may have changed, read back after it (moto calls are the run time): per order the state,
        # its timeline, the by_external_id index; and the open-status index.
        self.touched: dict[str, set[str]] = {key: {"state", "timeline", "find"} for key in KEYS}
        self.index_touched = True
        self.ranks = dict.fromkeys(KEYS, 0)
        self.cancelling = dict.fromkeys(KEYS, False)

    def teardown(self) -> None:
        self._table.__exit__(None, None, None)

    def both(self, key: str, call: Callable[[Store], T], *touches: str) -> T:
        """The same call on the adapter and the fake; they must answer alike."""
        self.touched[key].update(touches)
        self.index_touched = self.index_touched or "index" in touches
        answer = call(self.dynamo)
        assert call(self.fake) == answer
        return answer

    # -- the store's own operations ---------------------------------------------------------------------------
    @rule(key=st.sampled_from(KEYS), minutes=VERSIONS, tag=st.sampled_from("ab"))
    def deliver_version(self, key: str, minutes: int, tag: str) -> None:
        """The same version twice with other content (tag) must not overwrite: the first of the newest wins."""
        external = ORDER.external_id if key == ORDER.key else "2002"
        shop = SHOP if key == ORDER.key else "other.myshopify.com"
        state = OrderVersion(
            order_key=key, channel="shopify", store=shop, external_id=external, version=ms(minutes),
            correlation_id=f"corr-{tag}", last_event_id=f"v{minutes}{tag}",
        )  # fmt: skip
        expected = self.model[key].apply_version(state)
        event(f"version: {'applied' if expected else 'refused'}")
        assert self.both(key, lambda store: store.apply_version(state), "state", "find") == expected

    @rule(key=st.sampled_from(KEYS), status=st.sampled_from(OrderStatus), at=instants)
    def advance(self, key: str, status: OrderStatus, at: datetime) -> None:
        expected = self.model[key].advance(status, at)
        event(f"status: {'moved' if expected else 'refused'}")
        assert self.both(key, lambda store: store.advance_status(key, status, at), "state", "index") == expected
        if expected:
            # The stuck-order read: in its status' index since ``at`` exactly, if that status can be stuck.
            just_after = [o.order_key for o in self.dynamo.open_since(status, at + timedelta(microseconds=1))]
            assert (key in just_after) == (status.value in OPEN_STATUSES)
            assert key not in [o.order_key for o in self.dynamo.open_since(status, at)]

    @rule(key=st.sampled_from(KEYS), at=instants)
    def request_cancel(self, key: str, at: datetime) -> None:
        self.model[key].cancel_requested = True
        self.both(key, lambda store: store.request_cancel(key, at), "state")

    @rule(
        key=st.sampled_from(KEYS),
        event_id=st.sampled_from(("e1", "e2", "e3")),
        what=st.text("ab", max_size=2),
        at=instants,
    )
    def append(self, key: str, event_id: str, what: str, at: datetime) -> None:
        """An entry again (same event id, other content or time) is not a second entry, and the first stays."""
        entry = TimelineEntry(order_key=key, event_id=event_id, what=what, at=at, system="test", ids={"n": what})
        expected = self.model[key].append(entry)
        assert self.both(key, lambda store: store.append(entry), "timeline") == expected

    # -- events through the consumer's logic ----------------------------------------------------------------
    @rule(kind=st.sampled_from(sorted(CHANNEL)), minutes=VERSIONS, at=instants)
    def channel_event(self, kind: str, minutes: int, at: datetime) -> None:
        """An intake event; its id is fixed by its content, so drawing the same one again is a redelivery."""
        base = CHANNEL[kind]
        made = base.model_copy(
            update={
                "data": base.data.model_copy(update={"updated_at": T0 + timedelta(minutes=minutes)}),
                "metadata": base.metadata.model_copy(update={"event_id": f"{kind}-{minutes}", "occurred_at": at}),
            }
        )
        self.record(made, OrderStatus.RECEIVED if kind == "received" else None)

    @rule(kind=st.sampled_from(sorted(DECIDED)), at=instants)
    def crossdock_event(self, kind: str, at: datetime) -> None:
        """A decision, release or cancellation; the same one later is a redone hop (same id, later time)."""
        base, status = DECIDED[kind]
        self.record(base.model_copy(update={"metadata": base.metadata.model_copy(update={"occurred_at": at})}), status)

    def record(self, made: EventEnvelope[Any], status: OrderStatus | None) -> None:
        expected = self.model[ORDER.key]
        meta = made.metadata
        versioned = isinstance(made, OrderEvent) and meta.source == "crossdock.intake"
        applied = False
        if versioned:
            order = made.data
            applied = expected.apply_version(
                OrderVersion(
                    order_key=ORDER.key, channel="shopify", store=order.store, external_id=order.external_id,
                    version=int(order.updated_at.timestamp() * 1000), correlation_id=meta.correlation_id,
                    last_event_id=meta.event_id,
                )
            )  # fmt: skip
        moved = status is not None and expected.advance(status, meta.occurred_at)
        stale = " (stale, not applied)" if versioned and not applied else ""
        expected.append(
            TimelineEntry(
                order_key=ORDER.key, event_id=meta.event_id, what=made.detail_type + stale, at=meta.occurred_at,
                system=meta.source, ids=ids_of(made),
            )
        )  # fmt: skip
        event(f"record_event: {'changed' if applied or moved else 'nothing'}")
        assert self.both(ORDER.key, lambda store: record_event(made, store), *EVERYTHING) == (applied or moved)
        self.recorded.append(made)

    @precondition(lambda self: bool(self.recorded))
    @rule(data=st.data())
    def replay(self, data: st.DataObject) -> None:
        """An archive replay of some recorded events, in any order: they were all recorded, so none changes anything."""
        for made in data.draw(st.lists(st.sampled_from(self.recorded), min_size=1, max_size=4)):
            assert not self.both(ORDER.key, functools.partial(record_event, made), *EVERYTHING)

    # -- what must hold after every step ----------------------------------------------------------------------
    @invariant()
    def the_stores_agree_with_the_model(self) -> None:
        for key, touched in self.touched.items():
            expected = self.model[key]
            state = self.dynamo.get(key) if touched else None
            if touched:
                assert state == self.fake.get(key) == expected.state()
                self.forward_only(key, state)
            if "timeline" in touched:
                for timeline in (self.dynamo.timeline(key), self.fake.timeline(key)):
                    # In time order; at the same time DynamoDB puts them by event id, the fake by arrival.
                    assert [entry.at for entry in timeline] == sorted(entry.at for entry in timeline)
                    assert {entry.event_id: entry for entry in timeline} == expected.timeline
                    assert len(timeline) == len(expected.timeline)  # no event id twice
            if "find" in touched and expected.version is not None:
                version = expected.version
                found = self.dynamo.find(version.channel, version.external_id)
                assert found == self.fake.find(version.channel, version.external_id) == [state]
            touched.clear()

    def forward_only(self, key: str, state: OrderState | None) -> None:
        """The rank read never drops; once cancelled, cancelled; once cancelling, cancelling."""
        rank = state.status.rank if state is not None and state.status is not None else 0
        assert rank >= self.ranks[key]
        if self.ranks[key] == OrderStatus.CANCELLED.rank:
            assert state is not None
            assert state.status is OrderStatus.CANCELLED
        cancelling = state is not None and state.cancelling
        assert cancelling or not self.cancelling[key]
        self.ranks[key], self.cancelling[key] = rank, cancelling

    @invariant()
    def the_open_status_index_holds_exactly_the_open_orders(self) -> None:
        if not self.index_touched:
            return
        self.index_touched = False
        items = self.client.scan(TableName="orders", IndexName="by_open_status")["Items"]
        indexed = {item["pk"]["S"]: (item["open_status"]["S"], item["status_at"]["S"]) for item in items}
        assert indexed == {
            f"ORDER#{key}": (expected.status.value, sortable(expected.status_at))
            for key, expected in self.model.items()
            if expected.status is not None and expected.status_at is not None and expected.status.value in OPEN_STATUSES
        }


OrderMachine.TestCase.settings = settings(max_examples=25, stateful_step_count=15, deadline=None)
TestOrderMachine = OrderMachine.TestCase
