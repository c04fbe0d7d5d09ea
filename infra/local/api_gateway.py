"""API Gateway HTTP API, emulated: the template's routes served on 127.0.0.1 with payload format 2.0.

What API Gateway does before the function is done here too: the 10 MB body cap (413), stage throttling
(429), base64 for non-text bodies, and 500/503 when the integration fails or times out.
"""

from __future__ import annotations

import base64
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from infra.local.lambda_runtime import InvocationResult
from infra.local.loopback import LoopbackServer

MAX_BODY_BYTES = 10 * 1024 * 1024
INTEGRATION_TIMEOUT_SECONDS = 30
_TEXT_TYPES = re.compile(
    r"^(text/.*|application/(json|xml|javascript|x-www-form-urlencoded)|application/.*\+(json|xml))"
)


@dataclass
class Route:
    method: str
    path: str  # e.g. /v1/webhooks/{platform}
    function: str
    regex: re.Pattern[str]
    iam: bool = False

    @classmethod
    def of(cls, route_key: str, function: str, authorization: str = "NONE") -> Route:
        method, path = route_key.split(" ", 1)
        regex = re.compile("^" + re.sub(r"\{(\w+)\+?\}", r"(?P<\1>[^/]+)", path) + "$")
        return cls(method, path, function, regex, iam=authorization == "AWS_IAM")


class TokenBucket:
    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self._tokens, self._at = float(burst), time.monotonic()
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
            self._at = now
            if self._tokens < 1:
                return False
            self._tokens -= 1
            return True


Invoke = Callable[[str, dict[str, Any]], InvocationResult]


class LocalHttpApi:
    def __init__(self, api_id: str, routes: list[Route], invoke: Invoke, throttle: TokenBucket | None) -> None:
        self.api_id = api_id
        self.routes = routes
        self._invoke = invoke
        self._throttle = throttle
        self._server = LoopbackServer()
        self.requests: list[tuple[str, str, int]] = []  # (method, path, status) for the report

    def start(self, port: int = 0) -> str:
        api = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_BODY_BYTES:
                    self.rfile.read(length)
                    self._reply(413, {"content-type": "application/json"}, b'{"message":"Request Entity Too Large"}')
                    return
                body = self.rfile.read(length) if length else b""
                status, headers, payload = api.handle(self.command, self.path, dict(self.headers.items()), body)
                self._reply(status, headers, payload)

            def _reply(self, status: int, headers: dict[str, str], payload: bytes) -> None:
                api.requests.append((self.command, urlsplit(self.path).path, status))
                self.send_response(status)
                for key, value in headers.items():
                    if key.lower() not in ("content-length", "connection", "transfer-encoding"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("apigw-requestid", uuid.uuid4().hex[:16])
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        return self._server.start(_Handler, "local-http-api", port)

    @property
    def url(self) -> str:
        return self._server.url

    def stop(self) -> None:
        self._server.stop()

    def handle(self, method: str, raw: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        json_type = {"content-type": "application/json"}
        parts = urlsplit(raw)
        for route in self.routes:
            match = route.regex.match(parts.path)
            if match and route.method in (method, "ANY"):
                break
        else:
            return 404, json_type, b'{"message":"Not Found"}'
        if route.iam and not _sigv4_signed(headers):
            # Locally the signature cannot be checked against IAM; a request that is not SigV4-signed at all
            # is refused, as API Gateway refuses it.
            return 403, json_type, b'{"message":"Forbidden"}'
        if self._throttle and not self._throttle.take():
            return 429, json_type, b'{"message":"Too Many Requests"}'
        event = self._event(route, method, parts.path, parts.query, headers, body, match.groupdict())
        result = self._invoke(route.function, event)
        if not result.ok:
            if result.error_type == "Sandbox.Timedout":
                return 503, json_type, b'{"message":"Service Unavailable"}'
            return 500, json_type, b'{"message":"Internal Server Error"}'
        return _response(result.payload)

    def _event(
        self,
        route: Route,
        method: str,
        path: str,
        query: str,
        headers: dict[str, str],
        body: bytes,
        params: dict[str, str],
    ) -> dict[str, Any]:
        lowered: dict[str, str] = {}
        for key, value in headers.items():  # repeated headers are joined with commas, as API Gateway does
            lowered[key.lower()] = f"{lowered[key.lower()]},{value}" if key.lower() in lowered else value
        is_text = bool(_TEXT_TYPES.match(lowered.get("content-type", "")))
        now = datetime.now(UTC)
        event: dict[str, Any] = {
            "version": "2.0",
            "routeKey": f"{route.method} {route.path}",
            "rawPath": path,
            "rawQueryString": query,
            "headers": lowered,
            "requestContext": {
                "accountId": "123456789012",
                "apiId": self.api_id,
                "domainName": "127.0.0.1",
                "domainPrefix": self.api_id,
                "http": {
                    "method": method,
                    "path": path,
                    "protocol": "HTTP/1.1",
                    "sourceIp": "127.0.0.1",
                    "userAgent": lowered.get("user-agent", ""),
                },
                "requestId": uuid.uuid4().hex[:16],
                "routeKey": f"{route.method} {route.path}",
                "stage": "$default",
                "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
                "timeEpoch": int(now.timestamp() * 1000),
            },
            "isBase64Encoded": not is_text and bool(body),
        }
        if query:
            event["queryStringParameters"] = {k: ",".join(v) for k, v in parse_qs(query).items()}
        if params:
            event["pathParameters"] = params
        if body:
            event["body"] = body.decode("utf-8", errors="replace") if is_text else base64.b64encode(body).decode()
        return event


def _sigv4_signed(headers: dict[str, str]) -> bool:
    authorization = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
    return authorization.startswith("AWS4-HMAC-SHA256 ")


def _response(payload: Any) -> tuple[int, dict[str, str], bytes]:
    """Payload format 2.0: a dict with statusCode is the response; anything else is a 200 JSON body."""
    import json

    if isinstance(payload, dict) and "statusCode" in payload:
        headers = {str(k): str(v) for k, v in (payload.get("headers") or {}).items()}
        body = payload.get("body") or ""
        raw = base64.b64decode(body) if payload.get("isBase64Encoded") else str(body).encode()
        return int(payload["statusCode"]), headers, raw
    return 200, {"content-type": "application/json"}, json.dumps(payload).encode()
