"""``crossdock status``: is anything waiting, failing or stuck? Queue depths, DLQs, breakers, stuck orders.

Exits 1 when something needs a person: a message in a DLQ, an open breaker, or an order past its SLA (or, with
``--within``, about to be). DLQs are counted from their attributes, never looked into: each receive would count
towards taking a message out of the DLQ-age alarm's metric, and status is what runs often.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer
from rich.table import Table

from infra.config import cdk_context, load_config
from infra.ops import audit
from infra.ops.options import (
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
    parse_duration,
    say,
)
from infra.ops.queues import Topology, topology
from infra.ops.target import DEFAULT_LOCAL_STATE, Target, TargetError
from infra.ops.trace import order_store
from shared.aws.breaker_store import DynamoBreakerStore
from shared.breaker import BreakerState
from shared.models.operations import StuckPolicy
from shared.stuck import StuckOrder, find_stuck


def stuck_policy(env: str) -> StuckPolicy:
    """The environment's SLAs per status, from cdk.json, as the deployed detector has them."""
    try:
        return load_config(cdk_context()["crossdock"], env).operations.stuck
    except ValueError as error:
        raise TargetError(f"no stuck-order SLAs for {env!r} in cdk.json: {error}") from error


def breakers(target: Target) -> list[BreakerState] | None:
    """Every system's breaker; None when the stack has no operations table (deployed before it existed)."""
    try:
        table = audit.operations_table(target)
    except TargetError:
        return None
    client = target.client("dynamodb")
    return DynamoBreakerStore(table, client=lambda: client).states()


def status_command(
    within: Annotated[
        str, typer.Option("--within", help="Also flag orders that pass their SLA within this (30m, 2h).")
    ] = "0m",
    env: EnvOption = None,
    profile: ProfileOption = None,
    region: RegionOption = None,
    local: LocalOption = False,
    state: StateOption = DEFAULT_LOCAL_STATE,
) -> None:
    """Queue depths, DLQ counts, breakers and stuck orders. Exits 1 when any of it needs attention.

    DLQs are counted without looking at their messages: their ages and error classes are in dlq list.
    """
    ahead = parse_duration(within)
    now = datetime.now(UTC)
    with handled(local):
        target = open_target(env, profile, region, local, state)
        topo = topology(target)
        states = breakers(target)
        stuck = find_stuck(order_store(target), stuck_policy(target.env), now, ahead)
    console.print(queues_table(topo))
    console.print(dlqs_table(topo))
    console.print(breakers_table(states, now))
    console.print(stuck_table(stuck, now, ahead))
    problems = [
        f"{sum(d.depth for d in topo.dlqs)} dead letter(s)" if any(d.depth for d in topo.dlqs) else "",
        f"{sum(b.is_open for b in states or [])} open breaker(s)" if any(b.is_open for b in states or []) else "",
        f"{len(stuck)} stuck order(s)" if stuck else "",
    ]
    problems = [p for p in problems if p]
    if problems:
        say(f"needs attention: {', '.join(problems)}", "bold red")
        raise typer.Exit(1)
    say("all clear", "bold green")


def queues_table(topo: Topology) -> Table:
    table = Table(title="Queues")
    for column in ("queue", "visible", "in flight", "delayed"):
        table.add_column(column, justify="left" if column == "queue" else "right")
    for queue in topo.buffers:
        add_row(table, queue.label, str(queue.visible), str(queue.in_flight), str(queue.delayed))
    return table


def dlqs_table(topo: Topology) -> Table:
    """Counts from the queue attributes: visible, plus in flight (someone is looking) and delayed."""
    table = Table(title="Dead-letter queues (their ages and error classes: crossdock dlq list)")
    for column in ("DLQ", "messages", "redrives to"):
        table.add_column(column, justify="right" if column == "messages" else "left")
    for dlq in topo.dlqs:
        sources = ", ".join(s.label for s in topo.sources_of(dlq)) or "-"
        add_row(table, dlq.label, str(dlq.depth), sources, style="bold red" if dlq.depth else None)
    return table


def breakers_table(states: list[BreakerState] | None, now: datetime) -> Table:
    table = Table(title="Breakers" if states is not None else "Breakers: no operations table in this stack")
    for column in ("system", "state", "open until", "failures", "last error"):
        table.add_column(column, overflow="fold")
    for b in states or []:
        until = f"{b.open_until.isoformat(timespec='seconds')} (in {age(b.open_until - now)})" if b.open_until else "-"
        add_row(
            table,
            b.system,
            b.state,
            until if b.is_open else "-",
            str(b.failures),
            b.last_error or "-",
            style="bold red" if b.is_open else None,
        )
    return table


def stuck_table(stuck: list[StuckOrder], now: datetime, ahead: timedelta) -> Table:
    title = "Stuck orders" + (f" (and due within {age(ahead)})" if ahead else "")
    table = Table(title=f"{title}: {len(stuck)}")
    for column in ("order", "status", "since", "SLA", "overdue", "correlation id"):
        table.add_column(column, overflow="fold")
    for order in stuck:
        overdue = timedelta(minutes=order.overdue_minutes)
        late = f"{age(overdue)}" if overdue >= timedelta(0) else f"due in {age(-overdue)}"
        add_row(
            table,
            order.order_key,
            order.status.value,
            f"{order.since.isoformat(timespec='seconds')} ({age(now - order.since)} ago)",
            f"{order.sla_minutes}m",
            late,
            order.correlation_id or "-",
            style="bold red" if overdue >= timedelta(0) else "yellow",
        )
    return table
