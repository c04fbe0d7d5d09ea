"""What ops work with: breakers, stuck-order SLAs, business SLOs, dead-letter reasons and audit records.

The policies are per environment (``cdk.json``). The dead-letter attribute names are the contract between the
functions that park a message and the ``crossdock dlq`` commands that read it back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.errors import ErrorClass


class BreakerPolicy(BaseModel):
    """When a system's breaker opens, how long it stays open, and how often consumers look at it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Retryable failures (after the client's own retries) within ``window_seconds`` that open the breaker.
    failure_threshold: int = Field(default=5, ge=1)
    window_seconds: int = Field(default=60, ge=1)
    # Open this long before one probe may call; each failed probe doubles it, up to the max.
    cooldown_seconds: int = Field(default=30, ge=1, le=900)
    max_cooldown_seconds: int = Field(default=300, ge=1, le=900)
    # How long a container trusts the state it last read; bounds the reads a busy consumer makes.
    check_every_seconds: float = Field(default=2.0, ge=0)
    # The probe's lease: others keep waiting while one call tests the system.
    probe_lease_seconds: int = Field(default=30, ge=1)


# Statuses that may be stuck, and the default minutes each may last before it is.
StuckStatus = Literal["received", "accepted", "released", "shipped", "invoiced", "held"]


DEFAULT_STUCK_MINUTES: dict[StuckStatus, int] = {
    "received": 15,  # not decided: validation or the ERP lags
    "accepted": 15,  # not released to the WMS
    "released": 2880,  # no shipment event: the WMS went quiet
    "shipped": 60,  # not invoiced: ERP posting lags fulfilment
    "invoiced": 30,  # the channel has not heard "shipped"
}


class StuckPolicy(BaseModel):
    """Minutes an order may stay in a status before it counts as stuck. A status left out is never stuck."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    after_minutes: dict[StuckStatus, int] = Field(default_factory=lambda: dict(DEFAULT_STUCK_MINUTES))
    detect_every_minutes: int = Field(default=5, ge=1)


class SloPolicy(BaseModel):
    """Business objectives the alarms watch (p95 over 15 minutes)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    time_to_erp_p95_seconds: int = Field(default=300, ge=1)
    shipment_to_invoice_p95_seconds: int = Field(default=3600, ge=1)
    propagation_lag_p95_seconds: int = Field(default=120, ge=1)


class Operations(BaseModel):
    """The ``operations`` block of an environment in cdk.json."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    breaker: BreakerPolicy = Field(default_factory=BreakerPolicy)
    stuck: StuckPolicy = Field(default_factory=StuckPolicy)
    slo: SloPolicy = Field(default_factory=SloPolicy)


# -- dead letters ----------------------------------------------------------------------------------------------
class DeadLetterAttribute:
    """SQS message attributes on every message we park in a DLQ."""

    ERROR_CLASS = "error_class"  # an ErrorClass value
    RETRYABLE = "retryable"  # "true" | "false": could a retry (after a fix elsewhere) help
    ERROR = "error"  # the last error, <= 256 characters
    SOURCE_QUEUE = "source_queue"  # the queue name the message came from: where a redrive sends it
    CORRELATION_ID = "correlation_id"
    FIELD = "field"
    ATTEMPTS = "attempts"  # receives before it was parked
    FAILED_AT = "failed_at"  # ISO 8601 UTC
    FUNCTION = "function"  # the Lambda function that parked it


# What EventBridge sets on an event its rule could not deliver to the target.
EVENTBRIDGE_ATTRIBUTES = ("ERROR_CODE", "ERROR_MESSAGE", "RULE_ARN", "TARGET_ARN")


class DeadLetterReason(BaseModel):
    """Why a message is in a DLQ, read back from its attributes (ours, EventBridge's, or none at all)."""

    model_config = ConfigDict(frozen=True)

    error_class: ErrorClass
    retryable: bool | None
    error: str
    correlation_id: str | None = None
    source_queue: str | None = None
    attempts: int | None = None
    failed_at: datetime | None = None
    function: str | None = None
    # "crossdock": parked by our code; "eventbridge": a rule could not deliver; "sqs": moved after
    # maxReceiveCount receives with no reason recorded (the function crashed or timed out).
    parked_by: Literal["crossdock", "eventbridge", "sqs"]


# -- audit ----------------------------------------------------------------------------------------------------
class AuditRecord(BaseModel):
    """One operator action (a redrive, a replay): who, when, what and the result. Kept in the ops table."""

    model_config = ConfigDict(frozen=True)

    action: Literal["dlq.redrive", "replay"]
    actor: str  # the AWS principal's ARN, or the local user
    at: datetime
    environment: str
    target: str  # the DLQ or the archive
    selection: dict[str, str] = Field(default_factory=dict)  # the filters the operator gave
    dry_run: bool = False
    matched: int = 0
    succeeded: int = 0
    failed: int = 0
    # Redrive: copies sent whose original could not be deleted (counted in ``succeeded``; they show again).
    not_deleted: int = 0
    message_ids: list[str] = Field(default_factory=list)
    # "started": written before the action, then overwritten with the outcome; one left so, it never finished.
    result: Literal["started", "ok", "partial", "failed", "dry_run"]
