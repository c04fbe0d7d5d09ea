"""Breakers on DynamoDB (moto): conditional state changes, two containers sharing one breaker, and a consumer
that parks its records in its own queue, with no ERP call, while the ERP's breaker is open."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any, cast

import boto3
import pytest
import respx
from aws_lambda_powertools.utilities.typing import LambdaContext
from moto import mock_aws

from functions.invoice_shipment import handler as invoice_handler
from shared.aws import breakers, clients
from shared.aws.breaker_store import DynamoBreakerStore
from shared.breaker import Breaker
from shared.errors import CircuitOpen, DownstreamUnavailable
from shared.models.operations import BreakerPolicy
from shared.waiting import WaitPolicy
from tests import tables
from tests.conftest import JsonLogs
from tests.fakes import FakeLambdaContext
from tests.unit.test_after_sale import dispatched
from tests.unit.test_breaker import Clock

TABLE = "operations"
POLICY = BreakerPolicy(failure_threshold=3, window_seconds=60, cooldown_seconds=30, max_cooldown_seconds=120)
DOWN = DownstreamUnavailable("netsuite unavailable", system="netsuite")


@pytest.fixture
def ops_table() -> Iterator[DynamoBreakerStore]:
    with mock_aws():
        clients.reset()
        breakers.reset()
        tables.create(boto3.client("dynamodb"), TABLE, tables.OPERATIONS)
        yield DynamoBreakerStore(TABLE)
        breakers.reset()
        clients.reset()


def test_the_store_changes_state_only_when_its_condition_holds(ops_table: DynamoBreakerStore) -> None:
    store, now = ops_table, 1_800_000_000.0
    assert store.read("netsuite").state == "closed"
    assert [store.record_failure("netsuite", now + i, 60, "503").failures for i in range(3)] == [1, 2, 3]
    assert store.record_failure("netsuite", now + 61, 60, "503").failures == 1  # a new window
    assert store.open("netsuite", now + 61, 30, 3, "netsuite unavailable")
    assert not store.open("netsuite", now + 61, 30, 3, "netsuite unavailable")  # the loser of a race
    assert not store.take_probe("netsuite", now + 70, 30)  # not due yet
    leased = store.take_probe("netsuite", now + 91, 30)
    assert leased is not None
    assert leased.cooldown_seconds == 30  # the stored state comes back: a failed probe doubles that
    assert not store.take_probe("netsuite", now + 92, 30)  # the lease is out
    assert store.reopen("netsuite", now + 95, 60, "timeout")
    state = store.read("netsuite")
    assert (state.state, state.cooldown_seconds, state.probe_until, state.last_error) == ("open", 60, None, "timeout")
    assert state.opened_at is not None
    assert state.opened_at.timestamp() == pytest.approx(now + 61)
    assert state.open_until is not None
    assert state.open_until.timestamp() == pytest.approx(now + 155)
    closed = store.close("netsuite")
    assert closed is not None
    assert closed.is_open
    assert store.close("netsuite") is None
    store.record_failure("shopify", now, 60, "429")
    assert sorted((s.system, s.state, s.failures) for s in store.states()) == [
        ("netsuite", "closed", 0),
        ("shopify", "closed", 1),
    ]


def test_two_containers_share_one_breaker_and_each_change_is_logged_once(
    ops_table: DynamoBreakerStore, json_logs: JsonLogs
) -> None:
    clock = Clock()
    first, second = (Breaker("netsuite", ops_table, POLICY, now=clock) for _ in range(2))
    for container in (first, second, first, second, first, second):
        try:
            container.before_call()
        except CircuitOpen:
            continue
        container.failed(DOWN)
    for container in (first, second):
        with pytest.raises(CircuitOpen):
            container.before_call()
    clock.advance(POLICY.cooldown_seconds)
    first.before_call()  # the one probe
    with pytest.raises(CircuitOpen):
        second.before_call()
    first.succeeded()
    messages = [r["message"] for r in json_logs.records()]
    assert messages.count("breaker opened") == 1
    assert messages.count("breaker closed") == 1
    assert ops_table.read("netsuite").state == "closed"


# -- a consumer in-process ---------------------------------------------------------------------------------------
@pytest.fixture
def invoicer(ops_table: DynamoBreakerStore, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    sqs = boto3.client("sqs")
    queues = {name: sqs.create_queue(QueueName=name)["QueueUrl"] for name in ("invoice", "invoice-dlq")}
    boto3.client("events").create_event_bus(Name="crossdock-test")
    connection = {
        "base_url": "https://1234567.suitetalk.api.netsuite.test",
        "credentials": {"consumer_key": "ck", "consumer_secret": "cs", "token_id": "tk", "token_secret": "ts"},
        "settings": {"account_id": "1234567"},
    }
    boto3.client("secretsmanager").create_secret(
        Name="crossdock-test/connections/netsuite", SecretString=json.dumps(connection)
    )
    settings = {
        "DLQ_URL": queues["invoice-dlq"],
        "BUFFER_URL": queues["invoice"],
        "MAX_RECEIVE_COUNT": "5",
        "EVENT_BUS_NAME": "crossdock-test",
        "CONNECTION_PREFIX": "crossdock-test/connections/",
        "WAIT_POLICY": WaitPolicy().model_dump_json(),
        "OPS_TABLE_NAME": TABLE,
        "BREAKER_POLICY": POLICY.model_dump_json(),
    }
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    invoice_handler.env.cache_clear()
    invoice_handler.erp.cache_clear()
    yield queues
    invoice_handler.env.cache_clear()
    invoice_handler.erp.cache_clear()


def shipments_batch(count: int) -> dict[str, Any]:
    records = []
    for n in range(count):
        event = dispatched()
        body = {
            "id": f"bus-{n}",
            "source": event.metadata.source,
            "detail-type": event.detail_type,
            "time": "2026-11-30T12:00:00Z",
            "detail": json.loads(event.model_dump_json()),
        }
        records.append(
            {
                "messageId": f"m-{n}",
                "receiptHandle": f"h-{n}",
                "body": json.dumps(body),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:invoice",
                "awsRegion": "us-east-1",
            }
        )
    return {"Records": records}


def test_an_open_erp_breaker_parks_the_shipments_in_their_queue_with_no_erp_call(
    ops_table: DynamoBreakerStore, invoicer: dict[str, str], json_logs: JsonLogs
) -> None:
    assert ops_table.open("netsuite", time.time(), 120, 5, "netsuite unavailable")
    with respx.mock(assert_all_called=False) as erp:
        route = erp.route(host="1234567.suitetalk.api.netsuite.test")
        result = invoice_handler.lambda_handler(shipments_batch(3), cast(LambdaContext, FakeLambdaContext()))
    assert result == {"batchItemFailures": []}
    assert route.call_count == 0
    parked = [r for r in json_logs.records() if r["message"] == "record parked: breaker open"]
    assert [r["system"] for r in parked] == ["netsuite"] * 3
    # Until the probe is due (opened for 120 s just now; a loaded machine may take a few seconds to get here).
    assert all(90 <= cast(int, r["delay"]) <= 120 for r in parked)
    sqs = boto3.client("sqs")
    waiting = sqs.get_queue_attributes(QueueUrl=invoicer["invoice"], AttributeNames=["All"])["Attributes"]
    assert waiting["ApproximateNumberOfMessagesDelayed"] == "3"
    dead = sqs.get_queue_attributes(QueueUrl=invoicer["invoice-dlq"], AttributeNames=["All"])["Attributes"]
    assert dead["ApproximateNumberOfMessages"] == "0"
