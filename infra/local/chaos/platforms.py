"""The platforms' side of a chaos run: every delivery 1-3 times, some hours late, out of order, and retried.

A platform retries a delivery that got no 2xx as it really does, on the controlled clock: Shopify 8 times over
4 h, BigCommerce 11 times over about 48 h, the WMS and the carrier (Standard Webhooks senders) likewise.
WooCommerce never retries: what it failed to deliver is found by reconciliation. ``Deliveries`` counts what was
done to Crossdock: the fault kinds (duplicates, late deliveries, reordering) and the attempts and
acknowledgments of the Jepsen-style summary.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field

from infra.local.sandboxes.base import Delivery, Sandbox
from infra.local.stack import LocalStack

LATE_SECONDS = 3 * 3600  # within Shopify's 4 h retry horizon
RETRY_SECONDS = 60.0  # a failed delivery is retried a minute later on the platform's clock
MAX_ROUNDS = 300  # a guard: every round delivers something or moves the clock, and retries are bounded
# A retry also waits this long in real time: a delivery refused because its first attempt is still in progress
# (409) must find that attempt over, as a platform's retry minutes later would (the intake's timeout is 5 s).
REAL_RETRY_SECONDS = 6.0
# Retries after a failed delivery, per sender (the rest as Standard Webhooks senders do).
RETRIES = {"shopify": 8, "bigcommerce": 11, "woocommerce": 0}
STANDARD_RETRIES = 8


def copies(rng: random.Random) -> tuple[float, ...]:
    """Delays of one event's deliveries: 1-3 of them, the extra ones at once or hours later."""
    extra = rng.choice((0, 1, 1, 2))
    return (0.0, *(rng.choice((0.0, LATE_SECONDS)) for _ in range(extra)))


def is_ack(status: int | None) -> bool:
    return status is not None and 200 <= status < 300


def is_retried(status: int | None) -> bool:
    """What the platforms retry: anything but a 2xx (a 409 "being processed" included)."""
    return status is not None and not is_ack(status)


@dataclass
class Deliveries:
    faults: Counter[str] = field(default_factory=Counter)
    attempts: int = 0
    acknowledged: int = 0
    given_up: int = 0  # deliveries whose sender stopped retrying without a 2xx
    _retried: set[int] = field(default_factory=set)
    _retry_not_before: float = 0.0  # time.monotonic() before which no retry goes out
    _origin: dict[int, int] = field(default_factory=dict)  # a retry → the delivery it retries
    _tries: dict[int, int] = field(default_factory=dict)  # retries so far, per original delivery

    def note_copies(self, delays: tuple[float, ...]) -> None:
        self.faults["duplicate deliveries"] += len(delays) - 1
        self.faults["deliveries hours late"] += sum(1 for d in delays if d > 0)

    def note_attempt(self, status: int | None) -> None:
        self.attempts += 1
        self.acknowledged += int(is_ack(status))

    def flush(self, stack: LocalStack) -> int:
        """Deliver what is due on every sandbox, shuffled; retry what failed. Returns how many were sent."""
        sent = 0
        for sandbox in stack.sandboxes.values():
            delivered = sandbox.flush_webhooks(shuffle=True)
            self.faults["deliveries reordered"] += _overtaken(sandbox, delivered)
            for delivery in delivered:
                self.note_attempt(delivery.status)
            self._retry_failed(sandbox, delivered)
            sent += len(delivered)
        return sent

    def settle(self, stack: LocalStack, timeout: float = 300.0) -> None:
        """Flush, wait for quiet, and let the platform clock run until nothing is due or pending."""
        for _ in range(MAX_ROUNDS):
            sent = self.flush(stack)
            stack.wait_until_quiet(timeout=timeout)
            if sent:
                continue
            if not any(sandbox.pending_webhooks() for sandbox in stack.sandboxes.values()):
                return
            time.sleep(max(0.0, self._retry_not_before - time.monotonic()))
            stack.clock.advance(min(_next_due(stack) - stack.clock.now(), LATE_SECONDS) + 1)
        raise RuntimeError("deliveries did not settle")

    def _retry_failed(self, sandbox: Sandbox, delivered: list[Delivery]) -> None:
        due = sandbox.clock.now() + RETRY_SECONDS
        retries = RETRIES.get(sandbox.name, STANDARD_RETRIES)
        with sandbox.lock:
            for delivery in delivered:
                if not is_retried(delivery.status) or id(delivery) in self._retried:
                    continue
                self._retried.add(id(delivery))
                origin = self._origin.get(id(delivery), id(delivery))
                tries = self._tries[origin] = self._tries.get(origin, 0) + 1
                if tries > retries:
                    self.given_up += 1
                    continue
                retry = Delivery(delivery.url, dict(delivery.headers), delivery.body, due, delivery.label)
                self._origin[id(retry)] = origin
                self._retry_not_before = time.monotonic() + REAL_RETRY_SECONDS
                sandbox.outbox.append(retry)


def _overtaken(sandbox: Sandbox, delivered: list[Delivery]) -> int:
    """Deliveries sent after one queued later than them: how much the shuffle reordered."""
    position = {id(d): i for i, d in enumerate(sandbox.outbox)}
    latest, overtaken = -1, 0
    for delivery in delivered:
        queued = position.get(id(delivery), -1)
        overtaken += int(queued < latest)
        latest = max(latest, queued)
    return overtaken


def _next_due(stack: LocalStack) -> float:
    dues = [d.due_at for sandbox in stack.sandboxes.values() for d in list(sandbox.outbox) if d.delivered_at is None]
    return min(dues) if dues else stack.clock.now()
