"""Every item of a DynamoDB query: one call returns at most 1 MB, so follow ``LastEvaluatedKey`` to the end."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def query_all(call: Callable[..., dict[str, Any]], **request: Any) -> list[dict[str, Any]]:
    """``call("query", **request)`` page after page; ``call`` is the store's own wrapper (its error mapping)."""
    items: list[dict[str, Any]] = []
    start: dict[str, Any] | None = None
    while True:
        page = call("query", **request, **({"ExclusiveStartKey": start} if start else {}))
        items.extend(page.get("Items", []))
        start = page.get("LastEvaluatedKey")
        if not start:
            return items
