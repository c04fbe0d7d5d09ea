"""Waiting out a downstream outage without burning the queue's receive count.

A record that failed with a retryable error normally goes back to its queue and, after maxReceiveCount attempts,
to the DLQ. For work that must wait for a system rather than fail (a shipment while the ERP is down), the consumer
sends the record to its own queue again with a delay and acknowledges the original: the copy starts a fresh
receive count, the delay doubles from ``first_seconds`` up to ``max_seconds``, and only after ``give_up_seconds``
of waiting does the normal path (retries, then the DLQ) take over again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

# Message attributes the copy carries: when waiting began and how many times it has waited.
SINCE = "crossdock-waiting-since"
WAITS = "crossdock-waits"
SQS_MAX_DELAY_SECONDS = 900


class Requeue(Protocol):
    def later(self, body: str, delay_seconds: int, attributes: Mapping[str, str]) -> None:
        """Send ``body`` to the consumer's own queue, visible after ``delay_seconds``."""


class WaitPolicy(BaseModel):
    """How a consumer waits for a system that is down: set per environment (``shipping.erp_wait``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    first_seconds: int = Field(default=30, ge=1, le=SQS_MAX_DELAY_SECONDS)
    max_seconds: int = Field(default=SQS_MAX_DELAY_SECONDS, ge=1, le=SQS_MAX_DELAY_SECONDS)
    # Longer than any ERP outage we expect; after it the record fails as usual (retries, then the DLQ).
    give_up_seconds: int = Field(default=4 * 24 * 3600, ge=60)

    def delay(self, waits: int) -> int:
        return int(min(self.max_seconds, SQS_MAX_DELAY_SECONDS, self.first_seconds * 2 ** min(waits, 20)))


@dataclass(frozen=True)
class Waiting:
    requeue: Requeue
    policy: WaitPolicy

    def wait(self, body: str, attributes: Mapping[str, str], now: float) -> bool:
        """Requeue the record for later; False when it has waited long enough (let the normal path fail it)."""
        since = float(attributes.get(SINCE, now))
        if now - since >= self.policy.give_up_seconds:
            return False
        waits = int(attributes.get(WAITS, "0"))
        self.requeue.later(body, self.policy.delay(waits), {SINCE: repr(since), WAITS: str(waits + 1)})
        return True
