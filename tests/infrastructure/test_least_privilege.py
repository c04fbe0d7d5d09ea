"""Least privilege and data at rest, read from every environment's template: no IAM wildcard on data, every
queue encrypted and TLS-only."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.infrastructure.conftest import Synth

# Services whose resources hold our data: their actions must name our own resources.
DATA_TYPES = {
    "dynamodb": {"AWS::DynamoDB::GlobalTable", "AWS::DynamoDB::Table"},
    "sqs": {"AWS::SQS::Queue"},
    "secretsmanager": {"AWS::SecretsManager::Secret"},
    "events": {"AWS::Events::EventBus"},
}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _path(template: dict[str, Any], logical_id: str) -> str:
    """The construct path where the template has it, else the logical id (which CDK derives from the path)."""
    resource = template["Resources"].get(logical_id, {})
    return str(resource.get("Metadata", {}).get("aws:cdk:path", logical_id))


def statements(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every identity-policy statement, with the role(s) it is attached to."""
    for logical_id, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            roles = [_path(template, r["Ref"]) if isinstance(r, dict) else str(r) for r in props.get("Roles", [])]
            for statement in props["PolicyDocument"]["Statement"]:
                yield f"{_path(template, logical_id)} of role(s) {roles}", statement
        elif resource["Type"] == "AWS::IAM::Role":
            for policy in props.get("Policies", []):
                for statement in policy["PolicyDocument"]["Statement"]:
                    yield f"inline policy of role {_path(template, logical_id)}", statement


def _ours(resource: Any, types: set[str], template: dict[str, Any], env: str) -> bool:
    """A specific ARN of one of our resources of ``types``: its Ref/GetAtt, a table's own ``/index/*``, or one of
    our secrets by name, with the suffix wildcard Secrets Manager needs (``-??????`` or ``*``)."""
    resources = template["Resources"]

    def of_type(ref: Any) -> bool:
        if not isinstance(ref, dict):
            return False
        logical_id = ref["Ref"] if "Ref" in ref else ref.get("Fn::GetAtt", [None])[0]
        return logical_id in resources and resources[logical_id]["Type"] in types

    if of_type(resource):
        return True
    parts = resource["Fn::Join"][1] if isinstance(resource, dict) and resource.get("Fn::Join", [None])[0] == "" else []
    if len(parts) == 2 and parts[1] == "/index/*" and "Fn::GetAtt" in parts[0]:
        return bool(types & DATA_TYPES["dynamodb"]) and of_type(parts[0])
    text = resource if isinstance(resource, str) else "".join(p if isinstance(p, str) else "<token>" for p in parts)
    field = r"(<token>|[\w-]+)"
    secret = rf"arn:{field}:secretsmanager:{field}:{field}:secret:crossdock-{env}/[\w-]+/[\w-]+(-\?{{6}}|-?\*)"
    return bool(types & DATA_TYPES["secretsmanager"]) and re.fullmatch(secret, text) is not None


def violations(template: dict[str, Any], env: str) -> list[str]:
    found = []
    for where, statement in statements(template):
        if statement["Effect"] != "Allow":
            continue
        if "NotAction" in statement or "NotResource" in statement:
            found.append(f"{where}: Allow with NotAction/NotResource is a wildcard: {statement}")
            continue
        actions = _as_list(statement["Action"])
        if any(a == "*" or a.endswith(":*") for a in actions):
            found.append(f"{where}: wildcard action: {statement}")
            continue
        services = {a.split(":", 1)[0] for a in actions} & set(DATA_TYPES)
        if not services:
            continue  # e.g. X-Ray, which has no resource-level permissions (an acknowledged nag finding)
        if any("*" in a for a in actions if a.split(":", 1)[0] in services):
            found.append(f"{where}: wildcard in a data action: {statement}")
        types = set().union(*(DATA_TYPES[s] for s in services))
        wide = [r for r in _as_list(statement["Resource"]) if not _ours(r, types, template, env)]
        if wide:
            found.append(f"{where}: data actions {actions} on {wide}, not our own {sorted(types)}")
    return found


def test_no_iam_wildcard_on_data_resources(stack: Synth) -> None:
    found = violations(stack.template_json, stack.env)
    assert found == [], "\n".join(found)


def _policy(statement: dict[str, Any]) -> dict[str, Any]:
    return {
        "Resources": {
            "Table": {"Type": "AWS::DynamoDB::GlobalTable"},
            "Queue": {"Type": "AWS::SQS::Queue"},
            "Role": {"Type": "AWS::IAM::Role", "Metadata": {"aws:cdk:path": "Stack/Fn/Role"}},
            "Policy": {
                "Type": "AWS::IAM::Policy",
                "Properties": {"Roles": [{"Ref": "Role"}], "PolicyDocument": {"Statement": [statement]}},
            },
        }
    }


def _join(*parts: Any) -> dict[str, Any]:
    return {"Fn::Join": ["", list(parts)]}


TOKEN = {"Ref": "AWS::Region"}


@pytest.mark.parametrize(
    ("action", "resource"),
    [
        ("*", {"Fn::GetAtt": ["Table", "Arn"]}),
        ("dynamodb:*", {"Fn::GetAtt": ["Table", "Arn"]}),
        ("dynamodb:Get*", {"Fn::GetAtt": ["Table", "Arn"]}),
        ("dynamodb:GetItem", "*"),
        ("dynamodb:GetItem", {"Fn::GetAtt": ["Queue", "Arn"]}),  # not a table
        ("dynamodb:GetItem", {"Fn::GetAtt": ["Elsewhere", "Arn"]}),  # not ours
        ("dynamodb:Query", _join({"Fn::GetAtt": ["Queue", "Arn"]}, "/index/*")),
        ("sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:*"),
        ("events:PutEvents", "*"),
        ("secretsmanager:GetSecretValue", "*"),
        ("secretsmanager:GetSecretValue", _join("arn:", TOKEN, ":secretsmanager:", TOKEN, ":", TOKEN, ":secret:*")),
        (
            "secretsmanager:GetSecretValue",
            _join("arn:", TOKEN, ":secretsmanager:", TOKEN, ":", TOKEN, ":secret:crossdock-prod/webhooks/shopify-*"),
        ),  # another environment's
        (
            "secretsmanager:GetSecretValue",
            _join("arn:", TOKEN, ":secretsmanager:", TOKEN, ":", TOKEN, ":secret:crossdock-dev/webhooks/*"),
        ),  # every webhook secret
    ],
)
def test_the_wildcard_check_names_the_role_and_statement(action: str, resource: Any) -> None:
    statement = {"Effect": "Allow", "Action": action, "Resource": resource}
    [found] = violations(_policy(statement), "dev")
    assert "Stack/Fn/Role" in found
    assert action in found


@pytest.mark.parametrize(
    ("action", "resource"),
    [
        ("dynamodb:GetItem", {"Fn::GetAtt": ["Table", "Arn"]}),
        ("dynamodb:Query", _join({"Fn::GetAtt": ["Table", "Arn"]}, "/index/*")),
        ("sqs:SendMessage", {"Fn::GetAtt": ["Queue", "Arn"]}),
        (
            "secretsmanager:GetSecretValue",
            _join("arn:", TOKEN, ":secretsmanager:", TOKEN, ":", TOKEN, ":secret:crossdock-dev/webhooks/shopify-*"),
        ),
        (
            "secretsmanager:GetSecretValue",
            "arn:aws:secretsmanager:us-east-1:123:secret:crossdock-dev/connections/wms-??????",
        ),
        ("xray:PutTraceSegments", "*"),
    ],
)
def test_the_wildcard_check_lets_specific_grants_through(action: str, resource: Any) -> None:
    assert violations(_policy({"Effect": "Allow", "Action": action, "Resource": resource}), "dev") == []


def _denies_plain_http(statement: dict[str, Any]) -> bool:
    return (
        statement["Effect"] == "Deny"
        and statement.get("Principal") in ({"AWS": "*"}, "*")
        and "sqs:*" in _as_list(statement["Action"])
        and statement.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
    )


def exposed_queues(template: dict[str, Any]) -> list[str]:
    """Queues not encrypted at rest, or without a policy that denies requests not over TLS."""
    resources = template["Resources"]
    tls_only = set()
    for policy in (r for r in resources.values() if r["Type"] == "AWS::SQS::QueuePolicy"):
        props = policy["Properties"]
        for statement in props["PolicyDocument"]["Statement"]:
            if _denies_plain_http(statement):
                denied = {r["Fn::GetAtt"][0] for r in _as_list(statement["Resource"]) if "Fn::GetAtt" in r}
                tls_only |= denied & {q["Ref"] for q in props["Queues"]}
    found = []
    for logical_id, queue in resources.items():
        if queue["Type"] != "AWS::SQS::Queue":
            continue
        props, path = queue.get("Properties", {}), _path(template, logical_id)
        if props.get("SqsManagedSseEnabled") is not True and "KmsMasterKeyId" not in props:
            found.append(f"{path}: not encrypted at rest")
        if logical_id not in tls_only:
            found.append(f"{path}: no policy denies aws:SecureTransport false (enforce_ssl=True)")
    return found


def test_every_queue_is_encrypted_at_rest_and_refuses_plain_http(stack: Synth) -> None:
    assert stack.resources("AWS::SQS::Queue")
    found = exposed_queues(stack.template_json)
    assert found == [], "\n".join(found)


def test_the_queue_check_finds_a_plain_queue_and_one_whose_policy_allows_http() -> None:
    deny_http = {
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": "sqs:*",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        "Resource": {"Fn::GetAtt": ["Safe", "Arn"]},
    }
    template = {
        "Resources": {
            "Safe": {"Type": "AWS::SQS::Queue", "Properties": {"SqsManagedSseEnabled": True}},
            "Plain": {"Type": "AWS::SQS::Queue", "Properties": {}},
            "Policy": {
                "Type": "AWS::SQS::QueuePolicy",
                # The statement names Safe only: listing Plain among the policy's queues does not protect it.
                "Properties": {
                    "Queues": [{"Ref": "Safe"}, {"Ref": "Plain"}],
                    "PolicyDocument": {"Statement": [deny_http]},
                },
            },
        }
    }
    assert exposed_queues(template) == [
        "Plain: not encrypted at rest",
        "Plain: no policy denies aws:SecureTransport false (enforce_ssl=True)",
    ]
