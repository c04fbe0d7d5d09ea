"""``crossdock trace`` and ``crossdock status`` against moto: an order's journey, and what needs attention."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from infra.cli import app
from infra.ops.trace import order_store
from shared.models.order_state import OrderStatus, OrderVersion, TimelineEntry
from tests.integration.cli_world import OPS_TABLE, World, moto_world, ours

ORDER_KEY = "shopify:acme.myshopify.com:1001"


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    yield from moto_world(monkeypatch)


def record(world: World, order_key: str, status: OrderStatus, at: datetime, *, external_id: str = "1001") -> None:
    """An order as the consumers leave it: its version, its status since ``at``, and the journey so far."""
    store = order_store(world.target)
    channel, shop, _ = order_key.split(":")
    store.apply_version(
        OrderVersion(
            order_key=order_key,
            channel=channel,
            store=shop,
            external_id=external_id,
            version=1,
            correlation_id=f"corr-{external_id}",
            last_event_id="ev-1",
        )
    )
    store.advance_status(order_key, status, at)
    steps = [("received", "shopify", {}), ("accepted by the ERP", "netsuite", {"sales_order": "SO-77"})]
    for minute, (what, system, ids) in enumerate(steps):
        entry = TimelineEntry(
            order_key=order_key,
            event_id=f"{external_id}-{minute}",
            what=what,
            at=at + timedelta(minutes=minute),
            system=system,
            ids=ids,
        )
        store.append(entry)


def test_trace_shows_the_status_and_the_whole_timeline(world: World) -> None:
    record(world, ORDER_KEY, OrderStatus.ACCEPTED, datetime(2026, 11, 30, 9, tzinfo=UTC))

    table = world.run("trace", "shopify", "1001")
    as_json = world.run("trace", "shopify", "1001", "--store", "acme.myshopify.com", "--json")

    assert table.exit_code == 0, table.output
    assert f"{ORDER_KEY}: accepted" in table.output
    assert "corr-1001" in table.output
    rows = [line for line in table.output.splitlines() if "2026-11-30T09:0" in line]
    assert len(rows) == 2
    assert "accepted by the ERP" in rows[1]
    assert "netsuite" in rows[1]
    assert "sales_order=SO-77" in rows[1]
    order = json.loads(as_json.output)
    assert (order["order_key"], order["status"]) == (ORDER_KEY, "accepted")
    assert [e["what"] for e in order["timeline"]] == ["received", "accepted by the ERP"]


def test_trace_of_an_order_we_never_saw_exits_1(world: World) -> None:
    result = world.run("trace", "shopify", "404")
    unknown_channel = world.run("trace", "ebay", "1")
    other_store = world.run("trace", "shopify", "1001", "--store", "elsewhere")

    assert result.exit_code == 1
    assert "no such order: shopify 404" in result.output
    assert unknown_channel.exit_code == 1
    assert "no such channel" in unknown_channel.output
    assert other_store.exit_code == 1


def test_a_store_error_names_what_aws_said(world: World) -> None:
    with world.refusing("dynamodb", "Query", "AccessDeniedException"):
        result = world.run("trace", "shopify", "1001")

    assert result.exit_code == 2
    assert "orders table unavailable: AWS refused Query: AccessDeniedException" in result.output


def test_status_is_clear_then_flags_dlqs_breakers_and_stuck_orders(world: World) -> None:
    now = datetime.now(UTC)
    record(world, "shopify:acme:2001", OrderStatus.INVOICED, now - timedelta(minutes=5), external_id="2001")

    clear = world.run("status")

    assert clear.exit_code == 0, clear.output
    assert "all clear" in clear.output
    assert "RecordOrder/Buffer/Queue" in clear.output
    assert "Stuck orders: 0" in clear.output

    # Invoiced 5 minutes ago, the SLA is 30: due within the next half hour, so --within 30m flags it.
    due = world.run("status", "--within", "30m")
    assert due.exit_code == 1
    assert "shopify:acme:2001" in due.output
    assert "due in 2" in due.output  # 25 minutes, give or take the seconds the test took

    record(world, ORDER_KEY, OrderStatus.RECEIVED, now - timedelta(minutes=40))
    world.park(world.record_order.dlq_url, "{}", ours("validation", source_queue=world.record_order.queue_name))
    world.target.client("dynamodb").put_item(
        TableName=OPS_TABLE,
        Item={
            "pk": {"S": "BREAKER"},
            "sk": {"S": "netsuite"},
            "state": {"S": "open"},
            "failures": {"N": "3"},
            "open_until": {"N": str((now + timedelta(seconds=20)).timestamp())},
            "last_error": {"S": "NetSuite 503"},
        },
    )

    flagged = world.run("status")

    assert flagged.exit_code == 1
    assert "needs attention: 1 dead letter(s), 1 open breaker(s), 1 stuck order(s)" in flagged.output
    assert ORDER_KEY in flagged.output
    assert "NetSuite 503" in flagged.output
    (dlq_row,) = [line for line in flagged.output.splitlines() if "RecordOrder/Buffer/Dlq" in line]
    assert "│        1 │ RecordOrder/Buffer/Queue" in dlq_row


def test_status_counts_dlqs_without_receiving_their_messages(world: World) -> None:
    """A message received 3+ times drops out of the DLQ's oldest-message age (the alarm): status adds no receive."""
    dlq = world.record_order.dlq_url
    world.park(dlq, "{}", ours("validation", source_queue=world.record_order.queue_name))

    runs = [world.run("status") for _ in range(3)]

    assert [r.exit_code for r in runs] == [1, 1, 1]
    assert "needs attention: 1 dead letter(s)" in runs[-1].output
    assert world.receive_counts(dlq) == [1]  # this look's own receive only
    # One held by someone's receive (in flight) still counts.
    world.target.client("sqs").receive_message(QueueUrl=dlq, VisibilityTimeout=300)
    assert "needs attention: 1 dead letter(s)" in world.run("status").output


def test_local_wins_over_the_environment_variable_but_not_over_an_explicit_env(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CROSSDOCK_ENV", "dev")
    state = str(tmp_path / "none.json")

    from_variable = world.runner.invoke(app, ["status"])
    local = world.runner.invoke(app, ["status", "--local", "--state", state])
    both = world.runner.invoke(app, ["status", "--local", "--state", state, "--env", "dev"])

    assert from_variable.exit_code == 0, from_variable.output  # the variable alone picks the deployed env
    assert local.exit_code == 2
    assert "no local stack state" in local.output  # --local was taken, not refused
    assert both.exit_code == 2
    assert "choose one target" in both.output
    monkeypatch.setenv("CROSSDOCK_ENV", "qa")
    unknown = world.runner.invoke(app, ["status"])
    assert unknown.exit_code == 2
    assert "CROSSDOCK_ENV='qa' is not dev|staging|prod" in unknown.output


def test_the_target_must_be_given_and_found(world: World, tmp_path: Path) -> None:
    missing = world.runner.invoke(app, ["status", "--local", "--state", str(tmp_path / "none.json")])
    nowhere = world.runner.invoke(app, ["status"])
    both = world.runner.invoke(app, ["status", "--local", "--env", "dev"])

    assert missing.exit_code == 2
    assert "no local stack state" in missing.output
    assert nowhere.exit_code == 2
    assert "say where to act" in nowhere.output
    assert both.exit_code == 2
