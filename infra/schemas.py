"""Export the JSON Schemas of our event contracts to ``events/schemas/`` (``make schemas``).

A test fails when the committed files drift from the models, so a contract never changes by accident.
"""

from __future__ import annotations

import json
from typing import Any

from infra.samples import EVENTS_DIR
from shared.models.events import CONTRACTS

SCHEMAS_DIR = EVENTS_DIR / "schemas"


def contract_schemas() -> dict[str, dict[str, Any]]:
    schemas = {}
    for detail_type, model in sorted(CONTRACTS.items()):
        schema = model.model_json_schema(mode="serialization")
        schema["title"] = detail_type
        schema["$id"] = f"https://crossdock.dev/schemas/events/{detail_type}.json"
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schemas[detail_type] = schema
    return schemas


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def main() -> None:
    SCHEMAS_DIR.mkdir(parents=True, exist_ok=True)
    for detail_type, schema in contract_schemas().items():
        (SCHEMAS_DIR / f"{detail_type}.json").write_text(render(schema))
        print(f"wrote events/schemas/{detail_type}.json")  # noqa: T201 - a CLI's output


if __name__ == "__main__":
    main()
