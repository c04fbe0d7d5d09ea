"""What every ops command shares: where it acts (``--env``/``--profile``/``--region`` or ``--local``), the
console, and how failures become exit codes (``EXIT_CODES``, the same text as README's).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError
from rich.console import Console
from rich.table import Table
from rich.text import Text

from infra.ops.target import Target, TargetError, aws_target, local_target
from shared.errors import CrossdockError

# README's "Exit codes" paragraph says the same (a test keeps them equal). Viewers exit 0 whatever they show:
# judging is status's job, and a script that reads a full DLQ has not failed.
EXIT_CODES = (
    "Exit codes: 0 done, and nothing needs attention; the viewers (dlq list, dlq show, audit, and trace of an "
    "order that exists) exit 0 whatever they show. 1 status found something that needs attention (a dead letter, "
    "an open breaker, a stuck order), or some of the work did not happen (a message that did not move, a replay "
    "refused or not completed, an order not found, a webhook answered with other than 2xx). 2 a usage error, or "
    "the target cannot be found, reached or used (no such profile, no credentials, no stack, no local stack "
    "running, access denied)."
)
PANEL = "Target"
ENV_VARIABLE = "CROSSDOCK_ENV"  # the default --env; read by open_target, so that an explicit --local wins over it
# No emoji codes: an order key like shopify:a:1 is not a picture.
console = Console(emoji=False, highlight=False)


class Env(StrEnum):
    DEV = "dev"
    STAGING = "staging"
    PROD = "prod"


EnvOption = Annotated[
    Env | None,
    typer.Option(
        "--env",
        help="A deployed environment (stack Crossdock-<env>). Default: $CROSSDOCK_ENV, unless --local is given.",
        rich_help_panel=PANEL,
        show_default=False,
    ),
]
ProfileOption = Annotated[
    str | None,
    typer.Option("--profile", help="AWS profile for --env (default: the usual chain).", rich_help_panel=PANEL),
]
RegionOption = Annotated[
    str | None, typer.Option("--region", help="AWS region for --env (default: the profile's).", rich_help_panel=PANEL)
]
LocalOption = Annotated[
    bool, typer.Option("--local", help="The running local stack (make local).", rich_help_panel=PANEL)
]
StateOption = Annotated[
    Path, typer.Option("--state", help="The local stack's state file.", rich_help_panel=PANEL, show_default=False)
]


def open_target(env: Env | None, profile: str | None, region: str | None, local: bool, state: Path) -> Target:
    if local and env is not None:
        raise typer.BadParameter("choose one target, not both", param_hint="--env/--local")
    if local:
        return local_target(state)
    env = env or _env_from_variable()
    if env is None:
        raise typer.BadParameter(
            "say where to act: --env dev|staging|prod (with --profile), or --local", param_hint="--env/--local"
        )
    return aws_target(env.value, profile, region)


def _env_from_variable() -> Env | None:
    value = os.environ.get(ENV_VARIABLE, "").strip()
    if not value:
        return None
    try:
        return Env(value)
    except ValueError:
        known = "|".join(e.value for e in Env)
        raise typer.BadParameter(f"{ENV_VARIABLE}={value!r} is not {known}", param_hint="--env") from None


@contextmanager
def handled(local: bool = False) -> Iterator[None]:
    """Turn "cannot find, reach or use the target" into a red line and exit code 2, whatever raised it."""
    try:
        yield
    except TargetError as error:
        _fail(str(error))
    except EndpointConnectionError as error:
        hint = ": is the local stack running (make local)?" if local else ""
        _fail(f"cannot reach {error.kwargs.get('endpoint_url', 'AWS')}{hint}")
    except ClientError as error:
        _fail(refused(error))
    except BotoCoreError as error:
        _fail(f"cannot reach AWS: {error}")
    except CrossdockError as error:
        # A store's error names only its table: the AWS error under it says what to fix (AccessDenied...).
        cause = error.__cause__
        if isinstance(cause, ClientError):
            _fail(f"{error.message}: {refused(cause)}")
        elif isinstance(cause, BotoCoreError):
            _fail(f"{error.message}: {cause}")
        else:
            _fail(f"{error.message} ({error.error_class.value})")


def refused(error: ClientError) -> str:
    """What AWS said, its error code first: "AWS refused PutItem: AccessDeniedException User ... is not ..."."""
    info = error.response.get("Error", {})
    return f"AWS refused {error.operation_name}: {info.get('Code', '')} {info.get('Message', '')}".rstrip()


def _fail(message: str) -> None:
    console.print(Text("error: ", style="bold red") + Text(message))
    raise typer.Exit(2)


def add_row(table: Table, *cells: str | Text, style: str | None = None) -> None:
    """Add a row of data: plain text, never read as markup (an error may well contain "[...]")."""
    table.add_row(*(Text(c) if isinstance(c, str) else c for c in cells), style=style)


def say(message: str, style: str | None = None) -> None:
    """Print a line of data, never read as markup."""
    console.print(Text(message, style=style or ""))


def parse_duration(text: str) -> timedelta:
    """``90s``, ``30m``, ``2h``, ``1d`` (a bare number is minutes)."""
    units = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
    value, unit = (text[:-1], text[-1]) if text and text[-1] in units else (text, "m")
    try:
        amount = float(value)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a duration like 30m, 2h or 90s") from None
    if amount < 0:
        raise typer.BadParameter("a duration cannot be negative")
    return timedelta(**{units[unit]: amount})


def age(delta: timedelta | None) -> str:
    """A short age for tables: 42s, 17m, 3h05m, 2d04h."""
    if delta is None:
        return "-"
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d{seconds % 86400 // 3600:02d}h"
