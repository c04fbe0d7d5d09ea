"""Load a function's environment model once, with an error that names the missing variable."""

from __future__ import annotations

import os
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, Json, ValidationError

from shared.models.operations import BreakerPolicy

EnvT = TypeVar("EnvT", bound=BaseModel)


class MisconfiguredError(RuntimeError):
    """The deployment is wrong, not the request: infra must set these variables."""


def load_env(model: type[EnvT]) -> EnvT:
    try:
        return model.model_validate(dict(os.environ))
    except ValidationError as error:
        fields = sorted({".".join(str(p) for p in e["loc"]) for e in error.errors()})
        raise MisconfiguredError(f"bad or missing environment variables: {', '.join(fields)}") from None


class ConsumerEnv(BaseModel):
    """What every SQS consumer needs: where its records go when no retry can fix them."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    DLQ_URL: str = Field(min_length=1)
    # Its own queue: records wait there while a breaker is open (set by infra for every consumer).
    BUFFER_URL: str | None = Field(default=None, min_length=1)
    # The queue's maxReceiveCount: on the last receive we park a failing record with its reason ourselves.
    MAX_RECEIVE_COUNT: int | None = Field(default=None, ge=1)


class BreakerEnv(BaseModel):
    """What a function that calls outside systems needs for their breakers (``shared.breaker``)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    OPS_TABLE_NAME: str | None = Field(default=None, min_length=1, description="Breaker state; none: no breaker")
    BREAKER_POLICY: Json[BreakerPolicy] = Field(default_factory=BreakerPolicy)


class PublishingConsumerEnv(ConsumerEnv):
    EVENT_BUS_NAME: str = Field(min_length=1)
    CONNECTION_PREFIX: str = Field(min_length=1, description="Connection secret name = prefix + system")
