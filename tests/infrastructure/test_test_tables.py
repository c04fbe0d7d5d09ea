"""The tables the tests build on moto (``tests/tables.py``) are keyed and indexed as the template says."""

from __future__ import annotations

from typing import Any

from tests import tables
from tests.infrastructure.conftest import synth


def _schema(definition: dict[str, Any]) -> dict[str, Any]:
    """The parts that shape the data, in a comparable form (the template's order of keys may differ)."""
    out: dict[str, Any] = {"KeySchema": definition["KeySchema"]}
    out["AttributeDefinitions"] = sorted(
        d["AttributeName"] + ":" + d["AttributeType"] for d in definition["AttributeDefinitions"]
    )
    out["GlobalSecondaryIndexes"] = sorted(
        (
            index["IndexName"],
            repr(index["KeySchema"]),
            index["Projection"]["ProjectionType"],
            tuple(sorted(index["Projection"].get("NonKeyAttributes", []))),
        )
        for index in definition.get("GlobalSecondaryIndexes", [])
    )
    return out


def test_every_test_table_matches_the_template() -> None:
    in_template = {
        logical_id[:-8]: resource["Properties"]
        for logical_id, resource in synth("dev").resources("AWS::DynamoDB::GlobalTable").items()
    }
    assert sorted(in_template) == sorted(tables.BY_LOGICAL_ID)
    for name, definition in tables.BY_LOGICAL_ID.items():
        assert _schema(definition) == _schema(in_template[name]), name
