"""The inventory table (``pk``/``sk``): ledger rows, reservations, and each channel's sync state and lease."""

from __future__ import annotations

from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.components.common import on_demand_table
from infra.config import EnvConfig


class InventoryTable(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: EnvConfig) -> None:
        super().__init__(scope, construct_id)
        self.table = on_demand_table(
            self,
            config,
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
        )

    def grant(self, function: lambda_.IFunction) -> None:
        """Every user of the ledger writes it (reservations, reports, sync state); no index to grant."""
        self.table.grant_read_write_data(function)
