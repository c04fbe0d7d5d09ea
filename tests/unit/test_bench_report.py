"""bench/results.json and the markdown table: the keys the issue names, goals judged right, cost left unmeasured
until the per-order usage is given, and the CLI wiring (with the measurements stubbed: no subprocess storm)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from infra.bench import __main__ as cli
from infra.bench import hot_path, imports, report
from infra.bench.cost import ApiKind, Architecture, FunctionUsage, OrderUsage, cost_per_million, naive
from infra.bench.hot_path import HotPathFigures
from infra.bench.imports import ImportFigure

MACHINE = {"platform": "Linux", "machine": "x86_64", "cpu": "Test CPU", "cpus": 2, "python": "3.11.7"}


def figure(name: str, cold_ms: float, **changes: Any) -> ImportFigure:
    fields: dict[str, Any] = {
        "name": name,
        "cold_ms": cold_ms,
        "import_only_ms": cold_ms - 20,
        "cpu_ms": cold_ms - 5,
        "runs": 10,
        "s3transfer": False,
        "boto3": False,
        "modules": 100,
    }
    return ImportFigure(**{**fields, **changes})


IMPORTS = [
    figure("baseline_bare_interpreter", 21.0),
    figure("baseline_import_boto3", 131.0, s3transfer=True, boto3=True),
    figure("baseline_naive_handler", 436.0, s3transfer=True, boto3=True),
    figure("record_order", 120.4),
    figure("receive_webhook", 190.0, s3transfer=True, self_ms_by_package={"botocore": 40.04, "shared": 30.0}),
]
HOT = HotPathFigures(
    webhook_body_bytes=19_319,
    webhook_line_items=9,
    webhook_us=240.0,
    intake_us=600.0,
    consumer_us={"record_order": 200.0},
    consumer_events={"record_order": "OrderReceived"},
)
USAGE = OrderUsage(
    functions=(
        FunctionUsage(
            name="record_order",
            invocations=0.5,
            records=5,
            billed_ms=40,
            memory_mb=256,
            architecture=Architecture.ARM64,
        ),
    ),
    api_requests=1,
    api_kind=ApiKind.HTTP,
    sqs_requests=8,
    put_events_entries=6,
    dynamodb_write_units=7,
    dynamodb_read_units=3,
)


def results(usage: OrderUsage | None = None) -> dict[str, Any]:
    return report.results(
        imports=IMPORTS,
        hot=HOT,
        usage=usage,
        mode="full",
        run_machine={**MACHINE, "load_average_1m": 0.5},
        generated_at=datetime(2026, 11, 30, 12, 0, tzinfo=UTC),
    )


def test_import_ms_maps_every_handler_and_the_baselines_under_baseline_keys() -> None:
    data = results()
    assert data["import_ms"] == {
        "baseline_bare_interpreter": 21.0,
        "baseline_import_boto3": 131.0,
        "baseline_naive_handler": 436.0,
        "record_order": 120.4,
        "receive_webhook": 190.0,
    }
    assert data["handlers_over_import_goal"] == ["receive_webhook"]  # a baseline over the goal is not a miss
    assert data["s3transfer_imported"]["receive_webhook"] is True
    assert data["import_self_ms_by_package"] == {"receive_webhook": {"botocore": 40.0, "shared": 30.0}}
    assert (data["webhook_us"], data["webhook_body_bytes"], data["consumer_us_per_record"]) == (
        240.0,
        19_319,
        {"record_order": 200.0},
    )


def test_without_a_measured_usage_the_cost_keys_are_null_with_the_reason() -> None:
    data = results()
    for key in report.COST_KEYS:
        assert key in data
        assert data[key] is None
        assert "not measured yet" in data["not_measured"][key]
    json.dumps(data)  # everything in it is JSON


def test_a_measured_usage_is_priced_by_the_cost_model_next_to_its_naive_configuration() -> None:
    data = results(USAGE)
    assert data["cost_per_million_orders_usd"] == pytest.approx(cost_per_million(USAGE).total, abs=0.01)
    assert data["naive_cost_per_million_orders_usd"] == pytest.approx(cost_per_million(naive(USAGE)).total, abs=0.01)
    assert data["naive_cost_per_million_orders_usd"] > data["cost_per_million_orders_usd"]
    assert data["wcu_per_message"] == pytest.approx(7 / 6, abs=0.001)  # 5 records + 1 request
    assert "not_measured" not in data


def test_the_table_judges_each_goal_and_says_what_is_not_measured() -> None:
    text = report.markdown(results())
    rows = {line.split("|")[1].strip(): line for line in text.splitlines() if line.startswith("| ")}
    assert rows["record_order"].endswith("| met |")
    assert "**missed** by 50.0" in rows["receive_webhook"]
    assert rows["baseline_naive_handler"].endswith("| baseline |")
    assert "| yes |" in rows["receive_webhook"]
    assert "≤ 1000: met" in next(line for name, line in rows.items() if name.startswith("webhook verify"))
    assert "not measured yet" in rows["Crossdock"]
    assert "load average 0.5" in text


def test_figures_without_bytecode_get_their_own_key_and_column_only_when_measured() -> None:
    assert "import_no_bytecode_ms" not in results()
    measured = [replace(f, no_bytecode_ms=f.cold_ms * 2) for f in IMPORTS]
    data = report.results(
        imports=measured, hot=HOT, usage=None, mode="full", run_machine={**MACHINE, "load_average_1m": 0.5}
    )
    assert data["import_no_bytecode_ms"]["record_order"] == pytest.approx(240.8)
    row = next(line for line in report.markdown(data).splitlines() if line.startswith("| record_order |"))
    assert "| 240.8 |" in row


def test_the_table_shows_the_priced_figures_once_measured() -> None:
    text = report.markdown(results(USAGE))
    crossdock = next(line for line in text.splitlines() if line.startswith("| Crossdock |"))
    assert f"${cost_per_million(USAGE).total:,.2f}" in crossdock
    assert "not measured yet" not in text


def test_the_cli_writes_results_json_where_asked_and_prints_the_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    asked: dict[str, Any] = {}

    def fake_imports(**kwargs: Any) -> list[ImportFigure]:
        asked.update(kwargs)
        return IMPORTS

    monkeypatch.setattr(imports, "measure", fake_imports)
    monkeypatch.setattr(hot_path, "measure", lambda settings: HOT)
    usage_file = tmp_path / "usage.json"
    usage_file.write_text(USAGE.model_dump_json())
    out = tmp_path / "bench" / "results.json"

    assert cli.main(["--quick", "--out", str(out), "--usage", str(usage_file)]) == 0

    written = json.loads(out.read_text())
    assert written["mode"] == "quick"
    assert asked["runs"] == cli.QUICK_RUNS
    assert written["cost_per_million_orders_usd"] == pytest.approx(cost_per_million(USAGE).total, abs=0.01)
    assert "| receive_webhook |" in capsys.readouterr().out


def test_a_full_run_asks_for_at_least_ten_interpreters_per_module_and_explains_misses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: dict[str, Any] = {}
    monkeypatch.setattr(imports, "measure", lambda **kwargs: asked.update(kwargs) or IMPORTS)
    monkeypatch.setattr(hot_path, "measure", lambda settings: asked.update(settings=settings) or HOT)
    out = tmp_path / "results.json"

    assert cli.main(["--out", str(out)]) == 0

    assert asked["runs"] >= 10
    assert asked["explain_over_ms"] == 140
    assert asked["settings"].repeat > hot_path.QUICK.repeat
    written = json.loads(out.read_text())
    assert written["mode"] == "full"
    assert written["cost_per_million_orders_usd"] is None
