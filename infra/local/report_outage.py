"""The back-pressure part of the demo report: what the breaker did while the ERP was down, from the function logs.

Invariants: the breaker opened during the outage and closed after it, the stack drained, and (with the main
report's checks) every order placed during the outage was accepted exactly once with nothing in a DLQ.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from infra.local.scenario_outage import OutageExpected
from infra.local.stack import LocalStack

OPENED, CLOSED, PROBE_FAILED, PARKED = (
    "breaker opened",
    "breaker closed",
    "breaker probe failed",
    "record parked: breaker open",
)


@dataclass
class OutageReport:
    down_seconds: float = 0.0
    orders: int = 0
    opened_after: list[float] = field(default_factory=list)  # seconds after the outage began
    closed_after: list[float] = field(default_factory=list)  # seconds after the ERP came back
    probes_failed: int = 0
    parked: int = 0
    quiet: bool = False

    @property
    def problems(self) -> list[str]:
        found = []
        if not self.opened_after:
            found.append("the ERP breaker never opened during the outage")
        if not self.closed_after:
            found.append("the ERP breaker did not close after the ERP came back")
        if not self.quiet:
            found.append("the stack did not drain after the outage")
        return found


def collect_outage(stack: LocalStack, expected: OutageExpected) -> OutageReport:
    start, end = expected.real_window
    report = OutageReport(down_seconds=end - start, orders=len(expected.orders), quiet=expected.quiet)
    for line in _log_lines(stack):
        at = _timestamp(line)
        if at is None or at < start or line.get("system") not in (None, "netsuite"):
            continue
        message = line.get("message")
        if message == OPENED and at < end:
            report.opened_after.append(round(at - start, 1))
        elif message == CLOSED and at >= end:
            report.closed_after.append(round(at - end, 1))
        elif message == PROBE_FAILED and at < end + 60:
            report.probes_failed += 1
        elif message == PARKED and at < end + 60:
            report.parked += 1
    report.opened_after.sort()
    report.closed_after.sort()
    return report


def render_outage(report: OutageReport) -> list[str]:
    def first(values: list[float]) -> str:
        return f"{values[0]:.1f}" if values else "never"

    rows = [
        ("ERP down (s)", f"{report.down_seconds:.0f}"),
        ("orders placed while it was down", str(report.orders)),
        ("breaker opened (s into the outage)", first(report.opened_after)),
        ("probes that found the ERP still down", str(report.probes_failed)),
        ("records parked instead of retried", str(report.parked)),
        ("breaker closed (s after the ERP was back)", first(report.closed_after)),
    ]
    return ["ERP outage (back-pressure)"] + [f"  {k:<44}{v:>8}" for k, v in rows] + [""]


def _log_lines(stack: LocalStack) -> Iterator[dict[str, Any]]:
    for function in stack.functions.values():
        path = function.log_path
        if not path.exists():
            continue
        for raw in path.read_text().splitlines():
            if '"breaker ' not in raw and '"record parked' not in raw:
                continue
            try:
                line = json.loads(raw)
            except ValueError:
                continue
            if isinstance(line, dict):
                yield line


def _timestamp(line: dict[str, Any]) -> float | None:
    """Powertools' timestamp, e.g. ``2026-11-30 14:37:46,613+0000``."""
    try:
        return datetime.strptime(str(line["timestamp"]), "%Y-%m-%d %H:%M:%S,%f%z").timestamp()
    except (KeyError, ValueError):
        return None
