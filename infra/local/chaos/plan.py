"""What a chaos run injects and how much: one plan for the full run, a smaller one for CI (both seeded)."""

from __future__ import annotations

from dataclasses import dataclass, field

from infra.local.aws_proxy import AwsFaultRates
from infra.local.sandboxes.base import Faults


def _erp() -> Faults:
    # About 30 % of ERP requests fail: throttled, 5xx, no answer, or no answer after the write committed.
    return Faults(rate_limit_rate=0.12, error_rate=0.12, timeout_rate=0.03, commit_then_timeout_rate=0.03)


def _wms() -> Faults:
    return Faults(error_rate=0.05, timeout_rate=0.02, commit_then_timeout_rate=0.03)


def _aws() -> AwsFaultRates:
    # botocore retries a throttle or a 500 up to 3 attempts: most of these are absorbed there, a few reach our code.
    return AwsFaultRates(throttle=0.15, lost_reply=0.05, put_events_partial=0.15)


@dataclass(frozen=True)
class Storms:
    """Channel 429 storms: for ``length`` seconds of every ``period``, most channel calls are throttled."""

    period_seconds: float = 8.0
    length_seconds: float = 2.0
    rate: float = 0.8


@dataclass(frozen=True)
class ChaosPlan:
    name: str
    seed: int
    orders_per_channel: int
    return_share: float = 0.3  # of shipped orders on channels with an API
    partial_share: float = 0.15  # of released orders, shipped in two parts
    erp: Faults = field(default_factory=_erp)
    wms: Faults = field(default_factory=_wms)
    aws: AwsFaultRates = field(default_factory=_aws)
    storms: Storms = field(default_factory=Storms)
    # Worker crashes (``infra.local.crashes``): after an outside write committed, and after an AWS write.
    crash_after_outside_write: float = 0.03
    crash_after_aws_write: float = 0.01
    # How much shorter than on AWS a failed record's wait to reappear is (the demo's is 0.02): many fail here.
    time_scale: float = 0.005
    # Workers crash until the end of this phase ("orders", "shipments" or "returns"). The run waits out the last
    # crashed invocation's timeout (up to 2 minutes) before it heals, so stopping the crashes earlier saves that.
    crash_until: str = "returns"

    @property
    def crashes(self) -> str:
        return f"outside={self.crash_after_outside_write},aws={self.crash_after_aws_write}"


PLANS = {
    "full": ChaosPlan(name="full", seed=20261130, orders_per_channel=65),
    # CI's budget is 10 minutes for everything: fewer orders, an ERP failing a fifth of the time rather than a
    # third (the dev breaker, 3 failures in 30 s, then parks less of the run), and crashes (more of them) only
    # while the orders go in, so little of their timeout is left to wait out at the end.
    "ci": ChaosPlan(
        name="ci",
        seed=7,
        orders_per_channel=2,
        return_share=1.0,
        partial_share=0.5,
        erp=Faults(rate_limit_rate=0.08, error_rate=0.07, timeout_rate=0.03, commit_then_timeout_rate=0.02),
        crash_after_outside_write=0.05,
        crash_after_aws_write=0.02,
        crash_until="orders",
    ),
}
