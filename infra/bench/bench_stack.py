"""The local stack the bench measures: the dev template, the counting proxy (no faults), its own folders.

Two changes from the demo's stack, both so that a window counts only what its orders cause:
- The scheduled rules (sweeps, reconciliation, stuck-order checks) are disabled: they run on the clock, not per
  order. ``scheduled_per_month`` says what they add each month, apart from the per-order figures.
- The functions log at INFO, prod's and staging's level (cdk.json), not dev's DEBUG: log bytes are billed.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import App

from infra.app import build_app
from infra.assets import ensure_built
from infra.bench.capacity import CapacityProxy
from infra.bench.schedules import without_schedules
from infra.config import cdk_context
from infra.local.stack import LOCAL_DIR, LocalStack

ENV = "dev"
BENCH_DIR = LOCAL_DIR / "bench"
LOG_LEVEL = {"POWERTOOLS_LOG_LEVEL": "INFO", "AWS_LAMBDA_LOG_LEVEL": "INFO"}


def synth(env: str = ENV) -> dict[str, Any]:
    """The template, synthesized into the bench's own folder (another local stack may be synthesizing too)."""
    ensure_built()
    app = build_app(env, App(context=cdk_context(), outdir=str(BENCH_DIR / "cdk.out")))
    template: dict[str, Any] = app.synth().get_stack_by_name(f"Crossdock-{env}").template
    return template


def start(time_scale: float = 0.02) -> tuple[LocalStack, CapacityProxy, dict[str, float]]:
    """A started stack, its proxy, and the disabled schedules' firings per month."""
    template, schedules = without_schedules(synth())
    proxy = CapacityProxy()
    stack = LocalStack(
        env=ENV,
        template_json=template,
        time_scale=time_scale,
        log_dir=BENCH_DIR / "logs",
        aws_proxy=proxy,
        extra_environment=dict(LOG_LEVEL),
    )
    try:
        stack.start()
    except BaseException:
        stack.stop()
        raise
    return stack, proxy, schedules
