"""Settings of reconciliation, set by infra. The channel comes with each scheduled event."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from shared.env import BreakerEnv


class ReconcileEnv(BreakerEnv):
    model_config = ConfigDict(extra="ignore", frozen=True)

    EVENT_BUS_NAME: str = Field(min_length=1)
    ORDERS_TABLE_NAME: str = Field(min_length=1)
    CONNECTION_PREFIX: str = Field(min_length=1)


class ReconcileRequest(BaseModel):
    """The scheduled rule's constant input: one rule per channel."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    channel: str
    lookback_minutes: int = Field(default=120, ge=1, le=7 * 24 * 60)
