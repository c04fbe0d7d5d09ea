"""What every ops command shares: where it acts (``--env``/``--profile``/``--region`` or ``--local``), the
console, and how failures become exit codes.

Exit codes: 0 all is well; 1 the command worked and found problems (a stuck order, a non-empty DLQ, a message
that did not move, an order that does not exist, a non-2xx answer); 2 the command could not run: a usage error,
or the target cannot be found or reached.
"""

from __future__ import annotations

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

EXIT_CODES = (
    "Exit codes: 0 all is well; 1 the command ran and found problems (or some of its work failed); "
    "2 usage error, or the target cannot be found or reached."
)
PANEL = "Target"
# No emoji codes: an order key like shopify:a:1 is not a picture.
console = Console(emoji=False, highlight=False)


class Env(StrEnum):
    DEV = "dev"
    STAGING = "staging"
    PROD = "prod"


EnvOption = Annotated[
    Env | None,
    typer.Option(
        "--env", envvar="CROSSDOCK_ENV", help="A deployed environment (stack Crossdock-<env>).", rich_help_panel=PANEL
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
    if env is None:
        raise typer.BadParameter(
            "say where to act: --env dev|staging|prod (with --profile), or --local", param_hint="--env/--local"
        )
    return aws_target(env.value, profile, region)


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
        info = error.response.get("Error", {})
        _fail(f"AWS refused {error.operation_name}: {info.get('Code', '')} {info.get('Message', '')}".rstrip())
    except BotoCoreError as error:
        _fail(f"cannot reach AWS: {error}")
    except CrossdockError as error:
        _fail(f"{error.message} ({error.error_class.value})")


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
