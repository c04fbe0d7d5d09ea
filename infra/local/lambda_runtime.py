"""Lambda, emulated: each function runs in its own worker processes, like Lambda's execution environments.

A worker starts with exactly the environment the template gives the function (plus the runtime's own
variables and the emulator endpoints), imports the handler from the built code asset, and serves one
invocation at a time. An invocation past the function's timeout kills the worker, as Lambda does; the next
one starts cold. Logs go to one file per function, the local CloudWatch log group.
"""

from __future__ import annotations

import contextlib
import os
import select
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from infra.assets import ROOT
from infra.local.worker import read_message, write_message

INIT_TIMEOUT_SECONDS = 10  # Lambda's INIT phase budget, apart from the function timeout


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    handler: str  # module.path.function
    environment: dict[str, str]
    timeout_seconds: int
    memory_mb: int
    reserved_concurrency: int | None = None


@dataclass
class InvocationResult:
    ok: bool
    payload: Any = None
    error_type: str | None = None
    error_message: str | None = None
    duration_ms: float = 0.0
    cold_start: bool = False


@dataclass
class _Worker:
    process: subprocess.Popen[bytes]
    invocations: int = 0

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def wait_ready(self, timeout: float) -> None:
        """INIT: the handler module imported (or failed to); raises ``TimeoutError`` past Lambda's INIT budget."""
        assert self.process.stdout
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        if not ready:
            raise TimeoutError
        read_message(self.process.stdout)

    def call(self, message: Any, timeout: float) -> Any:
        """Send one invocation and wait for its answer; ``TimeoutError`` past ``timeout``."""
        assert self.process.stdin
        assert self.process.stdout
        write_message(self.process.stdin, message)
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        if not ready:
            raise TimeoutError
        return read_message(self.process.stdout)


@dataclass
class LocalFunction:
    """A function with a pool of warm workers, at most ``max_workers`` invocations at once."""

    spec: FunctionSpec
    log_dir: Path
    max_workers: int = 4
    _idle: list[_Worker] = field(default_factory=list)
    _all: list[_Worker] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _slots: threading.Semaphore = field(init=False)
    invocations: int = 0
    errors: int = 0
    timeouts: int = 0
    crashes: int = 0  # the execution environment exited mid-invocation
    last_crash_deadline: float = 0.0  # when the latest crashed invocation would have timed out (epoch seconds)
    cold_starts: int = 0
    # For ``make bench``: every invocation's duration and every cold start's INIT, in ms, as they end.
    durations_ms: list[float] = field(default_factory=list)
    init_ms: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        limit = self.max_workers if self.spec.reserved_concurrency is None else self.spec.reserved_concurrency
        self._slots = threading.Semaphore(max(1, min(limit, self.max_workers)))

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"{self.spec.name}.log"

    def invoke(self, event: Any) -> InvocationResult:
        with self._slots:
            checkout_started = time.monotonic()
            try:
                worker, cold = self._checkout()
            except (TimeoutError, EOFError, OSError, ValueError):
                with self._lock:
                    self.invocations += 1
                    self.errors += 1
                return InvocationResult(False, None, "Runtime.InitError", "INIT did not finish", 0.0, True)
            if cold:
                self.init_ms.append((time.monotonic() - checkout_started) * 1000)
            started = time.time()
            deadline = started + self.spec.timeout_seconds
            try:
                status, payload, message = worker.call([event, str(uuid.uuid4()), deadline], deadline - started + 0.5)
                failure = None
            except TimeoutError:
                failure = ("Sandbox.Timedout", "Task timed out")
            except (EOFError, OSError, ValueError):
                failure = ("Runtime.ExitError", "the execution environment exited")
            duration = (time.time() - started) * 1000
            with self._lock:
                self.invocations += 1
                self.cold_starts += int(cold)
                self.durations_ms.append(duration)
            if failure:
                self._kill(worker)
                with self._lock:
                    self.errors += 1
                    self.timeouts += int(failure[0] == "Sandbox.Timedout")
                    if failure[0] == "Runtime.ExitError":
                        self.crashes += 1
                        self.last_crash_deadline = max(self.last_crash_deadline, deadline)
                return InvocationResult(False, None, failure[0], failure[1], duration, cold)
            with self._lock:
                self._idle.append(worker)
            if status == "ok":
                return InvocationResult(True, payload, duration_ms=duration, cold_start=cold)
            with self._lock:
                self.errors += 1
            return InvocationResult(False, None, payload, message, duration, cold)

    def _checkout(self) -> tuple[_Worker, bool]:
        with self._lock:
            while self._idle:
                worker = self._idle.pop()
                if worker.alive:
                    return worker, False
        self.log_dir.mkdir(parents=True, exist_ok=True)
        process = subprocess.Popen(  # noqa: S603 - our own worker module
            [sys.executable, "-m", "infra.local.worker", self.spec.handler, str(self.log_path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={**self.spec.environment, "PYTHONPATH": os.pathsep.join(sys.path)},
            cwd=ROOT,
        )
        worker = _Worker(process)
        with self._lock:
            self._all.append(worker)
        try:
            worker.wait_ready(INIT_TIMEOUT_SECONDS)
        except (TimeoutError, EOFError, OSError, ValueError):
            self._kill(worker)
            raise
        return worker, True

    def set_environment(self, extra: dict[str, str], *, drop: tuple[str, ...] = ()) -> None:
        """Change the environment of the workers started from now on, and retire the idle ones (call it quiet)."""
        environment = {k: v for k, v in self.spec.environment.items() if k not in drop}
        self.spec = replace(self.spec, environment={**environment, **extra})
        self.stop()

    def _kill(self, worker: _Worker) -> None:
        worker.process.kill()
        worker.process.wait(timeout=5)

    def stop(self) -> None:
        with self._lock:
            workers, self._all, self._idle = self._all, [], []
        for worker in workers:  # every worker told first, so they wind down together
            with contextlib.suppress(OSError):
                if worker.process.stdin:
                    worker.process.stdin.close()  # EOF: the worker returns on its own
        for worker in workers:
            try:
                worker.process.wait(timeout=2)
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait(timeout=5)
