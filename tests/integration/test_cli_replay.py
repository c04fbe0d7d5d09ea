"""``crossdock replay`` against moto's EventBridge (archives and replays, delivered to the rules' queues)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from typer.main import get_command

from infra.cli import app
from shared.models.operations import AuditRecord
from tests.integration.cli_world import BUS, World, moto_world


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    yield from moto_world(monkeypatch)


@pytest.fixture
def archived(world: World) -> None:
    """An order and a shipment went over the bus (and into the archive); the consumers took them long ago."""
    entries = [
        {"Source": "crossdock.intake", "DetailType": "OrderReceived", "Detail": json.dumps({"n": 1})},
        {"Source": "crossdock.wms", "DetailType": "ShipmentDispatched", "Detail": json.dumps({"n": 2})},
    ]
    world.target.client("events").put_events(Entries=[{**e, "EventBusName": BUS} for e in entries])
    world.drain(world.record_order.queue_url)
    world.drain(world.invoice_shipment.queue_url)


def since() -> str:
    return (datetime.now(UTC) - timedelta(hours=1)).isoformat()


def test_dry_run_shows_archive_range_and_rules_and_starts_nothing(world: World, archived: None) -> None:
    result = world.run("replay", "--from", since(), "--detail-type", "OrderUpdated", "--dry-run")

    assert result.exit_code == 0, result.output
    assert "crossdock-dev-archive (ENABLED)" in result.output
    assert "2 (" in result.output  # the archive's event count
    assert "crossdock-dev-record-order" in result.output
    assert "crossdock-dev-invoice-shipment" not in result.output
    assert "someone-elses-rule" not in result.output
    assert world.target.client("events").list_replays()["Replays"] == []
    assert world.visible(world.record_order.queue_url) == 0
    (item,) = world.audit_items()
    record = AuditRecord.model_validate_json(item["record"]["S"])
    assert (record.action, record.target, record.dry_run, record.result) == (
        "replay",
        "crossdock-dev-archive",
        True,
        "dry_run",
    )
    assert record.selection["detail_types"] == "OrderUpdated"


def test_replay_goes_to_the_rules_that_take_the_detail_type_and_waits_for_it(world: World, archived: None) -> None:
    result = world.run("replay", "--from", since(), "--detail-type", "OrderReceived", "--yes")

    assert result.exit_code == 0, result.output
    assert "COMPLETED" in result.output
    (replay,) = world.target.client("events").list_replays()["Replays"]
    described = world.target.client("events").describe_replay(ReplayName=replay["ReplayName"])
    assert described["Destination"]["FilterArns"] == [
        f"arn:aws:events:us-east-1:123456789012:rule/{BUS}/crossdock-dev-record-order"
    ]
    (event,) = [json.loads(m["Body"]) for m in world.drain(world.record_order.queue_url)]
    assert (event["detail-type"], event["replay-name"]) == ("OrderReceived", replay["ReplayName"])
    (item,) = world.audit_items()
    record = AuditRecord.model_validate_json(item["record"]["S"])
    assert (record.result, record.matched, record.succeeded, record.message_ids) == (
        "ok",
        1,
        1,
        [replay["ReplayName"]],
    )


def test_a_replay_eventbridge_refuses_exits_1_and_is_audited_as_failed(world: World, archived: None) -> None:
    with world.refusing("events", "StartReplay", "LimitExceededException"):
        result = world.run("replay", "--from", since(), "--yes")

    assert result.exit_code == 1  # the target was reached: the command ran, the replay did not
    assert "REFUSED (AWS refused StartReplay: LimitExceededException" in result.output
    (item,) = world.audit_items()  # the "started" record, overwritten with the outcome
    record = AuditRecord.model_validate_json(item["record"]["S"])
    assert (record.result, record.failed, record.message_ids[0].startswith("crossdock-")) == ("failed", 2, True)


def test_no_audit_trail_no_replay(world: World, archived: None) -> None:
    with world.refusing("dynamodb", "PutItem", "AccessDeniedException"):
        result = world.run("replay", "--from", since(), "--yes")

    assert result.exit_code == 2
    assert "AccessDeniedException" in result.output
    assert world.target.client("events").list_replays()["Replays"] == []


def test_the_detail_type_help_says_it_chooses_rules_not_events() -> None:
    (option,) = [p for p in get_command(app).commands["replay"].params if p.name == "detail_types"]  # type: ignore[attr-defined]

    assert "Chooses the rules" in str(option.help)
    assert "Every event those rules take in the range is replayed" in str(option.help)


def test_a_detail_type_no_rule_takes_is_a_usage_error(world: World) -> None:
    result = world.run("replay", "--from", since(), "--detail-type", "OrderRecieved", "--yes")

    assert result.exit_code == 2
    assert "OrderReceived" in result.output  # what the rules do take
    assert world.audit_items() == []


def test_from_after_to_is_a_usage_error(world: World) -> None:
    result = world.run("replay", "--from", "2026-11-30T10:00:00", "--to", "2026-11-30T09:00:00")

    assert result.exit_code == 2
    assert "--from must be before --to" in result.output
