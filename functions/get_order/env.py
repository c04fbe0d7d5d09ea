"""Settings of the order API, set by infra."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class GetOrderEnv(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    ORDERS_TABLE_NAME: str = Field(min_length=1)
