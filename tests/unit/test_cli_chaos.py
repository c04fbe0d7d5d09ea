"""``crossdock local chaos`` prints each phase as it ends, then the summary, and exits 1 unless the run held."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from typer.testing import CliRunner

from infra import cli
from infra.local.chaos import run as chaos_run
from infra.local.chaos.checker import Effect, Verdict
from infra.local.chaos.plan import ChaosPlan


def _fake_run(count: int) -> Callable[..., tuple[Verdict, float]]:
    def run(plan: ChaosPlan, env: str, on_phase: Callable[[str, float], None] | None = None) -> tuple[Verdict, float]:
        assert on_phase is not None
        on_phase("orders", 1142.4)
        on_phase("redrive", 44.0)
        return Verdict(effects=[Effect("ERP sales order", f"seed-{plan.seed}", count)]), 1186.4

    return run


@pytest.mark.parametrize(("count", "exit_code"), [(1, 0), (0, 1), (2, 1)])
def test_phases_then_the_summary_then_the_verdict(monkeypatch: pytest.MonkeyPatch, count: int, exit_code: int) -> None:
    monkeypatch.setattr(chaos_run, "run", _fake_run(count))

    result = CliRunner().invoke(cli.app, ["local", "chaos", "--plan", "ci", "--seed", "3"])

    assert result.exit_code == exit_code, result.output
    assert result.output.index("orders: 1142 s") < result.output.index("redrive: 44 s")
    assert result.output.index("redrive: 44 s") < result.output.index("faults injected:")
    assert f"lost: {int(count == 0)}" in result.output
    assert f"valid: {count == 1}" in result.output


def test_an_unknown_plan_is_refused_before_anything_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chaos_run, "run", _fake_run(1))

    result = CliRunner().invoke(cli.app, ["local", "chaos", "--plan", "huge"])

    assert result.exit_code == 2
    assert "unknown plan" in result.output
    assert "orders:" not in result.output
