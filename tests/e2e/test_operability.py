"""Operability on the local stack: the DLQ workbench, trace, status and the ERP breaker, through the real CLI.

One flow per test, on the session's stack: what an operator does, with the commands they would type.
"""

from __future__ import annotations

import json
from typing import Any

from typer.testing import CliRunner

from infra.cli import app
from infra.local.report import order_statuses
from infra.local.report_outage import collect_outage
from infra.local.sandboxes.base import Faults
from infra.local.sandboxes.bigcommerce import BigCommerceSandbox
from infra.local.sandboxes.netsuite import NetSuiteSandbox
from infra.local.sandboxes.wms import WmsSandbox
from infra.local.scenario_orders import bigcommerce_order
from infra.local.scenario_outage import erp_outage
from infra.local.stack import LocalStack
from shared.ids import erp_external_id
from tests.e2e.conftest import wait_for

REFUSED_ORDER = 7100  # apart from the other e2e modules' order numbers
OUTAGE_FIRST_ORDER = 700


def crossdock(stack: LocalStack, *args: str) -> Any:
    """Run the CLI in-process against this stack, as `crossdock ... --local --state <file>` would."""
    return CliRunner().invoke(app, [*args, "--local", "--state", str(stack.state_path)])


def dlq_messages(stack: LocalStack, label: str) -> list[dict[str, Any]]:
    assert stack.provisioned
    assert stack.template
    sqs = stack.client("sqs")
    [url] = [u for k, u in stack.provisioned.queues.items() if k in stack.provisioned.dlqs and label in k]
    messages = sqs.receive_message(
        QueueUrl=url, VisibilityTimeout=0, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    ).get("Messages", [])
    return list(messages)


def sales_orders(stack: LocalStack, order_key: str) -> int:
    netsuite = stack.sandboxes["netsuite"]
    assert isinstance(netsuite, NetSuiteSandbox)
    eid = erp_external_id(order_key)
    return sum(1 for r in netsuite.records["salesOrder"].values() if str(r.get("externalId")) == eid)


def releases(stack: LocalStack, order_key: str) -> int:
    wms = stack.sandboxes["wms"]
    assert isinstance(wms, WmsSandbox)
    prefix = erp_external_id(order_key) + "-"
    return sum(1 for o in wms.orders.values() if str(o.get("reference_id")).startswith(prefix))


def test_a_refused_order_is_parked_with_its_class_flagged_and_redriven_once_after_the_fix(
    local_stack: LocalStack,
) -> None:
    netsuite, store = local_stack.sandboxes["netsuite"], local_stack.sandboxes["bigcommerce"]
    assert isinstance(netsuite, NetSuiteSandbox)
    assert isinstance(store, BigCommerceSandbox)
    key = f"bigcommerce:{store.store_hash}:{REFUSED_ORDER}"
    # An ERP admin made a field mandatory: NetSuite refuses the sales order. No retry can fix that.
    netsuite.faults = Faults(refuse_writes=True)
    try:
        store.add_order(*bigcommerce_order(REFUSED_ORDER))
        store.emit_order_event("store/order/created", REFUSED_ORDER)
        store.flush_webhooks()
        [message] = wait_for(lambda: dlq_messages(local_stack, "ValidateOrder"), timeout=60)
    finally:
        netsuite.faults = Faults()
    attributes = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
    assert attributes["error_class"] == "validation"
    assert attributes["retryable"] == "false"
    assert attributes["correlation_id"]
    assert "Terms" in attributes["error"]
    assert sales_orders(local_stack, key) == 0

    # What needs attention: the DLQ, and the order stuck in "received" within the next 20 minutes.
    status = crossdock(local_stack, "status", "--within", "20m")
    assert status.exit_code == 1, status.output
    assert str(REFUSED_ORDER) in status.output
    shown = crossdock(local_stack, "dlq", "show", "--queue", "ValidateOrder", "--json")
    assert shown.exit_code == 0, shown.output
    shown_messages = [json.loads(line) for line in shown.output.splitlines() if line.strip()]
    [parked] = [m for m in shown_messages if m["correlation_id"] == attributes["correlation_id"]]
    assert parked["error_class"] == "validation"

    dry = crossdock(local_stack, "dlq", "redrive", "--queue", "ValidateOrder", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "Would move: 1 message(s)" in dry.output
    assert len(dlq_messages(local_stack, "ValidateOrder")) == 1  # a dry run moves nothing

    # The admin fixed the form (the fault is cleared above); the operator redrives.
    done = crossdock(local_stack, "dlq", "redrive", "--queue", "ValidateOrder", "--yes")
    assert done.exit_code == 0, done.output
    assert local_stack.wait_until_quiet(timeout=60)
    assert dlq_messages(local_stack, "ValidateOrder") == []
    assert sales_orders(local_stack, key) == 1
    assert releases(local_stack, key) == 1
    assert order_statuses(local_stack)[key] == "released"
    # Redriving again finds nothing and changes nothing.
    again = crossdock(local_stack, "dlq", "redrive", "--queue", "ValidateOrder", "--yes")
    assert again.exit_code == 0, again.output
    assert sales_orders(local_stack, key) == 1

    audit = crossdock(local_stack, "audit", "--json")
    assert audit.exit_code == 0, audit.output
    audited = [json.loads(line) for line in audit.output.splitlines() if line.strip()]
    records = [r for r in audited if r["action"] == "dlq.redrive"]
    assert any(r["dry_run"] and r["matched"] == 1 for r in records)
    real = [r for r in records if not r["dry_run"] and message["MessageId"] in r["message_ids"]]
    assert len(real) == 1
    assert real[0]["succeeded"] == 1
    assert real[0]["result"] == "ok"
    assert real[0]["actor"]

    trace = crossdock(local_stack, "trace", "bigcommerce", str(REFUSED_ORDER), "--json")
    assert trace.exit_code == 0, trace.output
    hops = [entry["what"] for entry in json.loads(trace.output)["timeline"]]
    journey = ["ChannelOrderNotified", "OrderReceived", "OrderAccepted", "FulfillmentReleased", "ChannelStatusUpdated"]
    assert sorted(hops) == sorted(journey)  # one of each hop, redrive or not (two may share a millisecond)
    assert str(REFUSED_ORDER) not in crossdock(local_stack, "status", "--within", "20m").output


def test_an_erp_outage_opens_the_breaker_parks_the_work_and_closes_with_nothing_in_a_dlq(
    local_stack: LocalStack,
) -> None:
    expected = erp_outage(local_stack, minutes=10 / 60, per_channel=1, first=OUTAGE_FIRST_ORDER)
    report = collect_outage(local_stack, expected)
    assert report.problems == []
    assert report.opened_after
    assert report.parked > 0
    statuses = order_statuses(local_stack)
    for key in expected.orders:
        assert statuses.get(key) == "released", key
        assert sales_orders(local_stack, key) == 1
        assert releases(local_stack, key) == 1
    assert dlq_messages(local_stack, "ValidateOrder") == []


def test_trace_of_an_unknown_order_exits_1_with_a_clear_message(local_stack: LocalStack) -> None:
    result = crossdock(local_stack, "trace", "bigcommerce", "no-such-order")
    assert result.exit_code == 1
    assert "no such order" in result.output.lower()
