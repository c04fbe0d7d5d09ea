"""query_all follows LastEvaluatedKey to the last page and passes the request through unchanged."""

from __future__ import annotations

from typing import Any

from shared.aws.paging import query_all


def test_every_page_is_read_and_each_call_starts_where_the_last_stopped() -> None:
    pages = [
        {"Items": [{"n": 1}, {"n": 2}], "LastEvaluatedKey": {"k": "2"}},
        {"Items": [], "LastEvaluatedKey": {"k": "2b"}},  # DynamoDB may return an empty page that is not the last
        {"Items": [{"n": 3}]},
    ]
    calls: list[tuple[str, dict[str, Any]]] = []

    def call(operation: str, **request: Any) -> dict[str, Any]:
        calls.append((operation, request))
        return pages[len(calls) - 1]

    assert query_all(call, KeyConditionExpression="pk = :pk", ConsistentRead=True) == [{"n": 1}, {"n": 2}, {"n": 3}]
    assert [op for op, _ in calls] == ["query"] * 3
    assert [request.get("ExclusiveStartKey") for _, request in calls] == [None, {"k": "2"}, {"k": "2b"}]
    assert all(request["KeyConditionExpression"] == "pk = :pk" for _, request in calls)
