"""The table behind Powertools idempotency: on-demand, TTL on ``expiration``, PITR where the config says."""

from __future__ import annotations

from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from infra.components.common import on_demand_table
from infra.config import EnvConfig


class IdempotencyTable(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: EnvConfig) -> None:
        super().__init__(scope, construct_id)
        self.table = on_demand_table(
            self,
            config,
            partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
            time_to_live_attribute="expiration",
        )
