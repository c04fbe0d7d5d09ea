"""``crossdock trace <channel> <order id>``: an order's state and its whole journey, from the orders table.

The same use case as ``GET /v1/orders/{channel}/{id}`` (``functions/get_order``), read with the operator's
credentials instead of through the API.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from functions.get_order.logic import get_order
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
    say,
)
from infra.ops.target import DEFAULT_LOCAL_STATE, TABLE_TYPES, Target
from shared.aws.order_store import DynamoOrderStore
from shared.errors import NotFound, ValidationFailed


def order_store(target: Target) -> DynamoOrderStore:
    client = target.client("dynamodb")
    return DynamoOrderStore(target.named("OrdersTableName", TABLE_TYPES, "Orders"), client=lambda: client)


def trace_command(
    channel: Annotated[str, typer.Argument(help="shopify, bigcommerce, woocommerce, b2b_portal...")],
    order_id: Annotated[str, typer.Argument(help="The channel's own order id.")],
    store: Annotated[str | None, typer.Option("--store", help="The store, when the id is in several.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The order as JSON, as the order API answers.")] = False,
    env: EnvOption = None,
    profile: ProfileOption = None,
    region: RegionOption = None,
    local: LocalOption = False,
    state: StateOption = DEFAULT_LOCAL_STATE,
) -> None:
    """An order's status and its whole timeline: what happened, when, in which system, with which ids."""
    with handled(local):
        target = open_target(env, profile, region, local, state)
        try:
            order = get_order(channel, order_id, store, order_store(target))
        except NotFound as error:
            what = "no such channel" if error.details.get("field") == "channel" else "no such order"
            say(f"{what}: {channel} {order_id}" + (f" in store {store}" if store else ""), "red")
            raise typer.Exit(1) from None
        except ValidationFailed as error:
            hint = " (pass --store)" if error.details.get("field") == "store" else ""
            raise typer.BadParameter(f"{error.message.split(':')[0]}{hint}") from None
    if as_json:
        typer.echo(json.dumps(order, indent=2))
        return
    console.print(timeline_table(order))


def timeline_table(order: dict[str, Any]) -> Table:
    title = (
        f"{order['order_key']}: {order['status'] or 'no status yet'}  (correlation id {order['correlation_id'] or '-'})"
    )
    table = Table(title=Text(title, style="bold"))
    for column in ("time", "what", "system", "ids"):
        table.add_column(column, overflow="fold")
    for entry in order["timeline"]:
        ids = " ".join(f"{k}={v}" for k, v in sorted(entry["ids"].items()))
        add_row(table, entry["at"], entry["what"], entry["system"], ids or "-")
    return table
