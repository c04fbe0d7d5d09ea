"""An ERP outage of several minutes while orders keep coming (the demo's back-pressure phase).

The ERP answers 503 to everything. After a few failures its breaker opens: every consumer that calls the ERP parks
its records in its own queue until the next probe instead of burning retries into the DLQ. One probe at a time
tests the ERP (the cooldown doubles while it stays down); the first that succeeds closes the breaker and the parked
orders flow. The orders placed here join the scenario's accepted orders, so the report's invariants (one sales
order, one release, nothing lost) cover them too.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from infra.local.sandboxes.base import Faults
from infra.local.sandboxes.netsuite import NetSuiteSandbox
from infra.local.scenario_after_sale import place_orders
from infra.local.stack import LocalStack

OUTAGE_MINUTES = 3.0
FIRST_ORDER = 40  # order numbers apart from the scenario's (0..), the flash sale's (900..) and the e2e tests'


@dataclass
class OutageExpected:
    window: tuple[float, float] = (0.0, 0.0)  # on the controlled clock
    real_window: tuple[float, float] = (0.0, 0.0)  # the same on the wall clock, which the function logs use
    orders: list[str] = field(default_factory=list)  # placed while the ERP was down
    quiet: bool = False  # the stack drained after the ERP came back


def erp_outage(
    stack: LocalStack, minutes: float = OUTAGE_MINUTES, per_channel: int = 1, first: int = FIRST_ORDER
) -> OutageExpected:
    netsuite = stack.sandboxes["netsuite"]
    assert isinstance(netsuite, NetSuiteSandbox)
    start = stack.clock.now()
    expected = OutageExpected(window=(start, start + minutes * 60))
    expected.real_window = (time.time(), time.time() + minutes * 60)
    netsuite.faults = Faults(outages=[expected.window])
    try:
        expected.orders = place_orders(stack, first, per_channel, wait=False)
        time.sleep(max(0.0, expected.window[1] - stack.clock.now()))
    finally:
        netsuite.faults = Faults()
    # Parked records come back when the next probe is due (at most the breaker's longest cooldown).
    expected.quiet = stack.wait_until_quiet(timeout=180)
    return expected
