"""Available-to-promise per channel, computed from ledger rows. Pure: no I/O, so it is tested exhaustively.

pool(sku)  = Σ over the channel's locations of max(0, on_hand - reserved - safety_stock) [+ in_transit]
kit pool   = min over components of floor(pool(component) / quantity per kit)
channel    = min(max_listed, max(0, floor(pool * allocation_pct / 100) - buffer))

A location is clamped at 0 on its own: one warehouse short of its reservations does not hide what another can
ship. ``basis`` is the sum of the versions of every row read, so of two computations for one SKU the one with
the larger basis saw newer stock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from shared.models.inventory import ChannelPolicy, InventoryPolicy, StockLevel

Levels = Mapping[tuple[str, str], StockLevel]


@dataclass(frozen=True)
class Availability:
    sku: str
    quantity: int
    basis: int


def rows_needed(skus: Iterable[str], policy: ChannelPolicy, inventory: InventoryPolicy) -> set[tuple[str, str]]:
    """The ledger keys a channel's ATP of ``skus`` reads (kits expand to their components)."""
    keys: set[tuple[str, str]] = set()
    for sku in skus:
        components = [c.sku for c in inventory.kits[sku]] if sku in inventory.kits else [sku]
        keys.update((component, location) for component in components for location in policy.locations)
    return keys


def channel_availability(sku: str, levels: Levels, policy: ChannelPolicy, inventory: InventoryPolicy) -> Availability:
    if sku in inventory.kits:
        pools = []
        basis = 0
        for component in inventory.kits[sku]:
            units, component_basis = _pool(component.sku, levels, policy)
            pools.append(units // component.quantity)
            basis += component_basis
        units = min(pools)
    else:
        units, basis = _pool(sku, levels, policy)
    shown = max(0, units * policy.allocation_pct // 100 - policy.buffer)
    if policy.max_listed is not None:
        shown = min(shown, policy.max_listed)
    return Availability(sku=sku, quantity=shown, basis=basis)


def _pool(sku: str, levels: Levels, policy: ChannelPolicy) -> tuple[int, int]:
    units = 0
    basis = 0
    for location in policy.locations:
        level = levels.get((sku, location))
        if level is None:
            continue
        units += max(0, level.atp) + (level.in_transit if policy.include_in_transit else 0)
        basis += level.version
    return units, basis


def affected_skus(changed: Iterable[str], inventory: InventoryPolicy) -> set[str]:
    """The SKUs whose channel ATP may move when ``changed`` rows moved: themselves and the kits they are in."""
    affected: set[str] = set()
    for sku in changed:
        affected.add(sku)
        affected.update(inventory.kits_containing(sku))
    return affected
