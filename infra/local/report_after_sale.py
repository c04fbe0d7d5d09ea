"""The after-sale part of the demo report: shipments, invoices, channel fulfillments, returns, credits, refunds.

Invariants:
- every shipment has exactly one ERP item fulfillment and one invoice, and (on a channel with an API) exactly one
  channel fulfillment, made after the invoice: ``fulfilled before invoiced`` lists the ones that were not;
- every return receipt has exactly one credit memo and one channel refund of exactly the credited amount;
- every return the rules refuse got a 4xx with its reason;
- one order's timeline shows the whole journey.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from infra.local.iam import signed
from infra.local.sandboxes.netsuite import NetSuiteSandbox
from infra.local.sandboxes.wms import WmsSandbox
from infra.local.scenario_after_sale import AfterSaleExpected
from infra.local.stack import LocalStack
from shared.ids import safe_ref

# The hops of the whole journey, in order, as the timeline names them.
JOURNEY = {
    "received": "OrderReceived",
    "accepted": "OrderAccepted",
    "released": "FulfillmentReleased",
    "shipped": "ShipmentDispatched",
    "invoiced": "OrderInvoiced",
    "fulfilled": "ChannelFulfilled",
    "returned": "ReturnReceived",
    "credited": "CreditMemoIssued",
    "refunded": "RefundIssued",
}
API_CHANNELS = ("shopify", "bigcommerce", "woocommerce")


@dataclass
class AfterSaleReport:
    counts: dict[str, int] = field(default_factory=dict)
    refused: list[tuple[str, int, str]] = field(default_factory=list)
    outage_seconds: float = 0.0
    refunded: Decimal = Decimal(0)
    credited: Decimal = Decimal(0)
    journey: list[str] = field(default_factory=list)
    not_invoiced_once: list[str] = field(default_factory=list)
    not_fulfilled_once: list[str] = field(default_factory=list)
    fulfilled_before_invoiced: list[str] = field(default_factory=list)
    not_credited_once: list[str] = field(default_factory=list)
    refund_not_credit: list[str] = field(default_factory=list)
    refused_wrongly: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        missing = [hop for hop in JOURNEY if hop not in self.journey]
        return [
            *self.not_invoiced_once,
            *self.not_fulfilled_once,
            *self.fulfilled_before_invoiced,
            *self.not_credited_once,
            *self.refund_not_credit,
            *self.refused_wrongly,
            *([f"journey lacks {', '.join(missing)}"] if missing else []),
        ]


def collect_after_sale(stack: LocalStack, expected: AfterSaleExpected) -> AfterSaleReport:
    report = AfterSaleReport(refused=list(expected.refused), outage_seconds=expected.outage[1] - expected.outage[0])
    netsuite, wms = stack.sandboxes["netsuite"], stack.sandboxes["wms"]
    assert isinstance(netsuite, NetSuiteSandbox)
    assert isinstance(wms, WmsSandbox)
    erp = netsuite.snapshot()
    by_external_id: dict[str, list[dict[str, Any]]] = {}
    for kind in ("item_fulfillments", "invoices", "credit_memos"):
        for record in erp[kind]:
            by_external_id.setdefault(str(record["external_id"]), []).append(record)
    shipments = wms.snapshot()["shipments"]
    records = channel_records(stack)
    for shipment_id, order_key in sorted(expected.shipments.items()):
        _check_shipment(report, order_key, shipments[int(shipment_id)], by_external_id, records)
    returns = wms.snapshot()["returns"]
    for case in expected.returns:
        receipt = next((r for r in returns.values() if r.get("reference_id") == case.rma_number), None)
        if receipt is None:
            report.not_credited_once.append(f"{case.rma_number}: the warehouse has no receipt")
            continue
        _check_return(report, case.order_key, case.rma_number, str(receipt["id"]), by_external_id, records)
    for refused, status, error in expected.refused:
        if status != 422 or not error:
            report.refused_wrongly.append(f"{refused}: answered {status} {error!r} (want 422 with a reason)")
    report.counts = {
        "shipments": len(expected.shipments),
        "  partial (orders shipped in parts)": len(expected.partial),
        "  with several packages": len(expected.multi_package),
        "  shipped during the ERP outage": len(expected.during_outage),
        "  waits in the queue (ERP down)": _waits(stack),
        "  duplicate deliveries sent": expected.duplicates_sent,
        "ERP item fulfillments": len(erp["item_fulfillments"]),
        "ERP invoices": len(erp["invoices"]),
        "channel fulfillments": sum(len(v) for k, v in records.items() if k[1] == "fulfillment"),
        "RMAs authorized": len(erp["return_authorizations"]),
        "RMAs refused (422)": sum(1 for _, status, _ in expected.refused if status == 422),
        "ERP credit memos": len(erp["credit_memos"]),
        "channel refunds": sum(len(v) for k, v in records.items() if k[1] == "refund"),
    }
    if expected.journey_order:
        report.journey = _journey(stack, expected.journey_order)
    return report


def _check_shipment(
    report: AfterSaleReport,
    order_key: str,
    shipment: dict[str, Any],
    erp: Mapping[str, list[dict[str, Any]]],
    channel: Mapping[tuple[str, str], list[dict[str, Any]]],
) -> None:
    shipment_id = str(shipment["id"])
    fulfillments = erp.get(safe_ref(order_key, "ship", shipment_id), [])
    invoices = erp.get(safe_ref(order_key, "inv", shipment_id), [])
    if len(fulfillments) != 1 or len(invoices) != 1:
        report.not_invoiced_once.append(
            f"{order_key} shipment {shipment_id}: {len(fulfillments)} fulfillments, {len(invoices)} invoices"
        )
    kind = order_key.split(":", 1)[0]
    if kind not in API_CHANNELS:
        return
    tracking = str((shipment.get("tracking") or {}).get("tracking_number"))
    made = [r for r in channel.get((order_key, "fulfillment"), []) if is_for_shipment(r, shipment_id, tracking)]
    if len(made) != 1:
        report.not_fulfilled_once.append(f"{order_key} shipment {shipment_id}: {len(made)} channel fulfillments")
        return
    invoiced_at = invoices[0].get("created_at") if invoices else None
    if invoiced_at is None or float(made[0]["at"]) < float(invoiced_at):
        report.fulfilled_before_invoiced.append(f"{order_key} shipment {shipment_id}")


def _check_return(
    report: AfterSaleReport,
    order_key: str,
    rma_number: str,
    receipt_id: str,
    erp: Mapping[str, list[dict[str, Any]]],
    channel: Mapping[tuple[str, str], list[dict[str, Any]]],
) -> None:
    memos = erp.get(safe_ref(order_key, "cm", receipt_id), [])
    refund_id = f"{rma_number}:{receipt_id}"
    refunds = [r for r in channel.get((order_key, "refund"), []) if refund_id in str(r.get("note") or r.get("reason"))]
    wants_refund = order_key.split(":", 1)[0] in API_CHANNELS
    if len(memos) != 1 or (wants_refund and len(refunds) != 1):
        report.not_credited_once.append(f"{rma_number}: {len(memos)} credit memos, {len(refunds)} refunds")
        return
    credited = Decimal(str(memos[0]["total"]))
    report.credited += credited
    if wants_refund:
        refunded = Decimal(str(refunds[0]["amount"]))
        if not refunded and "credited against the invoice" in str(refunds[0].get("note")):
            return  # an unpaid order: the lines came back in the channel, the credit memo settles the invoice
        report.refunded += refunded
        if refunded != credited:
            report.refund_not_credit.append(f"{rma_number}: refunded {refunded}, credited {credited}")


def is_for_shipment(record: Mapping[str, Any], shipment_id: str, tracking: str) -> bool:
    """A channel's record of one shipment: by its tracking number, or (WooCommerce notes) by our marker."""
    if f"[crossdock shipment {shipment_id}]" in str(record.get("note", "")):
        return True
    numbers = record.get("tracking_numbers") or [record.get("tracking_number")]
    return tracking in [str(n) for n in numbers]


def channel_records(stack: LocalStack) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """(order key, "fulfillment" | "refund") → what the channel made, from each sandbox's logs."""
    records: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for kind in API_CHANNELS:
        sandbox = stack.sandboxes[kind]
        state = sandbox.snapshot()
        store = _store(kind, sandbox)
        logs = {"fulfillment": state.get("fulfillment_log") or state.get("note_log") or {}}
        logs["refund"] = state.get("refund_log") or {}
        for what, log in logs.items():
            for order_id, entries in log.items():
                key = f"{kind}:{store}:{_numeric_id(order_id)}"
                # WooCommerce's notes are not all shipments: only ours carry the marker.
                found = [
                    e for e in entries if what == "refund" or "note" not in e or "[crossdock shipment" in str(e["note"])
                ]
                records.setdefault((key, what), []).extend(found)
    return records


def _store(kind: str, sandbox: Any) -> str:
    if kind == "shopify":
        return str(sandbox.shop_domain)
    if kind == "bigcommerce":
        return str(sandbox.store_hash)
    return str(sandbox.connection()["settings"]["store"])


def _numeric_id(order_id: str) -> str:
    """Shopify logs GraphQL ids (gid://shopify/Order/123); the order key holds the number."""
    return order_id.rsplit("/", 1)[-1]


def _waits(stack: LocalStack) -> int:
    """How often a record went back to its queue to wait for the ERP, from the functions' own log lines."""
    waits = 0
    for name, function in stack.functions.items():
        if "InvoiceShipment" in name or "CreditReturn" in name:
            path = function.log_path
            if path.exists():
                waits += path.read_text().count('"record waiting for a downstream system"')
    return waits


def _journey(stack: LocalStack, order_key: str) -> list[str]:
    assert stack.api
    channel, rest = order_key.split(":", 1)
    store, external_id = rest.rsplit(":", 1)
    response = signed("GET", f"{stack.api.url}/v1/orders/{channel}/{external_id}?store={store}")
    hops = [entry["what"] for entry in response.json().get("timeline", [])]
    return [hop for hop, what in JOURNEY.items() if what in hops]


def render_after_sale(report: AfterSaleReport) -> list[str]:
    lines = ["Shipment-to-invoice and return-to-credit"]
    lines += [f"  {k:<40}{v:>8}" for k, v in report.counts.items()]
    lines += [f"  {'ERP outage during shipping (s)':<40}{report.outage_seconds:>8.0f}"]
    lines += [f"  {'credited / refunded':<40}{report.credited:>8} / {report.refunded}"]
    lines += [f"  refused: {case} → {status} {error}" for case, status, error in report.refused]
    lines += [f"  journey: {' → '.join(report.journey)}", ""]
    return lines
