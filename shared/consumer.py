"""Run an SQS batch of bus events through a record handler, the same way in every consumer.

- A retryable error returns the record to the queue (partial batch response); after maxReceiveCount SQS
  moves it to the DLQ.
- A permanent error goes to the DLQ at once, with its reason, and is not retried.
- With ``waiting``, a retryable error sends the record back to its queue with a growing delay instead
  (``shared.waiting``): work that must wait out an outage never reaches the DLQ because of it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, Protocol

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.errors import CrossdockError
from shared.observability import logger
from shared.waiting import Waiting


class DeadLetters(Protocol):
    def send(self, body: str, error: CrossdockError, *, source_queue: str, correlation_id: str | None) -> None: ...


def consume(
    event: dict[str, Any],
    context: LambdaContext,
    handle: Callable[[str], None],
    dead_letters: DeadLetters,
    waiting: Waiting | None = None,
) -> PartialItemFailureResponse:
    """``handle`` gets each record's body; raise a ``CrossdockError`` to say how it failed."""

    def record_handler(record: SQSRecord) -> None:
        logger.set_correlation_id(_correlation_id(record.body))
        try:
            handle(record.body)
        except CrossdockError as error:
            logger.warning(
                "record failed",
                message_id=record.message_id,
                error_class=error.error_class.value,
                retryable=error.retryable,
                reason=error.message,
                receive_count=record.attributes.approximate_receive_count,
            )
            if error.retryable:
                if waiting is not None and waiting.wait(record.body, _attributes(record), time.time()):
                    logger.info("record waiting for a downstream system", message_id=record.message_id)
                    return
                raise
            dead_letter(record.body, record.event_source_arn, error, dead_letters)

    return process_partial_response(
        event=event, record_handler=record_handler, processor=BatchProcessor(event_type=EventType.SQS), context=context
    )


def dead_letter(body: str, event_source_arn: str, error: CrossdockError, dead_letters: DeadLetters) -> None:
    """Send a record no retry can fix to the DLQ at once, with its reason and correlation id."""
    source_queue = event_source_arn.rsplit(":", 1)[-1]
    dead_letters.send(body, error, source_queue=source_queue, correlation_id=_correlation_id(body))


def _attributes(record: SQSRecord) -> dict[str, str]:
    return {
        name: value.string_value
        for name, value in record.message_attributes.items()
        if value is not None and value.string_value is not None
    }


def _correlation_id(body: str) -> str | None:
    try:
        value = json.loads(body)["detail"]["metadata"]["correlation_id"]
    except (KeyError, TypeError, ValueError):
        return None
    return value if isinstance(value, str) else None
