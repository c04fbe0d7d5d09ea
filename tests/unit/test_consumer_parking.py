"""Back-pressure in consumers: an open breaker parks the record; the last receive parks it in the DLQ with a class."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from shared.consumer import consume
from shared.errors import CircuitOpen, DownstreamUnavailable
from shared.waiting import SINCE, WAITS, Waiting, WaitPolicy
from tests.unit.test_waiting import CONTEXT, FakeDeadLetters, FakeRequeue, failing, sqs_event

BODY = json.dumps({"detail": {"metadata": {"correlation_id": "c-9"}}})


def on_receive(count: int, attributes: dict[str, str] | None = None) -> dict[str, Any]:
    event = sqs_event(BODY, attributes)
    event["Records"][0]["attributes"]["ApproximateReceiveCount"] = str(count)
    return event


def test_an_open_breaker_parks_the_record_until_the_probe_and_acknowledges_it() -> None:
    requeue, dead = FakeRequeue(), FakeDeadLetters()
    open_ = CircuitOpen("netsuite breaker open", system="netsuite", retry_after_seconds=12.2)
    result = consume(on_receive(4), CONTEXT, failing(open_), dead, requeue=requeue, max_receives=5)
    assert result == {"batchItemFailures": []}
    assert requeue.sent == [(BODY, 13, {})]
    assert dead.sent == []


def test_parking_keeps_the_waiting_attributes_and_caps_the_delay_at_the_sqs_maximum() -> None:
    requeue, dead = FakeRequeue(), FakeDeadLetters()
    waited = {SINCE: "1000.0", WAITS: "3"}
    open_ = CircuitOpen("open", system="netsuite", retry_after_seconds=5000)
    waiting = Waiting(requeue, WaitPolicy())
    consume(on_receive(1, waited), CONTEXT, failing(open_), dead, waiting)
    assert requeue.sent == [(BODY, 900, waited)]


def test_without_a_queue_to_park_in_an_open_breaker_returns_the_record() -> None:
    dead = FakeDeadLetters()
    open_ = CircuitOpen("open", system="netsuite", retry_after_seconds=5)
    # Powertools fails the whole invocation when every record failed: all of them go back to the queue.
    with pytest.raises(BatchProcessingError):
        consume(on_receive(1), CONTEXT, failing(open_), dead)
    assert dead.sent == []


def test_a_retryable_failure_goes_back_to_the_queue_before_its_last_receive() -> None:
    dead = FakeDeadLetters()
    with pytest.raises(BatchProcessingError):
        consume(on_receive(4), CONTEXT, failing(DownstreamUnavailable("down")), dead, max_receives=5)
    assert dead.sent == []


def test_on_its_last_receive_a_retryable_failure_is_parked_in_the_dlq_with_its_class() -> None:
    dead = FakeDeadLetters()
    result = consume(on_receive(5), CONTEXT, failing(DownstreamUnavailable("down")), dead, max_receives=5)
    assert result == {"batchItemFailures": []}
    assert dead.sent == [(BODY, "downstream_unavailable")]


def test_an_unexpected_exception_is_retried_then_parked_as_unknown_on_its_last_receive() -> None:
    dead = FakeDeadLetters()
    with pytest.raises(BatchProcessingError):
        consume(on_receive(2), CONTEXT, failing(KeyError("a bug")), dead, max_receives=5)
    assert dead.sent == []
    result = consume(on_receive(5), CONTEXT, failing(KeyError("a bug")), dead, max_receives=5)
    assert result == {"batchItemFailures": []}
    assert dead.sent == [(BODY, "unknown")]
