"""The demo report: what went in, what was published, what each system did, what is in the DLQs, and the
invariants: nothing lost, nothing done twice."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from infra.local.scenario import Expected
from infra.local.stack import LocalStack


@dataclass
class Report:
    webhooks: dict[str, int] = field(default_factory=dict)
    events: Counter[str] = field(default_factory=Counter)
    effects: dict[str, int] = field(default_factory=dict)
    dlqs: dict[str, int] = field(default_factory=dict)
    functions: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    misordered: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.lost and not self.duplicated


def collect(stack: LocalStack, expected: Expected) -> Report:
    report = Report()
    statuses = [s for sandbox in stack.sandboxes.values() for s in _delivery_statuses(sandbox)]
    statuses += expected.hostile
    report.webhooks = {
        "sent": len(statuses),
        "accepted": sum(1 for s in statuses if 200 <= s < 300),
        "rejected": sum(1 for s in statuses if 400 <= s < 500),
        "failed": sum(1 for s in statuses if s == 0 or s >= 500),
    }
    published = _drain_observer(stack)
    report.events = Counter(e["detail-type"] for e in published)
    states, timeline = _orders_table(stack)
    report.effects = {"orders recorded": len(states), "timeline entries": sum(len(t) for t in timeline.values())}
    for name, sandbox in stack.sandboxes.items():
        report.effects[f"{name} API calls"] = sum(sandbox.calls.values())
    report.dlqs = _dlq_depths(stack)
    report.functions = {
        name.split("Functions", 1)[-1]: (f.invocations, f.errors, f.cold_starts) for name, f in stack.functions.items()
    }
    dead_lettered = _dead_lettered_orders(stack)
    for key, status in expected.orders.items():
        state = states.get(key)
        if state is None and key not in dead_lettered:
            report.lost.append(key)
        elif state is not None and state["status"] != status:
            report.misordered.append(key)
    received = Counter(
        e["detail"]["data"]["channel"] + ":" + e["detail"]["data"]["store"] + ":" + e["detail"]["data"]["external_id"]
        for e in published
        if e["detail-type"] == "OrderReceived"
    )
    report.duplicated = [key for key, count in received.items() if count > 1]
    for key, entries in timeline.items():
        if len(set(entries)) != len(entries):
            report.duplicated.append(f"{key} (timeline)")
    return report


def render(report: Report, stack: LocalStack) -> str:
    lines = ["", "Crossdock local demo", "====================", ""]
    lines += [f"AWS emulation: moto server + {stack.emulators.dynamodb_engine} for DynamoDB", ""]
    lines += ["Webhooks"] + [f"  {k:<24}{v:>8}" for k, v in report.webhooks.items()] + [""]
    lines += ["Events published (by detail-type)"]
    lines += [f"  {k:<24}{v:>8}" for k, v in sorted(report.events.items())] or ["  (none)"]
    lines += ["", "Effects"] + [f"  {k:<24}{v:>8}" for k, v in report.effects.items()] + [""]
    lines += ["Messages per DLQ"] + [f"  {k:<48}{v:>8}" for k, v in report.dlqs.items()] + [""]
    lines += ["Functions (invocations / errors / cold starts)"]
    lines += [f"  {k:<40}{i:>6} {e:>6} {c:>6}" for k, (i, e, c) in report.functions.items()] + [""]
    lines += ["Invariants", f"  lost: {len(report.lost)}", f"  duplicated: {len(report.duplicated)}"]
    lines += [f"  misordered: {len(report.misordered)}"]
    for label, keys in (("lost", report.lost), ("duplicated", report.duplicated), ("misordered", report.misordered)):
        lines += [f"    {label}: {key}" for key in keys[:10]]
    return "\n".join(lines)


def _delivery_statuses(sandbox: Any) -> list[int]:
    return [d.status for d in sandbox.outbox if d.delivered_at is not None and d.status is not None]


def _drain_observer(stack: LocalStack) -> list[dict[str, Any]]:
    assert stack.provisioned
    sqs = stack.client("sqs")
    events: list[dict[str, Any]] = []
    while True:
        messages = sqs.receive_message(QueueUrl=stack.provisioned.observer_url, MaxNumberOfMessages=10).get(
            "Messages", []
        )
        if not messages:
            return events
        for message in messages:
            events.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=stack.provisioned.observer_url, ReceiptHandle=message["ReceiptHandle"])


def _orders_table(stack: LocalStack) -> tuple[dict[str, dict[str, Any]], dict[str, list[str]]]:
    assert stack.provisioned
    name = next(n for logical, n in stack.provisioned.tables.items() if logical.startswith("Orders"))
    ddb = stack.client("dynamodb")
    states: dict[str, dict[str, Any]] = {}
    timeline: dict[str, list[str]] = {}
    for page in ddb.get_paginator("scan").paginate(TableName=name):
        for item in page["Items"]:
            key = item["pk"]["S"].removeprefix("ORDER#")
            if item["sk"]["S"] == "STATE":
                states[key] = {"status": item["status"]["S"], "version": int(item["version"]["N"])}
            else:
                timeline.setdefault(key, []).append(item["event_id"]["S"])
    return states, timeline


def _dead_lettered_orders(stack: LocalStack) -> set[str]:
    """Orders whose events wait in a DLQ: not lost, they can be replayed. Peeked, not consumed."""
    assert stack.provisioned
    sqs = stack.client("sqs")
    keys = set()
    for logical in stack.provisioned.dlqs:
        messages = sqs.receive_message(
            QueueUrl=stack.provisioned.queues[logical], MaxNumberOfMessages=10, VisibilityTimeout=0
        ).get("Messages", [])
        for message in messages:
            try:
                data = json.loads(message["Body"])["detail"]["data"]
                keys.add(f"{data['channel']}:{data['store']}:{data['external_id']}")
            except (KeyError, TypeError, ValueError):
                continue
    return keys


def _dlq_depths(stack: LocalStack) -> dict[str, int]:
    assert stack.provisioned
    sqs = stack.client("sqs")
    depths = {}
    for logical in sorted(stack.provisioned.dlqs):
        attrs = sqs.get_queue_attributes(
            QueueUrl=stack.provisioned.queues[logical], AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        depths[logical] = int(attrs["ApproximateNumberOfMessages"])
    return depths
