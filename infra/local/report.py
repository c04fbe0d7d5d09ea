"""The demo report: what went in, what was published, what each system did, what is in the DLQs, and the
invariants: nothing lost, nothing done twice, every decision the one the rules call for."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from infra.local.report_after_sale import AfterSaleReport, collect_after_sale, render_after_sale
from infra.local.report_inventory import InventoryReport, collect_inventory, render_inventory
from infra.local.report_outage import OutageReport, collect_outage, render_outage
from infra.local.sandboxes.netsuite import NetSuiteSandbox
from infra.local.sandboxes.wms import WmsSandbox
from infra.local.scenario import Expected
from infra.local.stack import LocalStack
from shared.ids import erp_external_id

# An accepted order's statuses, in journey order: shipped, invoiced and fulfilled come after the release.
ACCEPTED = ("accepted", "released", "shipped", "invoiced", "fulfilled")


@dataclass
class Report:
    webhooks: dict[str, int] = field(default_factory=dict)
    events: Counter[str] = field(default_factory=Counter)
    effects: dict[str, int] = field(default_factory=dict)
    dlqs: dict[str, int] = field(default_factory=dict)
    functions: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    misdecided: list[str] = field(default_factory=list)
    recovered: int = 0
    inventory: InventoryReport = field(default_factory=InventoryReport)
    after_sale: AfterSaleReport | None = None
    outage: OutageReport | None = None

    @property
    def in_dlqs(self) -> int:
        return sum(self.dlqs.values())

    @property
    def ok(self) -> bool:
        stock_ok = not self.inventory.oversold and not self.inventory.above_atp and not self.inventory.off_atp
        after_sale_ok = self.after_sale is None or not self.after_sale.problems
        outage_ok = self.outage is None or not self.outage.problems
        orders_ok = not self.lost and not self.duplicated and not self.misdecided
        return orders_ok and stock_ok and after_sale_ok and outage_ok and not self.in_dlqs


def collect(stack: LocalStack, expected: Expected) -> Report:
    report = Report()
    statuses = [s for sandbox in stack.sandboxes.values() for s in _delivery_statuses(sandbox)]
    statuses += expected.sent_directly + expected.hostile
    report.webhooks = {
        "sent": len(statuses),
        "accepted (2xx)": sum(1 for s in statuses if 200 <= s < 300),
        "rejected (4xx)": sum(1 for s in statuses if 400 <= s < 500),
        "failed (5xx)": sum(1 for s in statuses if s == 0 or s >= 500),
    }
    published = _drain_observer(stack)
    report.events = Counter(e["detail-type"] for e in published)
    states = order_statuses(stack)
    netsuite, wms = stack.sandboxes["netsuite"], stack.sandboxes["wms"]
    assert isinstance(netsuite, NetSuiteSandbox)
    assert isinstance(wms, WmsSandbox)
    sales_orders = Counter(str(r.get("externalId")) for r in netsuite.records["salesOrder"].values())
    releases = Counter(str(o.get("reference_id")) for o in wms.orders.values())
    report.effects = {
        "ERP sales orders": sum(sales_orders.values()),
        "WMS releases": sum(releases.values()),
        "orders accepted": sum(1 for s in states.values() if s in ACCEPTED),
        "orders held": sum(1 for s in states.values() if s == "held"),
        "orders rejected": sum(1 for s in states.values() if s == "rejected"),
        "orders cancelled": sum(1 for s in states.values() if s == "cancelled"),
        "channel statuses pushed": report.events["ChannelStatusUpdated"],
    }
    for name, sandbox in stack.sandboxes.items():
        report.effects[f"{name} API calls"] = sum(sandbox.calls.values())
    report.dlqs = _dlq_depths(stack)
    report.functions = {
        name.split("Functions", 1)[-1].split("OrderJourney", 1)[-1]: (f.invocations, f.errors, f.cold_starts)
        for name, f in stack.functions.items()
    }
    report.recovered = sum(
        1
        for e in published
        if e["detail-type"] == "ChannelOrderNotified" and e["detail"]["data"]["observed_by"] == "reconciliation"
    )
    report.inventory = collect_inventory(stack, expected.inventory, states, published)
    if expected.after_sale is not None:
        report.after_sale = collect_after_sale(stack, expected.after_sale)
    if expected.outage is not None:
        report.outage = collect_outage(stack, expected.outage)
    _check(report, expected, states, sales_orders, releases)
    _check_flash(report, expected)
    return report


def _check_flash(report: Report, expected: Expected) -> None:
    """Exactly as many flash-sale orders accepted as there were units; the rest held for stock."""
    flash = expected.inventory
    if report.inventory.flash_accepted != min(flash.flash_units, len(flash.flash_orders)):
        report.misdecided.append(
            f"flash sale: {report.inventory.flash_accepted} accepted for {flash.flash_units} units"
        )
    if report.inventory.flash_accepted + report.inventory.flash_held != len(flash.flash_orders):
        report.misdecided.append("flash sale: some orders neither accepted nor held")


def _check(
    report: Report, expected: Expected, states: dict[str, str], sales_orders: Counter[str], releases: Counter[str]
) -> None:
    for key in sorted(expected.accepted | expected.cancelled):
        eid = erp_external_id(key)
        count = sales_orders[eid]
        released = sum(n for ref, n in releases.items() if ref.startswith(f"{eid}-"))
        if count == 0 or released == 0:
            report.lost.append(key)
        if count > 1 or any(n > 1 for ref, n in releases.items() if ref.startswith(f"{eid}-")):
            report.duplicated.append(key)
        want = "cancelled" if key in expected.cancelled else "released"
        if states.get(key) != want and not (want == "released" and states.get(key) in ACCEPTED[1:]):
            report.misdecided.append(f"{key}: {states.get(key)} (want {want})")
    for key, reason in {**expected.held, **expected.rejected}.items():
        want = "held" if key in expected.held else "rejected"
        if states.get(key) != want:
            report.misdecided.append(f"{key}: {states.get(key)} (want {want}: {reason})")
        if sales_orders[erp_external_id(key)]:
            report.duplicated.append(f"{key} (sales order for a {want} order)")


def render(report: Report, stack: LocalStack) -> str:
    lines = ["", "Crossdock local demo", "====================", ""]
    lines += [f"AWS emulation: moto server + {stack.emulators.dynamodb_engine} for DynamoDB", ""]
    lines += ["Webhooks"] + [f"  {k:<30}{v:>8}" for k, v in report.webhooks.items()] + [""]
    lines += ["Events published (by detail-type)"]
    lines += [f"  {k:<30}{v:>8}" for k, v in sorted(report.events.items())] or ["  (none)"]
    lines += ["", "Effects"] + [f"  {k:<30}{v:>8}" for k, v in report.effects.items()]
    lines += [f"  {'recovered by reconciliation':<30}{report.recovered:>8}", ""]
    lines += ["Messages per DLQ"] + [f"  {k:<56}{v:>6}" for k, v in report.dlqs.items()] + [""]
    lines += render_inventory(report.inventory)
    if report.after_sale is not None:
        lines += render_after_sale(report.after_sale)
    if report.outage is not None:
        lines += render_outage(report.outage)
    lines += ["Functions (invocations / errors / cold starts)"]
    lines += [f"  {k:<40}{i:>6} {e:>6} {c:>6}" for k, (i, e, c) in report.functions.items()] + [""]
    lines += ["Invariants", f"  lost: {len(report.lost)}", f"  duplicated: {len(report.duplicated)}"]
    lines += [f"  messages in a DLQ: {report.in_dlqs}"]
    lines += [f"  misdecided: {len(report.misdecided)}", f"  oversold: {report.inventory.oversold}"]
    lines += [f"  channel above ATP: {len(report.inventory.above_atp)}"]
    lines += [f"  channel not at ATP once quiet: {len(report.inventory.off_atp)}"]
    if report.after_sale is not None:
        after = report.after_sale
        lines += [f"  shipments not invoiced exactly once: {len(after.not_invoiced_once)}"]
        lines += [f"  shipments not fulfilled exactly once: {len(after.not_fulfilled_once)}"]
        lines += [f"  channel fulfilled before the ERP invoice: {len(after.fulfilled_before_invoiced)}"]
        lines += [f"  returns not credited and refunded exactly once: {len(after.not_credited_once)}"]
        lines += [f"  refund not equal to the credit: {len(after.refund_not_credit)}"]
        lines += [f"  bad returns not refused with a reason: {len(after.refused_wrongly)}"]
    if report.outage is not None:
        lines += [f"  breaker did not open and close around the ERP outage: {len(report.outage.problems)}"]
    listed = (
        ("lost", report.lost),
        ("duplicated", report.duplicated),
        ("misdecided", report.misdecided),
        ("not at ATP", report.inventory.off_atp),
        ("after sale", report.after_sale.problems if report.after_sale else []),
        ("ERP outage", report.outage.problems if report.outage else []),
    )
    for label, keys in listed:
        lines += [f"    {label}: {key}" for key in keys[:10]]
    return "\n".join(lines)


def _delivery_statuses(sandbox: Any) -> list[int]:
    return [d.status for d in sandbox.outbox if d.delivered_at is not None and d.status is not None]


def _drain_observer(stack: LocalStack) -> list[dict[str, Any]]:
    assert stack.provisioned
    sqs = stack.client("sqs")
    events: list[dict[str, Any]] = []
    while True:
        messages = sqs.receive_message(QueueUrl=stack.provisioned.observer_url, MaxNumberOfMessages=10).get(
            "Messages", []
        )
        if not messages:
            return events
        for message in messages:
            events.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=stack.provisioned.observer_url, ReceiptHandle=message["ReceiptHandle"])


def order_statuses(stack: LocalStack) -> dict[str, str]:
    """Order key → journey status, from the orders table."""
    assert stack.provisioned
    name = next(n for logical, n in stack.provisioned.tables.items() if logical.startswith("Orders"))
    statuses = {}
    for page in stack.client("dynamodb").get_paginator("scan").paginate(TableName=name):
        for item in page["Items"]:
            if item["sk"]["S"] == "STATE" and "status" in item:
                statuses[item["pk"]["S"].removeprefix("ORDER#")] = item["status"]["S"]
    return statuses


def _dlq_depths(stack: LocalStack) -> dict[str, int]:
    assert stack.provisioned
    sqs = stack.client("sqs")
    depths = {}
    for logical in sorted(stack.provisioned.dlqs):
        attrs = sqs.get_queue_attributes(
            QueueUrl=stack.provisioned.queues[logical], AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        depths[logical] = int(attrs["ApproximateNumberOfMessages"])
    return depths
