"""Settings of the warehouse release, set by infra."""

from __future__ import annotations

from pydantic import Field, Json

from shared.env import BreakerEnv, PublishingConsumerEnv
from shared.models.rules import RoutingRules


class ReleaseFulfillmentEnv(PublishingConsumerEnv, BreakerEnv):
    ORDERS_TABLE_NAME: str = Field(min_length=1)
    ROUTING_RULES: Json[RoutingRules] | None = None  # the warehouses' WMS facilities
