"""Create what the template declares, in the emulators: tables, queues, buses, archives, rules, secrets.

Rules are created on the bus with the template's own event patterns. Each rule gets a local tap queue as its
only moto target, so the local router (``router.py``) can deliver to the template's targets as AWS does:
InputPath, Input and InputTransformer, retry policy and target DLQ, which moto does not do.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from infra.local.emulators import client as emulator_client
from infra.local.template import Template

TAP_PREFIX = "local-tap-"


@dataclass
class RuleWiring:
    logical_id: str
    name: str
    bus: str
    tap_url: str
    targets: list[dict[str, Any]]
    schedule: str | None = None


@dataclass
class Provisioned:
    queues: dict[str, str] = field(default_factory=dict)  # logical id → URL
    dlqs: set[str] = field(default_factory=set)  # logical ids of queues some redrive policy points to
    tables: dict[str, str] = field(default_factory=dict)  # logical id → name
    buses: dict[str, str] = field(default_factory=dict)
    rules: list[RuleWiring] = field(default_factory=list)
    secrets: dict[str, str] = field(default_factory=dict)  # name → value created
    observer_url: str = ""


class Provisioner:
    def __init__(self, template: Template, env: dict[str, str]) -> None:
        self.template = template
        self._env = env
        self.result = Provisioned()

    def client(self, service: str) -> Any:
        return emulator_client(self._env, service)

    def run(self) -> Provisioned:
        self._tables()
        self._queues()
        self._buses()
        self._secrets()
        self._parameters()
        self._rules()
        return self.result

    # -- DynamoDB -------------------------------------------------------------------------------------------
    def _tables(self) -> None:
        ddb = self.client("dynamodb")
        for kind in ("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable"):
            for logical_id in self.template.of_type(kind):
                props = self.template.props(logical_id)
                name = self.template.name(logical_id)
                request: dict[str, Any] = {
                    "TableName": name,
                    "KeySchema": props["KeySchema"],
                    "AttributeDefinitions": props["AttributeDefinitions"],
                    "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
                }
                indexes = props.get("GlobalSecondaryIndexes")
                if indexes:
                    request["GlobalSecondaryIndexes"] = [
                        {k: v for k, v in index.items() if k in ("IndexName", "KeySchema", "Projection")}
                        for index in indexes
                    ]
                ddb.create_table(**request)
                ttl = props.get("TimeToLiveSpecification")
                if ttl and ttl.get("Enabled"):
                    ddb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
                self.result.tables[logical_id] = name

    # -- SQS ------------------------------------------------------------------------------------------------
    def _queues(self) -> None:
        sqs = self.client("sqs")
        queues = self.template.of_type("AWS::SQS::Queue")
        redrive_targets = {
            self.template.logical_id_of(
                "AWS::SQS::Queue", self.template.props(q)["RedrivePolicy"]["deadLetterTargetArn"]
            )
            for q in queues
            if "RedrivePolicy" in queues[q].get("Properties", {})
        }
        self.result.dlqs = {q for q in redrive_targets if q}
        # DLQs first: a redrive policy must name an existing queue.
        for logical_id in sorted(queues, key=lambda q: q not in self.result.dlqs):
            props = self.template.props(logical_id)
            attributes = {
                key: json.dumps(props[key])
                if isinstance(props[key], dict)
                else str(props[key]).lower()
                if isinstance(props[key], bool)
                else str(props[key])
                for key in (
                    "VisibilityTimeout",
                    "MessageRetentionPeriod",
                    "DelaySeconds",
                    "ReceiveMessageWaitTimeSeconds",
                    "RedrivePolicy",
                    "FifoQueue",
                    "ContentBasedDeduplication",
                    "MaximumMessageSize",
                )
                if key in props
            }
            name = self.template.name(logical_id)
            url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            self.template.overrides[logical_id] = {"Ref": url, "Arn": arn, "QueueName": name, "QueueUrl": url}
            self.result.queues[logical_id] = url

    # -- EventBridge ----------------------------------------------------------------------------------------
    def _buses(self) -> None:
        events = self.client("events")
        for logical_id in self.template.of_type("AWS::Events::EventBus"):
            name = self.template.name(logical_id)
            events.create_event_bus(Name=name)
            self.result.buses[logical_id] = name
        for logical_id in self.template.of_type("AWS::Events::Archive"):
            props = self.template.props(logical_id)
            request = {
                "ArchiveName": self.template.name(logical_id),
                "EventSourceArn": props["SourceArn"],
                "RetentionDays": int(props.get("RetentionDays", 0)),
            }
            if "EventPattern" in props:
                request["EventPattern"] = json.dumps(props["EventPattern"])
            events.create_archive(**request)

    def _rules(self) -> None:
        events, sqs = self.client("events"), self.client("sqs")
        for logical_id in self.template.of_type("AWS::Events::Rule"):
            props = self.template.props(logical_id)
            if props.get("State", "ENABLED") != "ENABLED":
                continue
            name = self.template.name(logical_id)
            bus = props.get("EventBusName", "default")
            tap_url = sqs.create_queue(QueueName=TAP_PREFIX + _short(name))["QueueUrl"]
            rule = RuleWiring(logical_id, name, bus, tap_url, props.get("Targets", []), props.get("ScheduleExpression"))
            if "EventPattern" in props:
                events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps(props["EventPattern"]))
                tap_arn = sqs.get_queue_attributes(QueueUrl=tap_url, AttributeNames=["QueueArn"])["Attributes"]
                events.put_targets(
                    Rule=name, EventBusName=bus, Targets=[{"Id": "local-tap", "Arn": tap_arn["QueueArn"]}]
                )
            self.result.rules.append(rule)
        # A local-only observer counts every event on each bus for the demo report. It delivers nowhere else.
        if self.result.buses:
            self.result.observer_url = sqs.create_queue(QueueName=f"{TAP_PREFIX}observer")["QueueUrl"]
            observer_arn = sqs.get_queue_attributes(QueueUrl=self.result.observer_url, AttributeNames=["QueueArn"])
            for bus in self.result.buses.values():
                events.put_rule(
                    Name="local-observer", EventBusName=bus, EventPattern=json.dumps({"source": [{"prefix": ""}]})
                )
                events.put_targets(
                    Rule="local-observer",
                    EventBusName=bus,
                    Targets=[{"Id": "observer", "Arn": observer_arn["Attributes"]["QueueArn"]}],
                )

    # -- Secrets and parameters -----------------------------------------------------------------------------
    def _secrets(self) -> None:
        secrets = self.client("secretsmanager")
        for logical_id in self.template.of_type("AWS::SecretsManager::Secret"):
            props = self.template.props(logical_id)
            name = self.template.name(logical_id)
            value = props.get("SecretString") or _generated_secret(name, props.get("GenerateSecretString", {}))
            arn = secrets.create_secret(Name=name, SecretString=value)["ARN"]
            self.template.overrides[logical_id] = {"Ref": arn, "Id": arn}
            self.result.secrets[name] = value

    def _parameters(self) -> None:
        ssm = self.client("ssm")
        for logical_id in self.template.of_type("AWS::SSM::Parameter"):
            props = self.template.props(logical_id)
            ssm.put_parameter(
                Name=self.template.name(logical_id), Value=props["Value"], Type=props.get("Type", "String")
            )


def _short(name: str) -> str:
    """Queue names are capped at 80 characters; keep them readable and unique."""
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[:60]}-{digest}"


def _generated_secret(name: str, spec: dict[str, Any]) -> str:
    """Deterministic stand-in for GenerateSecretString, so the local secrets can be printed and documented."""
    value = "local-" + hashlib.sha256(name.encode()).hexdigest()[:24]
    template, key = spec.get("SecretStringTemplate"), spec.get("GenerateStringKey")
    if template and key:
        document = json.loads(template)
        document[key] = value
        return json.dumps(document)
    return value
