"""Stuck orders: orders that have stayed in one status longer than the environment's SLA for it.

Used by the scheduled detector (``functions/detect_stuck_orders``) and by ``crossdock status``. The store answers
"which orders have been in this status since before that time" from a sparse index, so the check costs one query
per status, however many orders are done.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from shared.models.operations import StuckPolicy
from shared.models.order_state import OrderStatus


class StuckOrder(BaseModel):
    model_config = ConfigDict(frozen=True)

    order_key: str
    status: OrderStatus
    since: datetime
    sla_minutes: int
    overdue_minutes: float
    correlation_id: str | None = None


class OpenOrder(BaseModel):
    """An order still in a status that may get stuck, and since when."""

    model_config = ConfigDict(frozen=True)

    order_key: str
    status: OrderStatus
    since: datetime
    correlation_id: str | None = None


class OpenOrders(Protocol):
    def open_since(self, status: OrderStatus, before: datetime) -> Iterable[OpenOrder]:
        """Orders whose current status is ``status`` and has been since before ``before``."""


def find_stuck(
    orders: OpenOrders, policy: StuckPolicy, now: datetime, within: timedelta = timedelta(0)
) -> list[StuckOrder]:
    """Every order past its status's SLA at ``now``; ``within`` also lists those that will be within that time."""
    stuck: list[StuckOrder] = []
    for status_name, minutes in sorted(policy.after_minutes.items()):
        status = OrderStatus(status_name)
        sla = timedelta(minutes=minutes)
        for order in orders.open_since(status, now + within - sla):
            overdue = (now - order.since - sla).total_seconds() / 60
            stuck.append(
                StuckOrder(
                    order_key=order.order_key,
                    status=status,
                    since=order.since,
                    sla_minutes=minutes,
                    overdue_minutes=round(overdue, 1),
                    correlation_id=order.correlation_id,
                )
            )
    return sorted(stuck, key=lambda s: s.since)
