"""What the stateful property tests share: DynamoDB tables on moto, in-process, as the stack defines them."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

STRINGS = ("pk", "sk")
# infra/components/idempotency_table.py: Powertools' layout, one string key ``id`` (TTL ``expiration`` needs no schema).
IDEMPOTENCY_TABLE: dict[str, Any] = {
    "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
    "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
}
# infra/components/orders_table.py: pk/sk, the by_external_id index and the sparse by_open_status index.
ORDERS_TABLE: dict[str, Any] = {
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    "AttributeDefinitions": [
        {"AttributeName": name, "AttributeType": "S"}
        for name in (*STRINGS, "channel_external", "open_status", "status_at")
    ],
    "GlobalSecondaryIndexes": [
        {
            "IndexName": "by_external_id",
            "KeySchema": [{"AttributeName": "channel_external", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL"},
        },
        {
            "IndexName": "by_open_status",
            "KeySchema": [
                {"AttributeName": "open_status", "KeyType": "HASH"},
                {"AttributeName": "status_at", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["correlation_id"]},
        },
    ],
}


@functools.cache
def _botocore_session() -> Any:
    """One session for every example: DynamoDB's service model is loaded once, not once per example."""
    import botocore.session

    return botocore.session.get_session()


@contextmanager
def moto_table(name: str, definition: dict[str, Any]) -> Iterator[Any]:
    """moto's DynamoDB, in this process, with one table; yields a raw client."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        client = boto3.session.Session(botocore_session=_botocore_session()).client("dynamodb", region_name="us-east-1")
        client.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", **definition)
        yield client
