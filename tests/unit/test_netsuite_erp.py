"""NetSuiteErp on respx: external ids, TBA signing, response mapping, error classes and the retry rules."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
import respx
from hypothesis import given
from hypothesis import strategies as st

from infra.samples import shopify_payload
from shared.channels.shopify.mapping import to_order
from shared.channels.shopify.payloads import ShopifyOrder
from shared.connections import Connection
from shared.erp.netsuite import NetSuiteErp, customer_external_id, erp_external_id, netsuite_client
from shared.erp.netsuite_auth import TokenBasedAuth, signature
from shared.erp.ports import CancelOutcome, ErpCustomer
from shared.errors import DownstreamUnavailable, RateLimited, Unauthorized, ValidationFailed
from shared.models.lifecycle import AllocatedLine, Allocation
from shared.models.order import Order

BASE = "https://1234567-sb1.suitetalk.api.netsuite.com"
RECORDS = f"{BASE}/services/rest/record/v1"
SHOP = "acme-supply.myshopify.com"
CONNECTION = Connection(
    base_url=BASE,
    credentials={"consumer_key": "ck", "consumer_secret": "cs", "token_id": "tk", "token_secret": "ts"},
    settings={"account_id": "1234567-sb1"},
)
ORDER_EID = erp_external_id(f"shopify:{SHOP}:7124853309745")
CUSTOMER_EID = customer_external_id("shopify", SHOP, "8841720385329")
SAFE = re.compile(r"^[A-Za-z0-9_-]+$")


def erp(**options: Any) -> NetSuiteErp:
    return NetSuiteErp(CONNECTION, client=netsuite_client(CONNECTION, sleep=lambda _: None, **options))


def sample_order() -> Order:
    return to_order(ShopifyOrder.model_validate(shopify_payload()), shop_domain=SHOP)


def ns_error(status: int, code: str, detail: str = "", path: str | None = None) -> httpx.Response:
    item = {"detail": detail or code, "o:errorCode": code, **({"o:errorPath": path} if path else {})}
    return httpx.Response(status, json={"type": "x", "title": "t", "status": status, "o:errorDetails": [item]})


def not_found() -> httpx.Response:
    return ns_error(404, "NONEXISTENT_ID", "The record instance does not exist.")


def collection(*ids: str) -> httpx.Response:
    return httpx.Response(200, json={"count": len(ids), "hasMore": False, "items": [{"id": i} for i in ids]})


def sublist(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {"items": rows, "count": len(rows), "hasMore": False}


def customer(record_id: str = "101", **fields: Any) -> dict[str, Any]:
    return {
        "id": record_id,
        "externalId": CUSTOMER_EID,
        "entityId": "Harbor Point Facilities Group",
        "companyName": "Harbor Point Facilities Group",
        "isInactive": False,
        "creditHoldOverride": {"id": "AUTO", "refName": "Auto"},
        "custentity_crossdock_credit_hold": False,
        "terms": {"id": "2", "refName": "Net 30"},
        "creditLimit": 50000.0,
        "balance": 14880.55,
        **fields,
    }


def item(record_id: str, sku: str, base: float, east: int, west: int, **fields: Any) -> dict[str, Any]:
    return {
        "id": record_id,
        "itemId": sku,
        "basePrice": base,
        "price": sublist(
            [
                {"priceLevel": {"id": "1", "refName": "Base Price"}, "price": base},
                {"priceLevel": {"id": "2", "refName": "Wholesale"}, "price": round(base * 0.9, 2)},
            ]
        ),
        "locations": sublist(
            [
                {"location": {"id": "1", "refName": "East"}, "quantityAvailable": east},
                {"location": {"id": "2", "refName": "West"}, "quantityAvailable": west},
            ]
        ),
        **fields,
    }


def sales_order(status: str = "B", *, fulfilled: int = 0, closed: bool = False) -> dict[str, Any]:
    names = {"A": "Pending Approval", "B": "Pending Fulfillment", "E": "Pending Billing/Partially Fulfilled"}
    names |= {"H": "Closed", "C": "Cancelled"}
    lines = [
        {"line": n, "quantity": 10, "quantityFulfilled": fulfilled if n == 1 else 0, "quantityBilled": 0}
        | ({"isClosed": True} if closed else {})
        for n in (1, 2)
    ]
    return {
        "id": "9001",
        "externalId": ORDER_EID,
        "tranId": "SO1001",
        "orderStatus": {"id": status, "refName": names[status]},
        "item": sublist(lines),
    }


@pytest.fixture
def ns() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=RECORDS, assert_all_called=False) as router:
        yield router


# -- external ids ----------------------------------------------------------------------------------------------
def test_external_ids_are_readable_and_netsuite_safe() -> None:
    assert re.fullmatch(r"shopify-[0-9a-f]{8}-7124853309745", ORDER_EID)
    assert re.fullmatch(r"shopify-[0-9a-f]{8}-8841720385329", CUSTOMER_EID)
    # The store part is the same for a shop's orders and customers, and differs between shops.
    assert ORDER_EID.split("-")[1] == CUSTOMER_EID.split("-")[1]
    assert erp_external_id("shopify:other.myshopify.com:7124853309745") != ORDER_EID
    assert erp_external_id("b2b_portal:default:SO-2026-004417").endswith("-SO-2026-004417")


def test_an_unsafe_order_id_is_escaped_and_a_long_one_hashed() -> None:
    assert erp_external_id("b2b_portal:default:PO 7/12_a").endswith("-PO_207_2f12_5fa")
    # A store may hold a colon; the order id is what follows the last one.
    store_with_port = customer_external_id("woocommerce", "shop.example:8080", "42")
    assert erp_external_id("woocommerce:shop.example:8080:42") == store_with_port
    long_id = erp_external_id("b2b_portal:default:" + "x" * 300)
    assert re.fullmatch(r"b2b_portal-[0-9a-f]{8}-_h[0-9a-f]{40}", long_id)


@given(st.text(min_size=1, max_size=80), st.text(min_size=1, max_size=80))
def test_external_ids_stay_in_netsuites_alphabet_and_never_collide(first: str, second: str) -> None:
    a, b = customer_external_id("b2b_portal", "default", first), customer_external_id("b2b_portal", "default", second)
    assert SAFE.match(a)
    assert SAFE.match(b)
    assert (a == b) is (first == second)


# -- token-based auth ------------------------------------------------------------------------------------------
def test_signature_matches_the_published_oauth_example() -> None:
    # Twitter's "Creating a signature" walk-through (HMAC-SHA1, form body parameters signed).
    params = [
        ("status", "Hello Ladies + Gentlemen, a signed OAuth request!"),
        ("include_entities", "true"),
        ("oauth_consumer_key", "xvz1evFS4wEEPTGEFPHBog"),
        ("oauth_nonce", "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg"),
        ("oauth_signature_method", "HMAC-SHA1"),
        ("oauth_timestamp", "1318622958"),
        ("oauth_token", "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb"),
        ("oauth_version", "1.0"),
    ]
    assert (
        signature(
            "post",
            "https://api.twitter.com/1.1/statuses/update.json",
            params,
            "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw",
            "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE",
            digest="sha1",
        )
        == "hCtSmYh+iHYCEqBWrE7C7hYmtUk="
    )


def test_tba_header_signs_the_query_with_hmac_sha256_under_the_account_realm() -> None:
    auth = TokenBasedAuth(
        account_id="1234567-sb1",
        consumer_key="ck",
        consumer_secret="cs",
        token_id="tk",
        token_secret="ts",
        clock=lambda: 1764324843.7,
        nonce=lambda: "n0nce",
    )
    url = httpx.URL(f"{RECORDS}/customer", params={"q": 'email IS "a b@example.com"', "limit": "6"})
    header = auth.header("GET", url)
    fields = dict(re.findall(r'(\w+)="([^"]*)"', header))
    assert header.startswith('OAuth realm="1234567_SB1", ')
    assert fields["oauth_signature_method"] == "HMAC-SHA256"
    assert fields["oauth_timestamp"] == "1764324843"
    signed = [(k, v) for k, v in fields.items() if k.startswith("oauth_") and k != "oauth_signature"]
    expected = signature("GET", f"{RECORDS}/customer", [*signed, *url.params.multi_items()], "cs", "ts")
    assert httpx.URL("?s=" + fields["oauth_signature"]).params["s"] == expected


def test_every_attempt_is_signed_afresh(ns: respx.MockRouter) -> None:
    route = ns.get(f"/customer/eid:{CUSTOMER_EID}").mock(
        side_effect=[httpx.Response(503), httpx.Response(200, json=customer())]
    )
    assert erp().find_customer(sample_order()) is not None
    nonces = [re.search(r'oauth_nonce="(\w+)"', call.request.headers["authorization"]) for call in route.calls]
    assert len({match.group(1) for match in nonces if match}) == 2


def test_a_connection_without_credentials_is_refused() -> None:
    with pytest.raises(ValueError, match="token_secret"):
        NetSuiteErp(Connection(base_url=BASE, credentials={"consumer_key": "ck"}, settings={"account_id": "1"}))


# -- customers -------------------------------------------------------------------------------------------------
def test_customer_by_channel_id_maps_terms_limits_and_holds(ns: respx.MockRouter) -> None:
    ns.get(f"/customer/eid:{CUSTOMER_EID}").respond(200, json=customer())
    found = erp().find_customer(sample_order())
    assert found == ErpCustomer(
        id="101",
        external_id=CUSTOMER_EID,
        name="Harbor Point Facilities Group",
        active=True,
        credit_hold=False,
        terms="Net 30",
        credit_limit=Decimal("50000.0"),
        balance=Decimal("14880.55"),  # exact: JSON numbers never pass through float
    )


@pytest.mark.parametrize(
    ("fields", "hold"),
    [
        ({"creditHoldOverride": {"id": "ON", "refName": "On"}}, True),
        ({"custentity_crossdock_credit_hold": True}, True),
        ({"creditHoldOverride": {"id": "OFF", "refName": "Off"}}, False),
    ],
)
def test_credit_hold_comes_from_the_override_or_the_custom_field(
    ns: respx.MockRouter, fields: dict[str, Any], hold: bool
) -> None:
    ns.get(f"/customer/eid:{CUSTOMER_EID}").respond(200, json=customer(**fields))
    found = erp().find_customer(sample_order())
    assert found is not None
    assert found.credit_hold is hold


def test_unknown_channel_customer_falls_back_to_email(ns: respx.MockRouter) -> None:
    ns.get(f"/customer/eid:{CUSTOMER_EID}").mock(return_value=not_found())
    listing = ns.get("/customer").mock(return_value=collection("104"))
    ns.get("/customer/104").respond(200, json=customer("104", isInactive=True))
    found = erp().find_customer(sample_order())
    assert found is not None
    assert (found.id, found.active) == ("104", False)
    assert listing.calls.last.request.url.params["q"] == 'email IS "dana.whitfield@example.com"'


def test_an_email_shared_by_customers_resolves_only_to_the_one_active(ns: respx.MockRouter) -> None:
    ns.get(f"/customer/eid:{CUSTOMER_EID}").mock(return_value=not_found())
    ns.get("/customer").mock(return_value=collection("103", "105"))
    ns.get("/customer/103").respond(200, json=customer("103", isInactive=True))
    ns.get("/customer/105").respond(200, json=customer("105"))
    found = erp().find_customer(sample_order())
    assert found is not None
    assert found.id == "105"

    ns.get("/customer/103").respond(200, json=customer("103"))
    assert erp().find_customer(sample_order()) is None  # two active accounts: a person must choose


def test_unknown_customer_is_none(ns: respx.MockRouter) -> None:
    ns.get(f"/customer/eid:{CUSTOMER_EID}").mock(return_value=not_found())
    ns.get("/customer").mock(return_value=collection())
    assert erp().find_customer(sample_order()) is None


# -- items -----------------------------------------------------------------------------------------------------
def item_routes(ns: respx.MockRouter, records: dict[str, dict[str, Any]]) -> None:
    by_sku = {record["itemId"]: record["id"] for record in records.values()}

    def listing(request: httpx.Request) -> httpx.Response:
        sku = re.fullmatch(r'itemId IS "(.*)"', request.url.params["q"])
        assert sku is not None
        return collection(by_sku[sku[1]]) if sku[1] in by_sku else collection()

    ns.get("/inventoryItem").mock(side_effect=listing)
    for record_id, record in records.items():
        ns.get(f"/inventoryItem/{record_id}").respond(200, json=record)


def test_items_with_base_prices_availability_and_restrictions(ns: respx.MockRouter) -> None:
    item_routes(
        ns,
        {
            "501": item("501", "GLV-NIT4-L-CS", 84.50, east=180, west=30),
            "510": item("510", "AER-LUB-11-12", 58.80, east=36, west=-2, custitem_crossdock_restricted=True),
            "511": item("511", "OLD-SKU", 1.0, east=1, west=1, isInactive=True),
        },
    )
    found = erp().items(["GLV-NIT4-L-CS", "AER-LUB-11-12", "OLD-SKU", "NOPE", "GLV-NIT4-L-CS"])
    assert list(found) == ["GLV-NIT4-L-CS", "AER-LUB-11-12"]  # unknown and inactive SKUs are absent
    gloves, hazmat = found["GLV-NIT4-L-CS"], found["AER-LUB-11-12"]
    assert (gloves.id, gloves.price, gloves.available, gloves.restricted) == (
        "501",
        Decimal("84.5"),
        {"1": 180, "2": 30},
        False,
    )
    assert hazmat.restricted
    assert hazmat.available == {"1": 36, "2": 0}  # a negative availability ships nothing


def test_items_are_priced_at_the_customers_price_level(ns: respx.MockRouter) -> None:
    item_routes(ns, {"501": item("501", "GLV-NIT4-L-CS", 84.50, east=1, west=1)})
    ns.get("/customer/102").respond(200, json=customer("102", priceLevel={"id": "2", "refName": "Wholesale"}))
    account = ErpCustomer(id="102", active=True, credit_hold=True)
    assert erp().items(["GLV-NIT4-L-CS"], account)["GLV-NIT4-L-CS"].price == Decimal("76.05")


def test_the_price_level_of_a_customer_just_found_costs_no_read(ns: respx.MockRouter) -> None:
    item_routes(ns, {"501": item("501", "GLV-NIT4-L-CS", 84.50, east=1, west=1)})
    wholesale = customer("102", priceLevel={"id": "2", "refName": "Wholesale"})
    found = ns.get(f"/customer/eid:{CUSTOMER_EID}").respond(200, json=wholesale)
    by_id = ns.get("/customer/102").respond(200, json=wholesale)
    adapter = erp()
    account = adapter.find_customer(sample_order())
    assert account is not None
    assert adapter.items(["GLV-NIT4-L-CS"], account)["GLV-NIT4-L-CS"].price == Decimal("76.05")
    assert (found.call_count, by_id.call_count) == (1, 0)


def test_item_ids_are_looked_up_once_per_instance(ns: respx.MockRouter) -> None:
    item_routes(ns, {"501": item("501", "GLV-NIT4-L-CS", 84.50, east=1, west=1)})
    adapter = erp()
    adapter.items(["GLV-NIT4-L-CS"])
    adapter.items(["GLV-NIT4-L-CS"])
    assert ns.routes[0].call_count == 1


# -- sales orders ----------------------------------------------------------------------------------------------
@pytest.fixture
def catalogue(ns: respx.MockRouter) -> respx.MockRouter:
    skus = [line["sku"] for line in shopify_payload()["line_items"]]
    item_routes(ns, {str(501 + n): item(str(501 + n), sku, 1.0, east=1, west=1) for n, sku in enumerate(skus)})
    return ns


ACCOUNT = ErpCustomer(id="101", active=True, credit_hold=False)


def allocations(order: Order, *, split: bool = False) -> tuple[Allocation, ...]:
    lines = [AllocatedLine(line_id=line.line_id, sku=line.sku or "", quantity=line.quantity) for line in order.lines]
    if not split:
        return (Allocation(warehouse="east", erp_location="1", lines=tuple(lines)),)
    first = lines[0]
    return (
        Allocation(warehouse="east", erp_location="1", lines=(first.model_copy(update={"quantity": 7}), *lines[1:])),
        Allocation(warehouse="west", erp_location="2", lines=(first.model_copy(update={"quantity": 5}),)),
    )


def test_upsert_puts_by_external_id_then_reads_back(catalogue: respx.MockRouter) -> None:
    reads = catalogue.get(f"/salesOrder/eid:{ORDER_EID}").mock(
        side_effect=[not_found(), httpx.Response(200, json=sales_order())]
    )
    put = catalogue.put(f"/salesOrder/eid:{ORDER_EID}").respond(204)
    order = sample_order()
    written = erp().upsert_sales_order(order, ACCOUNT, allocations(order))
    assert (written.id, written.external_id, written.status) == ("9001", ORDER_EID, "Pending Fulfillment")
    assert reads.calls.last.request.url.params["expandSubResources"] == "true"
    body = json.loads(put.calls.last.request.content)
    assert body["entity"] == {"id": "101"}
    assert body["orderStatus"] == {"id": "B"}
    assert body["location"] == {"id": "1"}
    assert body["tranDate"] == order.placed_at.date().isoformat()
    assert body["shippingAddress"]["addr1"] == "1180 Millbury Industrial Pkwy"
    assert body["shippingAddress"]["country"] == {"id": "US"}
    first = body["item"]["items"][0]
    assert first == {"item": {"id": "501"}, "quantity": 12, "rate": 84.5, "location": {"id": "1"}}


def test_a_line_split_across_warehouses_becomes_two_lines(catalogue: respx.MockRouter) -> None:
    catalogue.get(f"/salesOrder/eid:{ORDER_EID}").mock(
        side_effect=[not_found(), httpx.Response(200, json=sales_order())]
    )
    put = catalogue.put(f"/salesOrder/eid:{ORDER_EID}").respond(204)
    order = sample_order()
    erp().upsert_sales_order(order, ACCOUNT, allocations(order, split=True))
    body = json.loads(put.calls.last.request.content)
    assert "location" not in body
    gloves = [line for line in body["item"]["items"] if line["item"] == {"id": "501"}]
    assert [(line["quantity"], line["location"]) for line in gloves] == [(7, {"id": "1"}), (5, {"id": "2"})]


def test_an_existing_sales_order_is_returned_without_a_write(catalogue: respx.MockRouter) -> None:
    catalogue.get(f"/salesOrder/eid:{ORDER_EID}").respond(200, json=sales_order("E", fulfilled=4))
    put = catalogue.put(f"/salesOrder/eid:{ORDER_EID}").respond(204)
    order = sample_order()
    found = erp().upsert_sales_order(order, ACCOUNT, allocations(order))
    assert found.shipped
    assert not put.called


def test_a_write_that_timed_out_is_looked_up_not_repeated(catalogue: respx.MockRouter) -> None:
    catalogue.get(f"/salesOrder/eid:{ORDER_EID}").mock(
        side_effect=[not_found(), httpx.Response(200, json=sales_order())]
    )
    put = catalogue.put(f"/salesOrder/eid:{ORDER_EID}").mock(side_effect=httpx.ReadTimeout("stalled"))
    order = sample_order()
    assert erp().upsert_sales_order(order, ACCOUNT, allocations(order)).id == "9001"
    assert put.call_count == 1  # the unsafe write is not retried blind


def test_a_write_that_timed_out_and_did_not_land_is_written_again(catalogue: respx.MockRouter) -> None:
    catalogue.get(f"/salesOrder/eid:{ORDER_EID}").mock(
        side_effect=[not_found(), not_found(), httpx.Response(200, json=sales_order())]
    )
    put = catalogue.put(f"/salesOrder/eid:{ORDER_EID}").mock(
        side_effect=[httpx.ReadTimeout("lost"), httpx.Response(204)]
    )
    order = sample_order()
    assert erp().upsert_sales_order(order, ACCOUNT, allocations(order)).id == "9001"
    assert put.call_count == 2


def test_a_duplicate_from_a_concurrent_writer_is_the_same_order(catalogue: respx.MockRouter) -> None:
    catalogue.get(f"/salesOrder/eid:{ORDER_EID}").mock(
        side_effect=[not_found(), httpx.Response(200, json=sales_order())]
    )
    catalogue.put(f"/salesOrder/eid:{ORDER_EID}").mock(
        return_value=ns_error(400, "DUP_RCRD", "This record already exists.")
    )
    order = sample_order()
    assert erp().upsert_sales_order(order, ACCOUNT, allocations(order)).id == "9001"


def test_a_line_without_a_netsuite_item_is_a_validation_failure(ns: respx.MockRouter) -> None:
    ns.get(f"/salesOrder/eid:{ORDER_EID}").mock(return_value=not_found())
    ns.get("/inventoryItem").mock(return_value=collection())
    order = sample_order()
    with pytest.raises(ValidationFailed) as caught:
        erp().upsert_sales_order(order, ACCOUNT, allocations(order))
    assert caught.value.details["field"] == "lines[0].sku"


@pytest.mark.parametrize(
    ("record", "outcome", "patched"),
    [
        (sales_order("B"), CancelOutcome.CANCELLED, True),
        (sales_order("A"), CancelOutcome.CANCELLED, True),
        (sales_order("E", fulfilled=3), CancelOutcome.TOO_LATE, False),
        (sales_order("H", closed=True), CancelOutcome.ALREADY_CANCELLED, False),
        (sales_order("C"), CancelOutcome.ALREADY_CANCELLED, False),
    ],
)
def test_cancel_closes_every_line_of_an_order_nothing_has_happened_to(
    ns: respx.MockRouter, record: dict[str, Any], outcome: CancelOutcome, patched: bool
) -> None:
    ns.get(f"/salesOrder/eid:{ORDER_EID}").mock(
        side_effect=[httpx.Response(200, json=record), httpx.Response(200, json=sales_order("H", closed=True))]
    )
    patch = ns.patch("/salesOrder/9001").respond(204)
    assert erp().cancel_sales_order(sample_order()) is outcome
    assert patch.called is patched
    if patched:
        body = json.loads(patch.calls.last.request.content)
        assert body == {"item": {"items": [{"line": 1, "isClosed": True}, {"line": 2, "isClosed": True}]}}


def test_cancel_of_an_unknown_order_is_not_found(ns: respx.MockRouter) -> None:
    ns.get(f"/salesOrder/eid:{ORDER_EID}").mock(return_value=not_found())
    assert erp().cancel_sales_order(sample_order()) is CancelOutcome.NOT_FOUND
    assert erp().find_sales_order(sample_order()) is None


# -- error classes and retries ---------------------------------------------------------------------------------
def lookup(ns: respx.MockRouter, *answers: httpx.Response | Exception) -> respx.Route:
    return ns.get(f"/customer/eid:{CUSTOMER_EID}").mock(side_effect=list(answers))


def test_concurrency_limit_is_retried_then_succeeds(ns: respx.MockRouter) -> None:
    route = lookup(ns, ns_error(429, "CONCURRENCY_LIMIT_EXCEEDED"), httpx.Response(200, json=customer()))
    assert erp().find_customer(sample_order()) is not None
    assert route.call_count == 2


def test_concurrency_limit_that_persists_is_rate_limited(ns: respx.MockRouter) -> None:
    route = lookup(ns, *[ns_error(429, "CONCURRENCY_LIMIT_EXCEEDED")] * 3)
    with pytest.raises(RateLimited):
        erp().find_customer(sample_order())
    assert route.call_count == 3


@pytest.mark.parametrize(
    "answer",
    [
        ns_error(401, "INVALID_LOGIN", "Concurrent request limit exceeded. Request blocked."),
        ns_error(403, "USER_ERROR", "Request blocked: concurrency limit for this integration"),
        ns_error(400, "CONCURRENCY_LIMIT_EXCEEDED"),
        ns_error(503, "UNEXPECTED_ERROR"),
    ],
)
def test_disguised_concurrency_and_server_errors_are_retried(ns: respx.MockRouter, answer: httpx.Response) -> None:
    route = lookup(ns, answer, httpx.Response(200, json=customer()))
    assert erp().find_customer(sample_order()) is not None
    assert route.call_count == 2


def test_server_errors_that_persist_are_downstream_unavailable(ns: respx.MockRouter) -> None:
    lookup(ns, *[ns_error(502, "UNEXPECTED_ERROR")] * 3)
    with pytest.raises(DownstreamUnavailable) as caught:
        erp().find_customer(sample_order())
    assert caught.value.retryable


def test_a_plain_invalid_login_is_unauthorized_at_once(ns: respx.MockRouter) -> None:
    route = lookup(ns, ns_error(401, "INVALID_LOGIN", "Invalid login attempt."))
    with pytest.raises(Unauthorized):
        erp().find_customer(sample_order())
    assert route.call_count == 1


def test_a_validation_error_is_permanent_and_carries_netsuites_detail(catalogue: respx.MockRouter) -> None:
    catalogue.get(f"/salesOrder/eid:{ORDER_EID}").mock(return_value=not_found())
    detail = "Invalid Field Value 103 for the following field: entity"
    put = catalogue.put(f"/salesOrder/eid:{ORDER_EID}").mock(
        return_value=ns_error(400, "INVALID_CONTENT", detail, "entity")
    )
    order = sample_order()
    with pytest.raises(ValidationFailed) as caught:
        erp().upsert_sales_order(order, ACCOUNT, allocations(order))
    assert not caught.value.retryable
    assert caught.value.message == detail
    assert caught.value.details["code"] == "INVALID_CONTENT"
    assert caught.value.details["field"] == "entity"
    assert put.call_count == 1


def test_reads_are_retried_after_a_timeout(ns: respx.MockRouter) -> None:
    route = lookup(ns, httpx.ReadTimeout("slow"), httpx.Response(200, json=customer()))
    assert erp().find_customer(sample_order()) is not None
    assert route.call_count == 2


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(200, text="<html>Scheduled maintenance</html>"),
        httpx.Response(200, json={"id": "101", "isInactive": "sometimes"}),
    ],
)
def test_a_response_of_the_wrong_shape_is_not_trusted(ns: respx.MockRouter, answer: httpx.Response) -> None:
    lookup(ns, answer)
    with pytest.raises(DownstreamUnavailable, match="unexpected response"):
        erp().find_customer(sample_order())
