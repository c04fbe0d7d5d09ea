"""The local stack's state file: the same facts ``aws_target`` reads from CloudFormation, for ``--local``.

Physical ids are what the emulators hold: queue URLs, and names for everything else (tables, functions, rules,
the bus, the archive, secrets). Outputs are the template's, resolved locally; one that cannot be is left out and
the commands fall back to the resources.
"""

from __future__ import annotations

from typing import Any

from infra.local.emulators import Emulators
from infra.local.provision import Provisioned
from infra.local.template import Template


def local_state(
    env: str,
    template: Template,
    provisioned: Provisioned,
    emulators: Emulators,
    api_url: str | None,
    outputs: dict[str, Any],
) -> dict[str, Any]:
    if api_url:
        template.endpoints["api"] = api_url  # so outputs built on the API's endpoint resolve to the local one
    resources = {}
    for logical_id, resource in template.resources.items():
        if resource["Type"] == "AWS::SQS::Queue":
            physical = provisioned.queues.get(logical_id) or template.attributes(logical_id)["QueueUrl"]
        else:
            physical = template.name(logical_id)
        resources[logical_id] = {
            "logical_id": logical_id,
            "type": resource["Type"],
            "physical_id": physical,
            "path": str(resource.get("Metadata", {}).get("aws:cdk:path", "")),
        }
    resolved = {}
    for name, output in outputs.items():
        try:
            resolved[name] = str(template.resolve(output["Value"]))
        except (KeyError, IndexError, TypeError, ValueError):
            continue
    variables = emulators.environment()
    return {
        "env": env,
        "region": variables["AWS_REGION"],
        "credentials": {
            "aws_access_key_id": variables["AWS_ACCESS_KEY_ID"],
            "aws_secret_access_key": variables["AWS_SECRET_ACCESS_KEY"],
        },
        "endpoints": {"dynamodb": emulators.dynamodb_url, "default": emulators.moto_url},
        "api_url": api_url,
        "resources": resources,
        "outputs": resolved,
    }
