"""One breaker per outside system per container, on the operations table, when the function has one."""

from __future__ import annotations

import functools

from shared.aws.breaker_store import DynamoBreakerStore
from shared.breaker import Breaker
from shared.env import BreakerEnv
from shared.models.operations import BreakerPolicy


def breaker_for(system: str, env: BreakerEnv) -> Breaker | None:
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
