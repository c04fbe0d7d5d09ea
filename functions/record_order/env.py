"""Settings of the order recorder, set by infra."""

from __future__ import annotations

from pydantic import Field

from shared.env import ConsumerEnv


class RecordOrderEnv(ConsumerEnv):
    ORDERS_TABLE_NAME: str = Field(min_length=1)
