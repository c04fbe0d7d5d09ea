"""Matching shipped or returned SKUs to a channel order's own lines (shared by the channel adapters)."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import TypeVar

from shared.errors import ValidationFailed
from shared.models.shipping import ShippedLine

LineId = TypeVar("LineId", bound=Hashable)


def allocate(
    wanted: Sequence[ShippedLine], lines: Iterable[tuple[LineId, str | None, int]], what: str, system: str
) -> list[tuple[LineId, int]]:
    """(line id, quantity) for each wanted SKU, taken from the order's lines with that SKU in order.

    ``lines`` are (line id, SKU, quantity left to ``what``). What one wanted line takes is no longer there for
    the next, so a SKU asked twice never takes one order line twice. Refuses a SKU the order does not have, or
    more of one than its lines have left.
    """
    left = {line_id: (sku, quantity) for line_id, sku, quantity in lines}
    picked: list[tuple[LineId, int]] = []
    for index, line in enumerate(wanted):
        if not any(sku == line.sku for sku, _ in left.values()):
            raise ValidationFailed("the order has no line with this sku", system=system, field=f"lines.{index}.sku")
        mine = [(line_id, quantity) for line_id, (sku, quantity) in left.items() if sku == line.sku and quantity > 0]
        if sum(quantity for _, quantity in mine) < line.quantity:
            raise ValidationFailed(
                f"more than the order has left to {what}", system=system, field=f"lines.{index}.quantity"
            )
        needed = line.quantity
        for line_id, quantity in mine:
            take = min(quantity, needed)
            picked.append((line_id, take))
            left[line_id] = (line.sku, quantity - take)
            needed -= take
            if needed == 0:
                break
    return picked
