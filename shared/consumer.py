"""Run an SQS batch of bus events through a record handler, the same way in every consumer.

- A retryable error (or an unexpected exception) returns the record to the queue (partial batch response). On
  its last receive
  (``max_receives``, the queue's maxReceiveCount) we park it in the DLQ ourselves, with its error class
  (``unknown`` for an unexpected exception), rather than let SQS move it there with no reason.
- A permanent error goes to the DLQ at once, with its reason, and is not retried.
- ``CircuitOpen`` (a breaker stopped the call) parks the record in its own queue until the probe is due
  (``requeue``): no downstream call, no receive counted, nothing burnt into the DLQ.
- With ``waiting``, a retryable error sends the record back to its queue with a growing delay instead
  (``shared.waiting``): work that must wait out an outage never reaches the DLQ because of it.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.errors import CircuitOpen, CrossdockError
from shared.observability import failure_fields, logger
from shared.waiting import SQS_MAX_DELAY_SECONDS, Requeue, Waiting


class DeadLetters(Protocol):
    def send(
        self,
        body: str,
        error: CrossdockError,
        *,
        source_queue: str,
        correlation_id: str | None,
        attempts: int | None = None,
        function: str | None = None,
    ) -> None: ...


def consume(
    event: dict[str, Any],
    context: LambdaContext,
    handle: Callable[[str], None],
    dead_letters: DeadLetters,
    waiting: Waiting | None = None,
    *,
    requeue: Requeue | None = None,
    max_receives: int | None = None,
) -> PartialItemFailureResponse:
    """``handle`` gets each record's body; raise a ``CrossdockError`` to say how it failed."""
    parking = requeue or (waiting.requeue if waiting is not None else None)
    function = getattr(context, "function_name", None)

    def record_handler(record: SQSRecord) -> None:
        logger.set_correlation_id(_correlation_id(record.body))
        receives = int(record.attributes.approximate_receive_count or 1)
        try:
            handle(record.body)
        except CircuitOpen as error:
            if parking is None:
                raise  # back to the queue: this consumer has no queue of its own to park in
            delay = min(SQS_MAX_DELAY_SECONDS, max(1, math.ceil(error.retry_after_seconds)))
            parking.later(record.body, delay, _attributes(record))
            logger.info("record parked: breaker open", message_id=record.message_id, system=error.system, delay=delay)
        except CrossdockError as error:
            logger.warning(
                "record failed",
                message_id=record.message_id,
                error_class=error.error_class.value,
                retryable=error.retryable,
                reason=error.message,
                receive_count=receives,
            )
            if error.retryable:
                if waiting is not None and waiting.wait(record.body, _attributes(record), time.time()):
                    logger.info("record waiting for a downstream system", message_id=record.message_id)
                    return
                if max_receives is None or receives < max_receives:
                    raise
                logger.warning("record out of retries", message_id=record.message_id, receive_count=receives)
            dead_letter(record.body, record.event_source_arn, error, dead_letters, attempts=receives, function=function)
        except Exception as error:
            # A bug, not a planned failure: retried like a retryable error, and parked with a reason on the last
            # receive rather than moved by SQS with none. Only the type and the frames are logged and passed on:
            # the text may quote the record (an email in a pydantic error), and what is raised here ends in the
            # invocation's error (Powertools' BatchProcessingError quotes every record's exception).
            logger.error(
                "record failed unexpectedly",
                message_id=record.message_id,
                receive_count=receives,
                **failure_fields(error),
            )
            unexpected = CrossdockError(f"unexpected {type(error).__name__}: see the function's logs")
            if max_receives is None or receives < max_receives:
                raise unexpected from None
            dead_letter(
                record.body, record.event_source_arn, unexpected, dead_letters, attempts=receives, function=function
            )

    return process_partial_response(
        event=event, record_handler=record_handler, processor=BatchProcessor(event_type=EventType.SQS), context=context
    )


def dead_letter(
    body: str,
    event_source_arn: str,
    error: CrossdockError,
    dead_letters: DeadLetters,
    *,
    attempts: int | None = None,
    function: str | None = None,
) -> None:
    """Send a record no retry can fix to the DLQ at once, with its reason and correlation id."""
    source_queue = event_source_arn.rsplit(":", 1)[-1]
    dead_letters.send(
        body,
        error,
        source_queue=source_queue,
        correlation_id=_correlation_id(body),
        attempts=attempts,
        function=function,
    )


def _attributes(record: SQSRecord) -> Mapping[str, str]:
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
