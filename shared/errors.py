"""Typed errors. Each says whether a retry could help and which class of failure it is.

The HTTP status lives here too so that one table (``shared.http``) maps every error the same way.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorClass(StrEnum):
    VALIDATION = "validation"
    NOT_FOUND = "not_found"
    AUTH = "auth"
    RATE_LIMITED = "rate_limited"
    DOWNSTREAM_UNAVAILABLE = "downstream_unavailable"
    CONFLICT = "conflict"
    UNKNOWN = "unknown"


class CrossdockError(Exception):
    """Base of every error we raise on purpose."""

    error_class: ErrorClass = ErrorClass.UNKNOWN
    retryable: bool = False
    status_code: int = 500

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class PermanentError(CrossdockError):
    """Retrying the same input cannot help: it must be fixed, held or dead-lettered."""


class RetryableError(CrossdockError):
    """A transient failure: the same input may succeed later."""

    retryable = True


class ValidationFailed(PermanentError):
    error_class = ErrorClass.VALIDATION
    status_code = 400


class Unauthorized(PermanentError):
    error_class = ErrorClass.AUTH
    status_code = 401


class NotFound(PermanentError):
    error_class = ErrorClass.NOT_FOUND
    status_code = 404


class Unprocessable(PermanentError):
    """Well-formed, but the business rules refuse it (e.g. a return of more than shipped)."""

    error_class = ErrorClass.VALIDATION
    status_code = 422


class PayloadTooLarge(PermanentError):
    error_class = ErrorClass.VALIDATION
    status_code = 413


class UnsupportedMediaType(PermanentError):
    error_class = ErrorClass.VALIDATION
    status_code = 415


class Conflict(RetryableError):
    """The same work is in flight elsewhere; the sender should come back later."""

    error_class = ErrorClass.CONFLICT
    status_code = 409


class RateLimited(RetryableError):
    error_class = ErrorClass.RATE_LIMITED
    status_code = 429

    def __init__(self, message: str, retry_after_seconds: float | None = None, **details: Any) -> None:
        super().__init__(message, **details)
        self.retry_after_seconds = retry_after_seconds


class DownstreamUnavailable(RetryableError):
    """An AWS service or partner API failed. A 5xx here makes the platform retry, which is what we want."""

    error_class = ErrorClass.DOWNSTREAM_UNAVAILABLE
    status_code = 503


class CircuitOpen(RetryableError):
    """A breaker stopped the call: the system has kept failing, so we wait instead of adding to its load.

    ``retry_after_seconds`` is when a probe may try again. Consumers park the record until then, and the API
    answers 503 with that Retry-After.
    """

    error_class = ErrorClass.DOWNSTREAM_UNAVAILABLE
    status_code = 503

    def __init__(self, message: str, *, system: str, retry_after_seconds: float, **details: Any) -> None:
        super().__init__(message, system=system, **details)
        self.system = system
        self.retry_after_seconds = retry_after_seconds
