"""bench/results.json and the markdown table: the keys the issue names, goals judged right, cost left unmeasured
until the per-order usage is given or the stack measured it, and the CLI wiring (with the measurements stubbed: no
subprocess storm, no local stack)."""

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
from infra.bench.figures import InventoryFigures, JourneyFigures, StackFigures
from infra.bench.hot_path import HotPathFigures
from infra.bench.imports import ImportFigure
from infra.bench.usage import Batch, FunctionWindow, WindowCounts, order_usage

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


# Two orders' window: 4 record_order batches of one record, 2 webhooks, 6 write units.
COUNTS = WindowCounts(
    orders=2,
    functions=(
        FunctionWindow(
            name="record_order",
            memory_mb=256,
            architecture=Architecture.ARM64,
            durations_ms=(10.2, 10.0, 30.0, 20.0),
            batches=(Batch(1, 1, 0),) * 4,
        ),
        FunctionWindow(
            name="receive_webhook", memory_mb=256, architecture=Architecture.ARM64, durations_ms=(50.0, 70.0)
        ),
    ),
    aws_calls={"events:PutEvents": 2, "dynamodb:PutItem": 6},
    dynamodb_read_units=1.0,
    dynamodb_write_units=6.0,
    put_events_entries=4,
    rule_sqs_deliveries=4,
    api_requests=2,
    api_kind=ApiKind.HTTP,
    log_bytes=10_000,
)
STACK = StackFigures(
    journey=JourneyFigures(
        counts=COUNTS,
        units_by_table={"write": {"OrdersTable PutItem": 4.0, "IdempotencyTable PutItem": 2.0}, "read": {}},
        statuses={"fulfilled": 2},
        shipments=2,
        largest_event_bytes=9_000,
        events_by_type={"OrderReceived": 2, "OrderAccepted": 2},
        order_seconds=3.0,
        ship_seconds=1.0,
    ),
    inventory=InventoryFigures(
        changes=5_000, calls={"shopify": 2, "bigcommerce": 1}, lag_ms=tuple(range(100, 200)), seconds=12.0
    ),
    ack_ms=tuple(float(n) for n in range(1, 101)),
    schedules_per_month={"Sweep": 43_200.0},
    queues_with_mappings=2,
    dynamodb_engine="DynamoDB Local",
)


def results(usage: OrderUsage | None = None, stack: StackFigures | None = None) -> dict[str, Any]:
    return report.results(
        imports=IMPORTS,
        hot=HOT,
        usage=usage,
        mode="full",
        run_machine={**MACHINE, "load_average_1m": 0.5},
        generated_at=datetime(2026, 11, 30, 12, 0, tzinfo=UTC),
        stack=stack,
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
    assert not set(report.COST_KEYS) & set(data["not_measured"])  # only the stack's figures are missing


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
    monkeypatch.setattr(cli, "measure_stack", _no_stack)
    usage_file = tmp_path / "usage.json"
    usage_file.write_text(USAGE.model_dump_json())
    out = tmp_path / "bench" / "results.json"

    assert cli.main(["--quick", "--out", str(out), "--usage", str(usage_file)]) == 0

    written = json.loads(out.read_text())
    assert written["mode"] == "quick"
    assert asked["runs"] == cli.QUICK_RUNS
    assert written["cost_per_million_orders_usd"] == pytest.approx(cost_per_million(USAGE).total, abs=0.01)
    assert "| receive_webhook |" in capsys.readouterr().out


def _no_stack() -> StackFigures:
    raise AssertionError("the local stack was started")


def test_a_full_run_asks_for_at_least_ten_interpreters_per_module_and_explains_misses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: dict[str, Any] = {}
    monkeypatch.setattr(imports, "measure", lambda **kwargs: asked.update(kwargs) or IMPORTS)
    monkeypatch.setattr(hot_path, "measure", lambda settings: asked.update(settings=settings) or HOT)
    monkeypatch.setattr(cli, "measure_stack", _no_stack)
    out = tmp_path / "results.json"

    assert cli.main(["--out", str(out), "--no-stack"]) == 0

    assert asked["runs"] >= 10
    assert asked["explain_over_ms"] == 140
    assert asked["settings"].repeat > hot_path.QUICK.repeat
    written = json.loads(out.read_text())
    assert written["mode"] == "full"
    assert written["cost_per_million_orders_usd"] is None


def test_without_the_stack_its_keys_are_null_with_the_reason() -> None:
    data = results()
    for key in ("orders_per_second", "ack_latency_ms", "inventory", "aws_calls_per_order", "lambda"):
        assert data[key] is None
        assert "skipped" in data["not_measured"][key]
    assert "the local stack was skipped" in report.markdown(data)


def test_the_stack_s_journey_is_priced_and_its_figures_reported_per_order() -> None:
    data = results(stack=STACK)

    assert data["cost_per_million_orders_usd"] == pytest.approx(cost_per_million(order_usage(COUNTS)).total, abs=0.01)
    # 6 write units over 4 records and 2 requests.
    assert data["wcu_per_message"] == pytest.approx(1.0)
    assert data["orders_per_second"] == pytest.approx(0.5)  # 2 orders in 3 s + 1 s
    assert data["ack_latency_ms"] == {"p50": 50.5, "p99": 99.0, "deliveries": 100}
    assert data["inventory"]["channel_calls_per_10k_changes"] == {"bigcommerce": 2.0, "shopify": 4.0}
    assert data["inventory"]["propagation_lag_ms"] == {"p50": 149.5, "p99": 198.0}
    calls = data["aws_calls_per_order"]
    # SQS: 4 EventBridge sends + 4 batches x (1 receive + 1 delete), over 2 orders.
    assert (calls["sqs_requests"], calls["put_events_entries"], calls["api_requests"]) == (6.0, 2.0, 1.0)
    assert calls["dynamodb_write_units"] == 3.0
    record = data["lambda"]["record_order"]
    assert (record["invocations_per_order"], record["billed_ms_per_order"]) == (2.0, 35.5)  # (11 + 10 + 30 + 20) / 2
    assert (record["memory_mb"], record["architecture"]) == (256, "arm64")
    assert data["dynamodb_units_per_order_by_table"]["write"] == {
        "OrdersTable PutItem": 2.0,
        "IdempotencyTable PutItem": 1.0,
    }
    assert data["fixed_per_month"]["scheduled_invocations"] == 43_200
    assert data["journey"]["events_per_order_by_type"] == {"OrderReceived": 1.0, "OrderAccepted": 1.0}
    assert "not_measured" not in data
    json.dumps(data)


def test_a_usage_given_on_the_command_line_wins_over_the_stack_s() -> None:
    assert results(USAGE, STACK)["cost_per_million_orders_usd"] == pytest.approx(
        cost_per_million(USAGE).total, abs=0.01
    )


def test_the_table_shows_the_stack_s_figures_and_the_bill_line_by_line() -> None:
    text = report.markdown(results(stack=STACK))
    rows = {line.split("|")[1].strip(): line for line in text.splitlines() if line.startswith("| ")}
    assert "| 0.50 |" in rows["orders per second, first webhook to quiet (order + ship phases: 3.0 s + 1.0 s)"]
    assert "50 / 99" in next(line for name, line in rows.items() if name.startswith("webhook ack latency"))
    assert "bigcommerce 2, shopify 4" in rows["channel calls per 10,000 changes over 1,000 SKUs"]
    assert rows["record_order"].startswith("| record_order | 2 | 2 | 35.5 |")
    assert rows["dynamodb_writes"].startswith("| dynamodb_writes | 1.88 |")  # 3 units x $0.625
    assert "A message is an SQS record a function handles, or an API request: 3 per order." in text


@pytest.mark.parametrize("flags", [["--quick"], ["--no-stack"]])
def test_quick_and_no_stack_runs_never_start_the_stack(
    flags: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports, "measure", lambda **kwargs: IMPORTS)
    monkeypatch.setattr(hot_path, "measure", lambda settings: HOT)
    monkeypatch.setattr(cli, "measure_stack", _no_stack)
    assert cli.main([*flags, "--out", str(tmp_path / "results.json")]) == 0


def test_a_full_run_measures_on_the_stack_and_writes_its_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(imports, "measure", lambda **kwargs: IMPORTS)
    monkeypatch.setattr(hot_path, "measure", lambda settings: HOT)
    monkeypatch.setattr(cli, "measure_stack", lambda: STACK)
    out = tmp_path / "results.json"

    assert cli.main(["--out", str(out)]) == 0

    written = json.loads(out.read_text())
    assert written["orders_per_second"] == pytest.approx(0.5)
    assert written["cost_per_million_orders_usd"] is not None
    assert set(written["lambda"]) == {"record_order", "receive_webhook"}
