"""Order recording: newest version wins, stale and repeated events change nothing but the record of arrival."""

from __future__ import annotations

from functions.record_order.logic import record_order
from infra.samples import compact, shopify_payload
from shared.channels.base import WebhookRequest
from shared.channels.shopify.adapter import ShopifyAdapter
from shared.models.events import OrderEvent
from shared.models.order_state import OrderStatus
from tests.fakes import FakeOrderStore


def event(sample: str, topic: str, event_id: str) -> OrderEvent:
    headers = {"x-shopify-topic": topic, "x-shopify-shop-domain": "s.myshopify.com", "x-shopify-event-id": event_id}
    return ShopifyAdapter().parse(WebhookRequest(headers=headers, body=compact(shopify_payload(sample)))).event


def test_in_order_events_end_cancelled() -> None:
    store = FakeOrderStore()
    assert record_order(event("orders_create", "orders/create", "1"), store)
    assert record_order(event("orders_updated", "orders/updated", "2"), store)
    assert record_order(event("orders_cancelled", "orders/cancelled", "3"), store)
    [state] = store.states.values()
    assert state.status is OrderStatus.CANCELLED


def test_an_older_update_after_a_newer_one_is_not_applied() -> None:
    store = FakeOrderStore()
    record_order(event("orders_cancelled", "orders/cancelled", "3"), store)
    assert not record_order(event("orders_updated", "orders/updated", "2"), store)
    [state] = store.states.values()
    assert state.status is OrderStatus.CANCELLED
    [timeline] = store.timeline.values()
    assert [e.what for e in timeline] == ["OrderCancelled", "OrderUpdated (stale, not applied)"]


def test_a_redelivered_event_adds_nothing() -> None:
    store = FakeOrderStore()
    record_order(event("orders_create", "orders/create", "1"), store)
    assert not record_order(event("orders_create", "orders/create", "1"), store)
    [timeline] = store.timeline.values()
    assert len(timeline) == 1
