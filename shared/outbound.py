"""Calling an outside system: timeouts, retries with backoff and full jitter, and typed errors.

Every adapter (channels, ERP, WMS) goes through ``OutboundClient``. It retries what a retry can fix (timeouts,
connection errors, 5xx, 429 with its Retry-After) a few times within a small time budget, then raises
``RateLimited`` or ``DownstreamUnavailable`` so the queue retries later. Anything else comes back as the
response, for the adapter to read in the system's own terms.

With a ``breaker`` (``shared.breaker``), a call to a system that keeps failing is not made at all: it raises
``CircuitOpen`` at once. Every ``RateLimited`` / ``DownstreamUnavailable`` raised here counts towards opening it,
and any answer that is not retryable (a 4xx included: the system is up) closes it after a probe. An answer the
adapter reads as a throttle itself (``is_throttled``: a 429 it waits out, Shopify's ``THROTTLED`` in a 200) is
neither: the adapter waits for its budget and calls again, and when it gives up it reports it with
``throttled``, which counts like a ``RateLimited`` raised here.

A request that is not safe to repeat (``idempotent=False``) is never retried after it may have reached the
system: a timeout then raises ``DownstreamUnavailable`` with ``maybe_committed=True`` and the adapter must look
before it writes again.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from shared.breaker import Breaker
from shared.connections import Connection
from shared.errors import DownstreamUnavailable, RateLimited
from shared.observability import logger

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


class OutboundClient:
    def __init__(
        self,
        system: str,
        connection: Connection,
        *,
        headers: Mapping[str, str] | None = None,
        auth: httpx.Auth | None = None,
        timeout: float = 5.0,
        attempts: int = 3,
        base_delay: float = 0.2,
        max_delay: float = 2.0,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
        is_retryable: Callable[[httpx.Response], bool] | None = None,
        is_throttled: Callable[[httpx.Response], bool] | None = None,
        breaker: Breaker | None = None,
    ) -> None:
        self.system = system
        self._breaker = breaker
        self._client = httpx.Client(
            base_url=connection.base_url.rstrip("/"),
            headers=dict(headers or {}),
            auth=auth,
            timeout=timeout,
            transport=transport,
        )
        self._attempts = attempts
        self._base_delay = base_delay
        self._max_delay = max_delay
        self._sleep = sleep
        self._is_retryable = is_retryable or (lambda response: response.status_code in RETRYABLE_STATUS)
        self._is_throttled = is_throttled or (lambda response: response.status_code == 429)
        self.calls = 0  # for the figures: channel calls per change, ERP calls per order

    def request(self, method: str, path: str, *, idempotent: bool = True, **kwargs: Any) -> httpx.Response:
        if self._breaker is None:
            return self._request(method, path, idempotent=idempotent, **kwargs)
        self._breaker.before_call()
        try:
            response = self._request(method, path, idempotent=idempotent, **kwargs)
        except (RateLimited, DownstreamUnavailable) as error:
            self._breaker.failed(error)
            raise
        # A throttle the adapter reads itself (a platform's own quota) says neither "down" nor "up": it waits it
        # out, and a probe goes on until an answer or ``throttled``.
        if not self._is_throttled(response):
            self._breaker.succeeded()
        return response

    def throttled(self, error: RateLimited) -> RateLimited:
        """The adapter gives up on a throttle it read itself: count it as the client's own ``RateLimited`` is
        counted (a channel that throttles hard opens its breaker too). Returns the error, for the adapter to raise."""
        if self._breaker is not None:
            self._breaker.failed(error)
        return error

    def _request(self, method: str, path: str, *, idempotent: bool, **kwargs: Any) -> httpx.Response:
        last: httpx.Response | None = None
        for attempt in range(1, self._attempts + 1):
            self.calls += 1
            try:
                response = self._client.request(method, path, **kwargs)
            except httpx.TimeoutException as error:
                if not idempotent:
                    raise DownstreamUnavailable(
                        f"{self.system} timed out", system=self.system, maybe_committed=True
                    ) from error
                self._log_retry(attempt, "timeout")
            except httpx.ConnectError:
                # Never connected, so nothing was committed: safe to retry whatever the method.
                self._log_retry(attempt, "connect")
            except httpx.TransportError as error:
                # Dropped after sending (a read or protocol error): the system may have committed it.
                if not idempotent:
                    raise DownstreamUnavailable(
                        f"{self.system} connection lost", system=self.system, maybe_committed=True
                    ) from error
                self._log_retry(attempt, type(error).__name__)
            else:
                if not self._is_retryable(response):
                    return response
                last = response
                self._log_retry(attempt, str(response.status_code))
            if attempt < self._attempts:
                self._sleep(self._delay(attempt, last))
        if last is not None and last.status_code == 429:
            raise RateLimited(
                f"{self.system} rate limited", retry_after_seconds=retry_after_seconds(last), system=self.system
            )
        status = last.status_code if last is not None else None
        raise DownstreamUnavailable(f"{self.system} unavailable", system=self.system, status=status)

    def _delay(self, attempt: int, response: httpx.Response | None) -> float:
        retry_after = retry_after_seconds(response)
        if retry_after is not None:
            return min(retry_after, self._max_delay)
        # Full jitter: spreads retries of many consumers hitting one ERP at once.
        return random.uniform(0, min(self._max_delay, self._base_delay * 2 ** (attempt - 1)))  # noqa: S311

    def _log_retry(self, attempt: int, why: str) -> None:
        logger.warning("outbound call failed", system=self.system, attempt=attempt, why=why)

    def close(self) -> None:
        self._client.close()


def retry_after_seconds(response: httpx.Response | None) -> float | None:
    """The wait a response's ``Retry-After`` asks for, in seconds; None without one (or with an HTTP date)."""
    if response is None:
        return None
    value = response.headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
