"""Settings of the channel fulfillment, set by infra."""

from __future__ import annotations

from pydantic import Field, Json

from shared.env import BreakerEnv, PublishingConsumerEnv


class FulfilChannelEnv(PublishingConsumerEnv, BreakerEnv):
    INVOICE_BEFORE_FULFIL: Json[bool] = True
    IDEMPOTENCY_TABLE_NAME: str = Field(min_length=1)
