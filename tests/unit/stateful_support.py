"""What the stateful property tests share: DynamoDB tables on moto, in-process, as the stack defines them."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests import tables


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
        tables.create(client, name, definition)
        yield client
