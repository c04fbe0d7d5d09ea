"""From what one window of the local stack counted to what one order uses, as AWS bills it (``OrderUsage``).

Pure arithmetic, no stack: the counts come from ``infra.bench.window``. The rules, each as AWS bills:

- Lambda: every invocation is a request; each one's duration is billed rounded up to the next whole ms, at the
  template's memory and architecture. A cold start's INIT is billed too (managed runtimes, since August 2025).
- SQS, three sources, all priced as standard-queue requests:
  1. the functions' own calls (SendMessage to park or retry a record, ...), counted by the AWS proxy;
  2. EventBridge delivering to a queue target: one SendMessage per event per SQS target;
  3. the event source mapping, per batch it hands a function (``esm_requests``): the ReceiveMessage calls that
     returned its records, plus one DeleteMessageBatch per 10 records it deletes (the records that succeeded;
     a failed record is left to reappear, which costs no request). The mapping's empty long polls on an idle
     queue do not grow with orders: they are a fixed monthly cost (``idle_polls_per_month``), not an order's.
- A message (for write units per message) is an SQS record a function handles or an API request.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from infra.bench.cost import ApiKind, Architecture, FunctionUsage, OrderUsage

SQS_BATCH_ENTRIES = 10  # DeleteMessageBatch takes at most 10 entries
# The event source mapping's idle polling (AWS Lambda docs, "Using Lambda with Amazon SQS"): long polls of 20 s,
# from the mapping's minimum of 5 concurrent pollers. An estimate: AWS does not publish the idle poller count.
IDLE_POLLERS_PER_QUEUE = 5
LONG_POLL_SECONDS = 20
SECONDS_PER_MONTH = 30 * 24 * 3600
_LOGICAL_FUNCTION = re.compile(r"^Functions(?P<name>[A-Za-z0-9]+?)[0-9A-F]{8}$")


@dataclass(frozen=True)
class Batch:
    """One batch an event source mapping handed a function."""

    receives: int  # ReceiveMessage calls that returned its records
    records: int
    failed: int  # records left on the queue to come back


@dataclass(frozen=True)
class FunctionWindow:
    """One function's invocations in the window."""

    name: str
    memory_mb: int
    architecture: Architecture
    durations_ms: tuple[float, ...] = ()
    init_ms: tuple[float, ...] = ()
    batches: tuple[Batch, ...] = ()  # empty unless an SQS queue triggers it


@dataclass(frozen=True)
class WindowCounts:
    """Everything the window counted, for ``orders`` orders."""

    orders: int
    functions: tuple[FunctionWindow, ...]
    aws_calls: Mapping[str, int]  # the functions' own AWS calls, "service:Operation"
    dynamodb_read_units: float
    dynamodb_write_units: float
    put_events_entries: int
    rule_sqs_deliveries: int  # EventBridge → SQS target sends
    api_requests: int
    api_kind: ApiKind
    log_bytes: int = 0
    failed_conditional_write_units: float = 0.0  # billed although the reply carries no ConsumedCapacity


def esm_requests(batches: Iterable[Batch]) -> int:
    """SQS requests the event source mapping makes for these batches: the receives that returned their records,
    and one DeleteMessageBatch per 10 records deleted."""
    return sum(b.receives + math.ceil((b.records - b.failed) / SQS_BATCH_ENTRIES) for b in batches)


def billed_ms(durations_ms: Iterable[float]) -> int:
    """Lambda bills each invocation's duration rounded up to the whole millisecond."""
    return sum(math.ceil(d) for d in durations_ms)


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100), linear between the closest ranks (numpy's default, "linear")."""
    if not values:
        raise ValueError("no values: a percentile is undefined")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} is outside 0-100")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def short_name(logical_id: str) -> str:
    """``FunctionsSyncShopifyAvailabilityA397C967`` → ``sync_shopify_availability``."""
    match = _LOGICAL_FUNCTION.match(logical_id)
    camel = match.group("name") if match else logical_id
    return re.sub(r"(?<!^)(?=[A-Z])", "_", camel).lower()


def sqs_requests(counts: WindowCounts) -> dict[str, int]:
    """The window's SQS requests by source."""
    own = sum(n for call, n in counts.aws_calls.items() if call.startswith("sqs:"))
    return {
        "functions": own,
        "eventbridge_targets": counts.rule_sqs_deliveries,
        "event_source_mappings": esm_requests(b for f in counts.functions for b in f.batches),
    }


def order_usage(counts: WindowCounts) -> OrderUsage:
    """The window's counts divided by its orders."""
    orders = _orders(counts)
    functions = tuple(_function_usage(f, orders) for f in counts.functions if f.durations_ms)
    secrets = sum(n for call, n in counts.aws_calls.items() if call.startswith("secretsmanager:"))
    return OrderUsage(
        functions=functions,
        api_requests=counts.api_requests / orders,
        api_kind=counts.api_kind,
        sqs_requests=sum(sqs_requests(counts).values()) / orders,
        put_events_entries=counts.put_events_entries / orders,
        dynamodb_write_units=(counts.dynamodb_write_units + counts.failed_conditional_write_units) / orders,
        dynamodb_read_units=counts.dynamodb_read_units / orders,
        secrets_manager_calls=secrets / orders,
        cloudwatch_log_bytes=counts.log_bytes / orders,
    )


def _function_usage(function: FunctionWindow, orders: int) -> FunctionUsage:
    invocations = len(function.durations_ms)
    billed = billed_ms(function.durations_ms) + billed_ms(function.init_ms)
    return FunctionUsage(
        name=function.name,
        invocations=invocations / orders,
        records=sum(b.records for b in function.batches) / orders,
        billed_ms=billed / invocations,
        memory_mb=function.memory_mb,
        architecture=function.architecture,
    )


def calls_per_order(counts: WindowCounts) -> dict[str, float]:
    """Per order, by API as billed: the figures ``results.json`` keeps under ``aws_calls_per_order``."""
    orders = _orders(counts)
    sqs = sqs_requests(counts)
    per_order = {
        "put_events_entries": counts.put_events_entries / orders,
        "sqs_requests": sum(sqs.values()) / orders,
        **{f"sqs_requests_{source}": n / orders for source, n in sqs.items()},
        "dynamodb_read_units": counts.dynamodb_read_units / orders,
        "dynamodb_write_units": (counts.dynamodb_write_units + counts.failed_conditional_write_units) / orders,
        "lambda_invocations": sum(len(f.durations_ms) for f in counts.functions) / orders,
        "api_requests": counts.api_requests / orders,
        "cloudwatch_log_bytes": counts.log_bytes / orders,
    }
    calls = {f"call {name}": n / orders for name, n in sorted(counts.aws_calls.items())}
    return {key: round(value, 3) for key, value in {**per_order, **calls}.items()}


def lambda_per_function(counts: WindowCounts) -> dict[str, dict[str, object]]:
    """Per function: invocations and billed ms per order (INIT included), memory and architecture."""
    orders = _orders(counts)
    table: dict[str, dict[str, object]] = {}
    for function in sorted(counts.functions, key=lambda f: f.name):
        if not function.durations_ms:
            continue
        table[function.name] = {
            "invocations_per_order": round(len(function.durations_ms) / orders, 3),
            "records_per_order": round(sum(b.records for b in function.batches) / orders, 3),
            "billed_ms_per_order": round((billed_ms(function.durations_ms) + billed_ms(function.init_ms)) / orders, 1),
            "init_ms_per_order": round(billed_ms(function.init_ms) / orders, 1),
            "cold_starts": len(function.init_ms),
            "median_ms": round(percentile(function.durations_ms, 50), 1),
            "memory_mb": function.memory_mb,
            "architecture": function.architecture.value,
        }
    return table


def idle_polls_per_month(queues: int) -> float:
    """SQS requests a month the mappings make on idle queues (the estimate in the module docstring)."""
    return queues * IDLE_POLLERS_PER_QUEUE * SECONDS_PER_MONTH / LONG_POLL_SECONDS


def _orders(counts: WindowCounts) -> int:
    if counts.orders <= 0:
        raise ValueError("no orders in the window: per-order figures are undefined")
    return counts.orders
