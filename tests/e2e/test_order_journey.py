"""Order-to-fulfillment on the local stack: every channel kind in, one sales order and one release out."""

from __future__ import annotations

import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from infra.local.report import Report, collect
from infra.local.sandboxes.netsuite import NetSuiteSandbox
from infra.local.sandboxes.shopify import ShopifySandbox
from infra.local.sandboxes.wms import WmsSandbox
from infra.local.scenario import Expected, play
from infra.local.scenario_orders import SHOPIFY_BASE_ID, shopify_order
from infra.local.stack import LocalStack
from infra.samples import standard_webhooks_headers, woocommerce_delivery
from shared.ids import erp_external_id
from tests.e2e.conftest import wait_for


@pytest.fixture(scope="module")
def journey(local_stack: LocalStack) -> tuple[Expected, Report]:
    expected = play(local_stack, orders_per_channel=4, inventory_phases=False, after_sale_phases=False)
    return expected, collect(local_stack, expected)


def signed_get(url: str) -> httpx.Response:
    """A SigV4-signed GET, as an operator's tool signs it with their IAM credentials."""
    request = AWSRequest(method="GET", url=url)
    SigV4Auth(Credentials("local", "local"), "execute-api", "us-east-1").add_auth(request)
    return httpx.get(url, headers=dict(request.headers), timeout=30)


def test_every_channel_kind_ends_as_one_sales_order_and_one_release(journey: tuple[Expected, Report]) -> None:
    expected, report = journey
    assert {key.split(":", 1)[0] for key in expected.accepted} == {
        "shopify",
        "bigcommerce",
        "woocommerce",
        "b2b_portal",
    }
    assert report.lost == []
    assert report.duplicated == []
    assert report.misdecided == []
    assert report.dlqs
    assert not any(report.dlqs.values())


def test_duplicates_and_late_retries_were_really_sent(
    local_stack: LocalStack, journey: tuple[Expected, Report]
) -> None:
    _, report = journey
    shopify = local_stack.sandboxes["shopify"]
    assert isinstance(shopify, ShopifySandbox)
    deliveries = shopify.snapshot()["webhooks"]["deliveries"]
    per_event: dict[str, int] = {}
    for delivery in deliveries:
        per_event[delivery["event_id"]] = per_event.get(delivery["event_id"], 0) + 1
    assert max(per_event.values()) >= 2  # the same event more than once
    assert report.webhooks["rejected (4xx)"] >= 4  # the hostile requests


def test_holds_and_rejections_carry_reasons_and_the_channel_shows_them(
    local_stack: LocalStack, journey: tuple[Expected, Report]
) -> None:
    expected, _ = journey
    shopify = local_stack.sandboxes["shopify"]
    assert isinstance(shopify, ShopifySandbox)
    orders = shopify.snapshot()["orders"]
    for keys, tag in ((expected.held, "crossdock:on-hold"), (expected.rejected, "crossdock:rejected")):
        for key, reason in keys.items():
            external_id = key.rsplit(":", 1)[-1]
            assert tag in orders[external_id]["tags"]
            timeline = signed_get(f"{local_stack.api.url}/v1/orders/shopify/{external_id}").json()["timeline"]  # type: ignore[union-attr]
            decisions = [e for e in timeline if e["what"] in ("OrderHeld", "OrderRejected")]
            assert reason in decisions[0]["ids"]["reasons"].split(",")
        for key in keys:
            netsuite = local_stack.sandboxes["netsuite"]
            assert isinstance(netsuite, NetSuiteSandbox)
            assert netsuite.records_with_external_id("salesOrder", erp_external_id(key)) == []


def test_orders_whose_webhooks_were_lost_are_recovered_by_reconciliation(journey: tuple[Expected, Report]) -> None:
    expected, report = journey
    assert len(expected.lost_webhooks) == 3  # one per channel with an API
    assert report.recovered >= len(expected.lost_webhooks)
    assert not expected.lost_webhooks & set(report.lost)


def test_cancelled_orders_are_cancelled_in_the_erp_and_the_wms(
    local_stack: LocalStack, journey: tuple[Expected, Report]
) -> None:
    expected, _ = journey
    netsuite, wms = local_stack.sandboxes["netsuite"], local_stack.sandboxes["wms"]
    assert isinstance(netsuite, NetSuiteSandbox)
    assert isinstance(wms, WmsSandbox)
    assert expected.cancelled
    for key in expected.cancelled:
        [sales_order] = netsuite.records_with_external_id("salesOrder", erp_external_id(key))
        assert sales_order["status"]["id"] in ("C", "H")  # cancelled or closed
        releases = [o for o in wms.orders.values() if str(o["reference_id"]).startswith(erp_external_id(key))]
        assert releases
        assert all(o["status"] == "Cancelled" for o in releases)


def test_timeline_api_shows_every_hop_and_needs_iam(local_stack: LocalStack, journey: tuple[Expected, Report]) -> None:
    expected, _ = journey
    assert local_stack.api
    # The one whose webhook was lost: reconciliation found it, and its timeline says so.
    [key] = [k for k in expected.lost_webhooks if k.startswith("shopify:")]
    url = f"{local_stack.api.url}/v1/orders/shopify/{key.rsplit(':', 1)[-1]}"
    body = signed_get(url).json()
    hops = [entry["what"] for entry in body["timeline"]]
    for hop in (
        "ChannelOrderNotified",
        "OrderReceived",
        "OrderAccepted",
        "FulfillmentReleased",
        "ChannelStatusUpdated",
    ):
        assert hop in hops
    assert body["status"] == "released"
    accepted = next(e for e in body["timeline"] if e["what"] == "OrderAccepted")
    assert accepted["ids"]["erp_sales_order_id"]
    assert httpx.get(url, timeout=30).status_code == 403  # unsigned
    assert signed_get(f"{local_stack.api.url}/v1/orders/shopify/404404").status_code == 404


def test_an_erp_timeout_after_the_commit_still_makes_one_sales_order(local_stack: LocalStack) -> None:
    netsuite, shopify = local_stack.sandboxes["netsuite"], local_stack.sandboxes["shopify"]
    assert isinstance(netsuite, NetSuiteSandbox)
    assert isinstance(shopify, ShopifySandbox)
    netsuite.arm_timeout_after_commit(1, seconds=6)  # past the adapter's 5 s timeout
    order = shopify_order(600)
    shopify.emit_order("orders/create", order)
    shopify.flush_webhooks()
    key = erp_external_id(f"shopify:{shopify.shop_domain}:{SHOPIFY_BASE_ID + 600}")
    wait_for(lambda: netsuite.records_with_external_id("salesOrder", key))
    assert local_stack.wait_until_quiet(timeout=90)
    assert netsuite.stalled_writes  # the fault really fired
    assert len(netsuite.records_with_external_id("salesOrder", key)) == 1


@pytest.mark.parametrize("platform", ["bigcommerce", "woocommerce", "b2b_portal"])
def test_bad_input_to_each_new_webhook_endpoint_gets_a_4xx(local_stack: LocalStack, platform: str) -> None:
    assert local_stack.api
    url = f"{local_stack.api.url}/v1/webhooks/{platform}"
    garbage = b"{not json"
    secret = local_stack.webhook_secret(platform)
    if platform == "woocommerce":
        signed = woocommerce_delivery(garbage, secret=secret)
    else:
        signed = {"content-type": "application/json", **standard_webhooks_headers(garbage, secret, "msg_bad_input")}
    assert httpx.post(url, headers=signed, content=garbage, timeout=30).status_code == 400
    assert httpx.post(url, headers={"content-type": "application/json"}, content=b"{}", timeout=30).status_code == 401
