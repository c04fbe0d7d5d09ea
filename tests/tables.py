"""The tables tests create on moto, keyed and indexed as the stack defines them.

``tests/infrastructure/test_test_tables.py`` holds each to the synthesized template, so a changed key or index
fails there rather than leaving tests green on a table the stack no longer has.
"""

from __future__ import annotations

from typing import Any

from shared.aws.order_store import INDEX, OPEN_INDEX

_PK_SK: dict[str, Any] = {
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    "AttributeDefinitions": [{"AttributeName": name, "AttributeType": "S"} for name in ("pk", "sk")],
}

# Powertools' layout: one string key ``id`` (the TTL attribute ``expiration`` needs no schema).
IDEMPOTENCY: dict[str, Any] = {
    "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
    "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
}
OPERATIONS: dict[str, Any] = _PK_SK
INVENTORY: dict[str, Any] = _PK_SK
# The orders' sparse index of open orders by status (the stuck-order detector queries it).
OPEN_STATUS_INDEX: dict[str, Any] = {
    "IndexName": OPEN_INDEX,
    "KeySchema": [
        {"AttributeName": "open_status", "KeyType": "HASH"},
        {"AttributeName": "status_at", "KeyType": "RANGE"},
    ],
    "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["correlation_id"]},
}
# pk/sk, the by_external_id index and the sparse by_open_status index.
ORDERS: dict[str, Any] = {
    "KeySchema": _PK_SK["KeySchema"],
    "AttributeDefinitions": [
        {"AttributeName": name, "AttributeType": "S"}
        for name in ("pk", "sk", "channel_external", "open_status", "status_at")
    ],
    "GlobalSecondaryIndexes": [
        {
            "IndexName": INDEX,
            "KeySchema": [{"AttributeName": "channel_external", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL"},
        },
        OPEN_STATUS_INDEX,
    ],
}
# By the template's logical id without CDK's hash.
BY_LOGICAL_ID = {
    "IdempotencyTable": IDEMPOTENCY,
    "OperationsTable": OPERATIONS,
    "InventoryTable": INVENTORY,
    "OrdersTable": ORDERS,
}


def create(client: Any, name: str, definition: dict[str, Any]) -> None:
    """Create table ``name`` on ``client`` (moto's DynamoDB) as ``definition`` says, billed on demand as deployed."""
    client.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", **definition)
