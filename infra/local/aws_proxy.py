"""A proxy between the functions and the AWS emulators: it counts every call, and injects AWS's own faults.

The functions reach it through the same ``AWS_ENDPOINT_URL_<SERVICE>`` variables they always use, so nothing in
``shared/`` or ``functions/`` knows it is there. It counts each call by service and operation, and DynamoDB's
consumed capacity (it asks for ``ReturnConsumedCapacity`` when the caller did not), which is what ``make
bench`` prices. ``make chaos`` also gives it fault rates (``AwsFaultRates``):

- ``throttle``: a DynamoDB call refused with a throttling error, not run (botocore retries it with backoff);
- ``lost_reply``: a write that ran, whose answer is lost: the caller sees a 500 and retries, so a conditional
  write then fails its own condition, a message is sent twice, an event published twice;
- ``put_events_partial``: a PutEvents call where some entries fail (``FailedEntryCount``), the rest are published.
"""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs

import httpx

from infra.local.loopback import LoopbackServer

DYNAMODB_WRITES = frozenset(
    {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"},
)
OTHER_WRITES = frozenset({"SendMessage", "SendMessageBatch", "PutEvents"})
_HOP_BY_HOP = frozenset({"connection", "content-length", "transfer-encoding", "keep-alive", "host"})
# Capacity is asked for on the calls that take the parameter; BatchGetItem and the rest are counted only.
_CAPACITY_OPERATIONS = DYNAMODB_WRITES | {"GetItem", "Query", "Scan", "TransactGetItems", "BatchGetItem"}


@dataclass(frozen=True)
class AwsFaultRates:
    throttle: float = 0.0
    lost_reply: float = 0.0
    put_events_partial: float = 0.0


@dataclass
class AwsCalls:
    """What went through the proxy: calls by ``service:Operation``, faults by kind, DynamoDB capacity units."""

    calls: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    read_units: float = 0.0
    write_units: float = 0.0
    put_events_entries: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "calls": dict(self.calls),
                "faults": dict(self.faults),
                "read_units": self.read_units,
                "write_units": self.write_units,
                "put_events_entries": self.put_events_entries,
            }

    def reset(self) -> None:
        with self.lock:
            self.calls.clear()
            self.faults.clear()
            self.read_units = self.write_units = 0.0
            self.put_events_entries = 0


class AwsProxy:
    """One listener per emulator (moto, DynamoDB); ``environment`` points a function's variables at them."""

    def __init__(self, rates: AwsFaultRates | None = None, seed: int = 0) -> None:
        self.rates = rates or AwsFaultRates()
        self.counts = AwsCalls()
        self._random = random.Random(seed)
        self._random_lock = threading.Lock()
        self._servers: dict[str, LoopbackServer] = {}
        self._urls: dict[str, str] = {}  # upstream URL → proxy URL
        self._http = httpx.Client(timeout=30, limits=httpx.Limits(max_connections=64, max_keepalive_connections=64))

    def start(self, upstreams: list[str]) -> AwsProxy:
        for upstream in dict.fromkeys(upstreams):
            server = LoopbackServer()
            self._urls[upstream] = server.start(self._handler(upstream), "aws-proxy")
            self._servers[upstream] = server
        return self

    def environment(self, emulator_env: dict[str, str]) -> dict[str, str]:
        """``emulator_env`` with every endpoint variable going through the proxy."""
        return {
            key: self._urls.get(value, value) if key.startswith("AWS_ENDPOINT_URL") else value
            for key, value in emulator_env.items()
        }

    def stop(self) -> None:
        for server in self._servers.values():
            server.stop()
        self._servers.clear()
        self._http.close()

    def set_rates(self, rates: AwsFaultRates) -> None:
        self.rates = rates

    # -- one request ----------------------------------------------------------------------------------------------
    def _roll(self, rate: float) -> bool:
        if rate <= 0:
            return False
        with self._random_lock:
            return self._random.random() < rate

    def _handler(self, upstream: str) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _serve(self) -> None:
                try:
                    length = int(self.headers.get("Content-Length") or 0)
                    body = self.rfile.read(length) if length else b""
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                    status, reply_headers, reply = proxy.handle(upstream, self.command, self.path, headers, body)
                    self.send_response(status)
                    for key, value in reply_headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(reply)))
                    self.end_headers()
                    self.wfile.write(reply)
                except (BrokenPipeError, ConnectionResetError):
                    # The caller is gone (a crashed or stopped worker): no one is left to answer.
                    self.close_connection = True

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _serve

        return _Handler

    def handle(
        self, upstream: str, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        service, operation = operation_of(path, headers, body)
        with self.counts.lock:
            self.counts.calls[f"{service}:{operation}"] += 1
        rates = self.rates
        if service == "dynamodb" and self._roll(rates.throttle):
            self._fault("dynamodb throttled")
            return _json_error(400, "com.amazonaws.dynamodb.v20120810#ThrottlingException", "Rate exceeded")
        if service == "dynamodb" and operation in _CAPACITY_OPERATIONS:
            body = with_capacity(body)
        if operation == "PutEvents" and self._roll(rates.put_events_partial):
            return self._partial_put_events(upstream, method, path, headers, body)
        status, reply_headers, reply = self._forward(upstream, method, path, headers, body)
        self._count_reply(service, operation, status, body, reply)
        is_write = operation in DYNAMODB_WRITES or operation in OTHER_WRITES
        if is_write and status < 300 and self._roll(rates.lost_reply):
            self._fault(f"{service} reply lost after commit")
            kind = (
                "com.amazonaws.dynamodb.v20120810#InternalServerError" if service == "dynamodb" else "InternalFailure"
            )
            return _json_error(500, kind, "We encountered an internal error. Please try again.")
        return status, reply_headers, reply

    def _fault(self, kind: str) -> None:
        with self.counts.lock:
            self.counts.faults[kind] += 1

    def _forward(
        self, upstream: str, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        response = self._http.request(method, upstream + path, headers=headers, content=body)
        reply_headers = {k: v for k, v in response.headers.items() if k.lower() not in _HOP_BY_HOP}
        reply_headers.pop("content-encoding", None)  # httpx hands back the decoded body
        return response.status_code, reply_headers, response.content

    def _count_reply(self, service: str, operation: str, status: int, request: bytes, reply: bytes) -> None:
        if status >= 300:
            return
        if operation == "PutEvents":
            with self.counts.lock:
                self.counts.put_events_entries += len(json_object(request).get("Entries", []))
        if service != "dynamodb":
            return
        consumed = json_object(reply).get("ConsumedCapacity")
        entries = consumed if isinstance(consumed, list) else [consumed] if isinstance(consumed, dict) else []
        units = sum(float(e.get("CapacityUnits", 0)) for e in entries)
        with self.counts.lock:
            if operation in DYNAMODB_WRITES:
                self.counts.write_units += units
            else:
                self.counts.read_units += units

    def _partial_put_events(
        self, upstream: str, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        request = json_object(body)
        entries = list(request.get("Entries", []))
        with self._random_lock:
            failing = {i for i in range(len(entries)) if self._random.random() < 0.5} or {0}
        kept = [e for i, e in enumerate(entries) if i not in failing]
        published: list[dict[str, Any]] = []
        if kept:
            status, _, reply = self._forward(
                upstream, method, path, headers, json.dumps({**request, "Entries": kept}).encode()
            )
            if status >= 300:
                return status, {"Content-Type": "application/x-amz-json-1.1"}, reply
            published = list(json_object(reply).get("Entries", []))
            with self.counts.lock:
                self.counts.put_events_entries += sum(1 for entry in published if "ErrorCode" not in entry)
        self._fault("eventbridge entries failed")
        results = []
        for index in range(len(entries)):
            if index in failing:
                results.append({"ErrorCode": "InternalFailure", "ErrorMessage": "Internal service error"})
            else:
                results.append(published.pop(0) if published else {"EventId": ""})
        # The emulator may have refused some of the kept entries itself: count those too.
        payload = {"FailedEntryCount": sum(1 for r in results if "ErrorCode" in r), "Entries": results}
        return 200, {"Content-Type": "application/x-amz-json-1.1"}, json.dumps(payload).encode()


def operation_of(path: str, headers: dict[str, str], body: bytes) -> tuple[str, str]:
    """(service, operation) of an AWS request, whichever protocol it speaks (JSON, query or RPC v2 CBOR)."""
    target = next((v for k, v in headers.items() if k.lower() == "x-amz-target"), "")
    if target:
        prefix, _, operation = target.partition(".")
        services = {"DynamoDB_20120810": "dynamodb", "AWSEvents": "events", "AmazonSQS": "sqs"}
        return services.get(prefix, prefix.lower()), operation
    if "/operation/" in path:  # RPC v2 CBOR: /service/<ServiceName>/operation/<Operation>
        service = path.split("/service/", 1)[-1].split("/", 1)[0]
        return ("cloudwatch" if "Granite" in service else service.lower()), path.rsplit("/", 1)[-1]
    action = parse_qs(body.decode(errors="replace")).get("Action", ["unknown"])[0]
    return "query", action


def with_capacity(body: bytes, level: str = "TOTAL") -> bytes:
    """A DynamoDB request asking for its consumed capacity (``TOTAL`` or ``INDEXES``), unless it already does."""
    request = json_object(body)
    if not request or "ReturnConsumedCapacity" in request:
        return body
    request["ReturnConsumedCapacity"] = level
    return json.dumps(request).encode()


def json_object(data: bytes) -> dict[str, Any]:
    """A JSON body as a dict; anything else (not JSON, not an object) as an empty one."""
    try:
        value = json.loads(data or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _json_error(status: int, kind: str, message: str) -> tuple[int, dict[str, str], bytes]:
    body = json.dumps({"__type": kind, "message": message}).encode()
    return status, {"Content-Type": "application/x-amz-json-1.0", "x-amzn-ErrorType": kind.rsplit("#", 1)[-1]}, body
