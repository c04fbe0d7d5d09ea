"""Reading a dead letter's reason back (all three kinds), the operator's filters, and what a redriven copy carries."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import typer

from infra.ops.dead_letters import DeadLetter, classify, redrive_attributes, wanted
from infra.ops.options import age, parse_duration
from infra.ops.queues import Message, Queue, Topology, select
from infra.ops.redrive import plan
from infra.ops.target import Resource
from shared.errors import ErrorClass
from shared.models.operations import DeadLetterAttribute as Attr
from shared.waiting import SINCE, WAITS

QUEUE = Queue("RecordOrder/Buffer/Queue", "https://sqs/1/record-order", "arn:aws:sqs:us-east-1:1:record-order")
DLQ = Queue("RecordOrder/Buffer/Dlq", "https://sqs/1/record-order-dlq", "arn:aws:sqs:us-east-1:1:record-order-dlq")
QUEUE = Queue(QUEUE.label, QUEUE.url, QUEUE.arn, dead_letter_arn=DLQ.arn)


def test_our_attributes_give_the_whole_reason() -> None:
    reason = classify(
        {
            Attr.ERROR_CLASS: "validation",
            Attr.RETRYABLE: "false",
            Attr.ERROR: "unknown sku",
            Attr.SOURCE_QUEUE: "record-order",
            Attr.CORRELATION_ID: "corr-1",
            Attr.ATTEMPTS: "3",
            Attr.FAILED_AT: "2026-11-30T10:00:00+00:00",
            Attr.FUNCTION: "crossdock-dev-record-order",
        }
    )

    assert reason.parked_by == "crossdock"
    assert (reason.error_class, reason.retryable, reason.error) == (ErrorClass.VALIDATION, False, "unknown sku")
    assert (reason.source_queue, reason.correlation_id, reason.attempts) == ("record-order", "corr-1", 3)
    assert reason.failed_at == datetime(2026, 11, 30, 10, tzinfo=UTC)
    assert reason.function == "crossdock-dev-record-order"


def test_an_unknown_class_of_ours_reads_as_unknown_not_a_crash() -> None:
    reason = classify({Attr.ERROR_CLASS: "gremlins", Attr.ATTEMPTS: "many", Attr.FAILED_AT: "yesterday"})

    assert (reason.error_class, reason.retryable, reason.attempts, reason.failed_at) == (
        ErrorClass.UNKNOWN,
        None,
        None,
        None,
    )


@pytest.mark.parametrize(
    ("code", "error_class", "retryable"),
    [
        ("THROTTLING", ErrorClass.RATE_LIMITED, True),
        ("SQS_THROTTLED", ErrorClass.RATE_LIMITED, True),
        ("NO_PERMISSIONS", ErrorClass.AUTH, False),
        ("ACCESS_DENIED", ErrorClass.AUTH, False),
        ("RESOURCE_NOT_FOUND", ErrorClass.NOT_FOUND, False),
        ("SDK_CLIENT_ERROR", ErrorClass.DOWNSTREAM_UNAVAILABLE, True),
    ],
)
def test_eventbridge_attributes_give_the_class_from_the_code(
    code: str, error_class: ErrorClass, retryable: bool
) -> None:
    reason = classify(
        {
            "ERROR_CODE": code,
            "ERROR_MESSAGE": "it went wrong",
            "RULE_ARN": "arn:aws:events:us-east-1:1:rule/crossdock-dev/record-order",
            "TARGET_ARN": QUEUE.arn,
        }
    )

    assert reason.parked_by == "eventbridge"
    assert (reason.error_class, reason.retryable) == (error_class, retryable)
    assert reason.error == f"{code}: it went wrong (rule record-order)"
    assert reason.source_queue == QUEUE.arn


def test_no_attributes_means_sqs_moved_it_after_max_receives() -> None:
    reason = classify({"some-other": "attribute"})

    assert reason.parked_by == "sqs"
    assert (reason.error_class, reason.retryable) == (ErrorClass.UNKNOWN, None)
    assert "maxReceiveCount" in reason.error
    assert "crashed or timed out" in reason.error


def message(body: str, attributes: dict[str, str], queue: Queue = DLQ) -> Message:
    return Message(
        queue=queue,
        message_id="m-1",
        receipt_handle="h-1",
        body=body,
        attributes={k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
        sent_at=datetime(2026, 11, 30, tzinfo=UTC),
    )


BODY = json.dumps(
    {
        "detail-type": "ShipmentDispatched",
        "detail": {"metadata": {"correlation_id": "corr-body"}, "data": {"order_key": "shopify:acme:1"}},
    }
)


def test_a_dead_letter_shows_the_event_it_carries() -> None:
    letter = DeadLetter.of(message(BODY, {}))

    assert (letter.detail_type, letter.order_key, letter.correlation_id) == (
        "ShipmentDispatched",
        "shopify:acme:1",
        "corr-body",
    )
    assert letter.queue == "RecordOrder/Buffer/Dlq"
    not_json = DeadLetter.of(message("not json", {}))
    assert (not_json.detail_type, not_json.order_key, not_json.correlation_id) == (None, None, None)


def test_filters_by_class_and_correlation_id() -> None:
    letter = DeadLetter.of(message(BODY, {Attr.ERROR_CLASS: "conflict", Attr.CORRELATION_ID: "corr-attr"}))

    assert wanted(letter, None, None)
    assert wanted(letter, ErrorClass.CONFLICT, "corr-attr")
    assert not wanted(letter, ErrorClass.VALIDATION, None)
    assert not wanted(letter, None, "corr-body")  # our attribute wins over the body


def test_a_redriven_copy_drops_the_reason_and_the_waiting_clock_and_keeps_the_rest() -> None:
    attributes = {
        Attr.ERROR_CLASS: {"DataType": "String", "StringValue": "validation"},
        Attr.SOURCE_QUEUE: {"DataType": "String", "StringValue": "q"},
        "ERROR_CODE": {"DataType": "String", "StringValue": "THROTTLING"},
        SINCE: {"DataType": "String", "StringValue": "1.0"},
        WAITS: {"DataType": "Number", "StringValue": "2"},
        "tenant": {"DataType": "String", "StringValue": "acme", "StringListValues": []},
    }

    copy = redrive_attributes(attributes, datetime(2026, 11, 30, 12, tzinfo=UTC))

    assert copy == {
        "tenant": {"DataType": "String", "StringValue": "acme"},
        "crossdock-redriven-at": {"DataType": "String", "StringValue": "2026-11-30T12:00:00+00:00"},
    }


def test_the_destination_is_the_source_queue_the_target_or_the_one_redrive_source() -> None:
    topology = Topology([QUEUE, DLQ])

    by_name = message(BODY, {Attr.ERROR_CLASS: "validation", Attr.SOURCE_QUEUE: "record-order"})
    by_arn = message(BODY, {"ERROR_CODE": "THROTTLING", "TARGET_ARN": QUEUE.arn})
    by_redrive = message(BODY, {})
    gone = message(BODY, {Attr.ERROR_CLASS: "validation", Attr.SOURCE_QUEUE: "removed"})
    for found in (by_name, by_arn, by_redrive):
        assert plan(topology, found, DeadLetter.of(found)).destination == QUEUE
    missing = plan(topology, gone, DeadLetter.of(gone))
    assert missing.destination is None
    assert missing.problem == "its source queue removed is not in the stack"
    orphan = plan(Topology([DLQ]), by_redrive, DeadLetter.of(by_redrive))
    assert orphan.problem == "0 queues dead-letter into RecordOrder/Buffer/Dlq"


def test_dlqs_are_redrive_targets_or_named_so() -> None:
    rule_only = Queue("Availability/RuleDLQ", "https://sqs/1/rule-dlq", "arn:aws:sqs:us-east-1:1:rule-dlq")
    topology = Topology([QUEUE, DLQ, rule_only])

    assert topology.dlqs == [DLQ, rule_only]
    assert topology.buffers == [QUEUE]
    assert topology.sources_of(DLQ) == [QUEUE]
    assert select(topology.dlqs, "ruLE") == [rule_only]


def test_labels_come_from_the_cdk_path_or_the_logical_id() -> None:
    with_path = Resource(
        "RecordOrderBufferDlqC3D342C9", "AWS::SQS::Queue", "u", "Crossdock-dev/RecordOrder/Dlq/Resource"
    )
    without = Resource("RecordOrderBufferDlqC3D342C9", "AWS::SQS::Queue", "u")

    assert (with_path.label, without.label) == ("RecordOrder/Dlq", "RecordOrderBufferDlq")


def test_durations_and_ages() -> None:
    assert parse_duration("30m") == timedelta(minutes=30)
    assert parse_duration("2h") == timedelta(hours=2)
    assert parse_duration("90s") == timedelta(seconds=90)
    assert parse_duration("15") == timedelta(minutes=15)
    with pytest.raises(typer.BadParameter):
        parse_duration("soon")
    assert [age(timedelta(seconds=s)) for s in (5, 125, 3 * 3600 + 300, 2 * 86400 + 4 * 3600)] == [
        "5s",
        "2m",
        "3h05m",
        "2d04h",
    ]
