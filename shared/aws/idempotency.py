"""The DynamoDB store behind Powertools idempotency (table: pk ``id``, TTL ``expiration``)."""

from __future__ import annotations

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

from shared.aws import clients


def dynamodb_persistence(table_name: str) -> DynamoDBPersistenceLayer:
    return DynamoDBPersistenceLayer(table_name=table_name, boto3_client=clients.client("dynamodb"))
