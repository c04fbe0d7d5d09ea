"""Consumers that wait out an outage: retryable errors requeue with a growing delay, never reach the DLQ early."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, cast

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.consumer import consume
from shared.errors import CrossdockError, DownstreamUnavailable, ValidationFailed
from shared.waiting import SINCE, WAITS, Waiting, WaitPolicy
from tests.fakes import FakeLambdaContext

QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:invoice-buffer"


class FakeRequeue:
    def __init__(self) -> None:
        self.sent: list[tuple[str, int, dict[str, str]]] = []

    def later(self, body: str, delay_seconds: int, attributes: Mapping[str, str]) -> None:
        self.sent.append((body, delay_seconds, dict(attributes)))


class FakeDeadLetters:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send(
        self, body: str, error: CrossdockError, *, source_queue: str, correlation_id: str | None, **_: object
    ) -> None:
        self.sent.append((body, error.error_class.value))


def sqs_event(body: str, attributes: Mapping[str, str] | None = None) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": "m-1",
                "receiptHandle": "h",
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {
                    name: {"stringValue": value, "dataType": "String"} for name, value in (attributes or {}).items()
                },
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": QUEUE_ARN,
                "awsRegion": "us-east-1",
            }
        ]
    }


CONTEXT = cast(LambdaContext, FakeLambdaContext())
BODY = json.dumps({"detail": {"metadata": {"correlation_id": "c-1"}}})
POLICY = WaitPolicy(first_seconds=30, max_seconds=600, give_up_seconds=3600)


def failing(error: Exception) -> Any:
    def handle(body: str) -> None:
        raise error

    return handle


def test_a_retryable_failure_waits_in_the_queue_and_the_record_is_acknowledged() -> None:
    requeue, dead = FakeRequeue(), FakeDeadLetters()
    result = consume(
        sqs_event(BODY), CONTEXT, failing(DownstreamUnavailable("erp down")), dead, Waiting(requeue, POLICY)
    )
    assert result == {"batchItemFailures": []}
    ((body, delay, attributes),) = requeue.sent
    assert (body, delay, attributes[WAITS]) == (BODY, 30, "1")
    assert dead.sent == []


def test_the_delay_doubles_up_to_the_cap_and_the_waiting_start_is_kept() -> None:
    requeue = FakeRequeue()
    waiting = Waiting(requeue, POLICY)
    since = 1_000_000.0
    for waits in range(6):
        assert waiting.wait(BODY, {SINCE: repr(since), WAITS: str(waits)}, now=since + 10)
    assert [delay for _, delay, _ in requeue.sent] == [30, 60, 120, 240, 480, 600]
    assert {attributes[SINCE] for _, _, attributes in requeue.sent} == {repr(since)}


def test_after_the_give_up_time_the_record_fails_as_usual() -> None:
    requeue, dead = FakeRequeue(), FakeDeadLetters()
    long_ago = {SINCE: "0.0", WAITS: "40"}
    # The whole batch failed: Powertools raises, so Lambda returns every record to the queue.
    with pytest.raises(BatchProcessingError):
        consume(
            sqs_event(BODY, long_ago),
            CONTEXT,
            failing(DownstreamUnavailable("erp down")),
            dead,
            Waiting(requeue, POLICY),
        )
    assert requeue.sent == []


def test_a_permanent_failure_still_goes_to_the_dlq_at_once() -> None:
    requeue, dead = FakeRequeue(), FakeDeadLetters()
    consume(sqs_event(BODY), CONTEXT, failing(ValidationFailed("bad")), dead, Waiting(requeue, POLICY))
    assert dead.sent == [(BODY, "validation")]
    assert requeue.sent == []


def test_without_waiting_a_retryable_failure_is_returned_to_the_queue() -> None:
    with pytest.raises(BatchProcessingError):
        consume(sqs_event(BODY), CONTEXT, failing(DownstreamUnavailable("x")), FakeDeadLetters())


@pytest.mark.parametrize("waits", [0, 5, 30, 10_000])
def test_no_delay_exceeds_what_sqs_allows(waits: int) -> None:
    assert 1 <= WaitPolicy(first_seconds=900).delay(waits) <= 900
