"""Settings of the stuck-order detector, set by infra from the environment's ``operations.stuck`` config and its
connected systems."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, Json

from shared.models.operations import StuckPolicy


class DetectStuckEnv(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    ORDERS_TABLE_NAME: str = Field(min_length=1)
    STUCK_POLICY: Json[StuckPolicy]
    OPS_TABLE_NAME: str = Field(min_length=1, description="The breakers' state, read only")
    # Every system with a connection: each gets an OpenBreakers figure, 0 included, so its alarm has data.
    CONNECTED_SYSTEMS: Json[list[str]]
