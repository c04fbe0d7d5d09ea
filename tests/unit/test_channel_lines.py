"""Matching shipped or returned SKUs to a channel order's lines."""

from __future__ import annotations

import pytest

from shared.channels.lines import allocate
from shared.errors import ValidationFailed
from shared.models.shipping import ShippedLine


def test_a_sku_on_two_lines_fills_them_in_order() -> None:
    lines = [("L1", "GLV", 3), ("L2", "HAT", 5), ("L3", "GLV", 4)]
    assert allocate([ShippedLine(sku="GLV", quantity=5)], lines, "ship", "test") == [("L1", 3), ("L3", 2)]


def test_a_sku_asked_twice_never_takes_one_line_twice() -> None:
    lines = [("L1", "GLV", 1), ("L2", "GLV", 1)]
    wanted = [ShippedLine(sku="GLV", quantity=1), ShippedLine(sku="GLV", quantity=1)]
    assert allocate(wanted, lines, "refund", "test") == [("L1", 1), ("L2", 1)]
    with pytest.raises(ValidationFailed) as caught:
        allocate([*wanted, ShippedLine(sku="GLV", quantity=1)], lines, "refund", "test")
    assert caught.value.details["field"] == "lines.2.quantity"


def test_a_sku_the_order_does_not_have_is_refused_with_its_line() -> None:
    with pytest.raises(ValidationFailed) as caught:
        allocate([ShippedLine(sku="NOPE", quantity=1)], [("L1", "GLV", 1)], "ship", "test")
    assert caught.value.details["field"] == "lines.0.sku"
