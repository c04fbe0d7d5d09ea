"""A breaker per outside system, shared by every container that calls it (the state lives in a store).

After ``failure_threshold`` retryable failures (what ``OutboundClient`` raises once its own retries are spent)
within ``window_seconds``, the breaker opens for ``cooldown_seconds``: callers get ``CircuitOpen`` at once and
consumers park their records until then. When the cooldown is over, one caller takes the probe lease and calls;
its success closes the breaker, its failure reopens it for twice as long (up to ``max_cooldown_seconds``); a
throttle the adapter waits out is neither, and the probe goes on while its lease lasts.

Each container trusts the state it last read for ``check_every_seconds`` (an open state until it is due), so a
busy consumer reads the store a few times a minute, and a closed breaker costs no write on success. The store
is an optimisation, not a gate: when it fails, the breaker acts closed and the queue still bounds the damage.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Literal, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict

from shared.errors import CircuitOpen, CrossdockError, DownstreamUnavailable, RateLimited
from shared.models.operations import BreakerPolicy
from shared.observability import logger

# The longest SQS lets a parked record wait; a Retry-After longer than that is waited out in several parks.
MAX_OPEN_SECONDS = 900
_ERROR_CHARS = 256

T = TypeVar("T")


class BreakerState(BaseModel):
    """One system's breaker as the store holds it (``crossdock status`` shows these)."""

    model_config = ConfigDict(frozen=True)

    system: str
    state: Literal["closed", "open"] = "closed"
    failures: int = 0  # retryable failures in the current window (when it opened: the count that opened it)
    window_started: datetime | None = None
    opened_at: datetime | None = None
    open_until: datetime | None = None
    cooldown_seconds: int | None = None
    last_error: str | None = None
    probe_until: datetime | None = None  # a probe is out until then; others keep waiting

    @property
    def is_open(self) -> bool:
        return self.state == "open"


class BreakerStore(Protocol):
    """Where breakers live. Every write that changes the state is conditional, so one caller wins each change.

    Failures of the store itself raise ``DownstreamUnavailable``; the breaker then acts closed.
    """

    def read(self, system: str) -> BreakerState:
        """The current state (closed with no failures if the system has none yet)."""

    def record_failure(self, system: str, now: float, window_seconds: int, error: str) -> BreakerState:
        """Count one failure in the current window (a window older than ``window_seconds`` starts again at 1)."""

    def open(self, system: str, now: float, open_seconds: int, failures: int, error: str) -> bool:
        """Open a closed breaker until ``now + open_seconds``; False if it was open already."""

    def take_probe(self, system: str, now: float, lease_seconds: int) -> BreakerState | None:
        """Take the probe lease of an open breaker that is due: its state with the lease; None if not due,
        closed or another holds it."""

    def reopen(self, system: str, now: float, open_seconds: int, error: str) -> bool:
        """After a failed probe: open again until ``now + open_seconds``; False if it was not open."""

    def close(self, system: str) -> BreakerState | None:
        """Close an open breaker; the state it had, or None if it was closed already."""

    def states(self) -> list[BreakerState]:
        """Every system's breaker."""


class Breaker:
    def __init__(
        self,
        system: str,
        store: BreakerStore,
        policy: BreakerPolicy | None = None,
        *,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.system = system
        self._store = store
        self._policy = policy or BreakerPolicy()
        self._now = now
        self._state: BreakerState | None = None
        self._trusted_until = -math.inf
        self._probing = False
        self._lease_until = -math.inf

    # -- the call path ----------------------------------------------------------------------------------------
    def before_call(self) -> None:
        """Let the call through, or raise ``CircuitOpen`` with when to come back."""
        now = self._now()
        if self._probing and now < self._lease_until:
            return  # our probe goes on: its last answer was a throttle the adapter waits out, neither up nor down
        self._probing = False  # a probe whose lease ran out with no answer (a bug, a crash) is not ours any more
        state = self._known(now)
        if not state.is_open:
            return
        wait = _until(state.open_until, now)
        if wait > 0:
            raise self._circuit_open(wait)
        # Due: one caller across all containers probes; the rest wait for what it finds.
        leased = self._guard(lambda: self._store.take_probe(self.system, now, self._policy.probe_lease_seconds), None)
        if leased is not None:
            # The stored state, not the one this container last read: a failed probe doubles its cooldown.
            self._remember(leased, now)
            self._probing = True
            self._lease_until = now + self._policy.probe_lease_seconds
            logger.info("breaker probing", system=self.system)
            return
        state = self._refresh(now)
        if not state.is_open:
            return
        wait = max(_until(state.open_until, now), _until(state.probe_until, now))
        if wait <= 0:  # between a lease running out and the next probe: come back shortly
            wait = min(self._policy.probe_lease_seconds, self._policy.cooldown_seconds)
        self._trusted_until = now + wait
        raise self._circuit_open(wait)

    def succeeded(self) -> None:
        """The system answered. Closes the breaker after a probe; on a closed one it costs nothing."""
        probing, self._probing = self._probing, False
        if not probing and (self._state is None or not self._state.is_open):
            return
        now = self._now()
        closed = self._guard(lambda: self._store.close(self.system), None)
        self._remember(BreakerState(system=self.system), now)
        if closed is not None:
            opened = closed.opened_at.timestamp() if closed.opened_at else now
            logger.info("breaker closed", system=self.system, open_for_seconds=round(now - opened, 1))

    def failed(self, error: CrossdockError) -> None:
        """Count a retryable availability failure; at the threshold open the breaker, after a probe reopen it."""
        if isinstance(error, CircuitOpen) or not isinstance(error, (DownstreamUnavailable, RateLimited)):
            return
        now = self._now()
        text = error.message[:_ERROR_CHARS]
        if self._probing:
            self._probing = False
            self._probe_failed(error, text, now)
            return
        if self._state is not None and self._state.is_open and now < self._trusted_until:
            return  # a call that set out before the breaker opened: nothing new to count
        state = self._guard(
            lambda: self._store.record_failure(self.system, now, self._policy.window_seconds, text), None
        )
        if state is None:
            return
        if state.is_open:  # another container opened it meanwhile
            self._remember(state, now)
            return
        if state.failures < self._policy.failure_threshold:
            return
        seconds = _open_seconds(self._policy.cooldown_seconds, error)
        if self._guard(lambda: self._store.open(self.system, now, seconds, state.failures, text), False):
            logger.warning("breaker opened", system=self.system, failures=state.failures, open_seconds=seconds)
            self._remember(_opened(state, now, seconds, text), now)
        else:
            self._refresh(now)

    # -- internals ------------------------------------------------------------------------------------------
    def _probe_failed(self, error: CrossdockError, text: str, now: float) -> None:
        previous = self._state.cooldown_seconds if self._state and self._state.cooldown_seconds else None
        doubled = min(self._policy.max_cooldown_seconds, 2 * (previous or self._policy.cooldown_seconds))
        seconds = _open_seconds(max(doubled, self._policy.cooldown_seconds), error)
        if self._guard(lambda: self._store.reopen(self.system, now, seconds, text), False):
            logger.warning("breaker probe failed", system=self.system, open_seconds=seconds)
            base = self._state or BreakerState(system=self.system)
            self._remember(_opened(base, now, seconds, text, keep_opened_at=True), now)
        else:
            self._refresh(now)

    def _known(self, now: float) -> BreakerState:
        # An open state is trusted until it is due, and then ``before_call`` asks for the probe (a conditional
        # write that is also the read): an open breaker costs no read at all.
        if self._state is not None and (now < self._trusted_until or self._state.is_open):
            return self._state
        return self._refresh(now)

    def _refresh(self, now: float) -> BreakerState:
        state = self._guard(lambda: self._store.read(self.system), None)
        if state is None:
            state = BreakerState(system=self.system)  # the store failed: act closed (fail open)
        self._remember(state, now)
        return state

    def _remember(self, state: BreakerState, now: float) -> None:
        self._state = state
        self._trusted_until = now + self._policy.check_every_seconds
        if state.is_open:
            self._trusted_until = max(self._trusted_until, now + _until(state.open_until, now))

    def _circuit_open(self, wait: float) -> CircuitOpen:
        return CircuitOpen(f"{self.system} breaker open", system=self.system, retry_after_seconds=wait)

    def _guard(self, call: Callable[[], T], fallback: T) -> T:
        """Run a store call; if the store fails, log it and carry on as if the breaker were not there."""
        try:
            return call()
        except DownstreamUnavailable as failure:
            logger.warning("breaker store unavailable", system=self.system, reason=failure.message)
            return fallback


def _until(moment: datetime | None, now: float) -> float:
    return moment.timestamp() - now if moment is not None else 0.0


def _open_seconds(cooldown: int, error: CrossdockError) -> int:
    """A rate limit that names its wait is not probed before it is over (up to the longest park)."""
    retry_after = error.retry_after_seconds if isinstance(error, RateLimited) else None
    wanted = max(float(cooldown), retry_after or 0.0)
    return min(MAX_OPEN_SECONDS, math.ceil(wanted))


def _opened(state: BreakerState, now: float, seconds: int, error: str, *, keep_opened_at: bool = False) -> BreakerState:
    opened_at = state.opened_at if keep_opened_at and state.opened_at else _at(now)
    return state.model_copy(
        update={
            "state": "open",
            "opened_at": opened_at,
            "open_until": _at(now + seconds),
            "cooldown_seconds": seconds,
            "last_error": error,
            "probe_until": None,
        }
    )


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)
