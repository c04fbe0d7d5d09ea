"""Settings of the warehouse release, set by infra."""

from __future__ import annotations

from pydantic import Field

from shared.env import PublishingConsumerEnv


class ReleaseFulfillmentEnv(PublishingConsumerEnv):
    ORDERS_TABLE_NAME: str = Field(min_length=1)
