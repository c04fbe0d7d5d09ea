"""The cost model on small usages computed by hand: a wrong price, unit or rounding fails one of these."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from infra.bench.cost import (
    ApiKind,
    Architecture,
    FunctionUsage,
    OrderUsage,
    cost_per_million,
    naive,
    wcu_per_message,
)


def function(**changes: Any) -> FunctionUsage:
    fields: dict[str, Any] = {
        "name": "f",
        "invocations": 1,
        "billed_ms": 100,
        "memory_mb": 1024,
        "architecture": Architecture.ARM64,
    }
    return FunctionUsage(**{**fields, **changes})


def usage(*functions: FunctionUsage, **changes: Any) -> OrderUsage:
    fields: dict[str, Any] = {
        "functions": functions,
        "api_requests": 0,
        "api_kind": ApiKind.HTTP,
        "sqs_requests": 0,
        "put_events_entries": 0,
        "dynamodb_write_units": 0,
        "dynamodb_read_units": 0,
    }
    return OrderUsage(**{**fields, **changes})


def test_lambda_requests_and_arm64_compute_per_million_orders() -> None:
    # 1M invocations x $0.20/1M; 1M x 0.1 s x 1 GB = 100,000 GB-s x $0.0000133334.
    cost = cost_per_million(usage(function()))
    assert cost.lambda_requests == pytest.approx(0.20)
    assert cost.lambda_compute == pytest.approx(1.33334)
    assert cost.total == pytest.approx(1.53334)


def test_x86_compute_counts_memory_in_gb_of_1024_mb() -> None:
    # 2 invocations x 0.2 s x 0.5 GB = 0.2 GB-s per order; x 1M x $0.0000166667.
    cost = cost_per_million(usage(function(invocations=2, billed_ms=200, memory_mb=512, architecture="x86_64")))
    assert cost.lambda_compute == pytest.approx(3.33334)
    assert cost.lambda_requests == pytest.approx(0.40)


@pytest.mark.parametrize(("kind", "expected"), [(ApiKind.HTTP, 2.00), (ApiKind.REST, 7.00)])
def test_api_requests_are_priced_by_api_kind(kind: ApiKind, expected: float) -> None:
    assert cost_per_million(usage(api_requests=2, api_kind=kind)).api == pytest.approx(expected)


def test_queues_bus_table_and_secrets_lines() -> None:
    cost = cost_per_million(
        usage(
            sqs_requests=5,
            sqs_fifo_requests=2,
            put_events_entries=3,
            dynamodb_write_units=2,
            dynamodb_read_units=4,
            secrets_manager_calls=2,
        )
    )
    assert cost.sqs == pytest.approx(5 * 0.40 + 2 * 0.50)
    assert cost.eventbridge == pytest.approx(3.00)
    assert cost.dynamodb_writes == pytest.approx(1.25)
    assert cost.dynamodb_reads == pytest.approx(0.50)
    assert cost.secrets_manager == pytest.approx(10.00)  # $0.05 per 10,000 calls
    assert cost.total == pytest.approx(3.00 + 3.00 + 1.25 + 0.50 + 10.00)
    assert cost.model_dump()["total"] == pytest.approx(cost.total)  # the JSON carries the total too


def test_naive_runs_each_record_alone_on_x86_512_behind_a_rest_api_with_3_writes_per_hop() -> None:
    consumer = function(name="consumer", invocations=0.2, records=2, billed_ms=50, memory_mb=256)
    intake = function(name="intake", invocations=1, billed_ms=20, memory_mb=256)
    measured = usage(consumer, intake, api_requests=1, sqs_requests=1.5, dynamodb_write_units=2, put_events_entries=3)

    made = naive(measured)

    by_name = {f.name: f for f in made.functions}
    assert by_name["consumer"].invocations == 2
    assert by_name["consumer"].billed_ms == pytest.approx(5)  # the same 10 ms of work per order, per record
    assert by_name["intake"].invocations == 1
    assert {(f.memory_mb, f.architecture) for f in made.functions} == {(512, Architecture.X86_64)}
    assert (made.api_kind, made.sqs_requests, made.dynamodb_write_units) == (ApiKind.REST, 6, 9)
    assert made.put_events_entries == 3
    cost = cost_per_million(made)
    # 3 invocations; (2 x 5 ms + 1 x 20 ms) x 0.5 GB = 0.015 GB-s; 1 REST request; 6 SQS requests; 9 write units.
    assert cost.lambda_requests == pytest.approx(0.60)
    assert cost.lambda_compute == pytest.approx(0.015 * 0.0000166667 * 1_000_000)
    assert cost.api == pytest.approx(3.50)
    assert cost.sqs == pytest.approx(2.40)
    assert cost.dynamodb_writes == pytest.approx(5.625)


def test_write_units_per_message_counts_records_and_requests() -> None:
    measured = usage(function(records=3), api_requests=1, dynamodb_write_units=5)
    assert wcu_per_message(measured) == pytest.approx(1.25)
    with pytest.raises(ValueError, match="undefined"):
        wcu_per_message(usage(function()))


def test_a_negative_count_or_an_unknown_architecture_is_refused() -> None:
    with pytest.raises(ValidationError):
        usage(function(), sqs_requests=-1)
    with pytest.raises(ValidationError):
        function(architecture="sparc")
