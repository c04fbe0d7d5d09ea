"""Send a message that failed for good to its DLQ, with the reason as message attributes.

SQS moves a message to the DLQ only after maxReceiveCount attempts and says nothing about why. For an error
no retry can fix we put it there at once, with its error class, so ops can see why and redrive after the fix.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from shared.aws import clients
from shared.errors import CrossdockError, DownstreamUnavailable


class SqsDeadLetters:
    def __init__(self, queue_url: str, client: Callable[[], Any] = lambda: clients.client("sqs")) -> None:
        self._queue_url = queue_url
        self._client = client

    def send(self, body: str, error: CrossdockError, *, source_queue: str, correlation_id: str | None) -> None:
        attributes = {
            "error_class": error.error_class.value,
            "retryable": str(error.retryable).lower(),
            "error": error.message[:256],
            "source_queue": source_queue,
        }
        if error.details.get("field"):
            attributes["field"] = str(error.details["field"])[:256]
        if correlation_id:
            attributes["correlation_id"] = correlation_id
        try:
            self._client().send_message(
                QueueUrl=self._queue_url,
                MessageBody=body,
                MessageAttributes={k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
            )
        except (ClientError, BotoCoreError) as failure:
            # Could not park it: let SQS retry the record rather than lose it.
            raise DownstreamUnavailable("dead-letter queue unavailable") from failure
