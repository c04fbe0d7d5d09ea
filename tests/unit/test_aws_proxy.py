"""The AWS fault proxy: which call it is, what it counts, and the faults it injects as AWS words them."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from infra.local.aws_proxy import AwsFaultRates, AwsProxy, operation_of

UPSTREAM = "http://emulator.invalid"
DDB = "DynamoDB_20120810"
CONDITION_FAILED = "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException"


def _target(operation: str, prefix: str = DDB) -> dict[str, str]:
    return {"X-Amz-Target": f"{prefix}.{operation}", "Content-Type": "application/x-amz-json-1.0"}


# -- operation_of ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "headers", "body", "expected"),
    [
        ("/", _target("PutItem"), b"{}", ("dynamodb", "PutItem")),
        ("/", {"x-amz-target": "DynamoDB_20120810.Query"}, b"{}", ("dynamodb", "Query")),
        ("/", _target("SendMessage", "AmazonSQS"), b"{}", ("sqs", "SendMessage")),
        ("/", _target("PutEvents", "AWSEvents"), b"{}", ("events", "PutEvents")),
        (
            "/service/GraniteServiceVersion20100801/operation/PutMetricData",
            {"Content-Type": "application/cbor", "Smithy-Protocol": "rpc-v2-cbor"},
            b"\xa0",
            ("cloudwatch", "PutMetricData"),
        ),
        (
            "/",
            {"Content-Type": "application/x-www-form-urlencoded"},
            b"Action=GetSecretValue&Version=2017-10-17&SecretId=x",
            ("query", "GetSecretValue"),
        ),
    ],
    ids=["dynamodb", "header-case", "sqs-json", "eventbridge", "cloudwatch-cbor", "query"],
)
def test_operation_of_each_protocol(path: str, headers: dict[str, str], body: bytes, expected: tuple[str, str]) -> None:
    assert operation_of(path, headers, body) == expected


# -- handle, with a fake upstream -----------------------------------------------------------------------------


@dataclass
class FakeUpstream:
    """Stands in for ``AwsProxy._forward``: records what reached the emulator and answers as it would."""

    replies: dict[str, dict[str, Any]] = field(default_factory=dict)  # operation → JSON body
    sent: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (operation, request body)

    def __call__(
        self, upstream: str, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        operation = headers["X-Amz-Target"].rsplit(".", 1)[-1]
        request = json.loads(body)
        self.sent.append((operation, request))
        if operation == "PutEvents":
            reply: dict[str, Any] = {
                "FailedEntryCount": 0,
                "Entries": [{"EventId": f"id-{entry['Detail']}"} for entry in request["Entries"]],
            }
        else:
            reply = self.replies.get(operation, {})
        return 200, {"Content-Type": "application/x-amz-json-1.0"}, json.dumps(reply).encode()


@pytest.fixture
def upstream() -> FakeUpstream:
    return FakeUpstream()


def _proxy(monkeypatch: pytest.MonkeyPatch, upstream: FakeUpstream, rates: AwsFaultRates, seed: int = 0) -> AwsProxy:
    proxy = AwsProxy(rates, seed=seed)
    monkeypatch.setattr(proxy, "_forward", upstream)
    return proxy


def _put_item() -> bytes:
    return json.dumps({"TableName": "orders", "Item": {"pk": {"S": "order#1"}}}).encode()


def test_throttle_refuses_without_running(monkeypatch: pytest.MonkeyPatch, upstream: FakeUpstream) -> None:
    proxy = _proxy(monkeypatch, upstream, AwsFaultRates(throttle=1.0))
    status, headers, body = proxy.handle(UPSTREAM, "POST", "/", _target("PutItem"), _put_item())
    assert status == 400
    assert json.loads(body)["__type"].endswith("#ThrottlingException")
    assert headers["x-amzn-ErrorType"] == "ThrottlingException"
    assert upstream.sent == []
    assert proxy.counts.faults == {"dynamodb throttled": 1}
    assert proxy.counts.calls == {"dynamodb:PutItem": 1}


def test_throttle_is_for_dynamodb_only(monkeypatch: pytest.MonkeyPatch, upstream: FakeUpstream) -> None:
    proxy = _proxy(monkeypatch, upstream, AwsFaultRates(throttle=1.0))
    status, _, _ = proxy.handle(UPSTREAM, "POST", "/", _target("SendMessage", "AmazonSQS"), b'{"QueueUrl": "q"}')
    assert status == 200
    assert [op for op, _ in upstream.sent] == ["SendMessage"]
    assert not proxy.counts.faults


def test_lost_reply_runs_the_write_and_answers_500(monkeypatch: pytest.MonkeyPatch, upstream: FakeUpstream) -> None:
    proxy = _proxy(monkeypatch, upstream, AwsFaultRates(lost_reply=1.0))
    status, _, body = proxy.handle(UPSTREAM, "POST", "/", _target("PutItem"), _put_item())
    assert status == 500
    assert json.loads(body)["__type"] == "com.amazonaws.dynamodb.v20120810#InternalServerError"
    assert [op for op, _ in upstream.sent] == ["PutItem"]  # it ran: the write is committed
    assert proxy.counts.faults == {"dynamodb reply lost after commit": 1}


def test_lost_reply_leaves_reads_alone(monkeypatch: pytest.MonkeyPatch, upstream: FakeUpstream) -> None:
    upstream.replies["GetItem"] = {"Item": {"pk": {"S": "order#1"}}}
    proxy = _proxy(monkeypatch, upstream, AwsFaultRates(lost_reply=1.0))
    get = json.dumps({"TableName": "orders", "Key": {"pk": {"S": "order#1"}}}).encode()
    status, _, body = proxy.handle(UPSTREAM, "POST", "/", _target("GetItem"), get)
    assert status == 200
    assert json.loads(body) == {"Item": {"pk": {"S": "order#1"}}}
    assert not proxy.counts.faults


def _events(count: int) -> bytes:
    entries = [{"Source": "crossdock", "DetailType": "t", "Detail": str(n), "EventBusName": "b"} for n in range(count)]
    return json.dumps({"Entries": entries}).encode()


@pytest.mark.parametrize("seed", range(10))
def test_partial_put_events_keeps_positions(monkeypatch: pytest.MonkeyPatch, upstream: FakeUpstream, seed: int) -> None:
    proxy = _proxy(monkeypatch, upstream, AwsFaultRates(put_events_partial=1.0), seed=seed)
    status, _, body = proxy.handle(UPSTREAM, "POST", "/", _target("PutEvents", "AWSEvents"), _events(6))
    assert status == 200
    reply = json.loads(body)
    results = reply["Entries"]
    assert len(results) == 6
    failed = [i for i, result in enumerate(results) if "ErrorCode" in result]
    kept = [i for i in range(6) if i not in failed]
    assert failed, "a partial failure fails at least one entry"
    assert reply["FailedEntryCount"] == len(failed)
    # The emulator got only the kept entries, in their order; each kept position carries the emulator's own id.
    published = [entry["Detail"] for _, request in upstream.sent for entry in request["Entries"]]
    assert published == [str(i) for i in kept]
    assert all(results[i] == {"EventId": f"id-{i}"} for i in kept)
    assert all(results[i]["ErrorCode"] == "InternalFailure" for i in failed)
    assert proxy.counts.put_events_entries == len(kept)
    assert proxy.counts.faults == {"eventbridge entries failed": 1}


def test_partial_put_events_of_one_entry_never_reaches_the_bus(
    monkeypatch: pytest.MonkeyPatch, upstream: FakeUpstream
) -> None:
    proxy = _proxy(monkeypatch, upstream, AwsFaultRates(put_events_partial=1.0))
    _, _, body = proxy.handle(UPSTREAM, "POST", "/", _target("PutEvents", "AWSEvents"), _events(1))
    assert json.loads(body)["FailedEntryCount"] == 1
    assert upstream.sent == []


def test_partial_put_events_counts_the_emulators_own_failures(monkeypatch: pytest.MonkeyPatch) -> None:
    """FailedEntryCount is the number of entries with an ErrorCode, whoever failed them."""

    def upstream_failing_its_first(
        upstream: str, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        entries = json.loads(body)["Entries"]
        results = [{"ErrorCode": "InvalidArgument", "ErrorMessage": "bad"}] + [
            {"EventId": f"id-{e['Detail']}"} for e in entries[1:]
        ]
        return 200, {}, json.dumps({"FailedEntryCount": 1, "Entries": results}).encode()

    proxy = AwsProxy(AwsFaultRates(put_events_partial=1.0), seed=3)
    monkeypatch.setattr(proxy, "_forward", upstream_failing_its_first)
    _, _, body = proxy.handle(UPSTREAM, "POST", "/", _target("PutEvents", "AWSEvents"), _events(6))
    reply = json.loads(body)
    with_error = sum(1 for result in reply["Entries"] if "ErrorCode" in result)
    assert with_error < 6, "the seed keeps at least one entry, so the emulator sees some"
    assert reply["FailedEntryCount"] == with_error


def test_capacity_is_asked_for_and_summed(monkeypatch: pytest.MonkeyPatch, upstream: FakeUpstream) -> None:
    upstream.replies.update(
        {
            "PutItem": {"ConsumedCapacity": {"TableName": "orders", "CapacityUnits": 1.0}},
            "Query": {"Items": [], "Count": 0, "ConsumedCapacity": {"TableName": "orders", "CapacityUnits": 0.5}},
            "TransactWriteItems": {
                "ConsumedCapacity": [
                    {"TableName": "orders", "CapacityUnits": 2.0},
                    {"TableName": "ledger", "CapacityUnits": 4.0},
                ]
            },
        }
    )
    proxy = _proxy(monkeypatch, upstream, AwsFaultRates())
    proxy.handle(UPSTREAM, "POST", "/", _target("PutItem"), _put_item())
    proxy.handle(UPSTREAM, "POST", "/", _target("Query"), b'{"TableName": "orders"}')
    proxy.handle(UPSTREAM, "POST", "/", _target("TransactWriteItems"), b'{"TransactItems": []}')
    assert [request.get("ReturnConsumedCapacity") for _, request in upstream.sent] == ["TOTAL"] * 3
    assert proxy.counts.write_units == 7.0
    assert proxy.counts.read_units == 0.5
    assert proxy.counts.calls == {"dynamodb:PutItem": 1, "dynamodb:Query": 1, "dynamodb:TransactWriteItems": 1}


def test_capacity_keeps_the_callers_choice_and_skips_other_calls(
    monkeypatch: pytest.MonkeyPatch, upstream: FakeUpstream
) -> None:
    proxy = _proxy(monkeypatch, upstream, AwsFaultRates())
    proxy.handle(UPSTREAM, "POST", "/", _target("GetItem"), b'{"TableName": "t", "ReturnConsumedCapacity": "INDEXES"}')
    proxy.handle(UPSTREAM, "POST", "/", _target("DescribeTable"), b'{"TableName": "t"}')
    assert [request for _, request in upstream.sent] == [
        {"TableName": "t", "ReturnConsumedCapacity": "INDEXES"},
        {"TableName": "t"},
    ]


# -- boto3 through the real proxy -----------------------------------------------------------------------------


class FakeDynamoDb:
    """Enough of DynamoDB over HTTP for a conditional PutItem: what the emulator would say, and nothing more."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}
        self.puts = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def put_item(self, request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        self.puts += 1
        key = request["Item"]["pk"]["S"]
        if "attribute_not_exists" in request.get("ConditionExpression", "") and key in self.items:
            return 400, {"__type": CONDITION_FAILED, "message": "The conditional request failed"}
        self.items[key] = request["Item"]
        return 200, {"ConsumedCapacity": {"TableName": request["TableName"], "CapacityUnits": 1.0}}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if self.headers["X-Amz-Target"] == f"{DDB}.PutItem":
                    status, reply = fake.put_item(request)
                else:
                    status, reply = 400, {"__type": "UnknownOperationException", "message": "not faked"}
                payload = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.0")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        return Handler


@pytest.fixture
def dynamodb_behind_proxy() -> Iterator[tuple[FakeDynamoDb, AwsProxy]]:
    fake = FakeDynamoDb()
    proxy = AwsProxy(AwsFaultRates(lost_reply=1.0)).start([fake.url])
    yield fake, proxy
    proxy.stop()
    fake.stop()


def test_lost_reply_makes_the_retry_fail_its_own_condition(
    dynamodb_behind_proxy: tuple[FakeDynamoDb, AwsProxy],
) -> None:
    fake, proxy = dynamodb_behind_proxy
    endpoint = proxy.environment({"AWS_ENDPOINT_URL_DYNAMODB": fake.url})["AWS_ENDPOINT_URL_DYNAMODB"]
    assert endpoint != fake.url
    client = boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"mode": "standard", "max_attempts": 3}),
    )
    with pytest.raises(ClientError) as raised:
        client.put_item(
            TableName="orders",
            Item={"pk": {"S": "order#1"}},
            ConditionExpression="attribute_not_exists(pk)",
        )
    # The first attempt committed and its answer was lost; botocore retried, and the retry met its own write.
    assert raised.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert fake.puts == 2
    assert list(fake.items) == ["order#1"]
    assert proxy.counts.calls == {"dynamodb:PutItem": 2}
    assert proxy.counts.faults == {"dynamodb reply lost after commit": 1}
    assert proxy.counts.write_units == 1.0
