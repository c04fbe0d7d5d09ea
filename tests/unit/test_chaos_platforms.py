"""The platforms' side of a chaos run: copies of a delivery, retries per sender, and what is counted."""

from __future__ import annotations

import random

import pytest

from infra.local.chaos.platforms import LATE_SECONDS, RETRIES, RETRY_SECONDS, Deliveries, _overtaken, copies
from infra.local.clock import Clock
from infra.local.sandboxes.base import Delivery, Sandbox

HOOK = "http://crossdock.invalid/webhooks"


class Platform(Sandbox):
    """A sender with no routes and no server: only its outbox and clock are used."""

    def __init__(self, name: str) -> None:
        super().__init__(Clock())
        self.name = name


def _failed(platform: Platform, status: int | None, body: bytes = b'{"id": 1}') -> Delivery:
    now = platform.clock.now()
    return Delivery(HOOK, {"X-Topic": "orders/create"}, body, now, "orders/create", status=status, delivered_at=now)


def test_copies_are_one_to_three_the_first_at_once() -> None:
    seen: list[tuple[float, ...]] = [copies(random.Random(seed)) for seed in range(500)]
    for delays in seen:
        assert 1 <= len(delays) <= 3
        assert delays[0] == 0.0
        assert set(delays[1:]) <= {0.0, float(LATE_SECONDS)}
    # Every shape occurs: single, duplicated, tripled, and late copies.
    assert {len(delays) for delays in seen} == {1, 2, 3}
    assert any(LATE_SECONDS in delays for delays in seen)
    assert any(delays[1:].count(0.0) for delays in seen)


@pytest.mark.parametrize("status", [500, 409, 0, 429])
def test_a_failed_delivery_is_queued_again_a_minute_later(status: int) -> None:
    platform = Platform("shopify")
    failed = _failed(platform, status)
    before = platform.clock.now()
    Deliveries()._retry_failed(platform, [failed])
    after = platform.clock.now()
    [retry] = platform.outbox
    assert retry is not failed
    assert (retry.url, retry.body, retry.label, retry.headers) == (HOOK, failed.body, failed.label, failed.headers)
    assert retry.headers is not failed.headers
    assert before + RETRY_SECONDS <= retry.due_at <= after + RETRY_SECONDS
    assert retry.status is None
    assert retry.delivered_at is None


@pytest.mark.parametrize("status", [200, 201, 204, None])
def test_an_acknowledged_or_unsent_delivery_is_not_retried(status: int | None) -> None:
    platform = Platform("bigcommerce")
    deliveries = Deliveries()
    deliveries._retry_failed(platform, [_failed(platform, status)])
    assert platform.outbox == []
    assert deliveries.given_up == 0


def test_a_delivery_is_retried_once_however_often_it_is_seen() -> None:
    platform = Platform("wms")
    deliveries = Deliveries()
    failed = _failed(platform, 503)
    deliveries._retry_failed(platform, [failed])
    deliveries._retry_failed(platform, [failed])
    assert len(platform.outbox) == 1


def test_woocommerce_never_retries() -> None:
    platform = Platform("woocommerce")
    deliveries = Deliveries()
    deliveries._retry_failed(platform, [_failed(platform, 500)])
    assert platform.outbox == []
    assert deliveries.given_up == 1


def _retries_until_given_up(name: str) -> tuple[int, Deliveries]:
    platform = Platform(name)
    deliveries = Deliveries()
    failed = _failed(platform, 500)
    for _ in range(50):
        deliveries._retry_failed(platform, [failed])
        if deliveries.given_up:
            break
        failed = platform.outbox[-1]
        failed.status, failed.delivered_at = 500, platform.clock.now()
    # Seen again after giving up (a later flush of the same batch): not counted twice.
    deliveries._retry_failed(platform, [failed])
    return len(platform.outbox), deliveries


@pytest.mark.parametrize(("name", "retries"), [("shopify", 8), ("bigcommerce", 11), ("wms", 8)])
def test_a_sender_gives_up_after_its_retries(name: str, retries: int) -> None:
    assert RETRIES.get(name, 8) == retries
    queued, deliveries = _retries_until_given_up(name)
    assert queued == retries
    assert deliveries.given_up == 1


def test_overtaken_counts_deliveries_sent_after_a_later_one() -> None:
    platform = Platform("shopify")
    a, b, c, d = (_failed(platform, None, body=bytes([n])) for n in range(4))
    platform.outbox = [a, b, c, d]
    assert _overtaken(platform, [a, b, c, d]) == 0
    assert _overtaken(platform, [b, a, c, d]) == 1
    assert _overtaken(platform, [c, a, b, d]) == 2
    assert _overtaken(platform, [d, c, b, a]) == 3


def test_note_copies_counts_duplicates_and_late_ones() -> None:
    deliveries = Deliveries()
    deliveries.note_copies((0.0,))
    assert deliveries.faults["duplicate deliveries"] == 0
    deliveries.note_copies((0.0, 0.0, float(LATE_SECONDS)))
    deliveries.note_copies((0.0, float(LATE_SECONDS)))
    assert deliveries.faults["duplicate deliveries"] == 3
    assert deliveries.faults["deliveries hours late"] == 2


def test_note_attempt_counts_attempts_and_acknowledgments() -> None:
    deliveries = Deliveries()
    for status in (200, 500, 0, 204, None, 409):
        deliveries.note_attempt(status)
    assert (deliveries.attempts, deliveries.acknowledged) == (6, 2)
