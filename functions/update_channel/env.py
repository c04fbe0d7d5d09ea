"""Settings of the channel status push, set by infra."""

from __future__ import annotations

from pydantic import Field

from shared.env import BreakerEnv, PublishingConsumerEnv


class UpdateChannelEnv(PublishingConsumerEnv, BreakerEnv):
    ORDERS_TABLE_NAME: str = Field(min_length=1)
