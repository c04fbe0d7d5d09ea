"""Reconciliation: find the orders a channel changed whose webhooks never reached us, and re-inject them.

Platforms drop webhooks (WooCommerce never retries; Shopify gives up after 4 h), so every channel is asked on a
schedule what changed in a look-back window. An order missing from the intake ledger, or newer there than
here, goes back through the claim-check path (``ChannelOrderNotified`` → fetch), the same idempotent path a
thin webhook takes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from shared.channels.base import ChannelApi
from shared.models.events import ChannelOrderNotified, metadata_for
from shared.models.order_state import OrderState
from shared.observability import logger
from shared.ports import EventPublisher

SOURCE = "crossdock.reconciliation"


class OrderStates(Protocol):
    def get(self, order_key: str) -> OrderState | None: ...


@dataclass
class ReconcileDeps:
    api: ChannelApi
    states: OrderStates
    publisher: EventPublisher


def reconcile_orders(now: datetime, lookback: timedelta, deps: ReconcileDeps) -> list[ChannelOrderNotified]:
    recovered = []
    for ref in deps.api.list_updated_since(now - lookback):
        state = deps.states.get(ref.key)
        seen_version = state.version if state else None
        channel_version = int(ref.updated_at.timestamp() * 1000) if ref.updated_at else None
        # Received means OrderReceived was recorded (it sets a status); an update alone never starts the journey.
        received = state is not None and state.status is not None
        if received and seen_version is not None and (channel_version is None or seen_version >= channel_version):
            continue
        change = "updated" if received else "created"
        found = ref.model_copy(update={"change": change, "observed_by": "reconciliation"})
        dedupe_key = f"{ref.key}:reconcile:{channel_version}"
        recovered.append(
            ChannelOrderNotified(
                metadata=metadata_for(
                    ChannelOrderNotified.detail_type, dedupe_key=dedupe_key, order_key=ref.key, source=SOURCE
                ),
                data=found,
            )
        )
    if recovered:
        deps.publisher.publish(recovered)
    logger.info("reconciliation done", recovered=len(recovered), keys=[r.data.key for r in recovered])
    return recovered
