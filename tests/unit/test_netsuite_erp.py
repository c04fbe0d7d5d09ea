"""NetSuiteErp on respx: external ids, TBA signing, response mapping, error classes and the retry rules."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
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
from shared.erp.ports import CancelOutcome, ErpCreditMemo, ErpCustomer, ErpShipmentRecord
from shared.errors import DownstreamUnavailable, NotFound, RateLimited, Unauthorized, ValidationFailed
from shared.ids import safe_ref
from shared.models.lifecycle import AllocatedLine, Allocation
from shared.models.money import Money
from shared.models.order import Order
from shared.models.returns import Condition, CreditedLine, Disposition, ReceivedLine, ReturnLine, ReturnReceipt
from shared.models.shipping import Package, Shipment, ShippedLine

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


@given(st.text(min_size=1, max_size=300), st.text(min_size=1, max_size=300))
def test_references_with_partner_ids_stay_within_netsuites_limit_and_never_collide(first: str, second: str) -> None:
    order_key = "b2b_portal:default:" + "x" * 300  # the longest id part there is
    a, b = safe_ref(order_key, "ship", first), safe_ref(order_key, "ship", second)
    assert SAFE.match(a)
    assert len(a) <= 255
    assert (a == b) is (first == second)


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


# -- shipments and returns -------------------------------------------------------------------------------------
ORDER_KEY = f"shopify:{SHOP}:7124853309745"
GLOVES, GLASSES, WRAP = "GLV-NIT4-L-CS", "EYE-AF-CLR-12", "SW-18-1500-80-C4"
# Sales order lines: (line, item id, SKU, quantity, rate). The gloves are on two lines, at two prices.
ORDER_LINES = [(1, "501", GLOVES, 10, 84.5), (2, "503", GLASSES, 4, 38.85), (3, "501", GLOVES, 5, 80.0)]


def order_record(fulfilled: tuple[int, int, int] = (0, 0, 0), **fields: Any) -> dict[str, Any]:
    lines = [
        {
            "line": n,
            "item": {"id": item_id, "refName": sku},
            "quantity": quantity,
            "rate": rate,
            "quantityFulfilled": done,
            "quantityBilled": 0,
        }
        for (n, item_id, sku, quantity, rate), done in zip(ORDER_LINES, fulfilled, strict=True)
    ]
    return {
        "id": "9001",
        "externalId": ORDER_EID,
        "orderStatus": {"id": "B", "refName": "Pending Fulfillment"},
        "currency": {"id": "1", "refName": "USD"},
        "item": sublist(lines),
        **fields,
    }


class Transforms:
    """NetSuite's transforms on respx: a POST keeps a record built from its body, an ``eid:`` read returns it.

    ``lines`` are the source record's, by line number: (item id, SKU, rate), which a transform copies.
    """

    def __init__(self, ns: respx.MockRouter, source: str, source_id: str, lines: dict[int, tuple[str, str, float]]):
        self.ns, self.source, self.source_id, self.lines = ns, source, source_id, lines
        self.made: dict[str, dict[str, Any]] = {}
        self.currency = {"id": "1", "refName": "USD"}

    def target(self, target: str, record_id: str, *failures: Exception | httpx.Response) -> respx.Route:
        """Routes for ``target``. Each of ``failures`` answers one POST, in turn, before the POSTs that succeed;
        an exception marked by ``landed_then`` is raised after the record was made."""
        self.ns.get(url__regex=rf"/{target}/eid:").mock(side_effect=lambda request: self._read(target, request))
        answers = [*failures, None]

        def post(request: httpx.Request) -> httpx.Response:
            answer = answers.pop(0) if len(answers) > 1 else None
            if isinstance(answer, httpx.Response):
                return answer
            if isinstance(answer, Exception) and not getattr(answer, "landed", False):
                raise answer
            self.made[target] = {"id": record_id, "params": dict(request.url.params), **json.loads(request.content)}
            if answer is not None:
                raise answer
            return httpx.Response(204, headers={"Location": f"{RECORDS}/{target}/{record_id}"})

        return self.ns.post(f"/{self.source}/{self.source_id}/!transform/{target}").mock(side_effect=post)

    def body(self, target: str) -> dict[str, Any]:
        return self.made[target]

    def _read(self, target: str, request: httpx.Request) -> httpx.Response:
        made = self.made.get(target)
        if made is None or not request.url.path.endswith(f"eid:{made['externalId']}"):
            return not_found()
        lines = []
        for n, entry in enumerate([e for e in made["item"]["items"] if e.get("itemReceive") is not False], 1):
            item_id, sku, rate = self.lines[entry["orderLine"]]
            amount = entry.get("amount", round(entry["quantity"] * entry.get("rate", rate), 2))
            lines.append(
                {
                    "line": n,
                    "orderLine": entry["orderLine"],
                    "item": {"id": item_id, "refName": sku},
                    "quantity": entry["quantity"],
                    "rate": entry.get("rate", rate),
                    "amount": amount,
                }
            )
        record = {
            "id": made["id"],
            "externalId": made["externalId"],
            "currency": self.currency,
            "total": round(sum(line["amount"] for line in lines), 2),
            "item": sublist(lines),
        }
        return httpx.Response(200, json=record)


def landed_then(error: Exception) -> Exception:
    """An exception a POST raises after its record was made: a timeout that hid a commit."""
    error.landed = True  # type: ignore[attr-defined]
    return error


@pytest.fixture
def shop(ns: respx.MockRouter) -> Transforms:
    item_routes(
        ns,
        {
            "501": item("501", GLOVES, 84.5, east=1, west=1),
            "502": item("502", WRAP, 72.4, east=1, west=1),
            "503": item("503", GLASSES, 38.85, east=1, west=1),
        },
    )
    return Transforms(ns, "salesOrder", "9001", {n: (i, sku, rate) for n, i, sku, _, rate in ORDER_LINES})


def shipment(lines: dict[str, int], shipment_id: str = "SHP-1") -> Shipment:
    return Shipment(
        shipment_id=shipment_id,
        order_key=ORDER_KEY,
        reference_id=safe_ref(ORDER_KEY, "east"),
        facility="east-1",
        carrier="UPS",
        packages=(Package(tracking_number="1Z999AA10123456784"),),
        lines=tuple(ShippedLine(sku=sku, quantity=quantity) for sku, quantity in lines.items()),
        shipped_at=datetime(2026, 1, 5, 15, 30, tzinfo=UTC),
    )


def test_a_shipment_is_one_fulfillment_and_one_invoice_for_what_it_shipped(shop: Transforms) -> None:
    shop.ns.get(f"/salesOrder/eid:{ORDER_EID}").respond(200, json=order_record())
    shop.target("itemFulfillment", "7001")
    shop.target("invoice", "7002")
    record = erp().record_shipment(ORDER_KEY, shipment({GLOVES: 12}))

    assert record == ErpShipmentRecord(
        sales_order_id="9001",
        fulfillment_id="7001",
        invoice_id="7002",
        amount=Money(amount=Decimal("1005.00"), currency="USD"),  # 10 x 84.50 + 2 x 80.00
    )
    fulfillment = shop.body("itemFulfillment")
    assert fulfillment["externalId"] == safe_ref(ORDER_KEY, "ship", "SHP-1")
    assert fulfillment["shipStatus"] == {"id": "C"}
    # Twelve gloves fill line 1 and take two from line 3; the glasses' line is kept off the fulfillment.
    assert fulfillment["item"]["items"] == [
        {"orderLine": 1, "itemReceive": True, "quantity": 10},
        {"orderLine": 2, "itemReceive": False},
        {"orderLine": 3, "itemReceive": True, "quantity": 2},
    ]
    invoice = shop.body("invoice")
    assert invoice["externalId"] == safe_ref(ORDER_KEY, "inv", "SHP-1")
    assert invoice["params"] == {"replace": "item"}
    assert invoice["item"]["items"] == [
        {"orderLine": 1, "item": {"id": "501"}, "quantity": 10},
        {"orderLine": 3, "item": {"id": "501"}, "quantity": 2},
    ]


def test_a_repeated_shipment_returns_the_same_records_without_a_write(shop: Transforms) -> None:
    shop.ns.get(f"/salesOrder/eid:{ORDER_EID}").mock(
        side_effect=[httpx.Response(200, json=order_record()), httpx.Response(200, json=order_record((10, 0, 2)))]
    )
    fulfil, bill = shop.target("itemFulfillment", "7001"), shop.target("invoice", "7002")
    adapter = erp()
    first = adapter.record_shipment(ORDER_KEY, shipment({GLOVES: 12}))
    # The sales order has now shipped those twelve: a blind second fulfillment would be refused or double-ship.
    assert erp().record_shipment(ORDER_KEY, shipment({GLOVES: 12})) == first
    assert (fulfil.call_count, bill.call_count) == (1, 1)


def test_a_transform_that_timed_out_after_committing_is_looked_up_not_repeated(shop: Transforms) -> None:
    shop.ns.get(f"/salesOrder/eid:{ORDER_EID}").respond(200, json=order_record())
    fulfil = shop.target("itemFulfillment", "7001", landed_then(httpx.ReadTimeout("stalled")))
    bill = shop.target("invoice", "7002", landed_then(httpx.ReadTimeout("stalled")))
    record = erp().record_shipment(ORDER_KEY, shipment({GLASSES: 3}))
    assert (record.fulfillment_id, record.invoice_id) == ("7001", "7002")
    assert (fulfil.call_count, bill.call_count) == (1, 1)  # unsafe POSTs are never retried blind


def test_a_transform_that_timed_out_before_committing_is_sent_again(shop: Transforms) -> None:
    shop.ns.get(f"/salesOrder/eid:{ORDER_EID}").respond(200, json=order_record())
    fulfil = shop.target("itemFulfillment", "7001", httpx.ReadTimeout("lost"))
    shop.target("invoice", "7002")
    assert erp().record_shipment(ORDER_KEY, shipment({GLASSES: 3})).fulfillment_id == "7001"
    assert fulfil.call_count == 2


@pytest.mark.parametrize(
    "refusal",
    [
        ns_error(400, "DUP_RCRD", "This record already exists."),
        ns_error(400, "USER_ERROR", "You can not fulfill more than 0 of the item on line 2."),
    ],
)
def test_a_late_first_post_that_refuses_the_second_is_the_record(shop: Transforms, refusal: httpx.Response) -> None:
    """The timed-out POST is not there on the lookup, lands, then refuses the second one."""
    shop.ns.get(f"/salesOrder/eid:{ORDER_EID}").respond(200, json=order_record())
    fulfil = shop.target("itemFulfillment", "7001")
    posts: list[httpx.Request] = []

    def late(request: httpx.Request) -> httpx.Response:
        posts.append(request)
        if len(posts) == 1:
            raise httpx.ReadTimeout("slow")
        shop.made["itemFulfillment"] = {"id": "7001", **json.loads(posts[0].content)}
        return refusal

    fulfil.mock(side_effect=late)
    shop.target("invoice", "7002")
    assert erp().record_shipment(ORDER_KEY, shipment({GLASSES: 3})).fulfillment_id == "7001"
    assert fulfil.call_count == 2


def test_a_concurrent_consumer_that_made_it_first_is_the_record(shop: Transforms) -> None:
    """Two copies of one shipment at once: both looked, the other POSTed first, ours is refused as a duplicate."""
    shop.ns.get(f"/salesOrder/eid:{ORDER_EID}").respond(200, json=order_record())
    fulfil = shop.target("itemFulfillment", "7001")

    def other_was_first(request: httpx.Request) -> httpx.Response:
        shop.made["itemFulfillment"] = {"id": "7001", **json.loads(request.content)}
        return ns_error(400, "DUP_RCRD", "This record already exists.")

    fulfil.mock(side_effect=other_was_first)
    shop.target("invoice", "7002")
    assert erp().record_shipment(ORDER_KEY, shipment({GLASSES: 3})).fulfillment_id == "7001"
    assert fulfil.call_count == 1


@pytest.mark.parametrize(
    ("lines", "fulfilled", "field"),
    [
        ({GLASSES: 1, GLOVES: 16}, (0, 0, 0), "lines[1].quantity"),  # 15 gloves on the order
        ({GLASSES: 3}, (0, 2, 0), "lines[0].quantity"),  # 2 of 4 already shipped
        ({GLOVES: 1, WRAP: 1}, (0, 0, 0), "lines[1].sku"),  # not on this order
        ({"NO-SUCH-SKU": 1}, (0, 0, 0), "lines[0].sku"),  # not in NetSuite at all
    ],
)
def test_shipping_what_the_order_does_not_have_left_is_a_validation_failure(
    shop: Transforms, lines: dict[str, int], fulfilled: tuple[int, int, int], field: str
) -> None:
    shop.ns.get(f"/salesOrder/eid:{ORDER_EID}").respond(200, json=order_record(fulfilled))
    fulfil = shop.target("itemFulfillment", "7001")
    with pytest.raises(ValidationFailed) as caught:
        erp().record_shipment(ORDER_KEY, shipment(lines))
    assert caught.value.details["field"] == field
    assert not fulfil.called


def test_a_shipment_for_an_order_netsuite_does_not_have_is_not_found(ns: respx.MockRouter) -> None:
    ns.get(f"/salesOrder/eid:{ORDER_EID}").mock(return_value=not_found())
    with pytest.raises(NotFound):
        erp().record_shipment(ORDER_KEY, shipment({GLOVES: 1}))
    with pytest.raises(NotFound):
        erp().authorize_return(ORDER_KEY, "RMA-1", [ReturnLine(sku=GLOVES, quantity=1, reason_code="damaged")])


def test_an_account_whose_currency_is_named_otherwise_reads_the_iso_code(shop: Transforms) -> None:
    euro = {"id": "4", "refName": "Euro"}
    shop.ns.get(f"/salesOrder/eid:{ORDER_EID}").respond(200, json=order_record(currency=euro))
    shop.currency = euro
    shop.target("itemFulfillment", "7001")
    shop.target("invoice", "7002")
    currency = shop.ns.get("/currency/4").respond(200, json={"id": "4", "name": "Euro", "symbol": "EUR"})
    record = erp().record_shipment(ORDER_KEY, shipment({GLASSES: 2}))
    assert record.amount == Money(amount=Decimal("77.70"), currency="EUR")
    assert currency.call_count == 1


def test_a_return_is_authorized_once_at_the_orders_rates(shop: Transforms) -> None:
    shop.ns.get(f"/salesOrder/eid:{ORDER_EID}").respond(200, json=order_record((10, 4, 5)))
    authorize = shop.target("returnAuthorization", "8001", landed_then(httpx.ReadTimeout("stalled")))
    lines = [
        ReturnLine(sku=GLOVES, quantity=11, reason_code="wrong_size"),
        ReturnLine(sku=GLASSES, quantity=1, reason_code="damaged"),
    ]
    adapter = erp()
    assert adapter.authorize_return(ORDER_KEY, "RMA-1001", lines) == "8001"
    assert adapter.authorize_return(ORDER_KEY, "RMA-1001", lines) == "8001"
    assert authorize.call_count == 1
    body = shop.body("returnAuthorization")
    assert body["externalId"] == safe_ref(ORDER_KEY, "rma", "RMA-1001")
    assert body["params"] == {"replace": "item"}
    assert body["item"]["items"] == [
        {"orderLine": 1, "item": {"id": "501"}, "quantity": 10, "rate": 84.5},
        {"orderLine": 2, "item": {"id": "503"}, "quantity": 1, "rate": 38.85},
        {"orderLine": 3, "item": {"id": "501"}, "quantity": 1, "rate": 80.0},
    ]


def test_returning_more_than_shipped_is_a_validation_failure(shop: Transforms) -> None:
    shop.ns.get(f"/salesOrder/eid:{ORDER_EID}").respond(200, json=order_record((10, 0, 0)))
    authorize = shop.target("returnAuthorization", "8001")
    with pytest.raises(ValidationFailed) as caught:
        erp().authorize_return(ORDER_KEY, "RMA-1", [ReturnLine(sku=GLOVES, quantity=11, reason_code="x")])
    assert caught.value.details["field"] == "lines[0].quantity"
    assert not authorize.called


# The return authorization: line 1, two gloves at 84.50; line 2, three glasses at 38.85.
RA_LINES = {1: ("501", GLOVES, 84.5), 2: ("503", GLASSES, 38.85)}
RMA_EID = safe_ref(ORDER_KEY, "rma", "RMA-1001")


def authorization(received: int = 0, credited: int = 0) -> dict[str, Any]:
    lines = [
        {
            "line": n,
            "orderLine": n,
            "item": {"id": item_id, "refName": sku},
            "quantity": quantity,
            "rate": rate,
            "quantityReceived": received if n == 2 else 0,
            "quantityBilled": credited if n == 2 else 0,
        }
        for (n, (item_id, sku, rate)), quantity in zip(RA_LINES.items(), (2, 3), strict=True)
    ]
    return {"id": "8001", "externalId": RMA_EID, "currency": {"id": "1", "refName": "USD"}, "item": sublist(lines)}


@pytest.fixture
def returns(shop: Transforms) -> Transforms:
    return Transforms(shop.ns, "returnAuthorization", "8001", RA_LINES)


def receipt(*lines: tuple[str, int, Condition], receipt_id: str = "RCV-1") -> ReturnReceipt:
    return ReturnReceipt(
        receipt_id=receipt_id,
        rma_number="RMA-1001",
        order_key=ORDER_KEY,
        facility="east-1",
        lines=tuple(
            ReceivedLine(
                sku=sku,
                quantity=quantity,
                condition=condition,
                disposition=Disposition.SCRAP if condition is Condition.DAMAGED else Disposition.RESTOCK,
            )
            for sku, quantity, condition in lines
        ),
        received_at=datetime(2026, 1, 20, 10, tzinfo=UTC),
    )


PERCENT = {"new": 100, "opened": 85, "damaged": 50}


def test_a_receipt_is_received_and_credited_at_the_conditions_percentages(returns: Transforms) -> None:
    returns.ns.get(f"/returnAuthorization/eid:{RMA_EID}").respond(200, json=authorization())
    returns.target("itemReceipt", "8101")
    returns.target("creditMemo", "8102")
    came_back = receipt((GLOVES, 2, Condition.NEW), (GLASSES, 2, Condition.OPENED), (GLASSES, 1, Condition.DAMAGED))
    memo = erp().issue_credit_memo(ORDER_KEY, "RMA-1001", came_back, PERCENT)

    def usd(amount: str) -> Money:
        return Money(amount=Decimal(amount), currency="USD")

    # 2 x 38.85 x 85% = 66.045 and 38.85 x 50% = 19.425: half a cent rounds up, not to even.
    assert memo == ErpCreditMemo(
        credit_memo_id="8102",
        amount=usd("254.48"),
        lines=(
            CreditedLine(sku=GLOVES, quantity=2, amount=usd("169.00")),
            CreditedLine(sku=GLASSES, quantity=2, amount=usd("66.05")),
            CreditedLine(sku=GLASSES, quantity=1, amount=usd("19.43")),
        ),
    )
    received = returns.body("itemReceipt")
    assert received["externalId"] == safe_ref(ORDER_KEY, "rcv", "RCV-1")
    assert received["item"]["items"] == [
        {"orderLine": 1, "itemReceive": True, "quantity": 2},
        {"orderLine": 2, "itemReceive": True, "quantity": 3},
    ]
    credit = returns.body("creditMemo")
    assert credit["externalId"] == safe_ref(ORDER_KEY, "cm", "RCV-1")
    assert credit["params"] == {"replace": "item"}
    assert [(e["orderLine"], e["quantity"], e["amount"]) for e in credit["item"]["items"]] == [
        (1, 2, 169.0),
        (2, 2, 66.05),
        (2, 1, 19.43),
    ]


def test_a_condition_without_a_percentage_is_credited_in_full_and_lines_not_back_stay_off(
    returns: Transforms,
) -> None:
    returns.ns.get(f"/returnAuthorization/eid:{RMA_EID}").respond(200, json=authorization())
    returns.target("itemReceipt", "8101")
    returns.target("creditMemo", "8102")
    memo = erp().issue_credit_memo(ORDER_KEY, "RMA-1001", receipt((GLASSES, 1, Condition.DAMAGED)), {})
    assert memo.amount == Money(amount=Decimal("38.85"), currency="USD")
    assert returns.body("itemReceipt")["item"]["items"] == [
        {"orderLine": 1, "itemReceive": False},
        {"orderLine": 2, "itemReceive": True, "quantity": 1},
    ]


def test_a_repeated_receipt_returns_the_same_credit_memo(returns: Transforms) -> None:
    returns.ns.get(f"/returnAuthorization/eid:{RMA_EID}").mock(
        side_effect=[
            httpx.Response(200, json=authorization()),
            httpx.Response(200, json=authorization(received=3, credited=3)),
        ]
    )
    receive = returns.target("itemReceipt", "8101")
    credit = returns.target("creditMemo", "8102", landed_then(httpx.ReadTimeout("stalled")))
    came_back = receipt((GLASSES, 2, Condition.OPENED), (GLASSES, 1, Condition.DAMAGED))
    first = erp().issue_credit_memo(ORDER_KEY, "RMA-1001", came_back, PERCENT)
    assert erp().issue_credit_memo(ORDER_KEY, "RMA-1001", came_back, PERCENT) == first
    assert (receive.call_count, credit.call_count) == (1, 1)


def test_a_receipt_for_more_than_the_rma_is_a_validation_failure(returns: Transforms) -> None:
    returns.ns.get(f"/returnAuthorization/eid:{RMA_EID}").respond(200, json=authorization(received=2))
    receive = returns.target("itemReceipt", "8101")
    came_back = receipt((GLOVES, 1, Condition.NEW), (GLASSES, 1, Condition.NEW), (GLASSES, 1, Condition.DAMAGED))
    with pytest.raises(ValidationFailed) as caught:
        erp().issue_credit_memo(ORDER_KEY, "RMA-1001", came_back, PERCENT)
    assert caught.value.details["field"] == "lines[2].quantity"  # one of three glasses was left to receive
    assert not receive.called


def test_a_receipt_for_an_rma_netsuite_does_not_know_is_not_found(ns: respx.MockRouter) -> None:
    ns.get(f"/returnAuthorization/eid:{RMA_EID}").mock(return_value=not_found())
    with pytest.raises(NotFound):
        erp().issue_credit_memo(ORDER_KEY, "RMA-1001", receipt((GLOVES, 1, Condition.NEW)), PERCENT)
