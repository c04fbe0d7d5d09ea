"""Settings of one channel's availability sync, set by infra."""

from __future__ import annotations

from pydantic import Field, Json, model_validator

from shared.env import BreakerEnv, PublishingConsumerEnv
from shared.models.inventory import InventoryPolicy


class SyncAvailabilityEnv(PublishingConsumerEnv, BreakerEnv):
    CHANNEL: str = Field(min_length=1)
    INVENTORY_TABLE_NAME: str = Field(min_length=1)
    INVENTORY_POLICY: Json[InventoryPolicy]

    @model_validator(mode="after")
    def _has_policy(self) -> SyncAvailabilityEnv:
        if self.CHANNEL not in self.INVENTORY_POLICY.channels:
            raise ValueError("INVENTORY_POLICY has no policy for CHANNEL")
        return self
