"""One chaos run: start the local stack with every fault on, play the traffic, heal, redrive, check.

1. The stack starts with the AWS fault proxy between the functions and the emulators, and crashes armed in the
   consumers' workers; the warehouses report their stock and the channels list every SKU.
2. The ERP, the WMS and the channels fail as ``ChaosPlan`` says (channel 429 storms come and go).
3. Orders from every channel, then their shipments, then returns, each delivered 1-3 times, late and shuffled;
   each phase runs until the platforms have nothing left to deliver and the stack is quiet.
4. The faults stop. Once every crashed invocation's timeout has passed (what it held, an in-progress
   idempotency record or a sync's lease, is let go then), the reconciliation and availability sweep schedules
   fire, and ``crossdock dlq redrive`` sends home what failed for good, as an operator would.
5. The checker counts every effect where it landed.

Locally a failed record is back in seconds (``time_scale``), while an in-progress idempotency record lives as long
as the invocation could have (up to the function's timeout). So a record whose worker crashed inside an ERP call
meets its own in-progress record on every retry and ends in the DLQ as ``conflict``; on AWS the visibility
timeout (6x the function's) outlives that record and the retry goes through. Either way nothing is lost or done
twice, and the redrive is what an operator would do.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from infra.local.aws_proxy import AwsFaultRates, AwsProxy
from infra.local.chaos import scenario
from infra.local.chaos.checker import Verdict, check
from infra.local.chaos.plan import ChaosPlan, Storms
from infra.local.chaos.platforms import Deliveries
from infra.local.crashes import ENV_VAR
from infra.local.sandboxes.base import Faults
from infra.local.stack import LOCAL_DIR, LocalStack

CHANNELS = ("shopify", "bigcommerce", "woocommerce")
REDRIVE_ROUNDS = 3


def run(
    plan: ChaosPlan,
    env: str = "dev",
    workdir: Path = LOCAL_DIR / "chaos",
    on_phase: Callable[[str, float], None] | None = None,
) -> tuple[Verdict, float]:
    """Play the plan and check it; ``on_phase`` hears each phase's name and seconds as it ends (a full run takes
    over half an hour, and the summary comes only at the end)."""
    started = time.monotonic()
    rng = random.Random(plan.seed)
    proxy = AwsProxy(seed=plan.seed)
    stack = LocalStack(
        env=env,
        aws_proxy=proxy,
        log_dir=workdir / "logs",
        extra_environment={ENV_VAR: plan.crashes},
        time_scale=plan.time_scale,
    )
    deliveries = Deliveries()
    phases = _Phases(on_phase)
    with stack:
        phases.done("start the stack")
        expected = scenario.ChaosExpected(scenario.seed(stack, rng, plan.orders_per_channel))
        phases.done("count stock, list every SKU")
        storms = _Storms(stack, plan.storms)
        _faults_on(stack, proxy, plan)
        storms.start()
        try:
            scenario.place_orders(stack, plan.orders_per_channel, rng, deliveries, expected)
            deliveries.settle(stack)
            phases.done("orders")
            _crashes_after(stack, plan, "orders")
            scenario.ship_all(stack, rng, plan.partial_share, deliveries, expected)
            deliveries.settle(stack)
            phases.done("shipments")
            _crashes_after(stack, plan, "shipments")
            scenario.return_some(stack, rng, plan.return_share, deliveries, expected)
            deliveries.settle(stack)
            phases.done("returns")
        finally:
            storms.stop()
            _faults_off(stack, proxy)
        stack.wait_until_quiet(timeout=300)
        phases.done("faults stopped, quiet")
        verdict = Verdict(
            faults=_faults(stack, proxy, deliveries),
            attempts=deliveries.attempts,
            acknowledged=deliveries.acknowledged,
            given_up=deliveries.given_up,
        )
        # What a crashed invocation held (an in-progress record, a sync's lease) is let go at its timeout.
        expiry = max((f.last_crash_deadline for f in stack.functions.values()), default=0.0)
        time.sleep(max(0.0, expiry + 1 - time.time()))
        phases.done("crashed invocations timed out")
        verdict.reconciled = _schedules(stack, deliveries)
        phases.done("reconciliation and availability sweep")
        verdict.dead_lettered = dlq_total(stack)
        _redrive(stack, deliveries)
        _schedules(stack, deliveries, "Sweep")  # what the redrive changed, as the next minute's sweep would
        verdict.left_in_dlqs = dlq_total(stack)
        verdict.redriven = max(0, verdict.dead_lettered - verdict.left_in_dlqs)
        phases.done("redrive")
        check(stack, expected, verdict)
        verdict.phases = phases.seconds
    return verdict, time.monotonic() - started


def _schedules(stack: LocalStack, deliveries: Deliveries, *kinds: str) -> int:
    """Fire the reconciliation and availability sweep schedules now, as their rules do every few minutes (a
    sweep pushes what a crashed sync left marked): how many missed orders reconciliation has brought in."""
    assert stack.router
    for kind in kinds or ("Reconcile", "Sweep"):
        for rule in stack.scheduled_rules(kind):
            stack.router.fire(rule)
    deliveries.settle(stack)
    recovered = 0
    for name, function in stack.functions.items():
        if "ReconcileOrders" in name and function.log_path.exists():
            for line in function.log_path.read_text().splitlines():
                if '"reconciliation done"' in line:
                    recovered += int(json.loads(line).get("recovered", 0))
    return recovered


class _Phases:
    def __init__(self, on_phase: Callable[[str, float], None] | None = None) -> None:
        self.seconds: dict[str, float] = {}
        self._since = time.monotonic()
        self._on_phase = on_phase

    def done(self, phase: str) -> None:
        now = time.monotonic()
        self.seconds[phase] = now - self._since
        self._since = now
        if self._on_phase:
            self._on_phase(phase, self.seconds[phase])


def dlq_total(stack: LocalStack) -> int:
    assert stack.provisioned
    sqs = stack.client("sqs")
    total = 0
    for logical in stack.provisioned.dlqs:
        attrs = sqs.get_queue_attributes(
            QueueUrl=stack.provisioned.queues[logical],
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        total += int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])
    return total


def _redrive(stack: LocalStack, deliveries: Deliveries) -> None:
    """Redrive with the CLI, as an operator would, until the DLQs are empty."""
    for _ in range(REDRIVE_ROUNDS):
        if not dlq_total(stack):
            return
        subprocess.run(  # noqa: S603 - our own CLI
            [sys.executable, "-m", "infra.cli", "dlq", "redrive", "--local", "--state", str(stack.state_path), "--yes"],
            check=False,
            stdout=subprocess.DEVNULL,
        )
        deliveries.settle(stack)
        stack.wait_until_quiet(timeout=300)


def _crashes_after(stack: LocalStack, plan: ChaosPlan, phase: str) -> None:
    if plan.crash_until == phase:
        _crashes_off(stack)


def _crashes_off(stack: LocalStack) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:  # each retires its workers: all at once
        list(pool.map(lambda f: f.set_environment({}, drop=(ENV_VAR,)), stack.functions.values()))


def _faults_on(stack: LocalStack, proxy: AwsProxy, plan: ChaosPlan) -> None:
    stack.sandboxes["netsuite"].faults = plan.erp
    stack.sandboxes["wms"].faults = plan.wms
    proxy.set_rates(plan.aws)


def _faults_off(stack: LocalStack, proxy: AwsProxy) -> None:
    for sandbox in stack.sandboxes.values():
        sandbox.faults = Faults()
    proxy.set_rates(AwsFaultRates())
    _crashes_off(stack)


def _faults(stack: LocalStack, proxy: AwsProxy, deliveries: Deliveries) -> Counter[str]:
    faults: Counter[str] = Counter()
    for name, sandbox in stack.sandboxes.items():
        for kind, count in sandbox.injected.items():
            faults[f"{name} {kind}"] += count
    faults.update(proxy.counts.snapshot()["faults"])
    faults["function crashes"] = sum(f.crashes for f in stack.functions.values())
    faults.update(deliveries.faults)
    return +faults


class _Storms:
    """Channel 429 storms on a timer: most channel calls throttled for a while, then calm."""

    def __init__(self, stack: LocalStack, storms: Storms) -> None:
        self._stack = stack
        self._storms = storms
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="chaos-storms", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._set(0.0)

    def _run(self) -> None:
        calm = self._storms.period_seconds - self._storms.length_seconds
        while not self._stop.wait(calm):
            self._set(self._storms.rate)
            if self._stop.wait(self._storms.length_seconds):
                return
            self._set(0.0)

    def _set(self, rate: float) -> None:
        for name in CHANNELS:
            sandbox = self._stack.sandboxes[name]
            sandbox.faults = sandbox.faults.model_copy(update={"rate_limit_rate": rate})
