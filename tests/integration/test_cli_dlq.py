"""``crossdock dlq list|show|redrive`` and ``crossdock audit`` against moto."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator

import pytest

from infra.ops import dlq
from shared.models.operations import AuditRecord
from shared.models.operations import DeadLetterAttribute as Attr
from shared.waiting import SINCE, WAITS
from tests.integration.cli_world import World, event_body, moto_world, ours


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    yield from moto_world(monkeypatch)


@pytest.fixture
def parked(world: World) -> dict[str, str]:
    """A poison order (validation), an ERP outage casualty (waited, then failed), and a crash SQS moved."""
    ro, inv = world.record_order, world.invoice_shipment
    return {
        "validation": world.park(
            ro.dlq_url,
            event_body("OrderReceived", "shopify:acme:1001", "corr-1001"),
            {
                **ours("validation", source_queue=ro.queue_name, correlation_id="corr-1001"),
                Attr.ATTEMPTS: "1",
                Attr.FUNCTION: "crossdock-dev-record-order",
                SINCE: "1764496800.0",
                WAITS: "3",
                "trace-note": "kept",
            },
        ),
        "downstream": world.park(
            ro.dlq_url,
            event_body("OrderReceived", "shopify:acme:1002", "corr-1002"),
            ours("downstream_unavailable", source_queue=ro.queue_name, retryable=True, correlation_id="corr-1002"),
        ),
        "crashed": world.park(inv.dlq_url, event_body("ShipmentDispatched", "shopify:acme:1003", "corr-1003")),
    }


def test_list_counts_each_dlq_with_its_oldest_age_and_classes_and_takes_nothing(
    world: World, parked: dict[str, str]
) -> None:
    result = world.run("dlq", "list")

    assert result.exit_code == 0, result.output
    lines = {line.split("│")[1].strip(): line for line in result.output.splitlines() if line.count("│") > 3}
    record_order = lines["RecordOrder/Buffer/Dlq"]
    assert "│        2 │" in record_order
    assert "validation 1" in record_order
    assert "downstream_unavailable 1" in record_order
    assert "RecordOrder/Buffer/Queue" in record_order  # where it redrives to
    assert "unknown 1" in lines["AfterSaleInvoiceShipment/Buffer/Dlq"]
    assert "0s" in record_order  # the oldest message's age, from its SentTimestamp
    # Looked at, given back: still there and visible for the next look.
    assert world.visible(world.record_order.dlq_url) == 2
    assert world.visible(world.invoice_shipment.dlq_url) == 1


def test_list_filters_by_queue_and_error_class(world: World, parked: dict[str, str]) -> None:
    result = world.run("dlq", "list", "--queue", "invoiceSHIPMENT", "--error-class", "unknown")

    assert result.exit_code == 0, result.output
    assert "AfterSaleInvoiceShipment/Buffer/Dlq" in result.output
    assert "RecordOrder" not in result.output


def test_show_gives_each_message_its_reason_and_what_it_carries(world: World, parked: dict[str, str]) -> None:
    result = world.run("dlq", "show", "--json")

    assert result.exit_code == 0, result.output
    shown = {m["message_id"]: m for m in map(json.loads, result.output.splitlines())}
    assert set(shown) == set(parked.values())
    poison = shown[parked["validation"]]
    assert poison["queue"] == "RecordOrder/Buffer/Dlq"
    assert poison["error_class"] == "validation"
    assert poison["retryable"] is False
    assert poison["correlation_id"] == "corr-1001"
    assert poison["attempts"] == 1
    assert poison["failed_at"] == "2026-11-30T10:00:00Z"
    assert poison["function"] == "crossdock-dev-record-order"
    assert poison["error"] == "validation failure"
    assert poison["source_queue"] == world.record_order.queue_name
    assert poison["parked_by"] == "crossdock"
    assert (poison["detail_type"], poison["order_key"]) == ("OrderReceived", "shopify:acme:1001")
    crashed = shown[parked["crashed"]]
    assert (crashed["parked_by"], crashed["error_class"], crashed["retryable"]) == ("sqs", "unknown", None)
    assert crashed["correlation_id"] == "corr-1003"  # from the body, when no attribute says
    assert world.visible(world.record_order.dlq_url) == 2


def test_show_table_and_limit(world: World, parked: dict[str, str]) -> None:
    result = world.run("dlq", "show", "--error-class", "validation", "--limit", "1")

    assert result.exit_code == 0, result.output
    assert "1 dead letter(s)" in result.output
    assert parked["validation"] in result.output
    assert "validation failure" in result.output


def test_dry_run_changes_nothing_and_is_audited(world: World, parked: dict[str, str]) -> None:
    result = world.run("dlq", "redrive", "--dry-run")

    assert result.exit_code == 0, result.output
    assert "Would move: 3 message(s)" in result.output
    assert world.visible(world.record_order.dlq_url) == 2
    assert world.visible(world.invoice_shipment.dlq_url) == 1
    assert world.visible(world.record_order.queue_url) == 0
    assert world.visible(world.invoice_shipment.queue_url) == 0
    records = [AuditRecord.model_validate_json(item["record"]["S"]) for item in world.audit_items()]
    assert sorted((r.target, r.matched, r.succeeded, r.result, r.dry_run) for r in records) == [
        ("crossdock-dev-invoice-shipment-dlq", 1, 0, "dry_run", True),
        ("crossdock-dev-record-order-dlq", 2, 0, "dry_run", True),
    ]


def test_redrive_moves_exactly_the_chosen_messages_back_fresh_and_audits(world: World, parked: dict[str, str]) -> None:
    result = world.run("dlq", "redrive", "--error-class", "validation", "--yes")

    assert result.exit_code == 0, result.output
    (moved,) = world.drain(world.record_order.queue_url)
    assert json.loads(moved["Body"])["detail"]["data"]["external_id"] == "1001"
    attributes = moved["MessageAttributes"]
    assert set(attributes) == {"trace-note", "crossdock-redriven-at"}  # no reason, no waiting clock
    assert attributes["trace-note"]["StringValue"] == "kept"
    # The rest stay where they were, visible for the next look.
    left = world.drain(world.record_order.dlq_url)
    assert [m["MessageId"] for m in left] == [parked["downstream"]]
    assert world.visible(world.invoice_shipment.dlq_url) == 1
    (item,) = world.audit_items()
    assert item["pk"]["S"].startswith("AUDIT#20")
    assert int(item["expires_at"]["N"]) > 0
    record = AuditRecord.model_validate_json(item["record"]["S"])
    assert record.action == "dlq.redrive"
    assert record.actor.startswith("arn:aws:")  # the caller's ARN (moto's user)
    assert record.environment == "dev"
    assert record.target == "crossdock-dev-record-order-dlq"
    assert record.selection == {"error_class": "validation"}
    assert (record.matched, record.succeeded, record.failed, record.result) == (1, 1, 0, "ok")
    assert record.message_ids == [parked["validation"]]


def test_redrive_sends_each_kind_back_to_its_source(world: World) -> None:
    ro, inv = world.record_order, world.invoice_shipment
    crashed = world.park(inv.dlq_url, event_body("ShipmentDispatched", "shopify:acme:7", "corr-7"))
    undelivered = world.park(
        ro.dlq_url,
        event_body("OrderReceived", "shopify:acme:8", "corr-8"),
        {"ERROR_CODE": "SQS_THROTTLED", "ERROR_MESSAGE": "slow down", "RULE_ARN": "r", "TARGET_ARN": ro.queue_arn},
    )

    result = world.run("dlq", "redrive", "--yes")

    assert result.exit_code == 0, result.output
    assert [m["MessageId"] != crashed for m in world.drain(inv.queue_url)] == [True]  # a fresh message
    (back,) = world.drain(ro.queue_url)
    assert set(back["MessageAttributes"]) == {"crossdock-redriven-at"}  # EventBridge's reason dropped too
    assert undelivered != back["MessageId"]
    assert world.visible(ro.dlq_url) == world.visible(inv.dlq_url) == 0


def test_redrive_by_correlation_id_with_confirmation(world: World, parked: dict[str, str]) -> None:
    declined = world.run("dlq", "redrive", "--correlation-id", "corr-1002", input="n\n")
    assert declined.exit_code == 1
    assert world.visible(world.record_order.queue_url) == 0
    assert world.visible(world.record_order.dlq_url) == 2

    accepted = world.run("dlq", "redrive", "--correlation-id", "corr-1002", input="y\n")

    assert accepted.exit_code == 0, accepted.output
    (moved,) = world.drain(world.record_order.queue_url)
    assert json.loads(moved["Body"])["detail"]["metadata"]["correlation_id"] == "corr-1002"


def test_a_message_with_nowhere_to_go_stays_and_exits_1(world: World) -> None:
    stray = world.park(world.record_order.dlq_url, "{}", ours("conflict", source_queue="a-queue-since-removed"))

    result = world.run("dlq", "redrive", "--yes")

    assert result.exit_code == 1
    assert "a-queue-since-removed is not in the stack" in result.output
    assert [m["MessageId"] for m in world.drain(world.record_order.dlq_url)] == [stray]
    (item,) = world.audit_items()
    record = AuditRecord.model_validate_json(item["record"]["S"])
    assert (record.matched, record.succeeded, record.failed, record.result) == (1, 0, 1, "failed")


def records(world: World) -> list[AuditRecord]:
    return [AuditRecord.model_validate_json(item["record"]["S"]) for item in world.audit_items()]


def test_a_copy_sent_whose_original_could_not_be_deleted_counts_as_moved(world: World, parked: dict[str, str]) -> None:
    with world.refusing("sqs", "DeleteMessage", "AccessDenied"):
        result = world.run("dlq", "redrive", "--error-class", "validation", "--yes")

    assert result.exit_code == 0, result.output
    assert "copy sent; the original could not be deleted and will show again" in result.output
    assert "redriving it again is harmless (idempotency)" in result.output
    assert "AccessDenied" in result.output
    assert len(world.drain(world.record_order.queue_url)) == 1  # the copy went
    # The original stays in the DLQ, held until its hold runs out (then it shows again), with the other one.
    assert world.counts(world.record_order.dlq_url) == (1, 1)
    (record,) = records(world)
    assert (record.matched, record.succeeded, record.failed, record.not_deleted, record.result) == (1, 1, 0, 1, "ok")
    assert record.message_ids == [parked["validation"]]


def test_a_confirmation_that_comes_after_the_hold_moves_nothing(
    world: World, parked: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The hold starts at 0; the answer comes an hour later.
    monkeypatch.setattr(dlq, "clock", itertools.chain([0.0], itertools.repeat(3600.0)).__next__)

    result = world.run("dlq", "redrive", "--queue", "RecordOrder", input="y\n")

    assert result.exit_code == 1
    assert "took too long to confirm: the messages were released; run again" in result.output
    assert world.visible(world.record_order.queue_url) == 0
    assert world.counts(world.record_order.dlq_url) == (2, 0)  # given back at once
    assert world.audit_items() == []  # nothing happened, as when the prompt is declined


def test_no_audit_trail_no_redrive(world: World, parked: dict[str, str]) -> None:
    with world.refusing("dynamodb", "PutItem", "AccessDeniedException"):
        result = world.run("dlq", "redrive", "--yes")

    assert result.exit_code == 2
    assert "AWS refused PutItem: AccessDeniedException" in result.output
    assert world.visible(world.record_order.queue_url) == world.visible(world.invoice_shipment.queue_url) == 0
    assert world.counts(world.record_order.dlq_url) == (2, 0)
    assert world.audit_items() == []


def test_the_audit_says_started_before_anything_moves(world: World, parked: dict[str, str]) -> None:
    # The "started" record goes in; the outcome cannot: the trail still says the run began, and on what.
    with world.refusing("dynamodb", "PutItem", "AccessDeniedException", after=1):
        result = world.run("dlq", "redrive", "--error-class", "validation", "--yes")

    assert result.exit_code == 2
    assert len(world.drain(world.record_order.queue_url)) == 1
    (record,) = records(world)
    assert (record.result, record.matched, record.succeeded, record.message_ids) == (
        "started",
        1,
        0,
        [parked["validation"]],
    )


def test_viewers_exit_0_whatever_they_show(world: World, parked: dict[str, str]) -> None:
    assert [world.run("dlq", view).exit_code for view in ("list", "show")] == [0, 0]
    assert world.run("audit").exit_code == 0
    assert world.run("status").exit_code == 1  # status is the one that judges


def test_audit_lists_the_newest_records(world: World, parked: dict[str, str]) -> None:
    assert world.run("dlq", "redrive", "--dry-run", "--queue", "record").exit_code == 0
    assert world.run("dlq", "redrive", "--yes", "--error-class", "unknown").exit_code == 0

    result = world.run("audit", "--limit", "5")

    assert result.exit_code == 0, result.output
    rows = [line for line in result.output.splitlines() if "dlq.redrive" in line]
    assert len(rows) == 2
    assert "error_class=unknown" in rows[0]
    assert "ok" in rows[0]
    assert "dry_run" in rows[1]
