"""The chaos verdict: every effect is ok, lost or duplicated; the summary prints Jepsen's fields."""

from __future__ import annotations

from collections import Counter

import pytest

from infra.local.chaos.checker import Effect, Verdict, render


def _mixed() -> Verdict:
    return Verdict(
        faults=Counter({"dynamodb throttled": 3, "duplicate deliveries": 4, "timeout after commit": 2}),
        attempts=40,
        acknowledged=31,
        given_up=2,
        effects=[
            Effect("ERP sales order", "shopify:1001", 1),
            Effect("ERP sales order", "shopify:1002", 0),
            Effect("WMS release", "CD-shopify-1001-1", 1),
            Effect("ERP invoice", "shopify:1001 shipment 7", 2),
            Effect("channel refund", "shopify:1001 return RMA-1", 3),
        ],
        dead_lettered=5,
        redriven=4,
        reconciled=3,
        misdecided=["woocommerce:55: received (want released or later)"],
    )


def test_effects_are_classified_by_count() -> None:
    verdict = _mixed()
    assert verdict.ok == 2
    assert [e.key for e in verdict.lost] == ["shopify:1002"]
    assert [e.key for e in verdict.duplicated] == ["shopify:1001 shipment 7", "shopify:1001 return RMA-1"]
    assert verdict.recovered == 7


def test_exactly_once_everywhere_is_valid() -> None:
    verdict = Verdict(effects=[Effect("ERP sales order", "shopify:1", 1), Effect("WMS release", "r", 1)])
    assert verdict.valid


@pytest.mark.parametrize(
    "broken",
    [
        {"effects": [Effect("ERP sales order", "shopify:1", 0)]},
        {"effects": [Effect("ERP sales order", "shopify:1", 2)]},
        {"left_in_dlqs": 1},
        {"misdecided": ["shopify:1: held"]},
        {"off_atp": ["shopify SKU-1: 4 (ATP 3)"]},
        {"unauthorized_returns": ["RMA-9"]},
    ],
    ids=["lost", "duplicated", "dlq", "misdecided", "off-atp", "unauthorized-return"],
)
def test_any_broken_invariant_is_invalid(broken: dict[str, object]) -> None:
    verdict = Verdict(effects=[Effect("ERP sales order", "shopify:2", 1)])
    for name, value in broken.items():
        if name == "effects":
            assert isinstance(value, list)
            verdict.effects += value
        else:
            setattr(verdict, name, value)
    assert not verdict.valid


def test_faults_and_recoveries_alone_do_not_invalidate() -> None:
    verdict = Verdict(
        faults=Counter({"lost reply": 9}),
        given_up=4,
        dead_lettered=3,
        redriven=3,
        reconciled=2,
        effects=[Effect("ERP sales order", "woocommerce:1", 1)],
    )
    assert verdict.valid


def test_render_prints_the_jepsen_fields() -> None:
    lines = render(_mixed(), 123.4).splitlines()
    for expected in (
        "faults injected: 9",
        "attempts: 40",
        "acknowledged: 31",
        "ok: 2",
        "lost: 1",
        "duplicated: 2",
        "recovered: 7",
    ):
        assert expected in lines, expected
    assert lines[-1].startswith("valid: False")


def test_render_lists_the_problems() -> None:
    text = render(_mixed(), 1.0)
    assert "ERP sales order: shopify:1002 (0)" in text
    assert "ERP invoice: shopify:1001 shipment 7 (2)" in text
    assert "channel refund: shopify:1001 return RMA-1 (3)" in text
    assert "woocommerce:55: received (want released or later)" in text
    assert "ERP sales order: shopify:1001 (1)" not in text  # an ok effect is no problem


def test_render_of_a_clean_run() -> None:
    verdict = Verdict(attempts=3, acknowledged=3, effects=[Effect("ERP sales order", "shopify:1", 1)])
    lines = render(verdict, 2.0).splitlines()
    assert {"faults injected: 0", "ok: 1", "lost: 0", "duplicated: 0", "recovered: 0"} <= set(lines)
    assert lines[-1].startswith("valid: True")
