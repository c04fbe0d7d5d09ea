"""Settings of the ledger writer, set by infra."""

from __future__ import annotations

from pydantic import Field, Json

from shared.env import ConsumerEnv
from shared.models.rules import RoutingRules


class ApplyInventoryEnv(ConsumerEnv):
    EVENT_BUS_NAME: str = Field(min_length=1)
    INVENTORY_TABLE_NAME: str = Field(min_length=1)
    ROUTING_RULES: Json[RoutingRules]
