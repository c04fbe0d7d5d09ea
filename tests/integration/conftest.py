"""Moto-backed AWS for the handler run in-process, wired as the stack wires it (bus → rule → SQS tap)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from functions.receive_webhook import handler
from shared.aws import clients
from tests import tables

BUS = "crossdock-test"
SECRET_PREFIX = "crossdock-test/webhooks/"
SHOPIFY_SECRET = "shpss_integration_current"
SHOPIFY_PREVIOUS_SECRET = "shpss_integration_previous"
BIGCOMMERCE_SECRET = "bc_integration_client_secret"
BIGCOMMERCE_PREVIOUS_SECRET = "bc_integration_previous_client_secret"
WOOCOMMERCE_SECRET = "wc_integration_webhook_secret"
B2B_PORTAL_SECRET = "whsec_aW50ZWdyYXRpb24tcG9ydGFsLWN1cnJlbnQta2V5"
B2B_PORTAL_PREVIOUS_SECRET = "whsec_aW50ZWdyYXRpb24tcG9ydGFsLXByZXZpb3VzLWtleQ"
# Each platform's {current, previous}, as ops put them in Secrets Manager.
WEBHOOK_SECRETS = {
    "shopify": (SHOPIFY_SECRET, SHOPIFY_PREVIOUS_SECRET),
    "bigcommerce": (BIGCOMMERCE_SECRET, BIGCOMMERCE_PREVIOUS_SECRET),
    "woocommerce": (WOOCOMMERCE_SECRET, ""),
    "b2b_portal": (B2B_PORTAL_SECRET, B2B_PORTAL_PREVIOUS_SECRET),
}
DEDUPE_WINDOW_HOURS = {"shopify": 72, "bigcommerce": 72, "woocommerce": 72, "b2b_portal": 96}


@dataclass
class Aws:
    tap_url: str

    def drain(self) -> list[dict[str, Any]]:
        """Every event the tap queue got, as EventBridge delivered it."""
        sqs = boto3.client("sqs")
        events = []
        while True:
            messages = sqs.receive_message(QueueUrl=self.tap_url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                return events
            for message in messages:
                events.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=self.tap_url, ReceiptHandle=message["ReceiptHandle"])


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    with mock_aws():
        clients.reset()
        handler.deps.cache_clear()
        events = boto3.client("events")
        events.create_event_bus(Name=BUS)
        sqs = boto3.client("sqs")
        tap_url = sqs.create_queue(QueueName="tap")["QueueUrl"]
        tap_arn = sqs.get_queue_attributes(QueueUrl=tap_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(Name="tap", EventBusName=BUS, EventPattern=json.dumps({"source": ["crossdock.intake"]}))
        events.put_targets(Rule="tap", EventBusName=BUS, Targets=[{"Id": "tap", "Arn": tap_arn}])
        tables.create(boto3.client("dynamodb"), "idempotency", tables.IDEMPOTENCY)
        for platform, (current, previous) in WEBHOOK_SECRETS.items():
            boto3.client("secretsmanager").create_secret(
                Name=f"{SECRET_PREFIX}{platform}",
                SecretString=json.dumps({"current": current, "previous": previous}),
            )
        monkeypatch.setenv("EVENT_BUS_NAME", BUS)
        monkeypatch.setenv("IDEMPOTENCY_TABLE_NAME", "idempotency")
        tables.create(boto3.client("dynamodb"), "orders", tables.ORDERS)
        monkeypatch.setenv("ORDERS_TABLE_NAME", "orders")
        monkeypatch.setenv("WEBHOOK_SECRET_PREFIX", SECRET_PREFIX)
        windows = {platform: hours * 3600 for platform, hours in DEDUPE_WINDOW_HOURS.items()}
        monkeypatch.setenv("DEDUPE_WINDOW_SECONDS", json.dumps(windows))
        yield Aws(tap_url=tap_url)
        handler.deps.cache_clear()
        clients.reset()
