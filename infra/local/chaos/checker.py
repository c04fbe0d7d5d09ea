"""The chaos run's verdict, in the style of Jepsen's checkers: every effect the traffic called for, counted where
it landed (the ERP, the WMS, the channels), is ``ok`` (exactly once), ``lost`` (never) or ``duplicated`` (more).

Effects: per accepted order, one ERP sales order and one WMS release per warehouse; per shipment, one ERP item
fulfillment and one invoice, and one channel fulfillment on a channel with an API; per return, one credit memo
and (on a channel with an API) one refund. Also checked: every order's status, channel stock against the ATP
once quiet, and that nothing is left in a DLQ after the redrive.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from infra.local.chaos.scenario import ChaosExpected
from infra.local.report import ACCEPTED, order_statuses
from infra.local.report_after_sale import API_CHANNELS, channel_records, is_for_shipment
from infra.local.report_inventory import InventoryReport, compare_channels
from infra.local.sandboxes.netsuite import NetSuiteSandbox
from infra.local.sandboxes.wms import WmsSandbox
from infra.local.stack import LocalStack
from shared.ids import erp_external_id, safe_ref


@dataclass(frozen=True)
class Effect:
    what: str  # e.g. "ERP sales order"
    key: str  # the order, shipment or return it belongs to
    count: int


@dataclass
class Verdict:
    faults: Counter[str] = field(default_factory=Counter)
    attempts: int = 0
    acknowledged: int = 0
    given_up: int = 0  # deliveries whose sender stopped retrying (WooCommerce never retries)
    effects: list[Effect] = field(default_factory=list)
    dead_lettered: int = 0  # messages in the DLQs once the faults stopped
    redriven: int = 0  # of those, brought home by the redrive
    reconciled: int = 0  # orders whose webhooks never got in, found by reconciliation
    phases: dict[str, float] = field(default_factory=dict)  # seconds per phase
    left_in_dlqs: int = 0
    misdecided: list[str] = field(default_factory=list)
    off_atp: list[str] = field(default_factory=list)
    unauthorized_returns: list[str] = field(default_factory=list)

    @property
    def lost(self) -> list[Effect]:
        return [e for e in self.effects if e.count == 0]

    @property
    def duplicated(self) -> list[Effect]:
        return [e for e in self.effects if e.count > 1]

    @property
    def recovered(self) -> int:
        return self.redriven + self.reconciled

    @property
    def ok(self) -> int:
        return sum(1 for e in self.effects if e.count == 1)

    @property
    def valid(self) -> bool:
        """Nothing lost, nothing doubled, and every other invariant held."""
        return not (
            self.lost
            or self.duplicated
            or self.left_in_dlqs
            or self.misdecided
            or self.off_atp
            or self.unauthorized_returns
        )


def check(stack: LocalStack, expected: ChaosExpected, verdict: Verdict) -> Verdict:
    netsuite, wms = stack.sandboxes["netsuite"], stack.sandboxes["wms"]
    assert isinstance(netsuite, NetSuiteSandbox)
    assert isinstance(wms, WmsSandbox)
    _orders(verdict, expected, netsuite, wms, order_statuses(stack))
    _after_sale(stack, verdict, expected, netsuite, wms)
    stock = InventoryReport()
    compare_channels(stack, expected.inventory, stock)
    verdict.off_atp = stock.off_atp
    verdict.unauthorized_returns = list(expected.unauthorized_returns)
    return verdict


def _orders(
    verdict: Verdict, expected: ChaosExpected, netsuite: NetSuiteSandbox, wms: WmsSandbox, states: dict[str, str]
) -> None:
    sales_orders = Counter(str(r.get("externalId")) for r in netsuite.records["salesOrder"].values())
    releases = Counter(str(o.get("reference_id")) for o in wms.orders.values())
    for key in expected.orders:
        eid = erp_external_id(key)
        verdict.effects.append(Effect("ERP sales order", key, sales_orders[eid]))
        mine = {ref: n for ref, n in releases.items() if ref.startswith(f"{eid}-")}
        if not mine:
            verdict.effects.append(Effect("WMS release", key, 0))
        verdict.effects += [Effect("WMS release", ref, n) for ref, n in sorted(mine.items())]
        if states.get(key) not in ACCEPTED[1:]:
            verdict.misdecided.append(f"{key}: {states.get(key)} (want released or later)")


def _after_sale(
    stack: LocalStack, verdict: Verdict, expected: ChaosExpected, netsuite: NetSuiteSandbox, wms: WmsSandbox
) -> None:
    erp = netsuite.snapshot()
    by_external_id: Counter[str] = Counter()
    for kind in ("item_fulfillments", "invoices", "credit_memos"):
        by_external_id.update(str(record["external_id"]) for record in erp[kind])
    records = channel_records(stack)
    shipments = wms.snapshot()["shipments"]
    for shipment_id, key in sorted(expected.shipments.items()):
        label = f"{key} shipment {shipment_id}"
        verdict.effects.append(
            Effect("ERP item fulfillment", label, by_external_id[safe_ref(key, "ship", shipment_id)])
        )
        verdict.effects.append(Effect("ERP invoice", label, by_external_id[safe_ref(key, "inv", shipment_id)]))
        if key.split(":", 1)[0] in API_CHANNELS:
            tracking = str((shipments[int(shipment_id)].get("tracking") or {}).get("tracking_number"))
            made = [r for r in records.get((key, "fulfillment"), []) if is_for_shipment(r, shipment_id, tracking)]
            verdict.effects.append(Effect("channel fulfillment", label, len(made)))
    receipts = {str(r.get("reference_id")): str(r["id"]) for r in wms.snapshot()["returns"].values()}
    for request in expected.returns:
        receipt = receipts.get(request.rma_number)
        label = f"{request.order_key} return {request.rma_number}"
        if receipt is None:
            verdict.effects.append(Effect("ERP credit memo", label, 0))
            continue
        verdict.effects.append(
            Effect("ERP credit memo", label, by_external_id[safe_ref(request.order_key, "cm", receipt)])
        )
        refund_id = f"{request.rma_number}:{receipt}"
        refunds = [r for r in records.get((request.order_key, "refund"), []) if _mentions(r, refund_id)]
        verdict.effects.append(Effect("channel refund", label, len(refunds)))


def _mentions(record: dict[str, Any], refund_id: str) -> bool:
    return refund_id in str(record.get("note") or record.get("reason"))


def render(verdict: Verdict, seconds: float) -> str:
    """The summary: Jepsen's checker fields first, then what each count is made of."""
    lines = [
        "",
        "Crossdock chaos run",
        "===================",
        f"faults injected: {sum(verdict.faults.values())}",
        f"attempts: {verdict.attempts}",
        f"acknowledged: {verdict.acknowledged}",
        f"ok: {verdict.ok}",
        f"lost: {len(verdict.lost)}",
        f"duplicated: {len(verdict.duplicated)}",
        f"recovered: {verdict.recovered}",
        "",
        "Faults by kind",
        *(f"  {kind:<40}{count:>8}" for kind, count in sorted(verdict.faults.items())),
        "",
        "Effects (exactly once / never / more than once)",
    ]
    by_what: dict[str, Counter[str]] = {}
    for effect in verdict.effects:
        outcome = "ok" if effect.count == 1 else "lost" if effect.count == 0 else "duplicated"
        by_what.setdefault(effect.what, Counter())[outcome] += 1
    lines += [f"  {what:<40}{c['ok']:>8} {c['lost']:>6} {c['duplicated']:>6}" for what, c in by_what.items()]
    lines += [
        "",
        "Other invariants",
        f"  deliveries the sender gave up on:       {verdict.given_up:>8}",
        f"  orders found by reconciliation:         {verdict.reconciled:>8}",
        f"  dead-lettered once the faults stopped:  {verdict.dead_lettered:>8}",
        f"  brought home by the redrive:            {verdict.redriven:>8}",
        f"  left in a DLQ after the redrive:        {verdict.left_in_dlqs:>8}",
        f"  orders not in an accepted status:       {len(verdict.misdecided):>8}",
        f"  channel stock not at the ATP:           {len(verdict.off_atp):>8}",
        f"  returns the API never authorized:       {len(verdict.unauthorized_returns):>8}",
    ]
    problems = [f"{e.what}: {e.key} ({e.count})" for e in [*verdict.lost, *verdict.duplicated]]
    problems += verdict.misdecided + verdict.off_atp + verdict.unauthorized_returns
    lines += [f"    {problem}" for problem in problems[:20]]
    lines += ["", "Seconds per phase", *(f"  {phase:<40}{took:>8.0f}" for phase, took in verdict.phases.items())]
    lines += ["", f"valid: {verdict.valid}   ({seconds:.0f} s)"]
    return "\n".join(lines)
