"""Send a record back to its own queue with a delay (``shared.waiting``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from shared.aws import clients
from shared.errors import DownstreamUnavailable


class SqsRequeue:
    def __init__(self, queue_url: str, client: Callable[[], Any] = lambda: clients.client("sqs")) -> None:
        self._queue_url = queue_url
        self._client = client

    def later(self, body: str, delay_seconds: int, attributes: Mapping[str, str]) -> None:
        try:
            self._client().send_message(
                QueueUrl=self._queue_url,
                MessageBody=body,
                DelaySeconds=delay_seconds,
                MessageAttributes={k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
            )
        except (ClientError, BotoCoreError) as failure:
            # Could not park it: the original goes back to the queue instead, so nothing is lost.
            raise DownstreamUnavailable("queue unavailable for a delayed retry") from failure
