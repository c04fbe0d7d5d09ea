"""Settings of the returns API, set by infra."""

from __future__ import annotations

from pydantic import ConfigDict, Field, Json

from shared.env import BreakerEnv
from shared.models.returns import ReturnPolicy


class AuthorizeReturnEnv(BreakerEnv):
    model_config = ConfigDict(extra="ignore", frozen=True)

    ORDERS_TABLE_NAME: str = Field(min_length=1)
    EVENT_BUS_NAME: str = Field(min_length=1)
    CONNECTION_PREFIX: str = Field(min_length=1)
    RETURN_POLICY: Json[ReturnPolicy]
