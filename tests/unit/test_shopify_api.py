"""ShopifyApi on respx: REST order fetch, GraphQL pagination, throttling, userErrors and idempotent status tags."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
import respx

from infra.samples import shopify_payload
from shared.channels.base import RefundRequest
from shared.channels.shopify.api import STATUS_TAGS, ShopifyApi
from shared.channels.shopify.mapping import to_order
from shared.channels.shopify.payloads import ShopifyOrder
from shared.connections import Connection
from shared.errors import DownstreamUnavailable, NotFound, RateLimited, Unauthorized, ValidationFailed
from shared.models.lifecycle import ChannelStatus, Reason
from shared.models.money import Money
from shared.models.shipping import Package, Shipment, ShippedLine
from shared.outbound import OutboundClient

BASE = "https://acme-supply.myshopify.com"
SHOP = "acme-supply.myshopify.com"
TOKEN = "shpat_unit"
GRAPHQL = "/admin/api/2026-07/graphql.json"
ORDER_ID = "7124853309745"
ORDER_GID = f"gid://shopify/Order/{ORDER_ID}"
BUCKET = {"maximumAvailable": 1000.0, "currentlyAvailable": 990, "restoreRate": 50.0}


def connection(**settings: str) -> Connection:
    return Connection(base_url=BASE, credentials={"access_token": TOKEN}, settings={"shop_domain": SHOP, **settings})


def api(**settings: str) -> ShopifyApi:
    conn = connection(**settings)
    return ShopifyApi(conn, client=OutboundClient("shopify", conn, sleep=lambda _: None))


def answer(data: Any = None, *, errors: list[dict[str, Any]] | None = None, requested: int = 1) -> httpx.Response:
    body: dict[str, Any] = {"extensions": {"cost": {"requestedQueryCost": requested, "throttleStatus": BUCKET}}}
    if errors is not None:
        body["errors"] = errors
    else:
        body["data"] = data
    return httpx.Response(200, json=body)


class FakeAdmin:
    """Answers by operation name and keeps what was sent."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.answers: dict[str, list[httpx.Response | Exception]] = {}

    def on(self, operation: str, *responses: httpx.Response | Exception) -> None:
        """Answers in turn; an exception is raised instead (a timeout after the request left)."""
        self.answers.setdefault(operation, []).extend(responses)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        operation = body["query"].split("(")[0].split()[-1]  # "query OrderTags(" -> "OrderTags"
        self.sent.append(
            {"operation": operation, "query": body["query"], "variables": body["variables"], "headers": request.headers}
        )
        reply = self.answers[operation].pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply

    def operations(self) -> list[str]:
        return [call["operation"] for call in self.sent]


@pytest.fixture
def admin() -> Iterator[FakeAdmin]:
    fake = FakeAdmin()
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        router.post(GRAPHQL).mock(side_effect=fake)
        yield fake


def tags_answer(tags: list[str]) -> httpx.Response:
    return answer({"order": {"id": ORDER_GID, "tags": tags}})


def mutation_ok() -> httpx.Response:
    return answer({"result": {"node": {"id": ORDER_GID}, "userErrors": []}}, requested=10)


# -- fetch_order: the REST order resource, mapped as the webhooks are ---------------------------------------------
def test_fetch_order_maps_the_rest_order_like_a_webhook() -> None:
    payload = shopify_payload("orders_updated")
    with respx.mock(base_url=BASE) as router:
        route = router.get(f"/admin/api/2026-07/orders/{ORDER_ID}.json").respond(200, json={"order": payload})
        order = api().fetch_order(ORDER_ID)
    assert order == to_order(ShopifyOrder.model_validate(payload), shop_domain=SHOP)
    assert route.calls.last.request.headers["x-shopify-access-token"] == TOKEN


def test_fetch_order_uses_the_configured_api_version() -> None:
    with respx.mock(base_url=BASE) as router:
        route = router.get(f"/admin/api/2025-10/orders/{ORDER_ID}.json").respond(200, json={"order": shopify_payload()})
        api(api_version="2025-10").fetch_order(ORDER_ID)
    assert route.called


@pytest.mark.parametrize(
    ("status", "error"), [(404, NotFound), (401, Unauthorized), (403, Unauthorized), (422, ValidationFailed)]
)
def test_fetch_order_errors_are_typed(status: int, error: type[Exception]) -> None:
    with respx.mock(base_url=BASE) as router:
        router.get(f"/admin/api/2026-07/orders/{ORDER_ID}.json").respond(status, json={"errors": "Not Found"})
        with pytest.raises(error):
            api().fetch_order(ORDER_ID)


def test_fetch_order_refuses_a_body_that_is_not_an_order() -> None:
    broken = shopify_payload()
    del broken["line_items"]
    with respx.mock(base_url=BASE) as router:
        router.get(f"/admin/api/2026-07/orders/{ORDER_ID}.json").respond(200, json={"order": broken})
        with pytest.raises(ValidationFailed) as caught:
            api().fetch_order(ORDER_ID)
    assert caught.value.details["field"] == "order.line_items"


def test_an_id_that_is_not_a_number_never_reaches_a_url() -> None:
    with respx.mock(base_url=BASE) as router, pytest.raises(ValidationFailed):
        api().fetch_order("../shop.json")
    assert not router.calls


def test_a_connection_without_a_shop_domain_is_named() -> None:
    with pytest.raises(ValidationFailed) as caught:
        ShopifyApi(Connection(base_url=BASE, credentials={"access_token": TOKEN}))
    assert caught.value.details["field"] == "settings.shop_domain"


# -- list_updated_since: the orders connection, page by page -------------------------------------------------------
def edge(number: int, updated_at: str) -> dict[str, Any]:
    legacy = str(int(ORDER_ID) + number)
    node = {"id": f"gid://shopify/Order/{legacy}", "legacyResourceId": legacy, "updatedAt": updated_at}
    return {"cursor": f"c{number}", "node": node}


def page(edges: list[dict[str, Any]], *, more: bool) -> httpx.Response:
    info = {"hasNextPage": more, "endCursor": edges[-1]["cursor"] if edges else None}
    return answer({"orders": {"edges": edges, "pageInfo": info}}, requested=102)


def test_list_updated_since_follows_the_cursor_and_keeps_each_order_once(admin: FakeAdmin) -> None:
    admin.on(
        "OrdersUpdatedSince",
        page([edge(0, "2026-11-28T16:00:00Z"), edge(1, "2026-11-28T17:00:00Z")], more=True),
        # Order 0 was updated again while we paged: it comes round once more, newer.
        page([edge(2, "2026-11-28T18:00:00Z"), edge(0, "2026-11-28T19:00:00Z")], more=False),
    )
    since = datetime(2026, 11, 28, 10, 59, 59, 750_000, tzinfo=timezone(timedelta(hours=-5)))
    refs = api().list_updated_since(since)

    first, second = admin.sent
    assert first["variables"] == {"first": 100, "after": None, "query": "updated_at:>='2026-11-28T15:59:59Z'"}
    assert second["variables"]["after"] == "c1"
    assert {ref.external_id: ref.updated_at for ref in refs} == {
        str(int(ORDER_ID) + 0): datetime(2026, 11, 28, 19, tzinfo=UTC),
        str(int(ORDER_ID) + 1): datetime(2026, 11, 28, 17, tzinfo=UTC),
        str(int(ORDER_ID) + 2): datetime(2026, 11, 28, 18, tzinfo=UTC),
    }
    assert {(ref.store, ref.change, ref.observed_by, ref.channel.value) for ref in refs} == {
        (SHOP, "updated", "reconciliation", "shopify")
    }


def test_list_updated_since_with_nothing_changed_is_one_call(admin: FakeAdmin) -> None:
    admin.on("OrdersUpdatedSince", page([], more=False))
    assert api().list_updated_since(datetime(2026, 11, 28, tzinfo=UTC)) == []
    assert admin.operations() == ["OrdersUpdatedSince"]


def test_a_naive_since_is_refused() -> None:
    with pytest.raises(ValidationFailed):
        api().list_updated_since(datetime(2026, 11, 28))


# -- throttling and errors that come back as HTTP 200 ---------------------------------------------------------------
def test_throttled_raises_rate_limited_with_the_wait_the_bucket_reports(admin: FakeAdmin) -> None:
    throttled = httpx.Response(
        200,
        json={
            "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
            "extensions": {
                "cost": {
                    "requestedQueryCost": 102,
                    "actualQueryCost": None,
                    "throttleStatus": {"maximumAvailable": 1000.0, "currentlyAvailable": 52, "restoreRate": 50.0},
                }
            },
        },
    )
    admin.on("OrdersUpdatedSince", throttled)
    with pytest.raises(RateLimited) as caught:
        api().list_updated_since(datetime(2026, 11, 28, tzinfo=UTC))
    assert caught.value.retry_after_seconds == pytest.approx(1.0)  # 50 points short at 50 a second


def test_a_throttled_answer_without_cost_still_rate_limits(admin: FakeAdmin) -> None:
    admin.on(
        "OrderTags",
        httpx.Response(200, json={"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}]}),
    )
    with pytest.raises(RateLimited) as caught:
        api().push_status(ORDER_ID, ChannelStatus.ACCEPTED)
    assert caught.value.retry_after_seconds is None


def test_other_graphql_errors_are_permanent_and_say_why(admin: FakeAdmin) -> None:
    error = {"message": "Field 'orders' doesn't accept argument 'frist'", "extensions": {"code": "argumentNotAccepted"}}
    admin.on("OrdersUpdatedSince", answer(errors=[error]))
    with pytest.raises(ValidationFailed) as caught:
        api().list_updated_since(datetime(2026, 11, 28, tzinfo=UTC))
    assert caught.value.message == error["message"]


def test_access_denied_is_unauthorized(admin: FakeAdmin) -> None:
    admin.on("OrderTags", answer(errors=[{"message": "Access denied", "extensions": {"code": "ACCESS_DENIED"}}]))
    with pytest.raises(Unauthorized):
        api().push_status(ORDER_ID, ChannelStatus.ACCEPTED)


def test_an_http_429_is_retried_by_the_outbound_client(admin: FakeAdmin) -> None:
    limited = httpx.Response(429, json={"errors": "Exceeded 2 calls per second"}, headers={"Retry-After": "1.0"})
    admin.on("OrderTags", limited, tags_answer(["crossdock:accepted"]))
    api().push_status(ORDER_ID, ChannelStatus.ACCEPTED)
    assert admin.operations() == ["OrderTags", "OrderTags"]


# -- push_status: one status tag, idempotently ---------------------------------------------------------------------
def test_push_adds_the_status_tag_and_removes_the_other_status_tags(admin: FakeAdmin) -> None:
    admin.on("OrderTags", tags_answer(["B2B", "Crossdock:On-Hold", "crossdock:rejected"]))
    admin.on("TagsAdd", mutation_ok())
    admin.on("TagsRemove", mutation_ok())
    api().push_status(ORDER_ID, ChannelStatus.ACCEPTED, [Reason(code="ok", message="fine")])
    assert admin.operations() == ["OrderTags", "TagsAdd", "TagsRemove"]
    assert admin.sent[1]["variables"] == {"id": ORDER_GID, "tags": ["crossdock:accepted"]}
    assert admin.sent[2]["variables"] == {"id": ORDER_GID, "tags": ["crossdock:on-hold", "crossdock:rejected"]}


@pytest.mark.parametrize("status", list(ChannelStatus))
def test_pushing_a_status_the_order_already_has_sends_no_mutation(admin: FakeAdmin, status: ChannelStatus) -> None:
    admin.on("OrderTags", tags_answer(["B2B", STATUS_TAGS[status]]))
    api().push_status(ORDER_ID, status)
    assert admin.operations() == ["OrderTags"]


def test_a_rejection_is_only_a_tag(admin: FakeAdmin) -> None:
    admin.on("OrderTags", tags_answer([]))
    admin.on("TagsAdd", mutation_ok())
    api().push_status(ORDER_ID, ChannelStatus.REJECTED, [Reason(code="credit_hold", message="Account on hold")])
    assert admin.operations() == ["OrderTags", "TagsAdd"]  # no orderCancel: people decide that


def test_user_errors_are_raised_with_their_message(admin: FakeAdmin) -> None:
    refused = answer(
        {"result": {"node": None, "userErrors": [{"field": ["tags"], "message": "Tags are too long"}]}}, requested=10
    )
    admin.on("OrderTags", tags_answer([]))
    admin.on("TagsAdd", refused)
    with pytest.raises(ValidationFailed) as caught:
        api().push_status(ORDER_ID, ChannelStatus.ON_HOLD)
    assert caught.value.message == "Tags are too long"
    assert caught.value.details["field"] == "tags"


def test_push_to_an_unknown_order_is_not_found(admin: FakeAdmin) -> None:
    admin.on("OrderTags", answer({"order": None}))
    with pytest.raises(NotFound):
        api().push_status(ORDER_ID, ChannelStatus.CANCELLED)


def test_every_call_carries_the_access_token(admin: FakeAdmin) -> None:
    admin.on("OrderTags", tags_answer([]))
    admin.on("TagsAdd", mutation_ok())
    api().push_status(ORDER_ID, ChannelStatus.ON_HOLD)
    assert {call["headers"]["x-shopify-access-token"] for call in admin.sent} == {TOKEN}


# -- create_fulfillment: once per shipment, found again by its tracking numbers -----------------------------------
FO_GID = "gid://shopify/FulfillmentOrder/901"
GLOVES, VESTS = "gid://shopify/FulfillmentOrderLineItem/911", "gid://shopify/FulfillmentOrderLineItem/912"
FULFILLMENT_GID = "gid://shopify/Fulfillment/951"
SHIPPED_AT = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)


def shipment(
    *lines: tuple[str, int], shipment_id: str = "SHP-1", tracking: tuple[str, ...] = ("1Z1", "1Z2")
) -> Shipment:
    return Shipment(
        shipment_id=shipment_id,
        order_key=f"shopify:{SHOP}:{ORDER_ID}",
        reference_id="REL-1",
        facility="WH-EAST",
        carrier="UPS",
        tracking_url="https://www.ups.com/track?tracknum=1Z1",
        packages=tuple(Package(tracking_number=number) for number in tracking),
        lines=tuple(ShippedLine(sku=sku, quantity=quantity) for sku, quantity in lines),
        shipped_at=SHIPPED_AT,
    )


def fulfillment(numbers: list[str], status: str = "SUCCESS") -> dict[str, Any]:
    return {
        "id": FULFILLMENT_GID,
        "status": status,
        "trackingInfo": [{"company": "UPS", "number": number, "url": None} for number in numbers],
    }


def fulfillment_state(fulfillments: list[dict[str, Any]] | None = None, *, gloves_left: int = 12) -> httpx.Response:
    lines = [
        {
            "id": GLOVES,
            "remainingQuantity": gloves_left,
            "totalQuantity": 12,
            "lineItem": {"id": "gid://shopify/LineItem/1", "sku": "GLV"},
        },
        {
            "id": VESTS,
            "remainingQuantity": 50,
            "totalQuantity": 50,
            "lineItem": {"id": "gid://shopify/LineItem/2", "sku": "VST"},
        },
    ]
    order = {
        "id": ORDER_GID,
        "displayFulfillmentStatus": "UNFULFILLED",
        "fulfillments": fulfillments or [],
        "fulfillmentOrders": {"nodes": [{"id": FO_GID, "status": "OPEN", "lineItems": {"nodes": lines}}]},
    }
    return answer({"order": order})


def created(numbers: list[str]) -> httpx.Response:
    return answer({"fulfillmentCreate": {"fulfillment": fulfillment(numbers), "userErrors": []}}, requested=10)


def test_a_shipment_becomes_one_fulfillment_with_every_tracking_number(admin: FakeAdmin) -> None:
    admin.on("OrderFulfillment", fulfillment_state())
    admin.on("FulfillmentCreate", created(["1Z1", "1Z2"]))
    assert api().create_fulfillment(ORDER_ID, shipment(("GLV", 5), ("VST", 50))) == FULFILLMENT_GID
    assert admin.operations() == ["OrderFulfillment", "FulfillmentCreate"]
    assert admin.sent[1]["variables"]["fulfillment"] == {
        "lineItemsByFulfillmentOrder": [
            {
                "fulfillmentOrderId": FO_GID,
                "fulfillmentOrderLineItems": [{"id": GLOVES, "quantity": 5}, {"id": VESTS, "quantity": 50}],
            }
        ],
        "trackingInfo": {"company": "UPS", "numbers": ["1Z1", "1Z2"], "url": "https://www.ups.com/track?tracknum=1Z1"},
        "notifyCustomer": True,
    }


def test_a_repeated_shipment_returns_the_fulfillment_it_made(admin: FakeAdmin) -> None:
    admin.on("OrderFulfillment", fulfillment_state([fulfillment(["1Z2", "1Z1"])], gloves_left=7))
    assert api().create_fulfillment(ORDER_ID, shipment(("GLV", 5))) == FULFILLMENT_GID
    assert admin.operations() == ["OrderFulfillment"]


def test_a_fulfillment_is_known_by_the_first_tracking_numbers_shopify_lists(admin: FakeAdmin) -> None:
    many = tuple(f"1Z{n:03}" for n in range(25))
    admin.on("OrderFulfillment", fulfillment_state([fulfillment(list(many[:20]))]))  # trackingInfo(first: 20)
    assert api().create_fulfillment(ORDER_ID, shipment(("GLV", 5), tracking=many)) == FULFILLMENT_GID
    assert admin.operations() == ["OrderFulfillment"]


def test_a_fulfillment_with_another_shipments_number_is_not_this_one(admin: FakeAdmin) -> None:
    admin.on("OrderFulfillment", fulfillment_state([fulfillment(["1Z1", "1Z9"])]))
    admin.on("FulfillmentCreate", created(["1Z1", "1Z2"]))
    api().create_fulfillment(ORDER_ID, shipment(("GLV", 5)))
    assert admin.operations() == ["OrderFulfillment", "FulfillmentCreate"]


def test_a_cancelled_fulfillment_with_the_same_tracking_is_not_this_one(admin: FakeAdmin) -> None:
    admin.on("OrderFulfillment", fulfillment_state([fulfillment(["1Z1", "1Z2"], status="CANCELLED")]))
    admin.on("FulfillmentCreate", created(["1Z1", "1Z2"]))
    api().create_fulfillment(ORDER_ID, shipment(("GLV", 5)))
    assert admin.operations() == ["OrderFulfillment", "FulfillmentCreate"]


def test_a_timeout_that_hid_the_commit_is_answered_by_reading_again(admin: FakeAdmin) -> None:
    admin.on("OrderFulfillment", fulfillment_state(), fulfillment_state([fulfillment(["1Z1", "1Z2"])]))
    admin.on("FulfillmentCreate", httpx.ReadTimeout("no answer"))
    assert api().create_fulfillment(ORDER_ID, shipment(("GLV", 5))) == FULFILLMENT_GID
    assert admin.operations() == ["OrderFulfillment", "FulfillmentCreate", "OrderFulfillment"]


def test_a_retry_after_a_hidden_commit_makes_no_second_fulfillment(admin: FakeAdmin) -> None:
    admin.on("OrderFulfillment", fulfillment_state(), fulfillment_state())  # not visible yet
    admin.on("FulfillmentCreate", httpx.ReadTimeout("no answer"))
    with pytest.raises(DownstreamUnavailable) as caught:
        api().create_fulfillment(ORDER_ID, shipment(("GLV", 5)))
    assert caught.value.details["maybe_committed"] is True
    admin.on("OrderFulfillment", fulfillment_state([fulfillment(["1Z1", "1Z2"])], gloves_left=7))
    assert api().create_fulfillment(ORDER_ID, shipment(("GLV", 5))) == FULFILLMENT_GID  # the queue's retry
    assert admin.operations().count("FulfillmentCreate") == 1


@pytest.mark.parametrize(
    ("lines", "field"), [((("GLV", 13),), "lines.0.quantity"), ((("GLV", 1), ("NOPE", 1)), "lines.1.sku")]
)
def test_lines_the_order_cannot_ship_are_refused_before_any_mutation(
    admin: FakeAdmin, lines: tuple[tuple[str, int], ...], field: str
) -> None:
    admin.on("OrderFulfillment", fulfillment_state())
    with pytest.raises(ValidationFailed) as caught:
        api().create_fulfillment(ORDER_ID, shipment(*lines))
    assert caught.value.details["field"] == field
    assert admin.operations() == ["OrderFulfillment"]


def test_a_fulfillment_shopify_refuses_is_validation_failed(admin: FakeAdmin) -> None:
    refused = {"field": ["fulfillment"], "message": "Fulfillment order 901 has an unfulfillable status= closed."}
    admin.on("OrderFulfillment", fulfillment_state())
    admin.on("FulfillmentCreate", answer({"fulfillmentCreate": {"fulfillment": None, "userErrors": [refused]}}))
    with pytest.raises(ValidationFailed) as caught:
        api().create_fulfillment(ORDER_ID, shipment(("GLV", 5)))
    assert caught.value.message == refused["message"]


def test_a_fulfillment_for_an_unknown_order_is_not_found(admin: FakeAdmin) -> None:
    admin.on("OrderFulfillment", answer({"order": None}))
    with pytest.raises(NotFound):
        api().create_fulfillment(ORDER_ID, shipment(("GLV", 5)))


# -- refund: once per refund id, no restock, against the paid transaction ------------------------------------------
REFUND_GID = "gid://shopify/Refund/961"
SALE_GID = "gid://shopify/OrderTransaction/971"


def refund_request(amount: str = "422.50", *, refund_id: str = "RMA-1:RCPT-1") -> RefundRequest:
    return RefundRequest(
        refund_id=refund_id,
        rma_number="RMA-1",
        amount=Money(amount=amount, currency="USD"),
        lines=(ShippedLine(sku="GLV", quantity=5),),
    )


def shopify_refund(note: str) -> dict[str, Any]:
    return {
        "id": REFUND_GID,
        "note": note,
        "totalRefundedSet": {"presentmentMoney": {"amount": "422.5", "currencyCode": "USD"}},
    }


def refund_state(refunds: list[dict[str, Any]] | None = None, *, paid: bool = True) -> httpx.Response:
    def money(amount: str) -> dict[str, Any]:
        return {"presentmentMoney": {"amount": amount, "currencyCode": "USD"}}

    transactions = [
        {
            "id": "gid://shopify/OrderTransaction/970",
            "kind": "AUTHORIZATION",
            "status": "SUCCESS",
            "gateway": "shopify_payments",
            "amountSet": money("3559.77"),
        },
        {
            "id": SALE_GID,
            "kind": "CAPTURE",
            "status": "SUCCESS",
            "gateway": "shopify_payments",
            "amountSet": money("3559.77"),
        },
    ]
    order = {
        "id": ORDER_GID,
        "presentmentCurrencyCode": "USD",
        "refunds": refunds or [],
        "transactions": transactions if paid else [],
        "lineItems": {
            "nodes": [{"id": "gid://shopify/LineItem/1", "sku": "GLV", "quantity": 12, "refundableQuantity": 12}]
        },
    }
    return answer({"order": order})


def refund_made(note: str = "[crossdock refund RMA-1:RCPT-1] RMA RMA-1") -> httpx.Response:
    return answer({"refundCreate": {"refund": shopify_refund(note), "userErrors": []}}, requested=10)


def test_a_refund_pays_back_the_amount_against_the_capture_without_restocking(admin: FakeAdmin) -> None:
    admin.on("OrderRefunds", refund_state())
    admin.on("RefundCreate", refund_made())
    assert api().refund(ORDER_ID, refund_request()) == REFUND_GID
    sent = admin.sent[1]
    assert "@idempotent(key: $key)" in sent["query"]
    assert sent["variables"]["key"] == "RMA-1:RCPT-1"
    assert sent["variables"]["input"] == {
        "orderId": ORDER_GID,
        "note": "[crossdock refund RMA-1:RCPT-1] RMA RMA-1",
        "notify": True,
        "currency": "USD",
        "refundLineItems": [{"lineItemId": "gid://shopify/LineItem/1", "quantity": 5, "restockType": "NO_RESTOCK"}],
        "transactions": [
            {
                "orderId": ORDER_GID,
                "parentId": SALE_GID,
                "gateway": "shopify_payments",
                "kind": "REFUND",
                "amount": "422.50",
            }
        ],
    }


def test_a_repeated_refund_returns_the_refund_it_made(admin: FakeAdmin) -> None:
    admin.on("OrderRefunds", refund_state([shopify_refund("[crossdock refund RMA-1:RCPT-1] RMA RMA-1")]))
    assert api().refund(ORDER_ID, refund_request()) == REFUND_GID
    assert admin.operations() == ["OrderRefunds"]


def test_another_refunds_note_is_not_this_one(admin: FakeAdmin) -> None:
    admin.on("OrderRefunds", refund_state([shopify_refund("[crossdock refund RMA-1:RCPT-10] RMA RMA-1")]))
    admin.on("RefundCreate", refund_made())
    api().refund(ORDER_ID, refund_request())
    assert admin.operations() == ["OrderRefunds", "RefundCreate"]


def test_a_timed_out_refund_is_sent_again_under_the_same_key(admin: FakeAdmin) -> None:
    # The idempotency key makes the resend safe: Shopify answers it with the refund the first send made.
    admin.on("OrderRefunds", refund_state())
    admin.on("RefundCreate", httpx.ReadTimeout("no answer"), refund_made())
    assert api().refund(ORDER_ID, refund_request()) == REFUND_GID
    keys = [call["variables"]["key"] for call in admin.sent if call["operation"] == "RefundCreate"]
    assert keys == ["RMA-1:RCPT-1", "RMA-1:RCPT-1"]


def test_more_than_was_paid_is_validation_failed(admin: FakeAdmin) -> None:
    refused = {
        "field": ["transactions", "0", "amount"],
        "message": "Refund amount exceeds the amount that can be refunded.",
    }
    admin.on("OrderRefunds", refund_state())
    admin.on("RefundCreate", answer({"refundCreate": {"refund": None, "userErrors": [refused]}}))
    with pytest.raises(ValidationFailed) as caught:
        api().refund(ORDER_ID, refund_request("9999.00"))
    assert caught.value.details["field"] == "transactions.0.amount"


def test_an_unpaid_order_gets_its_lines_refunded_with_no_money_the_erp_credit_settles_the_invoice(
    admin: FakeAdmin,
) -> None:
    admin.on("OrderRefunds", refund_state(paid=False))
    admin.on("RefundCreate", refund_made())
    api().refund(ORDER_ID, refund_request())
    sent = admin.sent[1]["variables"]["input"]
    assert sent["transactions"] == []
    assert sent["refundLineItems"] == [
        {"lineItemId": "gid://shopify/LineItem/1", "quantity": 5, "restockType": "NO_RESTOCK"}
    ]
    assert "422.50 USD credited against the invoice" in sent["note"]


@pytest.mark.parametrize(
    ("request_", "paid", "field"),
    [
        (
            RefundRequest("R", "RMA-1", Money(amount="1", currency="CAD"), (ShippedLine(sku="GLV", quantity=1),)),
            True,
            "amount.currency",
        ),
        (
            RefundRequest("R", "RMA-1", Money(amount="1", currency="USD"), (ShippedLine(sku="GLV", quantity=13),)),
            True,
            "lines.0.quantity",
        ),
    ],
)
def test_a_refund_that_cannot_be_made_is_refused_before_any_mutation(
    admin: FakeAdmin, request_: RefundRequest, paid: bool, field: str
) -> None:
    admin.on("OrderRefunds", refund_state(paid=paid))
    with pytest.raises(ValidationFailed) as caught:
        api().refund(ORDER_ID, request_)
    assert caught.value.details["field"] == field
    assert admin.operations() == ["OrderRefunds"]


def test_a_refund_for_an_unknown_order_is_not_found(admin: FakeAdmin) -> None:
    admin.on("OrderRefunds", answer({"order": None}))
    with pytest.raises(NotFound):
        api().refund(ORDER_ID, refund_request())
