"""What every sandbox shares: an HTTP server, state under a lock, inspection, fault knobs, a webhook outbox.

Control endpoints live under ``/_sandbox/`` so they never collide with the emulated API:
- ``GET /_sandbox/state``: the sandbox's records (what a test asserts on), plus call counts;
- ``GET|POST /_sandbox/faults``: read or set the fault knobs (``Faults``);
- ``POST /_sandbox/reset``: empty state, clear faults;
- ``POST /_sandbox/webhooks/flush``: deliver every webhook due on the controlled clock.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field

from infra.local.clock import Clock
from infra.local.loopback import LoopbackServer


class Faults(BaseModel):
    """Fault knobs. Rates are probabilities per request; windows are on the controlled clock."""

    model_config = ConfigDict(extra="forbid")

    latency_ms: int = Field(default=0, ge=0)
    error_rate: float = Field(default=0.0, ge=0, le=1)
    rate_limit_rate: float = Field(default=0.0, ge=0, le=1)
    retry_after_seconds: int = Field(default=1, ge=0)
    outages: list[tuple[float, float]] = Field(default_factory=list, description="(start, end) epoch seconds")
    max_concurrency: int | None = Field(default=None, ge=1)
    # Writes refused as the system refuses bad data (NetSuite: a field an admin just made mandatory). Ops fix
    # the cause in the system, then redrive: what the DLQ workbench is for.
    refuse_writes: bool = False
    # No answer at all, as a timeout looks to the caller: the connection closes before a response. ``timeout_rate``
    # drops the request before it runs; ``commit_then_timeout_rate`` runs a write, commits it, then drops the answer.
    # (A dropped connection and a read timeout take the same path in ``OutboundClient``; dropping costs no wait.)
    timeout_rate: float = Field(default=0.0, ge=0, le=1)
    commit_then_timeout_rate: float = Field(default=0.0, ge=0, le=1)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes
    params: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default


@dataclass
class Response:
    status: int = 200  # 0: no answer, the connection is closed (a timeout fault)
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        self.headers.setdefault("Content-Type", "application/json")
        return json.dumps(self.body, default=str).encode()


Handler = Callable[[Request], Response]


class HttpError(Exception):
    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.response = Response(status, body, headers or {})


@dataclass
class Delivery:
    """One webhook delivery attempt waiting in the outbox."""

    url: str
    headers: dict[str, str]
    body: bytes
    due_at: float
    label: str = ""
    status: int | None = None
    delivered_at: float | None = None
    sent_headers: dict[str, str] | None = None  # as they crossed the wire: what a log scan must not find


class Sandbox:
    """Subclasses set ``name`` and register routes with ``route``; state lives in ``self.state``."""

    name = "sandbox"
    webhook_secret = ""

    def __init__(self, clock: Clock | None = None, seed: int = 7) -> None:
        self.clock = clock or Clock()
        self.random = random.Random(seed)
        self.lock = threading.RLock()
        self.faults = Faults()
        self.calls: Counter[str] = Counter()
        self.injected: Counter[str] = Counter()  # faults injected, by kind
        self.outbox: list[Delivery] = []
        self.webhook_targets: list[str] = []
        self._routes: list[tuple[str, re.Pattern[str], str, Handler]] = []
        self._in_flight = 0
        self._server = LoopbackServer()
        self.reset()

    # -- what subclasses provide --------------------------------------------------------------------------
    def reset_state(self) -> None:
        """Empty the platform's records."""

    def snapshot(self) -> dict[str, Any]:
        """The records a test asserts on."""
        return {}

    def fault_response(self, status: int) -> Response:
        """How this platform words an injected error (override for the real shape)."""
        return Response(status, {"error": "sandbox fault", "status": status})

    def refusal_response(self) -> Response:
        """How this platform refuses a write it finds invalid (override for the real shape)."""
        return Response(400, {"error": "sandbox refusal: invalid record"})

    def connection(self) -> dict[str, Any]:
        """How Crossdock reaches this sandbox: the value of its ``connections/<system>`` secret."""
        return {"base_url": self.url, "credentials": {}, "settings": {}}

    def use_webhook_secret(self, secret: str) -> None:
        """Sign future deliveries with ``secret`` (the platform-side half of a secret rotation)."""
        self.webhook_secret = secret

    def delivery_headers(self, delivery: Delivery) -> dict[str, str]:
        """Headers of one delivery attempt, made at send time: per-attempt ids, timestamps and signatures."""
        return delivery.headers

    def concurrency_response(self) -> Response:
        return Response(429, {"error": "too many concurrent requests"}, {"Retry-After": "1"})

    # -- routing ------------------------------------------------------------------------------------------
    def route(self, method: str, pattern: str, handler: Handler, *, name: str | None = None) -> None:
        """``pattern`` is a path with ``{param}`` placeholders; ``name`` is what the call counter counts."""
        regex = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern) + "$")
        self._routes.append((method, regex, name or f"{method} {pattern}", handler))

    def reset(self) -> None:
        with self.lock:
            self.faults = Faults()
            self.calls.clear()
            self.injected.clear()
            self.outbox.clear()
            self.reset_state()

    # -- webhooks -----------------------------------------------------------------------------------------
    def send_webhook(
        self, headers: dict[str, str], body: bytes, *, delays: Sequence[float] = (0.0,), label: str = ""
    ) -> None:
        """Queue one delivery per entry of ``delays`` (seconds from now on the clock) to every target.

        ``delays=(0, 0)`` is a duplicate; ``(0, 3600)`` a retry an hour late.
        """
        now = self.clock.now()
        with self.lock:
            for url in self.webhook_targets:
                for delay in delays:
                    self.outbox.append(Delivery(url, dict(headers), body, now + delay, label))

    def flush_webhooks(self, *, shuffle: bool = False, timeout: float = 10.0) -> list[Delivery]:
        """Deliver every delivery due on the controlled clock; ``shuffle`` delivers them out of order."""
        now = self.clock.now()
        with self.lock:
            due = [d for d in self.outbox if d.delivered_at is None and d.due_at <= now]
        if not due:
            return due  # a client costs a TLS context (loading the CA bundle) even for plain HTTP
        if shuffle:
            self.random.shuffle(due)
        else:
            due.sort(key=lambda d: d.due_at)
        with httpx.Client(timeout=timeout) as client:
            for delivery in due:
                try:
                    headers = delivery.sent_headers = self.delivery_headers(delivery)
                    response = client.post(delivery.url, headers=headers, content=delivery.body)
                    delivery.status = response.status_code
                except httpx.HTTPError:
                    delivery.status = 0
                delivery.delivered_at = self.clock.now()
        return due

    def pending_webhooks(self) -> int:
        with self.lock:
            return sum(1 for d in self.outbox if d.delivered_at is None)

    # -- server -------------------------------------------------------------------------------------------
    def start(self, port: int = 0) -> str:
        sandbox = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out in separate writes

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                parts = urlsplit(self.path)
                request = Request(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length) if length else b"",
                )
                response = sandbox.dispatch(request)
                if response.status == 0:
                    self.close_connection = True  # no status line: the caller sees the connection drop
                    return
                payload = response.encode()
                try:
                    self.send_response(response.status)
                    for key, value in response.headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    # The client gave up (a timeout fault did its job); there is no one left to answer.
                    self.close_connection = True

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        return self._server.start(_Handler, f"sandbox-{self.name}", port)

    @property
    def url(self) -> str:
        return self._server.url

    def stop(self) -> None:
        self._server.stop()

    # -- dispatch -----------------------------------------------------------------------------------------
    def dispatch(self, request: Request) -> Response:
        if request.path.startswith("/_sandbox/"):
            return self._control(request)
        for method, regex, name, handler in self._routes:
            match = regex.match(request.path)
            if match and method == request.method:
                request.params = match.groupdict()
                with self.lock:
                    self.calls[name] += 1
                return self._with_faults(request, handler)
        return Response(404, {"error": "no such route in the sandbox", "path": request.path})

    def _with_faults(self, request: Request, handler: Handler) -> Response:
        faults = self.faults
        now = self.clock.now()
        if any(start <= now < end for start, end in faults.outages):
            return self._injected("outage", self.fault_response(503))
        if faults.refuse_writes and request.method in ("POST", "PUT", "PATCH"):
            return self.refusal_response()
        with self.lock:
            if faults.max_concurrency is not None and self._in_flight >= faults.max_concurrency:
                return self._injected("concurrency 429", self.concurrency_response())
            self._in_flight += 1
        try:
            if faults.latency_ms:
                time.sleep(faults.latency_ms / 1000)
            with self.lock:
                roll = self.random.random()
            if roll < faults.rate_limit_rate:
                response = self.fault_response(429)
                response.headers["Retry-After"] = str(faults.retry_after_seconds)
                return self._injected("429", response)
            roll -= faults.rate_limit_rate
            if roll < faults.error_rate:
                with self.lock:
                    status = self.random.choice([500, 502, 503])
                return self._injected("5xx", self.fault_response(status))
            roll -= faults.error_rate
            if roll < faults.timeout_rate:
                return self._injected("timeout", Response(0))
            try:
                response = handler(request)
            except HttpError as error:
                return error.response
            write = request.method in ("POST", "PUT", "PATCH", "DELETE")
            if write and response.status < 300 and faults.commit_then_timeout_rate > 0:
                with self.lock:
                    dropped = self.random.random() < faults.commit_then_timeout_rate
                if dropped:
                    return self._injected("timeout after commit", Response(0))
            return response
        finally:
            with self.lock:
                self._in_flight -= 1

    def _injected(self, kind: str, response: Response) -> Response:
        with self.lock:
            self.injected[kind] += 1
        return response

    def _control(self, request: Request) -> Response:
        action = request.path.removeprefix("/_sandbox/")
        if action == "state" and request.method == "GET":
            with self.lock:
                return Response(200, {"sandbox": self.name, "calls": dict(self.calls), **self.snapshot()})
        if action == "faults":
            if request.method == "POST":
                self.faults = Faults.model_validate(request.json() or {})
            return Response(200, self.faults.model_dump())
        if action == "reset" and request.method == "POST":
            self.reset()
            return Response(200, {"reset": True})
        if action == "webhooks/flush" and request.method == "POST":
            delivered = self.flush_webhooks(shuffle=bool((request.json() or {}).get("shuffle")))
            return Response(200, {"delivered": [{"label": d.label, "status": d.status} for d in delivered]})
        return Response(404, {"error": "unknown control endpoint", "path": request.path})
