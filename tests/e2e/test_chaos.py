"""The chaos run's small plan (fixed seed): every fault kind injected, nothing lost, nothing done twice.

It starts a local stack of its own (the AWS fault proxy and the crashes are set when a stack starts), plays
orders, shipments and returns through the faults, heals, redrives and checks. ``make chaos`` runs the full plan.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.local.chaos.checker import Verdict, render
from infra.local.chaos.plan import PLANS
from infra.local.chaos.run import run

pytestmark = pytest.mark.e2e

# Every kind the plan injects must have happened, or the run proved nothing about it.
FAULT_KINDS = (
    "netsuite 429",
    "netsuite 5xx",
    "dynamodb throttled",
    "dynamodb reply lost after commit",
    "eventbridge entries failed",
    "function crashes",
    "duplicate deliveries",
    "deliveries hours late",
    "deliveries reordered",
)


REPORTED: list[tuple[str, float]] = []


@pytest.fixture(scope="module")
def verdict(tmp_path_factory: pytest.TempPathFactory) -> Verdict:
    result, seconds = run(
        PLANS["ci"],
        workdir=Path(tmp_path_factory.mktemp("chaos")),
        on_phase=lambda phase, took: REPORTED.append((phase, took)),
    )
    print(render(result, seconds))  # noqa: T201 - the summary, for the CI log
    return result


def test_nothing_lost_nothing_done_twice(verdict: Verdict) -> None:
    assert not verdict.lost, [f"{e.what}: {e.key}" for e in verdict.lost]
    assert not verdict.duplicated, [f"{e.what}: {e.key} x{e.count}" for e in verdict.duplicated]
    assert verdict.ok == len(verdict.effects) > 0


def test_every_other_invariant_held(verdict: Verdict) -> None:
    assert verdict.left_in_dlqs == 0
    assert verdict.misdecided == []
    assert verdict.off_atp == []
    assert verdict.unauthorized_returns == []
    assert verdict.valid


def test_every_fault_kind_was_injected(verdict: Verdict) -> None:
    missing = [kind for kind in FAULT_KINDS if not verdict.faults.get(kind)]
    assert missing == [], verdict.faults
    assert any(verdict.faults.get(f"{channel} 429") for channel in ("shopify", "bigcommerce", "woocommerce"))
    # Timeouts are rarer (3 % of ERP requests): any system's will do in a run this small.
    assert any(count for kind, count in verdict.faults.items() if "timeout" in kind), verdict.faults
    assert verdict.acknowledged < verdict.attempts  # some deliveries failed and were tried again


def test_each_phase_was_reported_as_it_ended(verdict: Verdict) -> None:
    # `crossdock local chaos` prints these while a half-hour run goes on; the summary's table is the same.
    assert list(verdict.phases.items()) == REPORTED
    assert [phase for phase, _ in REPORTED][-1] == "redrive"


def test_every_journey_was_checked(verdict: Verdict) -> None:
    checked = {effect.what for effect in verdict.effects}
    assert checked == {
        "ERP sales order",
        "WMS release",
        "ERP item fulfillment",
        "ERP invoice",
        "channel fulfillment",
        "ERP credit memo",
        "channel refund",
    }
