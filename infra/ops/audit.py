"""The audit trail of operator actions (redrives, replays) in the operations table.

Items: ``pk = AUDIT#<yyyy-mm>`` (a month per partition, so "recent" is one or two queries), ``sk = <iso time>#<id>``
(newest last), ``record`` = the ``AuditRecord`` as JSON, ``expires_at`` = a year later (the table's TTL).

An action is written as "started" before it acts and overwritten with its outcome after: a trail that cannot be
written stops the action, and one that dies midway still says it began.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

import typer
from rich.table import Table

from infra.ops.options import (
    EnvOption,
    LocalOption,
    ProfileOption,
    RegionOption,
    StateOption,
    add_row,
    console,
    handled,
    open_target,
)
from infra.ops.target import DEFAULT_LOCAL_STATE, TABLE_TYPES, Target
from shared.models.operations import AuditRecord

KEEP = timedelta(days=365)
AuditKey = tuple[str, str]  # the item's pk and sk


def operations_table(target: Target) -> str:
    return target.named("OperationsTableName", TABLE_TYPES, "Operations")


def result_of(*, dry_run: bool, matched: int, succeeded: int) -> Literal["ok", "partial", "failed", "dry_run"]:
    """What came of it: an interrupted run counts as partial, like one where some messages failed."""
    if dry_run:
        return "dry_run"
    if succeeded == matched:
        return "ok"
    return "partial" if succeeded else "failed"


def write(target: Target, record: AuditRecord, key: AuditKey | None = None) -> AuditKey:
    """Write ``record`` as a new item, or over the item ``key`` (what an earlier write returned)."""
    at = record.at.astimezone(UTC)
    pk, sk = key or (f"AUDIT#{at:%Y-%m}", f"{at.isoformat()}#{uuid.uuid4()}")
    target.client("dynamodb").put_item(
        TableName=operations_table(target),
        Item={
            "pk": {"S": pk},
            "sk": {"S": sk},
            "record": {"S": record.model_dump_json()},
            "expires_at": {"N": str(int((at + KEEP).timestamp()))},
        },
    )
    return pk, sk


def recent(target: Target, limit: int, now: datetime) -> list[AuditRecord]:
    """The newest ``limit`` records of this month and the last, newest first."""
    ddb = target.client("dynamodb")
    table = operations_table(target)
    last_month = now.astimezone(UTC).replace(day=1) - timedelta(days=1)
    records: list[AuditRecord] = []
    for month in (now.astimezone(UTC), last_month):
        query = {
            "TableName": table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": f"AUDIT#{month:%Y-%m}"}},
            "ScanIndexForward": False,
        }
        start = None
        while len(records) < limit:
            page = ddb.query(**query, Limit=limit - len(records), **({"ExclusiveStartKey": start} if start else {}))
            records.extend(AuditRecord.model_validate_json(item["record"]["S"]) for item in page.get("Items", []))
            start = page.get("LastEvaluatedKey")
            if not start:
                break
    return records[:limit]


def audit_command(
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many records.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON record per line, for scripts.")] = False,
    env: EnvOption = None,
    profile: ProfileOption = None,
    region: RegionOption = None,
    local: LocalOption = False,
    state: StateOption = DEFAULT_LOCAL_STATE,
) -> None:
    """The newest operator actions (redrives and replays) of this month and the last: who, when, what, result."""
    with handled(local):
        target = open_target(env, profile, region, local, state)
        records = recent(target, limit, datetime.now(UTC))
    if as_json:
        for record in records:
            print(record.model_dump_json())  # noqa: T201 - machine-readable output
        return
    table = Table(title=f"Audit trail: {target.env}")
    for column in ("at", "who", "action", "target", "selection", "matched", "moved", "failed", "result"):
        table.add_column(column, overflow="fold")
    for r in records:
        selection = " ".join(f"{k}={v}" for k, v in r.selection.items()) or "-"
        moved = str(r.succeeded) + (f" ({r.not_deleted} not deleted)" if r.not_deleted else "")
        add_row(
            table,
            r.at.isoformat(timespec="seconds"),
            r.actor,
            r.action,
            r.target,
            selection,
            str(r.matched),
            moved,
            str(r.failed),
            r.result,
            style={"failed": "red", "partial": "red", "started": "yellow"}.get(r.result),
        )
    console.print(table)
