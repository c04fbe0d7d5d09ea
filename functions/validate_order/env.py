"""Settings of order validation, set by infra from the environment's config."""

from __future__ import annotations

from pydantic import Field, Json

from shared.env import BreakerEnv, PublishingConsumerEnv
from shared.models.rules import OrderRules, RoutingRules


class ValidateOrderEnv(PublishingConsumerEnv, BreakerEnv):
    ORDERS_TABLE_NAME: str = Field(min_length=1)
    INVENTORY_TABLE_NAME: str = Field(min_length=1)
    ORDER_RULES: Json[OrderRules]
    ROUTING_RULES: Json[RoutingRules]
