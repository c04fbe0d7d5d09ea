"""``bench/results.json`` and the markdown table, both from one dict: the table never says what the file does not."""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from infra.bench import report_stack
from infra.bench import usage as _usage
from infra.bench.cost import OrderUsage, cost_per_million, naive, wcu_per_message
from infra.bench.figures import StackFigures
from infra.bench.hot_path import GOAL_WEBHOOK_US, HotPathFigures
from infra.bench.imports import GOAL_MS, ImportFigure

GOAL_COST_USD = 14.0
GOAL_WCU_PER_MESSAGE = 1.5
COST_KEYS = ("cost_per_million_orders_usd", "naive_cost_per_million_orders_usd", "wcu_per_message")
NOT_MEASURED = (
    "not measured yet: the per-order AWS usage comes from the journey on the local stack (--quick and --no-stack "
    "skip it)"
)
# What a message is, for write units per message (the same in the naive configuration).
MESSAGE = "an SQS record a function handles, or an API request"


def machine() -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu": _cpu_model(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def _cpu_model() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return platform.processor()
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "")


def results(
    *,
    imports: Sequence[ImportFigure],
    hot: HotPathFigures,
    usage: OrderUsage | None,
    mode: str,
    run_machine: Mapping[str, Any],
    generated_at: datetime | None = None,
    stack: StackFigures | None = None,
) -> dict[str, Any]:
    """``usage``: priced as given; without it, the usage the stack's journey measured (if the stack ran)."""
    handlers = [f for f in imports if not f.baseline]
    if usage is None and stack is not None:
        usage = _usage.order_usage(stack.journey.counts)
    stack_data = report_stack.stack_section(stack)
    cost = cost_section(usage)
    skipped = {key: report_stack.SKIPPED for key in report_stack.STACK_KEYS if stack is None}
    not_measured = {**cost.pop("not_measured", {}), **skipped}
    data: dict[str, Any] = {
        "generated_at": (generated_at or datetime.now(UTC)).isoformat(timespec="seconds"),
        "mode": mode,
        "machine": dict(run_machine),
        "goals": {
            "handler_import_ms": GOAL_MS,
            "webhook_us": GOAL_WEBHOOK_US,
            "cost_per_million_orders_usd": GOAL_COST_USD,
            "wcu_per_message": GOAL_WCU_PER_MESSAGE,
        },
        # Spawn to handler imported, the interpreter's start included; baselines under "baseline_*".
        "import_ms": {f.name: round(f.cold_ms, 1) for f in imports},
        "import_only_ms": {f.name: round(f.import_only_ms, 1) for f in imports},
        "import_cpu_ms": {f.name: round(f.cpu_ms, 1) for f in imports},
        "import_runs": min((f.runs for f in imports), default=0),
        "s3transfer_imported": {f.name: f.s3transfer for f in imports},
        "import_self_ms_by_package": {
            f.name: {name: round(ms, 1) for name, ms in f.self_ms_by_package.items()}
            for f in handlers
            if f.self_ms_by_package
        },
        **(
            {"import_no_bytecode_ms": {f.name: round(f.no_bytecode_ms, 1) for f in imports if f.no_bytecode_ms}}
            if any(f.no_bytecode_ms for f in imports)
            else {}
        ),
        "handlers_over_import_goal": sorted(f.name for f in handlers if f.cold_ms > GOAL_MS),
        "webhook_us": round(hot.webhook_us, 1),
        "webhook_body_bytes": hot.webhook_body_bytes,
        "webhook_line_items": hot.webhook_line_items,
        "intake_us": round(hot.intake_us, 1),
        "consumer_us_per_record": {name: round(us, 1) for name, us in hot.consumer_us.items()},
        "consumer_events": dict(hot.consumer_events),
        **cost,
        **stack_data,
        **({"not_measured": not_measured} if not_measured else {}),
    }
    return data


def cost_section(usage: OrderUsage | None) -> dict[str, Any]:
    if usage is None:
        return {**dict.fromkeys(COST_KEYS), "not_measured": dict.fromkeys(COST_KEYS, NOT_MEASURED)}
    measured, naive_usage = cost_per_million(usage), naive(usage)
    return {
        "cost_per_million_orders_usd": round(measured.total, 2),
        "naive_cost_per_million_orders_usd": round(cost_per_million(naive_usage).total, 2),
        "wcu_per_message": round(wcu_per_message(usage), 3),
        "messages_per_order": round(usage.messages, 3),
        "message_means": MESSAGE,
        "cost_breakdown_usd": measured.model_dump(),
        "naive_cost_breakdown_usd": cost_per_million(naive_usage).model_dump(),
        "usage_per_order": usage.model_dump(mode="json"),
    }


def write(data: Mapping[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")


def markdown(data: Mapping[str, Any]) -> str:
    run = data["machine"]
    lines = [
        f"## Crossdock bench, {data['generated_at']} ({data['mode']})",
        "",
        f"{run['cpu']} ({run['cpus']} CPUs), {run['platform']}, Python {run['python']}, "
        f"load average {run['load_average_1m']} at the start"
        + (f", {run['load_average_1m_end']} at the end." if "load_average_1m_end" in run else "."),
        "",
        *_imports_table(data),
        "",
        *_hot_path_table(data),
        "",
        *_cost_table(data),
        "",
        *report_stack.markdown_lines(data),
    ]
    return "\n".join(lines) + "\n"


def _met(value: float | None, goal: float, digits: int = 1) -> str:
    if value is None:
        return "not measured yet"
    return "met" if value <= goal else f"**missed** by {value - goal:,.{digits}f}"


def _imports_table(data: Mapping[str, Any]) -> list[str]:
    goal = data["goals"]["handler_import_ms"]
    no_bytecode = data.get("import_no_bytecode_ms")
    extra_head, extra_rule = (" no .pyc (as on Lambda) |", "---:|") if no_bytecode else ("", "")
    rows = [
        f"### Cold-start proxy: import, median of {data['import_runs']} fresh interpreters (ms)",
        "",
        f"| module | spawn to imported | import only | CPU |{extra_head} s3transfer | goal ≤ {goal:g} |",
        f"|---|---:|---:|---:|{extra_rule}:---:|---|",
    ]
    for name, cold in data["import_ms"].items():
        verdict = "baseline" if name.startswith("baseline") else _met(cold, goal)
        s3transfer = "yes" if data["s3transfer_imported"][name] else "no"
        extra = f" {no_bytecode[name]:.1f} |" if no_bytecode else ""
        rows.append(
            f"| {name} | {cold:.1f} | {data['import_only_ms'][name]:.1f} | {data['import_cpu_ms'][name]:.1f} |"
            f"{extra} {s3transfer} | {verdict} |"
        )
    for name, packages in data["import_self_ms_by_package"].items():
        spent = ", ".join(f"{package} {ms:.0f}" for package, ms in packages.items())
        rows.append("")
        rows.append(f"- {name}: import self time by package (ms, one `-X importtime` run): {spent}")
    return rows


def _hot_path_table(data: Mapping[str, Any]) -> list[str]:
    goal = data["goals"]["webhook_us"]
    rows = [
        "### Warm hot path (µs, median of the repeats)",
        "",
        "| path | µs | goal |",
        "|---|---:|---|",
        f"| webhook verify + parse + map ({data['webhook_body_bytes']:,} B Shopify order, "
        f"{data['webhook_line_items']} lines) | {data['webhook_us']:.1f} | "
        f"≤ {goal:g}: {_met(data['webhook_us'], goal)} |",
        f"| whole intake logic on fakes (+ idempotent publish, response) | {data['intake_us']:.1f} | |",
    ]
    for name, us in data["consumer_us_per_record"].items():
        rows.append(f"| {name}, per SQS record ({data['consumer_events'][name]}) | {us:.1f} | |")
    return rows


def _cost_table(data: Mapping[str, Any]) -> list[str]:
    def usd(value: float | None) -> str:
        return "not measured yet" if value is None else f"${value:,.2f}"

    cost, naive_cost, wcu = (data[key] for key in COST_KEYS)
    goals = data["goals"]
    return [
        "### Cost per 1M orders (us-east-1 list prices)",
        "",
        "| figure | value | goal |",
        "|---|---:|---|",
        f"| Crossdock | {usd(cost)} | ≤ ${goals['cost_per_million_orders_usd']:g}: "
        f"{_met(cost, goals['cost_per_million_orders_usd'], digits=2)} |",
        f"| naive (batch 1, REST, x86 512 MB, 3 WCU per hop) | {usd(naive_cost)} | |",
        f"| write units per message | {'not measured yet' if wcu is None else f'{wcu:.3f}'} | "
        f"≤ {goals['wcu_per_message']:g}: {_met(wcu, goals['wcu_per_message'], digits=3)} |",
        *_breakdown(data),
    ]


def _breakdown(data: Mapping[str, Any]) -> list[str]:
    """Each line of the bill, Crossdock next to naive, largest first."""
    if data["cost_per_million_orders_usd"] is None:
        return []
    measured, naive_lines = data["cost_breakdown_usd"], data["naive_cost_breakdown_usd"]
    lines = sorted((k for k in measured if k != "total"), key=lambda k: -measured[k])
    return [
        "",
        f"A message is {MESSAGE}: {data['messages_per_order']:g} per order.",
        "",
        "| line of the bill (USD per 1M orders) | Crossdock | naive |",
        "|---|---:|---:|",
        *(f"| {line} | {measured[line]:,.2f} | {naive_lines[line]:,.2f} |" for line in lines),
    ]
