"""Find the orders past their status's SLA, count them per status and name them in one log line; and see which
outside systems have their breaker open.

Every status with an SLA gets a count, zeros included: the alarm on each then always has data, and a status
that clears shows as 0 rather than as silence. The same for every connected system's breaker: an outage behind
an open breaker raises no other alarm (its records wait in their queues, parked afresh, so no queue grows old).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from shared.breaker import BreakerState
from shared.models.operations import StuckPolicy
from shared.observability import logger
from shared.stuck import OpenOrders, StuckOrder, find_stuck

# One log line names at most this many (the oldest first); the counts cover them all.
MAX_LISTED = 50


@dataclass(frozen=True)
class Detection:
    stuck: list[StuckOrder]
    per_status: dict[str, int]  # every status with an SLA, in name order, 0 included


def detect_stuck_orders(orders: OpenOrders, policy: StuckPolicy, now: datetime) -> Detection:
    stuck = find_stuck(orders, policy, now)
    per_status: dict[str, int] = dict.fromkeys(sorted(policy.after_minutes), 0)
    for order in stuck:
        per_status[order.status.value] += 1
    if stuck:
        logger.warning(
            "orders stuck",
            count=len(stuck),
            per_status={status: count for status, count in per_status.items() if count},
            orders=[
                {
                    "order_key": order.order_key,
                    "status": order.status.value,
                    "since": order.since.isoformat(),
                    "overdue_minutes": order.overdue_minutes,
                    "correlation_id": order.correlation_id,
                }
                for order in stuck[:MAX_LISTED]
            ],
            listed=min(len(stuck), MAX_LISTED),
        )
    else:
        logger.info("no stuck orders", statuses=list(per_status))
    return Detection(stuck=stuck, per_status=per_status)


class Breakers(Protocol):
    def states(self) -> list[BreakerState]:
        """Every system's breaker (``shared.breaker.BreakerStore.states``)."""


def open_breakers(breakers: Breakers, systems: Iterable[str]) -> dict[str, bool]:
    """Each connected system (and any other with a breaker open), in name order: is its breaker open?"""
    opened = {state.system: state for state in breakers.states() if state.is_open}
    flags = {system: system in opened for system in sorted(set(systems) | set(opened))}
    if opened:
        logger.warning(
            "breakers open",
            systems=sorted(opened),
            since={s: state.opened_at.isoformat() for s, state in sorted(opened.items()) if state.opened_at},
            last_error={s: state.last_error for s, state in sorted(opened.items()) if state.last_error},
        )
    return flags
