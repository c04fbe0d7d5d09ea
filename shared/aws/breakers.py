"""One breaker per outside system per container, on the operations table, when the function has one."""

from __future__ import annotations

import functools
from typing import Protocol

from shared.aws.breaker_store import DynamoBreakerStore
from shared.breaker import Breaker
from shared.models.operations import BreakerPolicy


class BreakerSettings(Protocol):
    """What ``shared.env.BreakerEnv`` holds (a function's env model that includes it)."""

    @property
    def OPS_TABLE_NAME(self) -> str | None: ...

    @property
    def BREAKER_POLICY(self) -> BreakerPolicy: ...


def breaker_for(system: str, env: BreakerSettings) -> Breaker | None:
    """The system's breaker, or None where infra gave the function no operations table (no breaker)."""
    if env.OPS_TABLE_NAME is None:
        return None
    return _breaker(system, env.OPS_TABLE_NAME, env.BREAKER_POLICY)


@functools.cache
def _breaker(system: str, table_name: str, policy: BreakerPolicy) -> Breaker:
    # Cached: the state a breaker last read is what spares a busy consumer a read per call.
    return Breaker(system, DynamoBreakerStore(table_name), policy)


def reset() -> None:
    """Forget every breaker, e.g. between tests."""
    _breaker.cache_clear()
