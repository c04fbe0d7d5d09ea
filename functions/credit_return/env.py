"""Settings of the return credit, set by infra."""

from __future__ import annotations

from pydantic import Field, Json

from shared.env import BreakerEnv, PublishingConsumerEnv
from shared.models.returns import ReturnPolicy
from shared.waiting import WaitPolicy


class CreditReturnEnv(PublishingConsumerEnv, BreakerEnv):
    ORDERS_TABLE_NAME: str = Field(min_length=1)
    RETURN_POLICY: Json[ReturnPolicy]
    BUFFER_URL: str = Field(min_length=1, description="Its own queue: a receipt waits there while the ERP is down")
    WAIT_POLICY: Json[WaitPolicy]
