"""``crossdock dlq list|show|redrive``: see what is in the DLQs, why, and put it back where it failed.

list and show only look: they receive the messages for a moment and give them straight back, never deleting.
Each look is a receive, though, and SQS leaves a message received 3+ times out of ApproximateAgeOfOldestMessage
(the DLQ-age alarm's metric): hence ``status`` counts from the queue attributes and never looks.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from botocore.exceptions import BotoCoreError, ClientError
from rich.progress import Progress
from rich.table import Table
from rich.text import Text

from infra.ops import audit
from infra.ops.audit import AuditKey
from infra.ops.dead_letters import DeadLetter, wanted
from infra.ops.options import (
    EXIT_CODES,
    EnvOption,
    LocalOption,
    ProfileOption,
    RegionOption,
    StateOption,
    add_row,
    age,
    console,
    handled,
    open_target,
    say,
)
from infra.ops.queues import Peek, Queue, Topology, peeking, select, topology
from infra.ops.redrive import Move, move, plan
from infra.ops.target import DEFAULT_LOCAL_STATE, Target
from shared.errors import ErrorClass
from shared.models.operations import AuditRecord

# Messages looked at per DLQ in one command; a bigger DLQ takes several redrives (each says so).
PEEK_LIMIT = 1000
LOOK_SECONDS = 30  # how long list/show hold a message (they give it back at once anyway)
HOLD_SECONDS = 600  # how long redrive holds what it will move: the confirmation prompt waits within this
MOVE_SECONDS = 120  # of the hold, kept for the moves themselves: a later confirmation comes too late
# One sentence for list's and show's help: why looking is not free.
LOOKING = (
    "Looking receives each message, and SQS leaves a message received 3 or more times out of the DLQ's "
    "oldest-message age, so a few looks can quiet the DLQ-age alarm; status counts without looking."
)
clock = time.monotonic  # the hold's clock (tests move it)

QueueOption = Annotated[str | None, typer.Option("--queue", help="Only DLQs whose name contains this (any case).")]
ClassOption = Annotated[ErrorClass | None, typer.Option("--error-class", help="Only messages of this error class.")]


@dataclass(frozen=True)
class DlqSummary:
    queue: Queue
    sources: list[Queue]
    count: int
    peeked: int
    oldest: datetime | None
    classes: Counter[str]


def summaries(
    target: Target, topo: Topology, dlqs: Iterable[Queue], error_class: ErrorClass | None
) -> list[DlqSummary]:
    """Count, oldest message and classes per DLQ (SQS has no age attribute: it comes from the messages)."""
    result = []
    for dlq in dlqs:
        letters = _look(target, dlq, PEEK_LIMIT) if dlq.visible else []
        letters = [letter for letter in letters if wanted(letter, error_class, None)]
        sent = [letter.sent_at for letter in letters if letter.sent_at]
        result.append(
            DlqSummary(
                queue=dlq,
                sources=topo.sources_of(dlq),
                count=len(letters) if error_class else dlq.visible + dlq.in_flight + dlq.delayed,
                peeked=len(letters),
                oldest=min(sent) if sent else None,
                classes=Counter(letter.reason.error_class.value for letter in letters),
            )
        )
    return result


def _look(target: Target, dlq: Queue, limit: int) -> list[DeadLetter]:
    with peeking(target, dlq, limit=limit, visibility_seconds=LOOK_SECONDS) as peek:
        return [DeadLetter.of(message) for message in peek.messages]


def dlq_table(rows: list[DlqSummary], now: datetime) -> Table:
    table = Table(title="Dead-letter queues")
    for column in ("DLQ", "messages", "oldest", "by error class", "redrives to"):
        table.add_column(column, justify="right" if column == "messages" else "left")
    for summary in rows:
        classes = ", ".join(f"{name} {n}" for name, n in summary.classes.most_common())
        if summary.count > summary.peeked and summary.peeked:
            classes += f" (of the first {summary.peeked})"
        add_row(
            table,
            summary.queue.label,
            str(summary.count),
            age(now - summary.oldest) if summary.oldest else "-",
            classes or "-",
            ", ".join(s.label for s in summary.sources) or "-",
            style="bold red" if summary.count else None,
        )
    return table


app = typer.Typer(help="Dead-letter queues: what is there, why, and putting it back.", no_args_is_help=True)


@app.command(
    "list",
    epilog=EXIT_CODES,
    help="One row per DLQ: how many messages, the oldest one's age, and why they failed (by error class)."
    f"\n\n{LOOKING}",
)
def list_command(
    queue: QueueOption = None,
    error_class: ClassOption = None,
    env: EnvOption = None,
    profile: ProfileOption = None,
    region: RegionOption = None,
    local: LocalOption = False,
    state: StateOption = DEFAULT_LOCAL_STATE,
) -> None:
    with handled(local):
        target = open_target(env, profile, region, local, state)
        topo = topology(target)
        rows = summaries(target, topo, select(topo.dlqs, queue), error_class)
    console.print(dlq_table(rows, datetime.now(UTC)))


@app.command(
    "show",
    epilog=EXIT_CODES,
    help=f"Each message: its reason (class, retryable, last error), where it failed and what it carries.\n\n{LOOKING}",
)
def show_command(
    queue: QueueOption = None,
    error_class: ClassOption = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many messages.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines for scripts, one message per line.")] = False,
    env: EnvOption = None,
    profile: ProfileOption = None,
    region: RegionOption = None,
    local: LocalOption = False,
    state: StateOption = DEFAULT_LOCAL_STATE,
) -> None:
    letters: list[DeadLetter] = []
    with handled(local):
        target = open_target(env, profile, region, local, state)
        topo = topology(target)
        for dlq in select(topo.dlqs, queue):
            if dlq.visible and len(letters) < limit:
                # Unfiltered, the first few are enough; filtered, look further for matches.
                look = PEEK_LIMIT if error_class else limit - len(letters)
                found = [x for x in _look(target, dlq, look) if wanted(x, error_class, None)]
                letters.extend(found[: limit - len(letters)])
    if as_json:
        for letter in letters:
            typer.echo(json.dumps(flat(letter)))
        return
    console.print(letters_table(letters))


def flat(letter: DeadLetter) -> dict[str, Any]:
    reason = letter.reason.model_dump(mode="json", exclude={"correlation_id"})
    return {
        "message_id": letter.message_id,
        "queue": letter.queue,
        **reason,
        "correlation_id": letter.correlation_id,
        "sent_at": letter.sent_at.isoformat() if letter.sent_at else None,
        "detail_type": letter.detail_type,
        "order_key": letter.order_key,
    }


def letters_table(letters: list[DeadLetter]) -> Table:
    table = Table(title=f"{len(letters)} dead letter(s)", show_lines=True)
    for column in ("message", "why", "where", "last error", "event"):
        table.add_column(column, overflow="fold")
    for x in letters:
        r = x.reason
        retry = {True: "retryable", False: "not retryable", None: "retry: unknown"}[r.retryable]
        add_row(
            table,
            f"{x.message_id}\n{x.queue}",
            f"{r.error_class.value}\n{retry}\nattempts {r.attempts or '-'}\nby {r.parked_by}",
            f"failed {r.failed_at.isoformat() if r.failed_at else '-'}\nfunction {r.function or '-'}\n"
            f"from {r.source_queue or '-'}",
            r.error,
            f"{x.detail_type or '-'}\norder {x.order_key or '-'}\ncorrelation {x.correlation_id or '-'}",
        )
    return table


@app.command("redrive", epilog=EXIT_CODES)
def redrive_command(
    queue: QueueOption = None,
    error_class: ClassOption = None,
    correlation_id: Annotated[str | None, typer.Option("--correlation-id", help="Only this order's messages.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="At most this many messages.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would move where; change nothing.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    env: EnvOption = None,
    profile: ProfileOption = None,
    region: RegionOption = None,
    local: LocalOption = False,
    state: StateOption = DEFAULT_LOCAL_STATE,
) -> None:
    """Send matching dead letters back to the queue they failed from, as fresh messages, and delete them here.

    Each copy goes without its dead-letter reason and waiting clock, marked crossdock-redriven-at. The copy is
    sent before the original is deleted: a crash in between can deliver it twice, which the consumers'
    idempotency absorbs; the other order could lose it. A copy sent whose original could not be deleted counts as
    moved (with a warning): the original shows again, and redriving it again is harmless. Every run, dry runs
    too, writes an audit record, before anything moves.
    """
    selection = {
        k: str(v)
        for k, v in {
            "queue": queue,
            "error_class": error_class,
            "correlation_id": correlation_id,
            "limit": limit,
        }.items()
        if v is not None
    }
    with handled(local):
        target = open_target(env, profile, region, local, state)
        # Who, and where the audit goes, before anything moves: no audit trail, no redrive.
        actor = target.actor()
        audit.operations_table(target)
        topo = topology(target)
        with ExitStack() as held:
            held_since = clock()
            run = Run(*_collect(target, topo, held, queue, error_class, correlation_id, limit))
            console.print(plan_table(run.moves, dry_run))
            if not run.moves:
                say("no dead letter matches")
            trail = Trail(target, actor, datetime.now(UTC), selection, dry_run)
            if dry_run:
                trail.write(run)
                return
            if run.moves and not yes:
                minutes = (HOLD_SECONDS - MOVE_SECONDS) // 60
                typer.confirm(f"Move {len(run.moves)} message(s)? (answer within {minutes} minutes)", abort=True)
                if clock() > held_since + HOLD_SECONDS - MOVE_SECONDS:
                    # Not audited, as a declined prompt is not: nothing moved. The ExitStack gives them back.
                    say("took too long to confirm: the messages were released; run again", "bold red")
                    raise typer.Exit(1)
            trail.write(run)  # "started": if this fails, nothing has moved
            try:
                if run.moves:
                    _move_all(target, run)
            finally:
                trail.write(run, finished=True)
        if run.moves:
            console.print(summary_table(run))
    for item, why in run.not_deleted:
        say(
            f"{item.message.message_id} ({item.letter.queue}): copy sent; the original could not be deleted and will "
            f"show again: redriving it again is harmless (idempotency): {why}",
            "yellow",
        )
    for item, why in run.failed:
        say(f"{item.message.message_id} ({item.letter.queue}): {why}", "red")
    if run.failed:
        raise typer.Exit(1)


@dataclass
class Run:
    """What a redrive matched and, message by message, what came of each (an interrupted run is audited)."""

    moves: list[Move]
    peeks: dict[str, Peek]
    done: list[Move] = field(default_factory=list)  # copy sent (and, but for ``not_deleted``, original deleted)
    failed: list[tuple[Move, str]] = field(default_factory=list)
    not_deleted: list[tuple[Move, str]] = field(default_factory=list)


def _collect(
    target: Target,
    topo: Topology,
    held: ExitStack,
    queue: str | None,
    error_class: ErrorClass | None,
    correlation_id: str | None,
    limit: int | None,
) -> tuple[list[Move], dict[str, Peek]]:
    """The matching dead letters and where each goes, held invisible until ``held`` closes."""
    filtered = error_class is not None or correlation_id is not None
    peeks: dict[str, Peek] = {}
    moves: list[Move] = []
    for dlq in select(topo.dlqs, queue):
        if not dlq.visible or (limit is not None and len(moves) >= limit):
            continue
        look = PEEK_LIMIT if filtered or limit is None else limit - len(moves)
        peek = held.enter_context(peeking(target, dlq, limit=look, visibility_seconds=HOLD_SECONDS))
        peeks[dlq.url] = peek
        for message in peek.messages:
            letter = DeadLetter.of(message)
            if wanted(letter, error_class, correlation_id) and (limit is None or len(moves) < limit):
                moves.append(plan(topo, message, letter))
        if len(peek.messages) == PEEK_LIMIT < dlq.visible:
            say(f"{dlq.label}: looked at the first {PEEK_LIMIT} of ~{dlq.visible}; run again for the rest", "yellow")
    return moves, peeks


def _move_all(target: Target, run: Run) -> None:
    """Move each in turn, recording into ``run`` as it goes (an interrupted run is audited)."""
    sqs = target.client("sqs")
    with Progress(console=console) as progress:
        task = progress.add_task("redriving", total=len(run.moves))
        for item in run.moves:
            if item.destination is None:
                run.failed.append((item, item.problem or "no destination"))
            else:
                try:
                    not_deleted = move(sqs, item, datetime.now(UTC))
                except (ClientError, BotoCoreError) as error:
                    run.failed.append((item, str(error)))
                else:
                    # Taken even when its delete failed: the copy went, so the original is not given back now.
                    run.peeks[item.message.queue.url].taken.add(item.message.message_id)
                    run.done.append(item)
                    if not_deleted:
                        run.not_deleted.append((item, not_deleted))
            progress.advance(task)


def plan_table(moves: list[Move], dry_run: bool) -> Table:
    table = Table(title=("Would move" if dry_run else "To move") + f": {len(moves)} message(s)")
    for column in ("message", "DLQ", "error class", "correlation id", "goes back to"):
        table.add_column(column, overflow="fold")
    for item in moves:
        to = Text(item.destination.label) if item.destination else Text(f"nowhere: {item.problem}", style="red")
        x = item.letter
        add_row(table, x.message_id, x.queue, x.reason.error_class.value, x.correlation_id or "-", to)
    return table


def summary_table(run: Run) -> Table:
    table = Table(title="Redrive")
    kept = Counter(_route(m) for m, _ in run.not_deleted)
    columns = ["DLQ", "to", "matched", "moved", "failed"] + (["not deleted"] if kept else [])
    for column in columns:
        table.add_column(column, justify="left" if column in ("DLQ", "to") else "right")
    moved = Counter(_route(m) for m in run.done)
    broken = Counter(_route(m) for m, _ in run.failed)
    for route, matched in Counter(_route(m) for m in run.moves).items():
        cells = [str(matched), str(moved[route]), str(broken[route])] + ([str(kept[route])] if kept else [])
        add_row(table, *route, *cells, style="red" if broken[route] else "yellow" if kept[route] else None)
    return table


def _route(item: Move) -> tuple[str, str]:
    return item.letter.queue, item.destination.label if item.destination else "-"


@dataclass
class Trail:
    """A redrive's audit: one record per DLQ touched (one for the whole run when nothing matched), written as
    "started" before anything moves and overwritten, same items, with the outcome."""

    target: Target
    actor: str
    at: datetime
    selection: dict[str, str]
    dry_run: bool
    keys: dict[str, AuditKey] = field(default_factory=dict)

    def write(self, run: Run, *, finished: bool = False) -> None:
        per_dlq: dict[str, list[str]] = {}
        for item in run.moves:
            per_dlq.setdefault(item.message.queue.name, []).append(item.message.message_id)
        moved = {m.message.message_id for m in run.done}
        broken = {m.message.message_id for m, _ in run.failed}
        kept = {m.message.message_id for m, _ in run.not_deleted}
        for dlq, ids in per_dlq.items() or {self.selection.get("queue", "all DLQs"): []}.items():
            succeeded = sum(i in moved for i in ids)
            result = audit.result_of(dry_run=self.dry_run, matched=len(ids), succeeded=succeeded)
            record = AuditRecord(
                action="dlq.redrive",
                actor=self.actor,
                at=self.at,
                environment=self.target.env,
                target=dlq,
                selection=self.selection,
                dry_run=self.dry_run,
                matched=len(ids),
                succeeded=succeeded,
                failed=sum(i in broken for i in ids),
                not_deleted=sum(i in kept for i in ids),
                message_ids=ids,
                result=result if finished or self.dry_run else "started",
            )
            self.keys[dlq] = audit.write(self.target, record, self.keys.get(dlq))
