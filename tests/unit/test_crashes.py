"""Worker crashes for the chaos run: the rates, when they are armed, and the crash itself (in a subprocess)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.client import BaseClient

from infra.local import crashes

ROOT = Path(__file__).resolve().parents[2]
SQS_RECORD = {"messageId": "m-1", "body": "{}", "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:::q"}
API_EVENT = {"version": "2.0", "routeKey": "POST /webhooks/{platform}", "body": "{}", "requestContext": {}}
SCHEDULED_EVENT = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("outside=0.03,aws=0.01", (0.03, 0.01)),
        ("aws=0.5", (0.0, 0.5)),
        ("outside=1", (1.0, 0.0)),
        ("", (0.0, 0.0)),
    ],
)
def test_parse(value: str, expected: tuple[float, float]) -> None:
    assert crashes.parse(value) == expected


@pytest.fixture
def installed(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Rates in place without patching httpx or botocore in the test process."""
    state = crashes._Crashes(outside=1.0, aws=1.0)
    monkeypatch.setattr(crashes, "_crashes", state)
    return state


@pytest.mark.parametrize(
    ("event", "armed"),
    [
        ({"Records": [SQS_RECORD]}, True),
        ({"Records": [SQS_RECORD, SQS_RECORD]}, True),
        ({"Records": []}, False),
        ({"Records": [SQS_RECORD, {"EventSource": "aws:sns"}]}, False),
        (API_EVENT, False),
        (SCHEDULED_EVENT, False),
        ([SQS_RECORD], False),
    ],
    ids=["sqs", "sqs-batch", "empty", "mixed", "api-gateway", "scheduled", "not-a-dict"],
)
def test_armed_only_for_sqs_batches(installed: Any, event: Any, armed: bool) -> None:
    crashes.arm(event)
    assert installed.armed is armed


def test_the_next_invocation_disarms(installed: Any) -> None:
    crashes.arm({"Records": [SQS_RECORD]})
    crashes.arm(API_EVENT)
    assert installed.armed is False


@pytest.mark.parametrize("value", ["", None])
def test_install_nothing_patches_nothing(monkeypatch: pytest.MonkeyPatch, value: str | None) -> None:
    monkeypatch.setattr(crashes, "_crashes", None)
    send, call = httpx.Client.send, BaseClient._make_api_call  # type: ignore[attr-defined]
    crashes.install(value)
    assert crashes._crashes is None
    assert httpx.Client.send is send
    assert BaseClient._make_api_call is call  # type: ignore[attr-defined]
    crashes.arm({"Records": [SQS_RECORD]})  # no rates: arming is a no-op, and nothing can crash


# A worker in miniature: an outside system answering ``status``, crashes installed, one call, then "survived".
WORKER = """
import sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import httpx
from infra.local import crashes

method, armed, status = sys.argv[1], sys.argv[2] == "armed", int(sys.argv[3])

class Outside(BaseHTTPRequestHandler):
    def log_message(self, *args):
        return
    def _answer(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()
    do_GET = do_POST = _answer

server = ThreadingHTTPServer(("127.0.0.1", 0), Outside)
threading.Thread(target=server.serve_forever, daemon=True).start()
crashes.install("outside=1.0")
event = {"Records": [{"eventSource": "aws:sqs", "body": "{}"}]} if armed else {"version": "2.0", "body": "{}"}
crashes.arm(event)
response = httpx.request(method, "http://127.0.0.1:%d/orders" % server.server_address[1], content=b"{}")
print("survived", response.status_code, flush=True)
"""


def _worker(method: str, armed: str, status: int = 200) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", WORKER, method, armed, str(status)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_committed_outside_write_in_an_sqs_batch_kills_the_worker() -> None:
    result = _worker("POST", "armed")
    assert result.returncode == crashes.CRASH_EXIT_CODE, result.stderr
    assert "survived" not in result.stdout


@pytest.mark.parametrize(
    ("method", "armed", "status"),
    [("GET", "armed", 200), ("POST", "unarmed", 200), ("POST", "armed", 500)],
    ids=["read", "not-an-sqs-batch", "write-not-committed"],
)
def test_no_crash_otherwise(method: str, armed: str, status: int) -> None:
    result = _worker(method, armed, status)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"survived {status}"
