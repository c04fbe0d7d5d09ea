"""Export the JSON Schemas of our event contracts to ``events/schemas/`` (``make schemas``), and of the payloads we
document for senders (the B2B portal's order submission) next to their samples.

A test fails when the committed files drift from the models, so a contract never changes by accident.
"""

from __future__ import annotations

import json
from typing import Any

from infra.samples import EVENTS_DIR
from shared.channels.b2b_portal.payloads import OrderSubmission
from shared.models.events import CONTRACTS

SCHEMAS_DIR = EVENTS_DIR / "schemas"
B2B_PORTAL_SCHEMA = EVENTS_DIR / "b2b_portal" / "order_submission.schema.json"


def contract_schemas() -> dict[str, dict[str, Any]]:
    schemas = {}
    for detail_type, model in sorted(CONTRACTS.items()):
        schema = model.model_json_schema(mode="serialization")
        schema["title"] = detail_type
        schema["$id"] = f"https://crossdock.dev/schemas/events/{detail_type}.json"
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schemas[detail_type] = schema
    return schemas


def b2b_portal_schema() -> dict[str, Any]:
    """What a portal may send (validation mode: the input side)."""
    schema = OrderSubmission.model_json_schema(mode="validation")
    schema["$id"] = "https://crossdock.dev/schemas/b2b_portal/order_submission.schema.json"
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def main() -> None:
    SCHEMAS_DIR.mkdir(parents=True, exist_ok=True)
    for detail_type, schema in contract_schemas().items():
        (SCHEMAS_DIR / f"{detail_type}.json").write_text(render(schema))
        print(f"wrote events/schemas/{detail_type}.json")  # noqa: T201 - a CLI's output
    B2B_PORTAL_SCHEMA.write_text(render(b2b_portal_schema()))
    print(f"wrote {B2B_PORTAL_SCHEMA.relative_to(EVENTS_DIR.parent)}")  # noqa: T201 - a CLI's output


if __name__ == "__main__":
    main()
