"""The local stack's part of ``bench/results.json`` and of the table: throughput, ack latency, inventory, AWS calls
and Lambda time per order, write units by table."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from infra.bench import usage
from infra.bench.figures import StackFigures

CHUNK_BYTES = 64 * 1024
STACK_KEYS = ("orders_per_second", "ack_latency_ms", "inventory", "aws_calls_per_order", "lambda")
SKIPPED = "not measured: the local stack was skipped (--quick or --no-stack)"
CAPACITY_SOURCE = (
    "ConsumedCapacity (ReturnConsumedCapacity INDEXES) as {engine} returns it, transactions doubled (it reports "
    "them at the standard rate), plus 1 write unit per failed conditional write and 2 per write of a cancelled "
    "transaction (billed, though the reply carries no capacity)"
)


def stack_section(figures: StackFigures | None) -> dict[str, Any]:
    if figures is None:
        return dict.fromkeys(STACK_KEYS)
    counts = figures.journey.counts
    stock = figures.inventory
    idle_polls = usage.idle_polls_per_month(figures.queues_with_mappings)
    scheduled = sum(figures.schedules_per_month.values())
    return {
        "orders_per_second": round(figures.journey.orders_per_second, 2),
        "ack_latency_ms": _p50_p99(figures.ack_ms) | {"deliveries": len(figures.ack_ms)},
        "inventory": {
            "channel_calls_per_10k_changes": stock.calls_per_10k_changes(),
            "propagation_lag_ms": _p50_p99(stock.lag_ms),
            "changes": stock.changes,
            "skus_published": len(stock.lag_ms),
            "burst_seconds": round(stock.seconds, 1),
        },
        "aws_calls_per_order": usage.calls_per_order(counts),
        "lambda": usage.lambda_per_function(counts),
        "dynamodb_units_per_order_by_table": {
            kind: {key: round(value / counts.orders, 3) for key, value in units.items()}
            for kind, units in figures.journey.units_by_table.items()
        },
        "journey": {
            "orders": counts.orders,
            "shipments": figures.journey.shipments,
            "largest_event_bytes": figures.journey.largest_event_bytes,
            "events_per_order_by_type": {
                kind: round(n / counts.orders, 2) for kind, n in figures.journey.events_by_type.items()
            },
            "final_statuses": figures.journey.statuses,
            "order_phase_seconds": round(figures.journey.order_seconds, 1),
            "ship_phase_seconds": round(figures.journey.ship_seconds, 1),
            "notes": figures.journey.notes,
        },
        # Not per order: what runs on the clock, whatever the orders. Lambda requests and SQS requests only.
        "fixed_per_month": {
            "scheduled_invocations": round(scheduled),
            "idle_queue_polls": round(idle_polls),
            "usd_requests_only": round(scheduled * 0.20 / 1e6 + idle_polls * 0.40 / 1e6, 2),
            "assumption": f"{usage.IDLE_POLLERS_PER_QUEUE} pollers per queue long-polling "
            f"{usage.LONG_POLL_SECONDS} s on {figures.queues_with_mappings} queues; the scheduled rules' compute "
            "is left out",
        },
        "stack": {
            "dynamodb_engine": figures.dynamodb_engine,
            "write_units_from": CAPACITY_SOURCE.format(engine=figures.dynamodb_engine),
            "log_level": "INFO (prod's), on the dev template",
            "scheduled_rules": "disabled during the run (fixed_per_month)",
            "phase_seconds": dict(figures.phase_seconds),
            "load_average_1m_at_start": figures.load_average_1m,
        },
    }


def _p50_p99(values: tuple[float, ...] | tuple[int, ...]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p99": None}
    return {"p50": round(usage.percentile(values, 50), 1), "p99": round(usage.percentile(values, 99), 1)}


def markdown_lines(data: Mapping[str, Any]) -> list[str]:
    if data.get("orders_per_second") is None:
        return ["### Local stack", "", SKIPPED + "."]
    journey, stock, ack = data["journey"], data["inventory"], data["ack_latency_ms"]
    lag = stock["propagation_lag_ms"]
    calls = ", ".join(f"{channel} {n:g}" for channel, n in stock["channel_calls_per_10k_changes"].items())
    rows = [
        f"### Local stack ({journey['orders']} orders, every channel kind; load average "
        f"{data['stack']['load_average_1m_at_start']} at its start)",
        "",
        "| figure | value |",
        "|---|---:|",
        f"| orders per second, first webhook to quiet (order + ship phases: {journey['order_phase_seconds']} s + "
        f"{journey['ship_phase_seconds']} s) | {data['orders_per_second']:.2f} |",
        f"| webhook ack latency p50 / p99 ({ack['deliveries']} signed Shopify deliveries, ms) | "
        f"{_ms(ack['p50'])} / {_ms(ack['p99'])} |",
        f"| channel calls per 10,000 changes over 1,000 SKUs | {calls} |",
        f"| propagation lag p50 / p99 ({stock['skus_published']} SKU publications, ms) | "
        f"{_ms(lag['p50'])} / {_ms(lag['p99'])} |",
        "",
        "#### AWS usage per order",
        "",
        "| API | per order |",
        "|---|---:|",
    ]
    for key, value in data["aws_calls_per_order"].items():
        rows.append(f"| {key} | {value:g} |")
    rows += [
        "",
        "#### Lambda per order (billed ms rounded up per invocation, INIT included)",
        "",
        "| function | invocations | records | billed ms | cold starts | median ms | memory | arch |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, f in data["lambda"].items():
        rows.append(
            f"| {name} | {f['invocations_per_order']:g} | {f['records_per_order']:g} | {f['billed_ms_per_order']:g} |"
            f" {f['cold_starts']} | {f['median_ms']:g} | {f['memory_mb']} | {f['architecture']} |"
        )
    events = ", ".join(f"{kind} {n:g}" for kind, n in journey["events_per_order_by_type"].items())
    rows += ["", f"Events per order on the bus, by type: {events}."]
    rows += ["", "#### DynamoDB units per order, by table/index and operation", ""]
    for kind in ("write", "read"):
        units = data["dynamodb_units_per_order_by_table"].get(kind, {})
        rows.append(f"- {kind}: " + ", ".join(f"{key} {value:g}" for key, value in units.items()))
    fixed = data["fixed_per_month"]
    rows += [
        "",
        f"Not per order, each month: {fixed['scheduled_invocations']:,} scheduled invocations and about "
        f"{fixed['idle_queue_polls']:,} idle queue polls, ${fixed['usd_requests_only']:.2f} in requests "
        f"({fixed['assumption']}).",
    ]
    largest = journey["largest_event_bytes"]
    chunks = "one chunk each" if largest <= CHUNK_BYTES else "**some take more than one: counted here as one**"
    rows.append(f"Largest event published: {largest:,} bytes (EventBridge and SQS bill per 64 KB: {chunks}).")
    rows += [f"Note: {note}" for note in journey["notes"]]
    return rows


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f}"
