"""Which sandboxes the local stack runs, and how each is wired to it."""

from __future__ import annotations

from collections.abc import Callable

from infra.local.clock import Clock
from infra.local.sandboxes.base import Sandbox


def _factories() -> dict[str, Callable[[Clock], Sandbox]]:
    # Imported here so the local stack's import stays light for the commands that need no sandbox.
    from infra.local.sandboxes.bigcommerce import BigCommerceSandbox
    from infra.local.sandboxes.carrier import CarrierSandbox
    from infra.local.sandboxes.netsuite import NetSuiteSandbox
    from infra.local.sandboxes.shopify import ShopifySandbox
    from infra.local.sandboxes.wms import WmsSandbox
    from infra.local.sandboxes.woocommerce import WooCommerceSandbox

    return {
        "shopify": lambda clock: ShopifySandbox(clock),
        "bigcommerce": lambda clock: BigCommerceSandbox(clock),
        "woocommerce": lambda clock: WooCommerceSandbox(clock),
        "netsuite": lambda clock: NetSuiteSandbox(clock),
        "wms": lambda clock: WmsSandbox(clock),
        "carrier": lambda clock: CarrierSandbox(clock),
    }


def start_sandboxes(clock: Clock) -> dict[str, Sandbox]:
    sandboxes = {}
    for name, make in _factories().items():
        sandbox = make(clock)
        sandbox.start()
        sandboxes[name] = sandbox
    return sandboxes
