"""Read the synthesized CloudFormation template and resolve it to local names, ARNs and URLs.

The local stack's wiring comes only from here: if infra declares a pattern, a redrive policy or an
environment variable wrongly, the local stack runs it wrongly too, which is the point.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ACCOUNT = "123456789012"  # moto's default account
_NO_VALUE = object()


class UnsupportedIntrinsic(ValueError):
    pass


@dataclass
class Template:
    stack_name: str
    region: str
    resources: dict[str, dict[str, Any]]
    # Physical ids the emulators gave back (e.g. a secret ARN with its random suffix), by logical id.
    overrides: dict[str, dict[str, str]] = field(default_factory=dict)
    endpoints: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path, stack_name: str, region: str) -> Template:
        return cls(stack_name, region, json.loads(path.read_text())["Resources"])

    @classmethod
    def from_dict(cls, template: dict[str, Any], stack_name: str, region: str) -> Template:
        return cls(stack_name, region, template["Resources"])

    # -- queries --------------------------------------------------------------------------------------------
    def of_type(self, cfn_type: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v["Type"] == cfn_type}

    def props(self, logical_id: str) -> dict[str, Any]:
        resolved: dict[str, Any] = self.resolve(self.resources[logical_id].get("Properties", {}))
        return resolved

    def logical_id_of(self, cfn_type: str, physical: str) -> str | None:
        """Which resource of ``cfn_type`` has this ARN, URL or name."""
        for logical_id in self.of_type(cfn_type):
            attrs = self.attributes(logical_id)
            if physical in attrs.values():
                return logical_id
        return None

    # -- physical names -------------------------------------------------------------------------------------
    def name(self, logical_id: str) -> str:
        resource = self.resources[logical_id]
        props = resource.get("Properties", {})
        explicit = {
            "AWS::SQS::Queue": "QueueName",
            "AWS::DynamoDB::Table": "TableName",
            "AWS::DynamoDB::GlobalTable": "TableName",
            "AWS::Events::EventBus": "Name",
            "AWS::Events::Rule": "Name",
            "AWS::Events::Archive": "ArchiveName",
            "AWS::Lambda::Function": "FunctionName",
            "AWS::SecretsManager::Secret": "Name",
            "AWS::SNS::Topic": "TopicName",
            "AWS::SSM::Parameter": "Name",
            "AWS::S3::Bucket": "BucketName",
        }.get(resource["Type"])
        if explicit and explicit in props:
            return str(self.resolve(props[explicit]))
        # CloudFormation's generated names: stack, logical id and a suffix; ours are stable, no suffix.
        base = f"{self.stack_name}-{logical_id}"[:64]
        if resource["Type"] == "AWS::Events::Archive":
            base = base[:48]
        if resource["Type"] == "AWS::SQS::Queue" and props.get("FifoQueue"):
            base = base[:75] + ".fifo"
        return base

    def attributes(self, logical_id: str) -> dict[str, str]:
        """``Ref`` (under the key ``Ref``) and every ``Fn::GetAtt`` we know for this resource."""
        if logical_id in self.overrides:
            return self.overrides[logical_id]
        kind = self.resources[logical_id]["Type"]
        name = self.name(logical_id)
        region, account = self.region, ACCOUNT
        arn_prefix = f"arn:aws:{{}}:{region}:{account}:"
        if kind == "AWS::SQS::Queue":
            url = f"{self.endpoints.get('sqs', 'https://sqs.' + region + '.amazonaws.com')}/{account}/{name}"
            arn = arn_prefix.format("sqs") + name
            return {"Ref": url, "Arn": arn, "QueueName": name, "QueueUrl": url}
        if kind in ("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable"):
            arn = arn_prefix.format("dynamodb") + f"table/{name}"
            return {"Ref": name, "Arn": arn, "StreamArn": f"{arn}/stream/local"}
        if kind == "AWS::Events::EventBus":
            return {"Ref": name, "Arn": arn_prefix.format("events") + f"event-bus/{name}", "Name": name}
        if kind == "AWS::Events::Rule":
            bus = self.resolve(self.resources[logical_id].get("Properties", {}).get("EventBusName", "default"))
            prefix = "" if bus == "default" else f"{bus}/"
            return {"Ref": name, "Arn": arn_prefix.format("events") + f"rule/{prefix}{name}"}
        if kind == "AWS::Events::Archive":
            return {"Ref": name, "Arn": arn_prefix.format("events") + f"archive/{name}", "ArchiveName": name}
        if kind == "AWS::Lambda::Function":
            return {"Ref": name, "Arn": arn_prefix.format("lambda") + f"function:{name}"}
        if kind == "AWS::SecretsManager::Secret":
            arn = arn_prefix.format("secretsmanager") + f"secret:{name}"
            return {"Ref": arn, "Id": arn}
        if kind == "AWS::SNS::Topic":
            arn = arn_prefix.format("sns") + name
            return {"Ref": arn, "TopicArn": arn, "TopicName": name}
        if kind == "AWS::IAM::Role":
            return {"Ref": name, "Arn": f"arn:aws:iam::{account}:role/{name}", "RoleId": name}
        if kind == "AWS::ApiGatewayV2::Api":
            return {"Ref": name, "ApiId": name, "ApiEndpoint": self.endpoints.get("api", "http://127.0.0.1")}
        return {"Ref": name, "Arn": arn_prefix.format("local") + name}

    # -- intrinsics -----------------------------------------------------------------------------------------
    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [r for r in (self.resolve(v) for v in value) if r is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            function = self._intrinsics().get(key)
            if function is not None:
                return function(arg)
            if key.startswith("Fn::"):
                raise UnsupportedIntrinsic(key)
        return {k: r for k, r in ((k, self.resolve(v)) for k, v in value.items()) if r is not _NO_VALUE}

    def _intrinsics(self) -> dict[str, Callable[[Any], Any]]:
        return {
            "Ref": self._ref,
            "Fn::GetAtt": self._get_att,
            "Fn::Join": lambda a: a[0].join(str(self.resolve(p)) for p in self.resolve(a[1])),
            "Fn::Sub": self._sub,
            "Fn::Select": lambda a: self.resolve(a[1])[int(self.resolve(a[0]))],
            "Fn::Split": lambda a: str(self.resolve(a[1])).split(a[0]),
            "Fn::GetAZs": lambda _: [f"{self.region}a", f"{self.region}b", f"{self.region}c"],
            "Fn::Base64": lambda a: __import__("base64").b64encode(str(self.resolve(a)).encode()).decode(),
        }

    def _pseudo(self, name: str) -> Any:
        return {
            "AWS::Region": self.region,
            "AWS::AccountId": ACCOUNT,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": self.stack_name,
            "AWS::StackId": f"arn:aws:cloudformation:{self.region}:{ACCOUNT}:stack/{self.stack_name}/local",
            "AWS::NoValue": _NO_VALUE,
        }[name]

    def _ref(self, name: str) -> Any:
        if name.startswith("AWS::"):
            return self._pseudo(name)
        return self.attributes(name)["Ref"]

    def _get_att(self, arg: Any) -> str:
        logical_id, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
        attrs = self.attributes(logical_id)
        if attribute not in attrs:
            raise UnsupportedIntrinsic(f"Fn::GetAtt {logical_id}.{attribute}")
        return attrs[attribute]

    def _sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))

        def replace(match: re.Match[str]) -> str:
            token = match.group(1)
            if token in variables:
                return str(variables[token])
            if token.startswith("AWS::"):
                return str(self._pseudo(token))
            if "." in token:
                return self._get_att(token)
            return str(self._ref(token))

        return re.sub(r"\$\{([^}!]+)\}", replace, text)
