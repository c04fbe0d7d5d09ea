"""Shipment-to-invoice and return-to-credit on the local stack: ERP first, once each, through an outage."""

from __future__ import annotations

import random
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal

import pytest

from infra.local.iam import signed
from infra.local.log_needles import personal_data_needles, scenario_payloads, secret_needles, signature_needles
from infra.local.log_scan import Needle, scan_files
from infra.local.report import order_statuses
from infra.local.report_after_sale import JOURNEY, AfterSaleReport, collect_after_sale
from infra.local.report_inventory import inventory_table_name
from infra.local.sandboxes.netsuite import NetSuiteSandbox
from infra.local.sandboxes.shopify import ShopifySandbox
from infra.local.sandboxes.wms import WmsSandbox
from infra.local.scenario_after_sale import AfterSaleExpected, place_orders, ship_and_return
from infra.local.scenario_orders import SHOPIFY_BASE_ID
from infra.local.stack import LocalStack
from shared.aws.inventory_ledger import DynamoInventoryLedger
from shared.ids import safe_ref

FIRST_ORDER = 300  # apart from the other e2e modules' order numbers


@pytest.fixture(scope="module")
def after_sale(local_stack: LocalStack) -> tuple[AfterSaleExpected, AfterSaleReport]:
    keys = place_orders(local_stack, FIRST_ORDER, per_channel=2)
    released = [k for k, status in order_statuses(local_stack).items() if k in keys and status == "released"]
    expected = ship_and_return(local_stack, released, random.Random(3), outage_seconds=8)
    return expected, collect_after_sale(local_stack, expected)


def test_every_shipment_is_invoiced_once_and_the_channel_hears_only_after_the_invoice(
    after_sale: tuple[AfterSaleExpected, AfterSaleReport],
) -> None:
    expected, report = after_sale
    assert len(expected.shipments) >= 6
    assert expected.partial
    assert expected.multi_package
    assert expected.duplicates_sent >= 3
    assert report.not_invoiced_once == []
    assert report.not_fulfilled_once == []
    assert report.fulfilled_before_invoiced == []
    assert report.counts["ERP invoices"] == len(expected.shipments)


def test_shipments_during_an_erp_outage_wait_and_then_flow_with_nothing_in_a_dlq(
    local_stack: LocalStack, after_sale: tuple[AfterSaleExpected, AfterSaleReport]
) -> None:
    expected, report = after_sale
    netsuite = local_stack.sandboxes["netsuite"]
    assert isinstance(netsuite, NetSuiteSandbox)
    assert expected.during_outage
    assert report.counts["  waits in the queue (ERP down)"] >= len(expected.during_outage)
    invoices = {record["external_id"]: record for record in netsuite.snapshot()["invoices"]}
    for shipment_id in expected.during_outage:
        invoice = invoices[safe_ref(expected.shipments[shipment_id], "inv", shipment_id)]
        assert invoice["created_at"] >= expected.outage[1]  # made once the ERP was back, not before
    depths = local_stack.queue_depths()
    # This journey's DLQs (another module on this stack dead-letters on purpose).
    dlqs = {name: sum(depth) for name, depth in depths.items() if "AfterSale" in name and "Dlq" in name}
    assert len(dlqs) == 4
    assert not any(dlqs.values()), dlqs


def test_a_duplicated_return_gives_one_credit_memo_and_one_refund_of_the_credited_amount(
    after_sale: tuple[AfterSaleExpected, AfterSaleReport],
) -> None:
    expected, report = after_sale
    assert len(expected.returns) == 2
    assert report.not_credited_once == []
    assert report.refund_not_credit == []
    assert report.counts["ERP credit memos"] == 2
    assert report.counts["channel refunds"] == 2  # both returns are of orders from channels with an API
    assert report.refunded == report.credited > 0


def test_a_scrapped_damaged_unit_is_credited_in_part_and_a_restocked_one_goes_back_on_hand(
    local_stack: LocalStack, after_sale: tuple[AfterSaleExpected, AfterSaleReport]
) -> None:
    expected, _ = after_sale
    netsuite, wms = local_stack.sandboxes["netsuite"], local_stack.sandboxes["wms"]
    assert isinstance(netsuite, NetSuiteSandbox)
    assert isinstance(wms, WmsSandbox)
    [case] = [c for c in expected.returns if len(c.received) == 2]
    prefix = safe_ref(case.order_key, "cm")
    [memo] = [m for m in netsuite.snapshot()["credit_memos"] if m["external_id"].startswith(prefix)]
    new, damaged = sorted(memo["lines"], key=lambda line: -float(line["amount"]))
    # 50 % for damaged in dev, rounded half up to the cent.
    half = (Decimal(str(new["amount"])) / 2).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert Decimal(str(damaged["amount"])) == half
    # The restocked unit is back in the ledger, once, under the receipt; the scrapped one is not.
    [receipt] = [r for r in wms.snapshot()["returns"].values() if r["reference_id"] == case.rma_number]
    sku = case.received[0]["sku"]
    ledger = DynamoInventoryLedger(inventory_table_name(local_stack), client=lambda: local_stack.client("dynamodb"))
    rows = ledger.levels([(sku, warehouse) for warehouse in ("east", "west")])
    entries = [e for level in rows.values() for e in level.applied if e.startswith(f"return:{receipt['id']}")]
    assert [e.rsplit("\x1f", 1)[-1] for e in entries] == ["1"]


def test_returns_the_rules_refuse_get_a_422_with_the_reason(
    local_stack: LocalStack, after_sale: tuple[AfterSaleExpected, AfterSaleReport]
) -> None:
    expected, report = after_sale
    assert {case for case, _, _ in expected.refused} == {"more than shipped", "unknown reason", "outside the window"}
    assert report.refused_wrongly == []
    assert local_stack.api
    malformed = signed("POST", f"{local_stack.api.url}/v1/returns", {"channel": "shopify"})
    assert malformed.status_code == 400  # signed but not a return request: a clear 400, not a 5xx
    assert malformed.json()["error_class"] == "validation"


def test_the_timeline_shows_the_whole_journey(after_sale: tuple[AfterSaleExpected, AfterSaleReport]) -> None:
    _, report = after_sale
    assert report.journey == list(JOURNEY)


def test_the_logs_hold_no_secret_signature_or_personal_data(
    local_stack: LocalStack, after_sale: tuple[AfterSaleExpected, AfterSaleReport]
) -> None:
    # Last: every channel's orders, shipments, returns, refusals and an outage have been through the functions.
    assert local_stack.provisioned
    sandboxes = list(local_stack.sandboxes.values())
    needles = [
        *secret_needles(local_stack.provisioned.secrets, sandboxes),
        *signature_needles(sandboxes),
        *personal_data_needles(scenario_payloads()),
    ]
    kinds = Counter(needle.kind for needle in needles if needle.scannable)
    # Something to look for of every kind: webhook secrets and credentials, the signatures of every delivery.
    assert kinds["secret"] >= 8
    assert kinds["signature"] >= 20
    assert min(kinds["email"], kinds["phone"], kinds["address"], kinds["name+address"]) >= 2
    logs = sorted(local_stack.log_dir.glob("*.log"))
    assert len(logs) >= 10
    # The scan reads these very logs: an order key, logged on purpose, is found.
    shopify = local_stack.sandboxes["shopify"]
    assert isinstance(shopify, ShopifySandbox)
    order_key = f"shopify:{shopify.shop_domain}:{SHOPIFY_BASE_ID + FIRST_ORDER}"
    assert scan_files(logs, [Needle.literal("canary", order_key)])
    hits = scan_files(logs, needles)
    assert not hits, "\n".join(str(hit) for hit in hits)
