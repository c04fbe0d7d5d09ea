"""Everything the bench measures on one local stack, in one run of it (about two minutes on 2 cores).

1. Start the stack (``bench_stack``), count the warehouses and list every SKU, the burst's 1,000 included.
2. Warm up: one order per channel through the whole journey.
3. The order journey, counted (``journey``): calls and cost per order, throughput.
4. The inventory burst (``inventory``): channel calls per 10,000 changes, propagation lag.
5. Webhook ack latency (``ack``), the consumers paused.
"""

from __future__ import annotations

import os
import random
import time
from dataclasses import dataclass

from infra.bench import ack, bench_stack, inventory, journey
from infra.bench.figures import StackFigures
from infra.local.scenario_inventory import seed

SEED = 9


@dataclass(frozen=True)
class StackSettings:
    per_channel: int = 5  # orders per channel kind in the counted journey (4 kinds)
    ack_deliveries: int = 100


def measure(settings: StackSettings = StackSettings()) -> StackFigures:
    phases: dict[str, float] = {}
    load = os.getloadavg()[0]
    mark = time.monotonic()

    def done(phase: str) -> None:
        nonlocal mark
        now = time.monotonic()
        phases[phase] = round(now - mark, 1)
        mark = now

    stack, proxy, schedules = bench_stack.start()
    try:
        done("start")
        rng = random.Random(SEED)  # noqa: S311 - a repeatable scenario, not a secret
        # The sample orders take 40 boxes a line: enough stock for every order of the run to be accepted.
        seed(stack, rng, with_burst_skus=True, stock_factor=max(20, 3 * (settings.per_channel + 1)))
        done("seed stock and listings")
        journey.warm_up(stack)
        done("warm-up journey")
        measured = journey.measure(stack, proxy, settings.per_channel)
        done("counted journey")
        stock = inventory.measure(stack, rng)
        done("inventory burst")
        latencies = ack.measure(stack, settings.ack_deliveries, resume=False)  # the last phase: the stack stops next
        done("ack latency")
        return StackFigures(
            journey=measured,
            inventory=stock,
            ack_ms=tuple(latencies),
            schedules_per_month=schedules,
            queues_with_mappings=len({p.mapping.queue_url for p in stack.pollers}),
            dynamodb_engine=stack.emulators.dynamodb_engine,
            phase_seconds=phases,
            load_average_1m=round(load, 2),
        )
    finally:
        stack.stop()
        done("stop")
