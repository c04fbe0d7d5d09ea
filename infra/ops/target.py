"""Where the ``crossdock`` commands act: a deployed environment (AWS profile + env) or the running local stack.

Both resolve to the same thing: the stack's resources by logical id (type, physical id, CDK path) and its outputs,
plus boto3 clients pointed at the right endpoints. A deployed stack is read from CloudFormation; the local stack
writes the same facts to a state file when it starts (``LocalState``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, ProfileNotFound

from infra.assets import ROOT

DEFAULT_LOCAL_STATE = ROOT / ".local" / "stack.json"
# What a table may be in the template (``named`` falls back to these when an output is missing).
TABLE_TYPES = ("AWS::DynamoDB::GlobalTable", "AWS::DynamoDB::Table")
_HASH_SUFFIX = re.compile(r"[0-9A-F]{8}$")


class TargetError(Exception):
    """The deployment cannot be found or reached; the message says what to do."""


@dataclass(frozen=True)
class Resource:
    logical_id: str
    type: str  # e.g. AWS::SQS::Queue
    physical_id: str  # a queue URL, a table or function name, an ARN
    path: str = ""  # the CDK construct path, e.g. AfterSale/InvoiceShipment/Buffer/Dlq

    @property
    def label(self) -> str:
        """A short name for tables: the CDK path without the stack and the trailing ``/Resource``."""
        if self.path:
            parts = self.path.split("/")[1:]
            if parts and parts[-1] == "Resource":
                parts = parts[:-1]
            return "/".join(parts)
        return _HASH_SUFFIX.sub("", self.logical_id)


@dataclass
class Target:
    env: str
    region: str
    resources: dict[str, Resource]
    outputs: dict[str, str] = field(default_factory=dict)
    # Local stack only: endpoint per boto3 service name, and its static credentials.
    endpoints: dict[str, str] = field(default_factory=dict)
    credentials: dict[str, str] = field(default_factory=dict)
    profile: str | None = None
    local: bool = False
    api_url: str | None = None  # the HTTP API's base URL (webhooks under /v1/webhooks)
    # Deployed only: the boto3 session clients come from (made from the profile on first use).
    session: boto3.Session | None = field(default=None, repr=False, compare=False)
    _clients: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def client(self, service: str) -> Any:
        """One client per service for the life of the command: each new one costs a session and its config."""
        if service not in self._clients:
            self._clients[service] = self._new_client(service)
        return self._clients[service]

    def _new_client(self, service: str) -> Any:
        if self.local:
            return boto3.client(
                service,  # type: ignore[call-overload]
                endpoint_url=self.endpoints.get(service) or self.endpoints["default"],
                region_name=self.region,
                aws_access_key_id=self.credentials.get("aws_access_key_id", "local"),
                aws_secret_access_key=self.credentials.get("aws_secret_access_key", "local"),
            )
        if self.session is None:
            self.session = boto3.Session(profile_name=self.profile, region_name=self.region)
        return self.session.client(service)  # type: ignore[call-overload]

    def of_type(self, cfn_type: str) -> list[Resource]:
        return sorted((r for r in self.resources.values() if r.type == cfn_type), key=lambda r: r.label)

    def output(self, name: str) -> str:
        if name not in self.outputs:
            raise TargetError(f"the stack has no output {name!r}: is it deployed from this version?")
        return self.outputs[name]

    def named(self, output: str, cfn_types: tuple[str, ...], label_prefix: str) -> str:
        """A resource's physical id: from the stack output, else the one resource whose label starts so."""
        if output in self.outputs:
            return self.outputs[output]
        found = [r for t in cfn_types for r in self.of_type(t) if r.label.startswith(label_prefix)]
        if len(found) != 1:
            raise TargetError(f"the stack has no output {output!r} and {len(found)} resources named {label_prefix}*")
        return found[0].physical_id

    def actor(self) -> str:
        """Who is acting, for the audit trail: the caller's ARN (local: the OS user on the local stack)."""
        if self.local:
            import getpass

            return f"local:{getpass.getuser()}"
        try:
            return str(self.client("sts").get_caller_identity()["Arn"])
        except (ClientError, BotoCoreError) as error:
            raise TargetError(f"cannot tell who you are: {error}") from error


def local_target(path: Path = DEFAULT_LOCAL_STATE) -> Target:
    """The running local stack (``crossdock local up`` or ``make local``), from the state file it wrote."""
    if not path.exists():
        raise TargetError(f"no local stack state at {path}: start one with `make local` (or crossdock local up)")
    state = json.loads(path.read_text())
    return Target(
        env=state["env"],
        region=state["region"],
        resources={k: Resource(**v) for k, v in state["resources"].items()},
        outputs=state.get("outputs", {}),
        endpoints=state["endpoints"],
        credentials=state.get("credentials", {}),
        local=True,
        api_url=state.get("api_url"),
    )


def aws_target(env: str, profile: str | None, region: str | None) -> Target:
    """A deployed environment: stack ``Crossdock-<env>`` read from CloudFormation with the given profile."""
    stack_name = f"Crossdock-{env}"
    try:
        session = boto3.Session(profile_name=profile, region_name=region)
        cfn = session.client("cloudformation")
        stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
        paths = _paths(cfn.get_template(StackName=stack_name, TemplateStage="Processed")["TemplateBody"])
        resources: dict[str, Resource] = {}
        for page in cfn.get_paginator("list_stack_resources").paginate(StackName=stack_name):
            for item in page["StackResourceSummaries"]:
                logical = item["LogicalResourceId"]
                resources[logical] = Resource(
                    logical, item["ResourceType"], item.get("PhysicalResourceId", ""), paths.get(logical, "")
                )
    except ProfileNotFound as error:
        raise TargetError(f"no AWS profile {profile!r}: see `aws configure list-profiles`") from error
    except NoCredentialsError as error:
        raise TargetError("no AWS credentials: pass --profile or set AWS_PROFILE") from error
    except ClientError as error:
        raise TargetError(f"cannot read stack {stack_name}: {error.response['Error']['Message']}") from error
    except BotoCoreError as error:
        raise TargetError(f"cannot reach AWS: {error}") from error
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    return Target(
        env=env,
        region=session.region_name or "us-east-1",
        resources=resources,
        outputs=outputs,
        profile=profile,
        api_url=outputs.get("WebhookBaseUrl", "").removesuffix("/v1/webhooks") or None,
        session=session,
    )


def _paths(template: Any) -> dict[str, str]:
    body = json.loads(template) if isinstance(template, str) else template
    return {
        logical: str(resource.get("Metadata", {}).get("aws:cdk:path", ""))
        for logical, resource in body.get("Resources", {}).items()
    }
