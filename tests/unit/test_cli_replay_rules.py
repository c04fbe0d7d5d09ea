"""Which rules a replay goes to: the event patterns that take the chosen detail types."""

from __future__ import annotations

from typing import Any

import pytest

from infra.ops.replay import detail_types_of, receives, rules_for


@pytest.mark.parametrize(
    ("pattern", "takes", "refuses"),
    [
        ({"detail-type": ["OrderReceived", "OrderUpdated"]}, "OrderUpdated", "OrderCancelled"),
        ({"source": ["crossdock.intake"]}, "Anything", None),  # no condition on the detail type
        ({"detail-type": [{"prefix": "Order"}]}, "OrderHeld", "ShipmentDispatched"),
        ({"detail-type": [{"suffix": "Issued"}]}, "RefundIssued", "RefundRequested"),
        ({"detail-type": [{"anything-but": ["OrderHeld"]}]}, "OrderAccepted", "OrderHeld"),
        ({"detail-type": [{"anything-but": {"prefix": "Order"}}]}, "StockReported", "OrderHeld"),
        ({"detail-type": [{"equals-ignore-case": "orderheld"}]}, "OrderHeld", "OrderAccepted"),
        ({"detail-type": [{"wildcard": "Order*ed"}]}, "OrderReceived", "OrderCancel"),
        ({"$or": [{"detail-type": ["A"]}, {"detail-type": ["B"]}]}, "B", "C"),
        ({"detail-type": [{"numeric": [">", 0]}]}, "Whatever", None),  # unread matchers count as a match
    ],
)
def test_a_pattern_takes_the_detail_types_it_names(pattern: dict[str, Any], takes: str, refuses: str | None) -> None:
    assert receives(pattern, takes)
    if refuses is not None:
        assert not receives(pattern, refuses)


RULES = [
    {"name": "record-order", "arn": "a1", "pattern": {"detail-type": ["OrderReceived", "OrderUpdated"]}},
    {"name": "invoice", "arn": "a2", "pattern": {"detail-type": ["ShipmentDispatched"]}},
    {"name": "everything", "arn": "a3", "pattern": {"source": ["crossdock.orders"]}},
]


def test_rules_for_detail_types_or_all() -> None:
    assert [r["name"] for r in rules_for(RULES, ["ShipmentDispatched"])] == ["invoice", "everything"]
    assert [r["name"] for r in rules_for(RULES, ["OrderUpdated", "ShipmentDispatched"])] == [
        "record-order",
        "invoice",
        "everything",
    ]
    assert rules_for(RULES, []) == RULES
    assert detail_types_of(RULES[0]["pattern"]) == ["OrderReceived", "OrderUpdated"]
    assert detail_types_of(RULES[2]["pattern"]) == []
