"""``crossdock replay``: send a time range of archived events through the bus again, to the rules that take them.

EventBridge replays to the bus the archive records, and only to the rules in ``FilterArns``: those whose event
pattern takes one of the chosen detail types. Replayed events keep their event ids, and every consumer is
idempotent on them, so whatever was already done is not done again.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from botocore.exceptions import ClientError
from rich.table import Table

from infra.ops import audit
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
    refused,
    say,
)
from infra.ops.target import DEFAULT_LOCAL_STATE, Target
from shared.models.operations import AuditRecord

FINAL_STATES = ("COMPLETED", "FAILED", "CANCELLED")
POLL_SECONDS = 5.0


# -- which rules take a detail type (pure) ---------------------------------------------------------------------
def receives(pattern: dict[str, Any], detail_type: str) -> bool:
    """Whether an event pattern can take events of ``detail_type``, judging by its ``detail-type`` field alone.

    A matcher we do not read counts as a match: one rule too many gets events it has seen (idempotency absorbs
    them), one too few would miss the replay.
    """
    branches = pattern.get("$or")
    if isinstance(branches, list) and branches:
        rest = {k: v for k, v in pattern.items() if k != "$or"}
        return any(receives({**rest, **branch}, detail_type) for branch in branches if isinstance(branch, dict))
    values = pattern.get("detail-type")
    if values is None:
        return True  # no condition on the detail type: every one
    return any(_matches(value, detail_type) for value in (values if isinstance(values, list) else [values]))


def _matches(matcher: Any, text: str) -> bool:
    if isinstance(matcher, str):
        return matcher == text
    if not isinstance(matcher, dict) or len(matcher) != 1:
        return True
    ((kind, arg),) = matcher.items()
    if kind == "prefix" and isinstance(arg, str):
        return text.startswith(arg)
    if kind == "suffix" and isinstance(arg, str):
        return text.endswith(arg)
    if kind == "equals-ignore-case" and isinstance(arg, str):
        return text.lower() == arg.lower()
    if kind == "wildcard" and isinstance(arg, str):
        return re.fullmatch(".*".join(re.escape(part) for part in arg.split("*")), text) is not None
    if kind == "anything-but":
        if isinstance(arg, str):
            return text != arg
        if isinstance(arg, list):
            return text not in arg
        return not _matches(arg, text)
    return True


def detail_types_of(pattern: dict[str, Any]) -> list[str]:
    """The literal detail types a pattern names, for the operator (empty: any, or not literal)."""
    values = pattern.get("detail-type", [])
    return [v for v in (values if isinstance(values, list) else [values]) if isinstance(v, str)]


def rules_for(rules: Sequence[dict[str, Any]], detail_types: Sequence[str]) -> list[dict[str, Any]]:
    """The rules that take any of ``detail_types`` (every rule with a pattern when none is given)."""
    return [r for r in rules if not detail_types or any(receives(r["pattern"], d) for d in detail_types)]


# -- the stack's bus, archive and rules ------------------------------------------------------------------------
def bus_rules(target: Target, bus: str) -> list[dict[str, Any]]:
    """The stack's own pattern rules on the bus (not scheduled ones, nor those EventBridge manages)."""
    ours = {r.physical_id.split("|")[-1] for r in target.of_type("AWS::Events::Rule")}
    events = target.client("events")
    rules: list[dict[str, Any]] = []
    token = None
    while True:
        page = events.list_rules(EventBusName=bus, **({"NextToken": token} if token else {}))
        for rule in page.get("Rules", []):
            if rule.get("EventPattern") and not rule.get("ManagedBy") and (not ours or rule["Name"] in ours):
                rules.append({"name": rule["Name"], "arn": rule["Arn"], "pattern": json.loads(rule["EventPattern"])})
        token = page.get("NextToken")
        if not token:
            return sorted(rules, key=lambda r: str(r["name"]))


def parse_time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not an ISO 8601 time, e.g. 2026-11-30T09:00:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # no offset: UTC, as the archive keeps time


def replay_command(
    start: Annotated[str, typer.Option("--from", help="First event time, ISO 8601 (UTC without an offset).")],
    end: Annotated[str | None, typer.Option("--to", help="Last event time, ISO 8601 (default: now).")] = None,
    detail_types: Annotated[
        list[str] | None,
        typer.Option(
            "--detail-type",
            help="Chooses the rules: those that take this detail type (repeatable). Every event those rules take "
            "in the range is replayed to them, of any detail type (idempotency absorbs the repeats).",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the archive, range and rules; start nothing.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    env: EnvOption = None,
    profile: ProfileOption = None,
    region: RegionOption = None,
    local: LocalOption = False,
    state: StateOption = DEFAULT_LOCAL_STATE,
) -> None:
    """Replay archived events from a time range through the bus, to the rules that take the chosen detail types.

    Replayed events keep their event ids and every consumer is idempotent on them: what was already done is not
    done twice. EventBridge cannot list the archived events, so --dry-run shows the archive, the range and the
    rules that would receive. Every run, dry runs too, writes an audit record, before the replay starts.
    Exits 1 when EventBridge refuses the replay or it does not complete.
    """
    since, until = parse_time(start), parse_time(end) if end else datetime.now(UTC)
    if since >= until:
        raise typer.BadParameter("--from must be before --to", param_hint="--from/--to")
    wanted = list(detail_types or [])
    with handled(local):
        target = open_target(env, profile, region, local, state)
        actor = target.actor()
        audit.operations_table(target)
        events = target.client("events")
        bus = target.named("EventBusName", ("AWS::Events::EventBus",), "")
        archive = events.describe_archive(ArchiveName=target.named("EventArchiveName", ("AWS::Events::Archive",), ""))
        rules = bus_rules(target, bus)
        chosen = rules_for(rules, wanted)
        if not chosen:
            known = sorted({d for r in rules for d in detail_types_of(r["pattern"])})
            raise typer.BadParameter(f"no rule on {bus} takes {', '.join(wanted)}; rules take: {', '.join(known)}")
        console.print(_archive_table(archive, since, until))
        console.print(_rules_table(chosen))
        selection = {"from": since.isoformat(), "to": until.isoformat()}
        if wanted:
            selection["detail_types"] = ",".join(wanted)
        record = AuditRecord(
            action="replay",
            actor=actor,
            at=datetime.now(UTC),
            environment=target.env,
            target=archive["ArchiveName"],
            selection=selection,
            dry_run=dry_run,
            matched=len(chosen),  # for a replay: the rules it goes to
            result="dry_run",
        )
        if dry_run:
            audit.write(target, record)
            return
        if not yes:
            typer.confirm(f"Replay to {len(chosen)} rule(s)?", abort=True)
        name = f"crossdock-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
        # "started" before the replay is: if the trail cannot be written, nothing is replayed.
        key = audit.write(target, record.model_copy(update={"result": "started", "message_ids": [name]}))
        final, reason = "FAILED", ""
        try:
            refusal = _start(events, name, f"crossdock replay by {actor}", archive, (since, until), chosen)
            final, reason = ("REFUSED", refusal) if refusal else _wait(events, name)
        except KeyboardInterrupt:
            final = "INTERRUPTED"
            say(f"stopped waiting; replay {name} goes on (aws events describe-replay --replay-name {name})", "yellow")
            raise
        finally:
            # For a replay: message_ids holds the replay's name; an interrupted wait counts as partial.
            result = {"COMPLETED": "ok", "INTERRUPTED": "partial"}.get(final, "failed")
            update = {
                "dry_run": False,
                "succeeded": len(chosen) if result == "ok" else 0,
                "failed": len(chosen) if result == "failed" else 0,
                "result": result,
                "message_ids": [name],
            }
            audit.write(target, record.model_copy(update=update), key)
    say(f"replay {name}: {final}" + (f" ({reason})" if reason else ""), "bold" if final == "COMPLETED" else "bold red")
    if final != "COMPLETED":
        raise typer.Exit(1)


def _start(
    events: Any,
    name: str,
    description: str,
    archive: dict[str, Any],
    between: tuple[datetime, datetime],
    rules: list[dict[str, Any]],
) -> str | None:
    """Start the replay; None, or what EventBridge said when it refused (a limit, the range, the archive)."""
    try:
        events.start_replay(
            ReplayName=name,
            Description=description[:512],
            EventSourceArn=archive["ArchiveArn"],
            EventStartTime=between[0],
            EventEndTime=between[1],
            Destination={"Arn": archive["EventSourceArn"], "FilterArns": [r["arn"] for r in rules]},
        )
    except ClientError as error:
        # Reached and refused: the command ran and the replay did not happen (exit 1, not a target problem).
        return refused(error)
    return None


def _wait(events: Any, name: str) -> tuple[str, str]:
    with console.status(f"replay {name} starting...") as status:
        while True:
            replay = events.describe_replay(ReplayName=name)
            state = str(replay["State"])
            if state in FINAL_STATES:
                return state, str(replay.get("StateReason", ""))
            status.update(f"replay {name}: {state.lower()}...")
            time.sleep(POLL_SECONDS)


def _archive_table(archive: dict[str, Any], since: datetime, until: datetime) -> Table:
    table = Table(title="Archive", show_header=False)
    table.add_column("what")
    table.add_column("value", overflow="fold")
    add_row(table, "archive", f"{archive['ArchiveName']} ({archive.get('State', '?')})")
    add_row(table, "events", f"{archive.get('EventCount', '?')} ({archive.get('SizeBytes', '?')} bytes), all times")
    add_row(table, "retention", f"{archive.get('RetentionDays') or 'indefinite'} days")
    add_row(table, "range", f"{since.isoformat()} .. {until.isoformat()}")
    add_row(table, "bus", archive["EventSourceArn"])
    return table


def _rules_table(rules: list[dict[str, Any]]) -> Table:
    table = Table(title=f"Rules that would receive: {len(rules)}")
    table.add_column("rule", overflow="fold")
    table.add_column("takes", overflow="fold")
    for rule in rules:
        add_row(table, str(rule["name"]), ", ".join(detail_types_of(rule["pattern"])) or "any detail type")
    return table
