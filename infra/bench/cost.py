"""The cost model: what one order uses of each AWS API, priced per 1M orders, next to a naive configuration.

The usage per order is measured on the local stack (the AWS calls its functions make, counted by API); this module
only prices it. ``naive`` turns a measured usage into the documented naive configuration, priced by the same code:
batch size 1, a REST API, x86 at 512 MB and 3 write units per hop.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, computed_field

# us-east-1 list prices in USD, copied from ../shared/REFERENCE.md ("Prices") on 2026-11-30 and checked that day
# against aws.amazon.com/lambda/pricing and aws.amazon.com/eventbridge/pricing. Copied, not read: the project never
# reads ../shared at run time. Free tiers and volume tiers are left out (the first tier applies).
LAMBDA_REQUEST_USD = 0.20 / 1_000_000
LAMBDA_GB_SECOND_USD = {"arm64": 0.0000133334, "x86_64": 0.0000166667}
API_REQUEST_USD = {"http": 1.00 / 1_000_000, "rest": 3.50 / 1_000_000}
SQS_REQUEST_USD = 0.40 / 1_000_000  # standard queue, per 64 KB chunk; empty receives count
SQS_FIFO_REQUEST_USD = 0.50 / 1_000_000
EVENT_USD = 1.00 / 1_000_000  # custom event, per 64 KB chunk
DYNAMODB_WRITE_UNIT_USD = 0.625 / 1_000_000  # on demand
DYNAMODB_READ_UNIT_USD = 0.125 / 1_000_000
SECRETS_MANAGER_CALL_USD = 0.05 / 10_000
LOG_INGESTION_USD_PER_GB = 0.50  # CloudWatch Logs ingestion; a billed GB is 2^30 bytes

ORDERS = 1_000_000

# The naive configuration (the issue's): what a straightforward build of the same journey would run.
NAIVE_MEMORY_MB = 512
NAIVE_WRITE_UNITS_PER_HOP = 3
# Batch size 1: each message is sent once, received once and deleted once.
NAIVE_SQS_REQUESTS_PER_MESSAGE = 3


class Architecture(StrEnum):
    ARM64 = "arm64"
    X86_64 = "x86_64"


class ApiKind(StrEnum):
    HTTP = "http"
    REST = "rest"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FunctionUsage(_Model):
    """One function's share of an order. Counts are averages per order, so they may be fractions."""

    name: str
    invocations: float = Field(ge=0)
    records: float = Field(default=0, ge=0, description="SQS records handled per order; 0 for a non-SQS function")
    billed_ms: float = Field(ge=0, description="Average billed duration per invocation, its share of INIT included")
    memory_mb: int = Field(ge=128, le=10_240)
    architecture: Architecture


class OrderUsage(_Model):
    """What one order uses, by API, as AWS bills it."""

    functions: tuple[FunctionUsage, ...]
    api_requests: float = Field(ge=0)
    api_kind: ApiKind
    sqs_requests: float = Field(ge=0, description="Standard queues, in billed 64 KB chunks, empty receives included")
    sqs_fifo_requests: float = Field(default=0, ge=0)
    put_events_entries: float = Field(ge=0, description="In billed 64 KB chunks")
    dynamodb_write_units: float = Field(ge=0)
    dynamodb_read_units: float = Field(ge=0)
    secrets_manager_calls: float = Field(default=0, ge=0)
    cloudwatch_log_bytes: float = Field(default=0, ge=0, description="What the functions log (EMF metrics included)")

    @property
    def messages(self) -> float:
        """Every message a function handles for the order: the SQS records and the API requests."""
        return sum(f.records for f in self.functions) + self.api_requests


class CostBreakdown(_Model):
    """USD per 1M orders, by line of the bill."""

    lambda_requests: float
    lambda_compute: float
    api: float
    sqs: float
    eventbridge: float
    dynamodb_writes: float
    dynamodb_reads: float
    secrets_manager: float
    logs: float = 0.0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total(self) -> float:
        return (
            self.lambda_requests
            + self.lambda_compute
            + self.api
            + self.sqs
            + self.eventbridge
            + self.dynamodb_writes
            + self.dynamodb_reads
            + self.secrets_manager
            + self.logs
        )


def gb_seconds(function: FunctionUsage) -> float:
    # Lambda bills memory in GB of 1024 MB and duration in whole milliseconds (billed_ms is already billed time).
    return function.invocations * function.billed_ms / 1000 * function.memory_mb / 1024


def cost_per_million(usage: OrderUsage) -> CostBreakdown:
    invocations = sum(f.invocations for f in usage.functions)
    compute = sum(gb_seconds(f) * LAMBDA_GB_SECOND_USD[f.architecture.value] for f in usage.functions)
    return CostBreakdown(
        lambda_requests=invocations * LAMBDA_REQUEST_USD * ORDERS,
        lambda_compute=compute * ORDERS,
        api=usage.api_requests * API_REQUEST_USD[usage.api_kind.value] * ORDERS,
        sqs=(usage.sqs_requests * SQS_REQUEST_USD + usage.sqs_fifo_requests * SQS_FIFO_REQUEST_USD) * ORDERS,
        eventbridge=usage.put_events_entries * EVENT_USD * ORDERS,
        dynamodb_writes=usage.dynamodb_write_units * DYNAMODB_WRITE_UNIT_USD * ORDERS,
        dynamodb_reads=usage.dynamodb_read_units * DYNAMODB_READ_UNIT_USD * ORDERS,
        secrets_manager=usage.secrets_manager_calls * SECRETS_MANAGER_CALL_USD * ORDERS,
        logs=usage.cloudwatch_log_bytes / 2**30 * LOG_INGESTION_USD_PER_GB * ORDERS,
    )


def wcu_per_message(usage: OrderUsage) -> float:
    if usage.messages == 0:
        raise ValueError("no messages in the usage: write units per message is undefined")
    return usage.dynamodb_write_units / usage.messages


def naive(usage: OrderUsage) -> OrderUsage:
    """The same journey in the naive configuration.

    - Batch size 1: a consumer runs once per record, and each message costs a send, a receive and a delete (no
      empty receives counted). A run is billed the same time per record as measured, which flatters the naive
      build: it leaves out the per-invocation overhead that batching spreads.
    - A REST API for the webhooks; every function on x86 at 512 MB; 3 write units per hop (a record or a request).
    - PutEvents entries, reads, Secrets Manager calls and log bytes as measured: the events, lookups and log
      lines are the same.
    """
    functions = tuple(_naive_function(f) for f in usage.functions)
    records = sum(f.records for f in usage.functions)
    return usage.model_copy(
        update={
            "functions": functions,
            "api_kind": ApiKind.REST,
            "sqs_requests": records * NAIVE_SQS_REQUESTS_PER_MESSAGE,
            "sqs_fifo_requests": 0.0,
            "dynamodb_write_units": usage.messages * NAIVE_WRITE_UNITS_PER_HOP,
        }
    )


def _naive_function(function: FunctionUsage) -> FunctionUsage:
    if function.records == 0:
        invocations, billed_ms = function.invocations, function.billed_ms
    else:
        invocations = function.records
        billed_ms = function.billed_ms * function.invocations / function.records
    return function.model_copy(
        update={
            "invocations": invocations,
            "billed_ms": billed_ms,
            "memory_mb": NAIVE_MEMORY_MB,
            "architecture": Architecture.X86_64,
        }
    )
