"""Run a side effect in another system once per key, even when two deliveries of one event race.

Looking a record up before creating it (what every adapter does) covers retries and redeliveries, but not two
consumers handling two copies of one event at the same moment: both look, both find nothing, both create.
``Once`` puts an in-progress record first (Powertools idempotency, conditional on the key): the second one gets
``Conflict`` (retryable), and by its retry the first has finished and its result is returned.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyPersistenceLayerError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.errors import Conflict, DownstreamUnavailable

# Longer than any redelivery or redrive we expect; after it, the adapter's own look-up still finds the record.
DEFAULT_EXPIRY_SECONDS = 30 * 24 * 3600

Effect = Callable[[], str | None]


class Once:
    def __init__(
        self, persistence: BasePersistenceLayer, name: str, expires_after_seconds: int = DEFAULT_EXPIRY_SECONDS
    ) -> None:
        self._config = IdempotencyConfig(
            event_key_jmespath="key", raise_on_no_idempotency_key=True, expires_after_seconds=expires_after_seconds
        )
        self._run = idempotent_function(
            _run_effect,
            data_keyword_argument="once",
            persistence_store=persistence,
            config=self._config,
            key_prefix=f"once#{name}",
        )

    def register(self, context: LambdaContext) -> None:
        """A crashed run's in-progress record then expires with the invocation, not after the whole window."""
        self._config.register_lambda_context(context)

    def __call__(self, key: str, effect: Effect) -> str | None:
        try:
            result: dict[str, Any] = self._run(once={"key": key}, effect=effect)
        except IdempotencyAlreadyInProgressError:
            raise Conflict("the same work is in flight", retry_after_seconds=5) from None
        except IdempotencyPersistenceLayerError as error:
            raise DownstreamUnavailable("idempotency store unavailable") from error
        value = result.get("result")
        return str(value) if value is not None else None


def just_run(key: str, effect: Effect) -> str | None:
    """No guard: for callers (and tests) where one run at a time is already guaranteed."""
    return effect()


def _run_effect(*, once: dict[str, str], effect: Effect) -> dict[str, str | None]:
    return {"result": effect()}
