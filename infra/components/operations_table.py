"""The operations table: breaker state per outside system, and the audit trail of operator actions.

Keys: ``pk = BREAKER``, ``sk = <system>`` (all breakers in one query); ``pk = AUDIT#<yyyy-mm>``,
``sk = <iso time>#<id>``.
Audit items expire (``expires_at``) after a year; breakers never do.
"""

from __future__ import annotations

from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.components.common import on_demand_table
from infra.config import EnvConfig


class OperationsTable(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: EnvConfig) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        self.table = on_demand_table(
            self,
            config,
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
            time_to_live_attribute="expires_at",
        )

    def use_breakers(self, function: lambda_.Function) -> None:
        """A function that calls outside systems reads and trips their breakers here."""
        function.add_environment("OPS_TABLE_NAME", self.table.table_name)
        function.add_environment("BREAKER_POLICY", self._config.operations.breaker.model_dump_json())
        self.table.grant_read_write_data(function)

    def read_breakers(self, function: lambda_.Function) -> None:
        """A function that only looks at the breakers (the detector): the table's name and read access."""
        function.add_environment("OPS_TABLE_NAME", self.table.table_name)
        self.table.grant_read_data(function)
