"""Send a message that failed for good to its DLQ, with the reason as message attributes.

SQS moves a message to the DLQ only after maxReceiveCount attempts and says nothing about why. For an error
no retry can fix we put it there at once, with its error class, so ops can see why and redrive after the fix.
The attribute names are ``shared.models.operations.DeadLetterAttribute``; ``crossdock dlq`` reads them back.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from shared.aws import clients
from shared.errors import CrossdockError, DownstreamUnavailable
from shared.models.operations import DeadLetterAttribute as Attr

MAX_ATTRIBUTE_CHARS = 256


class SqsDeadLetters:
    def __init__(
        self,
        queue_url: str,
        client: Callable[[], Any] = lambda: clients.client("sqs"),
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._queue_url = queue_url
        self._client = client
        self._now = now

    def send(
        self,
        body: str,
        error: CrossdockError,
        *,
        source_queue: str,
        correlation_id: str | None,
        attempts: int | None = None,
        function: str | None = None,
    ) -> None:
        attributes = {
            Attr.ERROR_CLASS: error.error_class.value,
            Attr.RETRYABLE: str(error.retryable).lower(),
            Attr.ERROR: error.message[:MAX_ATTRIBUTE_CHARS],
            Attr.SOURCE_QUEUE: source_queue,
            Attr.FAILED_AT: self._now().isoformat(timespec="seconds"),
        }
        if error.details.get("field"):
            attributes[Attr.FIELD] = str(error.details["field"])[:MAX_ATTRIBUTE_CHARS]
        if correlation_id:
            attributes[Attr.CORRELATION_ID] = correlation_id
        if attempts is not None:
            attributes[Attr.ATTEMPTS] = str(attempts)
        if function:
            attributes[Attr.FUNCTION] = function
        try:
            self._client().send_message(
                QueueUrl=self._queue_url,
                MessageBody=body,
                MessageAttributes={k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
            )
        except (ClientError, BotoCoreError) as failure:
            # Could not park it: let SQS retry the record rather than lose it.
            raise DownstreamUnavailable("dead-letter queue unavailable") from failure
