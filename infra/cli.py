"""``crossdock``: the operator's command line.

``crossdock local up|demo`` runs the local stack; the ops commands (``infra/ops/``) act on a deployed environment
(``--env``) or on the running local stack (``--local``).
"""

from __future__ import annotations

import os
import signal
import time
from types import FrameType

import typer
from rich.console import Console
from rich.table import Table

from infra.ops import audit, dlq, replay, send, status, trace
from infra.ops.options import EXIT_CODES

app = typer.Typer(
    help=f"Crossdock: run, inspect and operate the integration fabric.\n\n{EXIT_CODES}", no_args_is_help=True
)
local = typer.Typer(help="The whole topology on this machine: no AWS account, no Docker.", no_args_is_help=True)
app.add_typer(local, name="local")
app.add_typer(dlq.app, name="dlq", epilog=EXIT_CODES)
app.command("replay", epilog=EXIT_CODES)(replay.replay_command)
app.command("trace", epilog=EXIT_CODES)(trace.trace_command)
app.command("send", epilog=EXIT_CODES)(send.send_command)
app.command("status", epilog=EXIT_CODES)(status.status_command)
app.command("audit", epilog=EXIT_CODES)(audit.audit_command)
console = Console()

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@local.command("up")
def local_up(env: str = typer.Option("dev", help="Which environment's template to run")) -> None:
    """Start the local stack and keep it running until Ctrl-C."""
    from infra.local.stack import LocalStack

    # Ctrl-C and `kill` both stop cleanly, even where a shell started us with SIGINT ignored.
    signal.signal(signal.SIGINT, _raise_interrupt)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    stack = LocalStack(env=env)
    with console.status("synthesizing and starting the local stack..."):
        stack.start()
    try:
        _print_endpoints(stack)
        console.print(f"\nstate: {stack.state_path}  (crossdock <command> --local reads it)")
        console.print("\n[bold]Running.[/bold] Ctrl-C stops everything.")
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        console.print("\nstopping...")
    finally:
        stack.stop()


@local.command("demo")
def local_demo(
    env: str = typer.Option("dev", help="Which environment's template to run"),
    orders: int = typer.Option(10, min=3, help="How many orders the scenario plays per channel"),
    erp_outage_minutes: float = typer.Option(
        3.0, min=0, help="How long the ERP is down in the back-pressure phase (0 skips it)"
    ),
) -> None:
    """Start the local stack, play the scenario, print the report, stop. Exits 1 if anything was lost or doubled."""
    from infra.local.report import collect, render
    from infra.local.scenario import play
    from infra.local.stack import LocalStack

    started = time.monotonic()
    stack = LocalStack(env=env)
    try:
        with console.status("synthesizing and starting the local stack..."):
            stack.start()
        with console.status(f"playing {orders} orders per channel: duplicates, late retries, reordering, loss..."):
            expected = play(stack, orders, outage_minutes=erp_outage_minutes)
            quiet = stack.wait_until_quiet(timeout=120)
        report = collect(stack, expected)
        print(render(report, stack))  # noqa: T201 - the report is the command's output
        print(f"\nfinished in {time.monotonic() - started:.1f}s{'' if quiet else ' (timed out waiting for quiet)'}")  # noqa: T201
    finally:
        stack.stop()
    if not (report.ok and quiet):
        raise typer.Exit(1)


@local.command("chaos")
def local_chaos(
    plan: str = typer.Option("full", help="full (at least 10,000 faults) or ci (a smaller run)"),
    orders: int | None = typer.Option(None, min=2, help="Orders per channel (default: the plan's)"),
    seed: int | None = typer.Option(None, help="Seed of the traffic and the faults (default: the plan's)"),
    env: str = typer.Option("dev", help="Which environment's template to run"),
) -> None:
    """Play the journeys on the local stack with faults everywhere, then check: exits 1 if anything was lost or
    done twice (or any other invariant broke)."""
    from dataclasses import replace

    from infra.local.chaos.checker import render
    from infra.local.chaos.plan import PLANS
    from infra.local.chaos.run import run

    if plan not in PLANS:
        raise typer.BadParameter(f"unknown plan {plan!r}: one of {', '.join(PLANS)}", param_hint="--plan")
    chosen = PLANS[plan]
    chosen = replace(
        chosen, orders_per_channel=orders or chosen.orders_per_channel, seed=chosen.seed if seed is None else seed
    )

    def phase_done(phase: str, seconds: float) -> None:
        console.print(f"{time.strftime('%H:%M:%S')}  {phase}: {seconds:.0f} s", highlight=False)

    with console.status(f"chaos: {chosen.orders_per_channel} orders per channel, seed {chosen.seed}..."):
        verdict, seconds = run(chosen, env, on_phase=phase_done)
    print(render(verdict, seconds))  # noqa: T201 - the summary is the command's output
    if not verdict.valid:
        raise typer.Exit(1)


def _print_endpoints(stack: object) -> None:
    from infra.local.stack import LocalStack

    assert isinstance(stack, LocalStack)
    table = Table(title="Crossdock local stack", show_lines=False)
    table.add_column("what")
    table.add_column("where")
    if stack.api:
        for route in stack.api.routes:
            table.add_row(f"API {route.method} {route.path}", f"{stack.api.url}{route.path}")
    for name, sandbox in stack.sandboxes.items():
        table.add_row(f"sandbox {name}", f"{sandbox.url}   (state: {sandbox.url}/_sandbox/state)")
    table.add_row("AWS (moto server)", stack.emulators.moto_url)
    table.add_row(f"DynamoDB ({stack.emulators.dynamodb_engine})", stack.emulators.dynamodb_url)
    if stack.provisioned:
        for name, value in stack.provisioned.secrets.items():
            table.add_row(f"secret {name}", value)
    table.add_row("function logs", str(stack.log_dir))
    console.print(table)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
