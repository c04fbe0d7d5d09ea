"""Order state and timeline (``pk``/``sk``): versioned state items and append-only timeline items."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.components.common import on_demand_table
from infra.config import EnvConfig
from infra.nag import acknowledge


class OrdersTable(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: EnvConfig) -> None:
        super().__init__(scope, construct_id)
        self.table = on_demand_table(
            self,
            config,
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
            global_secondary_indexes=[
                # Find an order by channel and channel order id, without knowing its store (the order API).
                dynamodb.GlobalSecondaryIndexPropsV2(
                    index_name="by_external_id",
                    partition_key=dynamodb.Attribute(name="channel_external", type=dynamodb.AttributeType.STRING),
                ),
                # Sparse: only orders in a status that can be stuck, oldest first per status (stuck-order check).
                dynamodb.GlobalSecondaryIndexPropsV2(
                    index_name="by_open_status",
                    partition_key=dynamodb.Attribute(name="open_status", type=dynamodb.AttributeType.STRING),
                    sort_key=dynamodb.Attribute(name="status_at", type=dynamodb.AttributeType.STRING),
                    projection_type=dynamodb.ProjectionType.INCLUDE,
                    non_key_attributes=["correlation_id"],
                ),
            ],
        )

    def grant(self, function: lambda_.IFunction, *, write: bool = False) -> None:
        """Data access for one function, the index included (and the nag finding it raises, explained)."""
        (self.table.grant_read_write_data if write else self.table.grant_read_data)(function)
        logical_id = Stack.of(self).get_logical_id(self.table.node.default_child)  # type: ignore[arg-type]
        if function.role is not None:
            acknowledge(
                function.role,
                f"IAM5[Resource::<{logical_id}.Arn>/index/*]",
                "CDK grants a table's indexes as <table>/index/*: the orders table's own by_external_id and "
                "by_open_status indexes.",
            )
