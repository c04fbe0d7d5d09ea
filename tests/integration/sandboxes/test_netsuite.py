"""The NetSuite sandbox over real loopback HTTP: record service shapes, external ids, transforms, governance."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from infra.local.clock import Clock
from infra.local.sandboxes.netsuite import RECORD_API, NetSuiteSandbox
from infra.samples import load_json, shopify_payload
from shared.ids import customer_external_id, erp_external_id
from tests.integration.sandboxes.support import FrozenClock

SHOP = "acme-supply.myshopify.com"
ORDER_EID = erp_external_id(f"shopify:{SHOP}:7124853309745")
TBA = {
    "Authorization": 'OAuth realm="1234567_SB1", oauth_consumer_key="ck", oauth_token="tk", '
    'oauth_signature_method="HMAC-SHA256", oauth_timestamp="1764324843", oauth_nonce="n0nce", '
    'oauth_version="1.0", oauth_signature="c2lnbmF0dXJl"'
}


@pytest.fixture(scope="module")
def server() -> Iterator[NetSuiteSandbox]:
    # One server per module: stopping one waits out the server's poll interval, so tests share it.
    sandbox = NetSuiteSandbox(Clock())
    sandbox.start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def netsuite(server: NetSuiteSandbox) -> NetSuiteSandbox:
    server.reset()
    return server


@pytest.fixture(scope="module")
def client(server: NetSuiteSandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url + RECORD_API, headers=TBA, timeout=5) as client:
        yield client


@pytest.fixture
def api(netsuite: NetSuiteSandbox, client: httpx.Client) -> httpx.Client:
    """A client of the record service, on a freshly reset sandbox."""
    return client


def sales_order(external_id: str | None = None, **overrides: Any) -> dict[str, Any]:
    """The sample Shopify order as an integration would post it: customer and items by external id."""
    order = shopify_payload()
    body: dict[str, Any] = {
        "externalId": external_id or erp_external_id(f"shopify:{SHOP}:{order['id']}"),
        "entity": {"externalId": customer_external_id("shopify", SHOP, str(order["customer"]["id"]))},
        "otherRefNum": order["po_number"],
        "memo": order["name"],
        "item": {
            "items": [
                {"item": {"externalId": line["sku"]}, "quantity": line["quantity"], "rate": float(line["price"])}
                for line in order["line_items"]
            ]
        },
    }
    body.update(overrides)
    return body


def created_id(response: httpx.Response) -> str:
    assert response.status_code == 204, response.text
    assert response.content == b""
    return response.headers["location"].rsplit("/", 1)[1]


def error_code(response: httpx.Response) -> str:
    body = response.json()
    assert set(body) == {"type", "title", "status", "o:errorDetails"}
    assert body["status"] == response.status_code
    code: str = body["o:errorDetails"][0]["o:errorCode"]
    return code


def test_requests_without_credentials_get_invalid_login(netsuite: NetSuiteSandbox) -> None:
    for headers in ({}, {"Authorization": "Basic dXNlcjpwYXNz"}):
        response = httpx.get(f"{netsuite.url}{RECORD_API}/customer/101", headers=headers)
        assert response.status_code == 401
        assert error_code(response) == "INVALID_LOGIN"
        assert response.json()["title"] == "Unauthorized"


def test_create_answers_204_with_location_and_reads_back_by_id_and_eid(
    netsuite: NetSuiteSandbox, api: httpx.Client
) -> None:
    response = api.post("/salesOrder", json=sales_order())
    order_id = created_id(response)
    assert response.headers["location"] == f"{netsuite.url}{RECORD_API}/salesOrder/{order_id}"

    order = api.get(f"/salesOrder/{order_id}").json()
    assert order["externalId"] == ORDER_EID
    assert order["entity"] == {"id": "101", "refName": "Harbor Point Facilities Group"}
    assert order["tranId"].startswith("SO")
    assert order["orderStatus"] == {"id": "B", "refName": "Pending Fulfillment"}
    lines = order["item"]["items"]
    expected = [(line["sku"], line["quantity"]) for line in shopify_payload()["line_items"]]
    assert [(line["item"]["refName"], line["quantity"]) for line in lines] == expected
    assert order["total"] == 3293.10  # the order's total_line_items_price
    assert order["links"][0]["href"].endswith(f"/salesOrder/{order_id}")

    by_eid = api.get(f"/salesOrder/eid:{ORDER_EID}")
    assert by_eid.status_code == 200
    assert by_eid.json()["id"] == order_id


def test_unknown_record_is_404_nonexistent_id(api: httpx.Client) -> None:
    response = api.get("/salesOrder/999999")
    assert response.status_code == 404
    assert error_code(response) == "NONEXISTENT_ID"
    assert api.get("/salesOrder/eid:nobody").status_code == 404


def test_a_second_create_with_the_same_external_id_is_rejected(netsuite: NetSuiteSandbox, api: httpx.Client) -> None:
    created_id(api.post("/salesOrder", json=sales_order("shopify-x-1")))
    again = api.post("/salesOrder", json=sales_order("shopify-x-1"))
    assert again.status_code == 400
    assert error_code(again) == "DUP_RCRD"
    assert len(netsuite.records_with_external_id("salesOrder", "shopify-x-1")) == 1
    assert netsuite.snapshot()["counts"]["salesOrder"] == 1


def test_eid_upsert_creates_once_then_updates(netsuite: NetSuiteSandbox, api: httpx.Client) -> None:
    body = sales_order()
    del body["externalId"]
    first = api.put("/salesOrder/eid:shopify-x-2", json=body)
    second = api.put("/salesOrder/eid:shopify-x-2", json={**body, "memo": "#1001 (edited)"})
    assert created_id(first) == created_id(second)
    [order] = netsuite.records_with_external_id("salesOrder", "shopify-x-2")
    assert order["memo"] == "#1001 (edited)"
    assert netsuite.count("salesOrder") == 1


def test_put_needs_an_external_id(api: httpx.Client) -> None:
    order_id = created_id(api.post("/salesOrder", json=sales_order()))
    response = api.put(f"/salesOrder/{order_id}", json={"memo": "x"})
    assert response.status_code == 400


def test_invalid_references_name_the_field(api: httpx.Client) -> None:
    inactive = api.post("/salesOrder", json=sales_order(entity={"id": "103"}))
    assert inactive.status_code == 400
    assert error_code(inactive) == "INVALID_CONTENT"
    assert inactive.json()["o:errorDetails"][0]["o:errorPath"] == "entity"

    bad_item = sales_order(item={"items": [{"item": {"id": 9999}, "quantity": 1}]})
    response = api.post("/salesOrder", json=bad_item)
    assert response.status_code == 400
    assert response.json()["o:errorDetails"][0]["o:errorPath"] == "item.items[0].item"


def test_transform_to_fulfillment_then_invoice_moves_the_order(netsuite: NetSuiteSandbox, api: httpx.Client) -> None:
    order_id = created_id(api.post("/salesOrder", json=sales_order()))

    partial = {"item": {"items": [{"orderLine": 1, "quantity": 5}]}}
    first_shipment = created_id(api.post(f"/salesOrder/{order_id}/!transform/itemFulfillment", json=partial))
    assert api.get(f"/salesOrder/{order_id}").json()["orderStatus"]["id"] == "E"  # partly fulfilled, unbilled

    rest = api.post(f"/salesOrder/{order_id}/!transform/itemFulfillment", json={"shipStatus": {"id": "C"}})
    created_id(rest)
    assert api.get(f"/salesOrder/{order_id}").json()["orderStatus"] == {"id": "F", "refName": "Pending Billing"}

    fulfillment = api.get(f"/itemFulfillment/{first_shipment}").json()
    assert fulfillment["createdFrom"]["id"] == order_id
    assert fulfillment["item"]["items"][0]["quantity"] == 5

    invoice_id = created_id(api.post(f"/salesOrder/{order_id}/!transform/invoice"))
    invoice = api.get(f"/invoice/{invoice_id}").json()
    assert invoice["total"] == 3293.10
    assert invoice["entity"]["id"] == "101"
    order = api.get(f"/salesOrder/{order_id}").json()
    assert order["orderStatus"] == {"id": "G", "refName": "Billed"}
    assert all(line["quantityBilled"] == line["quantity"] for line in order["item"]["items"])

    nothing_left = api.post(f"/salesOrder/{order_id}/!transform/itemFulfillment")
    assert nothing_left.status_code == 400
    assert netsuite.count("itemFulfillment") == 2


def test_over_fulfilling_a_line_is_rejected(api: httpx.Client) -> None:
    order_id = created_id(api.post("/salesOrder", json=sales_order()))
    too_many = {"item": {"items": [{"orderLine": 1, "quantity": 13}]}}
    response = api.post(f"/salesOrder/{order_id}/!transform/itemFulfillment", json=too_many)
    assert response.status_code == 400
    assert error_code(response) == "USER_ERROR"
    assert response.json()["o:errorDetails"][0]["o:errorPath"] == "item.items[0].quantity"


def test_return_authorization_then_credit_memo(api: httpx.Client) -> None:
    order_id = created_id(api.post("/salesOrder", json=sales_order()))
    created_id(api.post(f"/salesOrder/{order_id}/!transform/itemFulfillment"))
    returned = {"item": {"items": [{"orderLine": 2, "quantity": 2}]}}
    ra_id = created_id(api.post(f"/salesOrder/{order_id}/!transform/returnAuthorization", json=returned))
    assert api.get(f"/returnAuthorization/{ra_id}").json()["orderStatus"]["refName"] == "Pending Receipt"

    memo_id = created_id(api.post(f"/returnAuthorization/{ra_id}/!transform/creditMemo"))
    memo = api.get(f"/creditMemo/{memo_id}").json()
    assert memo["total"] == 144.80  # 2 x 72.40
    assert memo["createdFrom"]["id"] == ra_id
    assert api.get(f"/returnAuthorization/{ra_id}").json()["status"]["refName"] == "Refunded"
    assert api.post(f"/returnAuthorization/{ra_id}/!transform/creditMemo").status_code == 400


def test_a_fulfillment_takes_every_open_line_unless_told_not_to(api: httpx.Client) -> None:
    order_id = created_id(api.post("/salesOrder", json=sales_order()))
    # As NetSuite fills a fulfillment in: each line in full; an entry changes a line or keeps it off.
    body = {"item": {"items": [{"orderLine": 1, "quantity": 5}, {"orderLine": 2, "itemReceive": False}]}}
    first = created_id(api.post(f"/salesOrder/{order_id}/!transform/itemFulfillment", json=body))
    shipped = api.get(f"/itemFulfillment/{first}").json()["item"]["items"]
    assert [(line["orderLine"], line["quantity"]) for line in shipped] == [(1, 5), (3, 20), (4, 50), (5, 8)]

    only = {"item": {"items": [{"orderLine": 2, "quantity": 1}]}}
    second = created_id(
        api.post(f"/salesOrder/{order_id}/!transform/itemFulfillment", params={"replace": "item"}, json=only)
    )
    assert [line["orderLine"] for line in api.get(f"/itemFulfillment/{second}").json()["item"]["items"]] == [2]
    order = api.get(f"/salesOrder/{order_id}").json()
    assert [line["quantityFulfilled"] for line in order["item"]["items"]] == [5, 1, 20, 50, 8]
    assert order["orderStatus"]["refName"] == "Pending Billing/Partially Fulfilled"


def test_an_invoice_bills_the_lines_asked_and_no_more_than_fulfilled(api: httpx.Client) -> None:
    order_id = created_id(api.post("/salesOrder", json=sales_order()))
    first_two = {"item": {"items": [{"orderLine": 1, "quantity": 12}, {"orderLine": 2, "quantity": 10}]}}
    created_id(
        api.post(f"/salesOrder/{order_id}/!transform/itemFulfillment", params={"replace": "item"}, json=first_two)
    )
    too_much = {"item": {"items": [{"orderLine": 1, "quantity": 12}, {"orderLine": 3, "quantity": 1}]}}
    refused = api.post(f"/salesOrder/{order_id}/!transform/invoice", params={"replace": "item"}, json=too_much)
    assert refused.status_code == 400
    assert error_code(refused) == "USER_ERROR"
    assert refused.json()["o:errorDetails"][0]["o:errorPath"] == "item.items[1].quantity"

    gloves = {"item": {"items": [{"orderLine": 1, "quantity": 12}]}}
    invoice_id = created_id(api.post(f"/salesOrder/{order_id}/!transform/invoice", json=gloves))
    assert api.get(f"/invoice/{invoice_id}").json()["total"] == 1014.0  # 12 x 84.50: the wrap is not billed yet
    order = api.get(f"/salesOrder/{order_id}").json()
    assert [line["quantityBilled"] for line in order["item"]["items"]] == [12, 0, 0, 0, 0]


def test_a_transform_reusing_an_external_id_is_dup_rcrd_and_moves_nothing(
    netsuite: NetSuiteSandbox, api: httpx.Client
) -> None:
    order_id = created_id(api.post("/salesOrder", json=sales_order()))
    body = {"externalId": "ship-1", "item": {"items": [{"orderLine": 1, "quantity": 1}]}}
    path = f"/salesOrder/{order_id}/!transform/itemFulfillment"
    fulfillment_id = created_id(api.post(path, params={"replace": "item"}, json=body))
    again = api.post(path, params={"replace": "item"}, json=body)
    assert again.status_code == 400
    assert error_code(again) == "DUP_RCRD"
    assert api.get("/itemFulfillment/eid:ship-1").json()["id"] == fulfillment_id
    assert api.get(f"/salesOrder/{order_id}").json()["item"]["items"][0]["quantityFulfilled"] == 1
    assert netsuite.count("itemFulfillment") == 1


def test_receipts_and_partial_credits_move_the_return_authorization(api: httpx.Client) -> None:
    order_id = created_id(api.post("/salesOrder", json=sales_order()))
    created_id(api.post(f"/salesOrder/{order_id}/!transform/itemFulfillment"))
    returned = {"item": {"items": [{"orderLine": 1, "quantity": 2}, {"orderLine": 3, "quantity": 2}]}}
    ra_id = created_id(api.post(f"/salesOrder/{order_id}/!transform/returnAuthorization", json=returned))

    def status() -> str:
        value: str = api.get(f"/returnAuthorization/{ra_id}").json()["orderStatus"]["refName"]
        return value

    one_pair = {"externalId": "rcv-1", "item": {"items": [{"orderLine": 1}, {"orderLine": 2, "quantity": 1}]}}
    receipt_id = created_id(api.post(f"/returnAuthorization/{ra_id}/!transform/itemReceipt", json=one_pair))
    receipt = api.get("/itemReceipt/eid:rcv-1").json()
    assert receipt["id"] == receipt_id
    assert receipt["createdFrom"]["id"] == ra_id
    assert [(line["orderLine"], line["quantity"]) for line in receipt["item"]["items"]] == [(1, 2), (2, 1)]
    assert status() == "Pending Refund/Partially Received"

    # Two prices on one line: one unit in full, the other at half.
    credit = {
        "item": {
            "items": [
                {"orderLine": 1, "quantity": 1},
                {"orderLine": 1, "quantity": 1, "rate": 42.25, "amount": 42.25},
                {"orderLine": 2, "quantity": 1},
            ]
        }
    }
    memo_id = created_id(
        api.post(f"/returnAuthorization/{ra_id}/!transform/creditMemo", params={"replace": "item"}, json=credit)
    )
    assert api.get(f"/creditMemo/{memo_id}").json()["total"] == 165.70  # 84.50 + 42.25 + 38.95
    assert status() == "Partially Received"  # all that came back is credited; one unit is still out

    created_id(api.post(f"/returnAuthorization/{ra_id}/!transform/itemReceipt"))
    assert status() == "Pending Refund"
    over = {"item": {"items": [{"orderLine": 2, "quantity": 2}]}}
    refused = api.post(f"/returnAuthorization/{ra_id}/!transform/creditMemo", json=over)
    assert error_code(refused) == "USER_ERROR"
    created_id(api.post(f"/returnAuthorization/{ra_id}/!transform/creditMemo"))
    assert status() == "Refunded"
    assert api.post(f"/returnAuthorization/{ra_id}/!transform/itemReceipt").status_code == 400  # all back


def test_the_snapshot_lists_after_sale_records_with_their_time_on_the_clock(
    netsuite: NetSuiteSandbox, api: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FrozenClock(1_767_628_800.0)
    monkeypatch.setattr(netsuite, "clock", clock)
    order_id = created_id(api.post("/salesOrder", json=sales_order()))
    clock.advance(60)
    fulfillment = created_id(
        api.post(f"/salesOrder/{order_id}/!transform/itemFulfillment", json={"externalId": "ship-1"})
    )
    clock.advance(0.25)
    invoice = created_id(api.post(f"/salesOrder/{order_id}/!transform/invoice", json={"externalId": "inv-1"}))
    clock.advance(86_400)
    ra = created_id(
        api.post(
            f"/salesOrder/{order_id}/!transform/returnAuthorization",
            json={"externalId": "rma-1", "item": {"items": [{"orderLine": 2, "quantity": 1}]}},
        )
    )
    receipt = created_id(api.post(f"/returnAuthorization/{ra}/!transform/itemReceipt"))
    memo = created_id(api.post(f"/returnAuthorization/{ra}/!transform/creditMemo"))

    state = netsuite.snapshot()
    [shipped] = state["item_fulfillments"]
    [billed] = state["invoices"]
    assert (shipped["id"], shipped["external_id"], shipped["created_at"]) == (fulfillment, "ship-1", 1_767_628_860.0)
    assert (billed["id"], billed["sales_order_id"], billed["total"]) == (invoice, order_id, 3293.10)
    assert billed["created_at"] == 1_767_628_860.25
    assert billed["created_from"] == {"type": "salesOrder", "id": order_id}
    assert [(line["sku"], line["quantity"]) for line in billed["lines"]][:2] == [
        ("GLV-NIT4-L-CS", 12),
        ("SW-18-1500-80-C4", 10),
    ]
    [returned] = state["return_authorizations"]
    assert (returned["id"], returned["external_id"], returned["status"]) == (ra, "rma-1", "Refunded")
    [received] = state["item_receipts"]
    [credited] = state["credit_memos"]
    assert (received["id"], received["return_authorization_id"], received["sales_order_id"]) == (
        receipt,
        ra,
        order_id,
    )
    assert (credited["id"], credited["total"], credited["return_authorization_id"]) == (memo, 72.4, ra)


def test_outages_and_injected_errors_reach_the_transforms(netsuite: NetSuiteSandbox, api: httpx.Client) -> None:
    order_id = created_id(api.post("/salesOrder", json=sales_order()))
    now = netsuite.clock.now()
    netsuite.faults = netsuite.faults.model_copy(update={"outages": [(now - 1, now + 3600)]})
    down = api.post(f"/salesOrder/{order_id}/!transform/itemFulfillment")
    assert down.status_code == 503
    assert error_code(down) == "UNEXPECTED_ERROR"
    assert api.get("/invoice/eid:inv-1").status_code == 503
    assert netsuite.count("itemFulfillment") == 0


def test_customers_are_seeded_with_terms_credit_hold_and_inactive(api: httpx.Client) -> None:
    good = api.get(f"/customer/eid:{customer_external_id('shopify', SHOP, '8841720385329')}").json()
    assert good["id"] == "101"
    assert good["terms"]["refName"] == "Net 30"
    assert not good["isInactive"]
    assert not good["custentity_crossdock_credit_hold"]
    assert {"entityId", "creditLimit", "balance"} <= set(good)

    on_hold = api.get("/customer/102").json()
    assert on_hold["custentity_crossdock_credit_hold"] is True
    assert on_hold["creditHoldOverride"]["id"] == "ON"
    assert on_hold["balance"] > on_hold["creditLimit"]

    assert api.get("/customer/103").json()["isInactive"] is True
    listed = api.get("/customer", params={"q": 'email IS "dana.whitfield@example.com"'}).json()
    assert [item["id"] for item in listed["items"]] == ["101"]


def test_items_carry_a_price_list(api: httpx.Client) -> None:
    [gloves] = api.get("/inventoryItem", params={"q": 'itemId IS "GLV-NIT4-L-CS"'}).json()["items"]
    item = api.get(f"/inventoryItem/{gloves['id']}").json()
    assert item["basePrice"] == 84.50
    assert [p["priceLevel"]["refName"] for p in item["price"]["items"]] == ["Base Price", "Wholesale"]


def test_items_carry_availability_per_location_and_the_restricted_flag(api: httpx.Client) -> None:
    gloves = api.get("/inventoryItem/501").json()
    stock = {row["location"]["refName"]: row["quantityAvailable"] for row in gloves["locations"]["items"]}
    assert stock == {"East Warehouse": 180, "West Warehouse": 30}
    assert gloves["custitem_crossdock_restricted"] is False
    [hazmat] = api.get("/inventoryItem", params={"q": 'itemId IS "AER-LUB-11-12"'}).json()["items"]
    assert api.get(f"/inventoryItem/{hazmat['id']}").json()["custitem_crossdock_restricted"] is True


def test_east_fills_every_sample_order_and_west_falls_short(netsuite: NetSuiteSandbox) -> None:
    stock = {
        item["itemId"]: item["locations"]["items"] for item in netsuite.snapshot()["records"]["inventoryItem"].values()
    }
    samples = [
        {line["sku"]: line["quantity"] for line in shopify_payload()["line_items"]},
        {line["sku"]: line["quantity"] for line in load_json("bigcommerce/order_products.json")},
        {line["sku"]: line["quantity"] for line in load_json("woocommerce/order.json")["line_items"]},
    ]
    for sample in samples:
        east = {sku: stock[sku][0]["quantityAvailable"] for sku in sample}
        west = {sku: stock[sku][1]["quantityAvailable"] for sku in sample}
        assert all(east[sku] >= quantity for sku, quantity in sample.items())
        assert any(west[sku] < quantity for sku, quantity in sample.items())


def test_the_bigcommerce_buyer_is_seeded_under_its_channel_id(api: httpx.Client) -> None:
    external_id = customer_external_id(
        "bigcommerce", "abc123xyz", str(load_json("bigcommerce/order.json")["customer_id"])
    )
    customer = api.get(f"/customer/eid:{external_id}").json()
    assert customer["email"] == load_json("woocommerce/order.json")["billing"]["email"]  # the same buyer on Woo


def test_closing_every_line_closes_the_order_and_stops_fulfilment(api: httpx.Client) -> None:
    order_id = created_id(api.post("/salesOrder", json=sales_order()))
    created_id(api.patch(f"/salesOrder/{order_id}", json={"item": {"items": [{"line": 1, "isClosed": True}]}}))
    order = api.get(f"/salesOrder/{order_id}").json()
    assert order["orderStatus"]["id"] == "B"  # other lines are still open
    assert [line["isClosed"] for line in order["item"]["items"] if "isClosed" in line] == [True]
    assert len(order["item"]["items"]) == 5

    lines = [{"line": line["line"], "isClosed": True} for line in order["item"]["items"]]
    created_id(api.patch(f"/salesOrder/{order_id}", json={"item": {"items": lines}}))
    assert api.get(f"/salesOrder/{order_id}").json()["orderStatus"] == {"id": "H", "refName": "Closed"}
    assert api.post(f"/salesOrder/{order_id}/!transform/itemFulfillment").status_code == 400


def test_a_closed_line_is_not_fulfilled(api: httpx.Client) -> None:
    order_id = created_id(api.post("/salesOrder", json=sales_order()))
    created_id(api.patch(f"/salesOrder/{order_id}", json={"item": {"items": [{"line": 1, "isClosed": True}]}}))
    fulfillment_id = created_id(api.post(f"/salesOrder/{order_id}/!transform/itemFulfillment"))
    shipped = api.get(f"/itemFulfillment/{fulfillment_id}").json()["item"]["items"]
    assert [line["orderLine"] for line in shipped] == [2, 3, 4, 5]
    assert api.get(f"/salesOrder/{order_id}").json()["orderStatus"]["id"] == "F"  # all that is open has shipped


def test_patch_with_replace_swaps_the_lines(api: httpx.Client) -> None:
    order_id = created_id(api.post("/salesOrder", json=sales_order()))
    one_line = {"item": {"items": [{"item": {"id": "503"}, "quantity": 2}]}}
    created_id(api.patch(f"/salesOrder/{order_id}", params={"replace": "item"}, json=one_line))
    assert api.get(f"/salesOrder/{order_id}").json()["item"]["count"] == 1
    unknown_line = {"item": {"items": [{"line": 9, "isClosed": True}]}}
    response = api.patch(f"/salesOrder/{order_id}", json=unknown_line)
    assert response.status_code == 400
    assert response.json()["o:errorDetails"][0]["o:errorPath"] == "item.items[0].line"


def test_suiteql_finds_a_transaction_by_external_id(netsuite: NetSuiteSandbox, api: httpx.Client) -> None:
    order_id = created_id(api.post("/salesOrder", json=sales_order("shopify-x-9")))
    query = {"q": "SELECT id, tranid, status FROM transaction WHERE externalid = 'shopify-x-9'"}
    url = f"{netsuite.url}/services/rest/query/v1/suiteql"
    response = httpx.post(url, json=query, headers={**TBA, "Prefer": "transient"})
    assert response.status_code == 200
    [row] = response.json()["items"]
    assert row["id"] == order_id
    assert row["status"] == "B"
    assert httpx.post(url, json=query, headers=TBA).status_code == 400  # Prefer: transient is required


def test_concurrency_limit_answers_netsuites_429(netsuite: NetSuiteSandbox) -> None:
    httpx.post(f"{netsuite.url}/_sandbox/faults", json={"latency_ms": 600})
    assert netsuite.faults.max_concurrency == 5  # setting other knobs keeps the shared-tier limit
    start = threading.Barrier(6)
    responses: list[httpx.Response] = []

    def call() -> None:
        start.wait()
        responses.append(httpx.get(f"{netsuite.url}{RECORD_API}/customer/101", headers=TBA, timeout=5))

    threads = [threading.Thread(target=call) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(r.status_code for r in responses) == [200] * 5 + [429]
    [blocked] = [r for r in responses if r.status_code == 429]
    assert error_code(blocked) == "CONCURRENCY_LIMIT_EXCEEDED"
    assert blocked.json()["o:errorDetails"][0]["detail"].startswith("Concurrent request limit exceeded")


def test_timeout_after_commit_commits_exactly_once() -> None:
    # A server of its own: the stalled request outlives the test and holds a concurrency slot meanwhile.
    netsuite = NetSuiteSandbox(Clock())
    netsuite.start()
    try:
        with httpx.Client(base_url=netsuite.url + RECORD_API, headers=TBA, timeout=5) as api:
            check_timeout_after_commit(netsuite, api)
    finally:
        netsuite.stop()


def check_timeout_after_commit(netsuite: NetSuiteSandbox, api: httpx.Client) -> None:
    control = httpx.post(f"{netsuite.url}/_sandbox/netsuite/timeout-after-commit", json={"count": 1, "seconds": 1})
    assert control.json()["count"] == 1

    with pytest.raises(httpx.ReadTimeout):
        api.post("/salesOrder", json=sales_order("shopify-x-7"), timeout=0.3)
    # The write happened although the client saw a timeout...
    assert len(netsuite.records_with_external_id("salesOrder", "shopify-x-7")) == 1
    # ...so a blind retry of the create is refused, and the upsert a careful client uses finds the record.
    assert error_code(api.post("/salesOrder", json=sales_order("shopify-x-7"))) == "DUP_RCRD"
    body = sales_order()
    del body["externalId"]
    created_id(api.put("/salesOrder/eid:shopify-x-7", json=body))
    assert len(netsuite.records_with_external_id("salesOrder", "shopify-x-7")) == 1
    assert netsuite.snapshot()["timeout_after_commit"]["stalled"] == [f"POST {RECORD_API}/salesOrder"]


def test_injected_errors_use_netsuites_shape(netsuite: NetSuiteSandbox, api: httpx.Client) -> None:
    httpx.post(f"{netsuite.url}/_sandbox/faults", json={"error_rate": 1.0})
    response = api.get("/customer/101")
    assert response.status_code in {500, 502, 503}
    assert error_code(response) == "UNEXPECTED_ERROR"


def test_unrouted_paths_answer_in_netsuites_shape(api: httpx.Client) -> None:
    response = api.get("/vendorBill/1")
    assert response.status_code == 404
    assert error_code(response) == "NONEXISTENT_ID"
