"""The order journey on the local stack, counted: order → accept → release → ship → invoice → fulfil.

Orders come from every channel kind through the demo's own helper (``place_orders``: Shopify and WooCommerce
webhooks, BigCommerce thin webhooks fetched back, signed B2B portal posts); once the stack is quiet, the WMS
sandbox ships every release and the stack runs until quiet again. A ``Window`` around both phases counts what
they cost; the stack's seeding and a warm-up order per channel come before it, so neither is in the figures.

Throughput is the window's orders over the time its two phases took, each from its first webhook until the stack
was quiet (less the half second ``wait_until_quiet`` waits to be sure).
"""

from __future__ import annotations

import time
from collections import Counter

from infra.bench.capacity import CapacityProxy
from infra.bench.figures import JourneyFigures
from infra.bench.inventory import drain_observer
from infra.bench.window import Window
from infra.local.report import order_statuses
from infra.local.sandboxes.wms import WmsSandbox
from infra.local.scenario_after_sale import place_orders, releases_of
from infra.local.stack import LocalStack

SETTLE_SECONDS = 0.5  # wait_until_quiet's own settle time, taken off each phase
QUIET_TIMEOUT_SECONDS = 180.0
WARM_UP_FIRST = 900  # order numbers apart from the measured ones


def warm_up(stack: LocalStack) -> None:
    """One order per channel through the whole journey: every function on the way has a warm worker."""
    keys = place_orders(stack, WARM_UP_FIRST, 1, wait=False)
    quiet(stack)
    ship_all(stack, keys)
    quiet(stack)


def measure(stack: LocalStack, proxy: CapacityProxy, per_channel: int, first: int = 100) -> JourneyFigures:
    drain_observer(stack)  # the events before the window are not its orders'
    window = Window.open(stack, proxy)
    started = time.monotonic()
    keys = place_orders(stack, first, per_channel, wait=False)
    quiet(stack)
    order_seconds = time.monotonic() - started - SETTLE_SECONDS
    started = time.monotonic()
    shipments = ship_all(stack, keys)
    quiet(stack)
    ship_seconds = time.monotonic() - started - SETTLE_SECONDS
    counts = window.close(orders=len(keys))
    published = Counter(str(event.get("detail-type")) for event in drain_observer(stack))
    statuses = order_statuses(stack)
    final = Counter(statuses.get(key, "missing") for key in keys)
    notes = []
    if set(final) - {"fulfilled", "invoiced"}:
        notes.append(f"not every order finished its journey: {dict(final)}")
    return JourneyFigures(
        counts=counts,
        units_by_table=window.units_by_table(),
        statuses=dict(final),
        shipments=shipments,
        largest_event_bytes=proxy.largest_event_bytes,
        events_by_type=dict(published.most_common()),
        order_seconds=order_seconds,
        ship_seconds=ship_seconds,
        notes=notes,
    )


def ship_all(stack: LocalStack, order_keys: list[str]) -> int:
    """Ship every release of these orders whole, one ``order.shipped`` webhook each; how many shipped."""
    wms = stack.sandboxes["wms"]
    assert isinstance(wms, WmsSandbox)
    shipped = 0
    for key in order_keys:
        for release in releases_of(wms, key):
            wms.ship(release["id"])
            shipped += 1
    wms.flush_webhooks()
    return shipped


def quiet(stack: LocalStack) -> None:
    if not stack.wait_until_quiet(timeout=QUIET_TIMEOUT_SECONDS, settle=SETTLE_SECONDS):
        raise RuntimeError(f"the local stack was not quiet within {QUIET_TIMEOUT_SECONDS:.0f} s")
