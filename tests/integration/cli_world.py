"""A small Crossdock stack in moto for the ``crossdock`` command tests: two consumers' buffer queues with their
DLQs, the orders and operations tables, the bus with its archive and rules, and webhook secrets.

Each test module's ``world`` fixture yields from ``moto_world``. The commands get it as their target
(``infra.ops.options.aws_target`` patched): a deployed-environment ``Target`` whose boto3 clients moto
intercepts, as in production but in-process.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from moto import mock_aws
from typer.testing import CliRunner

from infra.cli import app
from infra.ops import options
from infra.ops.target import Resource, Target
from shared.models.operations import DeadLetterAttribute as Attr
from tests import tables

ENV = "dev"
BUS = "crossdock-dev"
ARCHIVE = "crossdock-dev-archive"
OPS_TABLE = "crossdock-dev-operations"
ORDERS_TABLE = "crossdock-dev-orders"
API_URL = "https://api.crossdock.test"
# One session for every test's target: its loaded service models are reused (moto intercepts its clients too).
SESSION = boto3.Session(region_name="us-east-1")
WEBHOOK_SECRETS = {"shopify": "shpss_cli_current", "wms": "whsec_Y2xpLXdtcy1jdXJyZW50LWtleQ"}


@dataclass
class Consumer:
    label: str  # e.g. RecordOrder
    queue_url: str
    queue_arn: str
    dlq_url: str
    dlq_arn: str

    @property
    def queue_name(self) -> str:
        return self.queue_url.rsplit("/", 1)[-1]


@dataclass
class World:
    target: Target
    record_order: Consumer
    invoice_shipment: Consumer
    runner: CliRunner

    def run(self, *args: str, input: str | None = None) -> Any:
        return self.runner.invoke(app, [*args, "--env", ENV], input=input)

    # -- SQS --------------------------------------------------------------------------------------------------
    def park(self, dlq_url: str, body: str, attributes: dict[str, str] | None = None) -> str:
        message = self.target.client("sqs").send_message(
            QueueUrl=dlq_url,
            MessageBody=body,
            MessageAttributes={k: {"DataType": "String", "StringValue": v} for k, v in (attributes or {}).items()},
        )
        return str(message["MessageId"])

    def drain(self, url: str) -> list[dict[str, Any]]:
        """Every message now visible in the queue (deleted as read)."""
        sqs = self.target.client("sqs")
        messages: list[dict[str, Any]] = []
        while True:
            batch = sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], VisibilityTimeout=0
            ).get("Messages", [])
            if not batch:
                return messages
            for message in batch:
                messages.append(message)
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

    def visible(self, url: str) -> int:
        return self.counts(url)[0]

    def counts(self, url: str) -> tuple[int, int]:
        """Visible and in flight (held by someone's receive)."""
        attributes = self.target.client("sqs").get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])

    def receive_counts(self, url: str) -> list[int]:
        """How many times each visible message has been received, this look included (it gives them back)."""
        batch = (
            self.target.client("sqs")
            .receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["ApproximateReceiveCount"], VisibilityTimeout=0
            )
            .get("Messages", [])
        )
        return sorted(int(m["Attributes"]["ApproximateReceiveCount"]) for m in batch)

    # -- AWS saying no ----------------------------------------------------------------------------------------
    @contextmanager
    def refusing(self, service: str, operation: str, code: str, *, after: int = 0) -> Iterator[None]:
        """AWS refuses ``operation`` on the target's ``service`` client with ``code``, once ``after`` calls went
        through: botocore's before-call hook answers instead of moto, as AWS would (an HTTP 400 and the error)."""
        client = self.target.client(service)
        event = f"before-call.{client.meta.service_model.service_id.hyphenize()}.{operation}"
        calls = 0

        def answer(**_: Any) -> tuple[Any, dict[str, Any]] | None:
            nonlocal calls
            calls += 1
            if calls <= after:
                return None
            error = {"Code": code, "Message": f"{operation} refused by the test"}
            return SimpleNamespace(status_code=400, headers={}), {"Error": error, "ResponseMetadata": {}}

        client.meta.events.register(event, answer)
        try:
            yield
        finally:
            client.meta.events.unregister(event, answer)

    # -- audit ------------------------------------------------------------------------------------------------
    def audit_items(self) -> list[dict[str, Any]]:
        items = self.target.client("dynamodb").scan(TableName=OPS_TABLE)["Items"]
        return [item for item in items if item["pk"]["S"].startswith("AUDIT#")]


def ours(error_class: str, *, source_queue: str, retryable: bool = False, **extra: str) -> dict[str, str]:
    """The attributes ``shared.aws.dead_letters.SqsDeadLetters`` puts on a message it parks."""
    return {
        Attr.ERROR_CLASS: error_class,
        Attr.RETRYABLE: str(retryable).lower(),
        Attr.ERROR: f"{error_class} failure",
        Attr.SOURCE_QUEUE: source_queue,
        Attr.FAILED_AT: "2026-11-30T10:00:00+00:00",
        **extra,
    }


def event_body(detail_type: str, order_key: str, correlation_id: str) -> str:
    channel, store, external_id = order_key.split(":")
    return json.dumps(
        {
            "version": "0",
            "id": "e1",
            "source": "crossdock.intake",
            "detail-type": detail_type,
            "detail": {
                "metadata": {"event_id": "ev-1", "correlation_id": correlation_id},
                "data": {"channel": channel, "store": store, "external_id": external_id},
            },
        }
    )


def _consumer(label: str, name: str) -> Consumer:
    sqs = SESSION.client("sqs")
    dlq_url = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "5"})
    url = sqs.create_queue(QueueName=name, Attributes={"RedrivePolicy": redrive})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return Consumer(label, url, arn, dlq_url, dlq_arn)


def _tables() -> None:
    ddb = SESSION.client("dynamodb")
    tables.create(ddb, OPS_TABLE, tables.OPERATIONS)
    tables.create(ddb, ORDERS_TABLE, tables.ORDERS)


def _events(record_order: Consumer, invoice_shipment: Consumer) -> list[str]:
    events = SESSION.client("events")
    bus_arn = events.create_event_bus(Name=BUS)["EventBusArn"]
    events.create_archive(ArchiveName=ARCHIVE, EventSourceArn=bus_arn, RetentionDays=7)
    rules = {
        "crossdock-dev-record-order": ({"detail-type": ["OrderReceived", "OrderUpdated"]}, record_order),
        "crossdock-dev-invoice-shipment": ({"detail-type": ["ShipmentDispatched"]}, invoice_shipment),
    }
    for name, (pattern, consumer) in rules.items():
        events.put_rule(Name=name, EventBusName=BUS, EventPattern=json.dumps(pattern))
        events.put_targets(
            Rule=name,
            EventBusName=BUS,
            Targets=[{"Id": "buffer", "Arn": consumer.queue_arn, "DeadLetterConfig": {"Arn": consumer.dlq_arn}}],
        )
    # Not the stack's: a replay never sends to it.
    events.put_rule(Name="someone-elses-rule", EventBusName=BUS, EventPattern=json.dumps({"source": ["x"]}))
    return list(rules)


def _resources(consumers: list[Consumer], rules: list[str]) -> dict[str, Resource]:
    def resource(logical: str, kind: str, physical: str, path: str) -> Resource:
        return Resource(logical, kind, physical, f"Crossdock-dev/{path}/Resource")

    found: dict[str, Resource] = {}
    for c in consumers:
        found[f"{c.label}BufferQueueA1B2C3D4"] = resource(
            f"{c.label}BufferQueueA1B2C3D4", "AWS::SQS::Queue", c.queue_url, f"{c.label}/Buffer/Queue"
        )
        found[f"{c.label}BufferDlqA1B2C3D4"] = resource(
            f"{c.label}BufferDlqA1B2C3D4", "AWS::SQS::Queue", c.dlq_url, f"{c.label}/Buffer/Dlq"
        )
    for i, name in enumerate(rules):
        found[f"Rule{i}"] = resource(f"Rule{i}", "AWS::Events::Rule", f"{BUS}|{name}", f"Rule{i}")
    found["OperationsTable"] = resource("OperationsTable", "AWS::DynamoDB::GlobalTable", OPS_TABLE, "Operations/Table")
    found["OrdersTable"] = resource("OrdersTable", "AWS::DynamoDB::GlobalTable", ORDERS_TABLE, "Orders/Table")
    found["Bus"] = resource("Bus", "AWS::Events::EventBus", BUS, "Events/Bus")
    found["Archive"] = resource("Archive", "AWS::Events::Archive", ARCHIVE, "Events/Bus/Archive")
    return found


def moto_world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """Build the world in moto and make it the commands' target; each test module wraps this in a fixture."""
    monkeypatch.delenv("CROSSDOCK_ENV", raising=False)
    monkeypatch.setattr(options.console, "width", 220)
    with mock_aws():
        record_order = _consumer("RecordOrder", "crossdock-dev-record-order")
        invoice_shipment = _consumer("AfterSaleInvoiceShipment", "crossdock-dev-invoice-shipment")
        _tables()
        rules = _events(record_order, invoice_shipment)
        secrets = SESSION.client("secretsmanager")
        for platform, secret in WEBHOOK_SECRETS.items():
            value = json.dumps({"current": secret, "previous": ""})
            secrets.create_secret(Name=f"crossdock-dev/webhooks/{platform}", SecretString=value)
        target = Target(
            env=ENV,
            region="us-east-1",
            resources=_resources([record_order, invoice_shipment], rules),
            outputs={
                "OperationsTableName": OPS_TABLE,
                "OrdersTableName": ORDERS_TABLE,
                "EventBusName": BUS,
                "EventArchiveName": ARCHIVE,
            },
            api_url=API_URL,
            session=SESSION,
        )
        monkeypatch.setattr(options, "aws_target", lambda env, profile, region: target)
        yield World(target, record_order, invoice_shipment, CliRunner())
