"""The intake use case on fakes: verify, map, publish once."""

from __future__ import annotations

import pytest

from functions.receive_webhook.logic import Ack, Handshake, IntakeDeps, receive_webhook
from infra.samples import compact, shopify_delivery, shopify_payload, wms_delivery, wms_payload
from shared.channels.base import WebhookRequest
from shared.errors import DownstreamUnavailable, NotFound, PayloadTooLarge, Unauthorized
from shared.models.events import ShipmentDispatched, derive_id
from tests.fakes import FakeLambdaContext, FakePublisher, FakeSecrets, InMemoryPersistence

SECRET = "shpss_unit_secret"


@pytest.fixture
def deps() -> IntakeDeps:
    return IntakeDeps(
        secrets=FakeSecrets(shopify=[SECRET]),
        publisher=FakePublisher(),
        persistence=InMemoryPersistence(),
        dedupe_windows={"shopify": 72 * 3600},
    )


def request(body: bytes | None = None, *, secret: str = SECRET, event_id: str = "evt-1") -> WebhookRequest:
    body = body if body is not None else compact(shopify_payload("orders_create"))
    headers = shopify_delivery(body, secret=secret, event_id=event_id)
    return WebhookRequest(headers={k.lower(): v for k, v in headers.items()}, body=body)


def published(deps: IntakeDeps) -> list[str]:
    assert isinstance(deps.publisher, FakePublisher)
    return [event.detail_type for event in deps.publisher.events]


def test_first_delivery_publishes_once(deps: IntakeDeps) -> None:
    ack = receive_webhook("shopify", request(), deps, FakeLambdaContext())
    assert not ack.duplicate
    assert ack.detail_type == "OrderReceived"
    assert published(deps) == ["OrderReceived"]


def test_redelivery_of_the_same_event_publishes_nothing_more(deps: IntakeDeps) -> None:
    first = receive_webhook("shopify", request(), deps, FakeLambdaContext())
    # A Shopify retry: a new webhook id, the same event id.
    again = receive_webhook("shopify", request(), deps, FakeLambdaContext())
    assert again.duplicate
    assert again.event_id == first.event_id
    assert published(deps) == ["OrderReceived"]


def test_a_different_event_of_the_same_order_is_published(deps: IntakeDeps) -> None:
    receive_webhook("shopify", request(event_id="evt-1"), deps, FakeLambdaContext())
    receive_webhook("shopify", request(event_id="evt-2"), deps, FakeLambdaContext())
    assert published(deps) == ["OrderReceived", "OrderReceived"]


def test_failed_publish_is_not_remembered_so_the_retry_publishes(deps: IntakeDeps) -> None:
    assert isinstance(deps.publisher, FakePublisher)
    deps.publisher.failures_left = 1
    with pytest.raises(DownstreamUnavailable):
        receive_webhook("shopify", request(), deps, FakeLambdaContext())
    ack = receive_webhook("shopify", request(), deps, FakeLambdaContext())
    assert not ack.duplicate
    assert published(deps) == ["OrderReceived"]


def test_dedupe_window_is_per_platform_config(deps: IntakeDeps) -> None:
    receive_webhook("shopify", request(), deps, FakeLambdaContext())
    _, config = deps.publish_once("shopify")
    assert config.expires_after_seconds == 72 * 3600


def test_wrong_secret_is_unauthorized_and_publishes_nothing(deps: IntakeDeps) -> None:
    with pytest.raises(Unauthorized):
        receive_webhook("shopify", request(secret="someone-else"), deps)
    assert published(deps) == []


def test_previous_secret_still_verifies_during_rotation(deps: IntakeDeps) -> None:
    deps.secrets = FakeSecrets(shopify=["shpss_new", SECRET])
    assert not receive_webhook("shopify", request(), deps, FakeLambdaContext()).duplicate


def test_unknown_platform_is_not_found(deps: IntakeDeps) -> None:
    with pytest.raises(NotFound):
        receive_webhook("magento", request(), deps)


def test_body_over_the_limit_is_rejected_before_verification(deps: IntakeDeps) -> None:
    deps.max_body_bytes = 1024
    with pytest.raises(PayloadTooLarge):
        receive_webhook("shopify", request(b"x" * 1025), deps)


# -- deliveries that name the order by one of our references (WMS, carrier) ----------------------------------------
WMS_SECRET = "whsec_" + "d21zLXVuaXQtc2VjcmV0LWZvci10ZXN0cw=="
REFERENCE = "shopify-61958626-7124853309745-east"
ORDER_KEY = "shopify:acme-supply.myshopify.com:7124853309745"


class References:
    def __init__(self, known: dict[str, str]) -> None:
        self.known, self.asked = known, 0

    def order_for(self, reference: str) -> str | None:
        self.asked += 1
        return self.known.get(reference)


def wms_deps(known: dict[str, str]) -> IntakeDeps:
    return IntakeDeps(
        secrets=FakeSecrets(wms=[WMS_SECRET]),
        publisher=FakePublisher(),
        persistence=InMemoryPersistence(),
        references=References(known),
    )


def shipped(msg_id: str = "msg_1") -> WebhookRequest:
    body = compact(wms_payload("order_shipped"))
    return WebhookRequest(
        headers=wms_delivery(body, secret=WMS_SECRET, topic="order.shipped", msg_id=msg_id), body=body
    )


def test_a_shipment_is_published_for_the_order_its_reference_names_once() -> None:
    deps = wms_deps({REFERENCE: ORDER_KEY})
    ack = receive_webhook("wms", shipped(), deps, FakeLambdaContext())
    again = receive_webhook("wms", shipped(), deps, FakeLambdaContext())
    assert isinstance(ack, Ack)
    assert isinstance(again, Ack)
    assert again.duplicate
    assert isinstance(deps.publisher, FakePublisher)
    [event] = deps.publisher.events
    assert isinstance(event, ShipmentDispatched)
    assert event.data.order_key == ORDER_KEY
    assert event.metadata.correlation_id == derive_id("order", ORDER_KEY)  # the order's, from the first hop


def test_a_shipment_of_an_order_crossdock_never_released_is_acknowledged_and_ignored() -> None:
    deps = wms_deps({})
    ack = receive_webhook("wms", shipped(), deps, FakeLambdaContext())
    assert isinstance(ack, Handshake)
    assert ack.reply["ignored"] == "not a Crossdock order"
    assert published(deps) == []


def test_a_forged_shipment_is_refused_before_any_lookup() -> None:
    deps = wms_deps({REFERENCE: ORDER_KEY})
    body = compact(wms_payload("order_shipped"))
    forged = WebhookRequest(headers=wms_delivery(body, secret="whsec_Zm9yZ2Vk", topic="order.shipped"), body=body)
    with pytest.raises(Unauthorized):
        receive_webhook("wms", forged, deps)
    assert isinstance(deps.references, References)
    assert deps.references.asked == 0
