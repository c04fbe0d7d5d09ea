"""Settings of the channel refund, set by infra."""

from __future__ import annotations

from pydantic import Field

from shared.env import BreakerEnv, PublishingConsumerEnv


class RefundChannelEnv(PublishingConsumerEnv, BreakerEnv):
    IDEMPOTENCY_TABLE_NAME: str = Field(min_length=1)
