"""What the channel API clients (``shared/channels/<platform>/api.py``) share.

``OutboundClient`` has already retried what a retry can fix; what comes back here is an answer to read in our
own terms: a status turned into a typed error, a body validated before anything trusts it (partner responses
are untrusted input), and ids and times checked before they go into a URL or a query.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from shared.errors import DownstreamUnavailable, NotFound, RateLimited, Unauthorized, ValidationFailed
from shared.models.lifecycle import ChannelStatus, Reason
from shared.validation import as_validation_failed

ModelT = TypeVar("ModelT", bound=BaseModel)

_NUMERIC_ID = re.compile(r"[1-9][0-9]{0,19}")
_ERROR_DETAIL_CHARS = 300


def check(response: httpx.Response, system: str) -> None:
    """Raise the typed error for a non-2xx answer. 5xx and 429 only get here once ``OutboundClient`` gave up."""
    status = response.status_code
    if status < 300:
        return
    if status in (401, 403):
        raise Unauthorized(f"{system} refused the credentials", system=system, status=status)
    if status == 404:
        raise NotFound(f"{system} has no such resource", system=system)
    if status == 429:
        raise RateLimited(f"{system} rate limited", system=system)
    if status >= 500:
        raise DownstreamUnavailable(f"{system} unavailable", system=system, status=status)
    # A 4xx is our request being wrong in the platform's eyes: retrying the same request cannot help.
    raise ValidationFailed(
        f"{system} refused the request", system=system, status=status, detail=response.text[:_ERROR_DETAIL_CHARS]
    )


def parse(model: type[ModelT], response: httpx.Response, what: str) -> ModelT:
    """The body as ``model``; a body that does not fit is a ``ValidationFailed`` naming the field."""
    try:
        return model.model_validate_json(response.content)
    except ValidationError as error:
        raise as_validation_failed(error, what) from None


def numeric_id(external_id: str, system: str) -> str:
    """Every channel here numbers its orders; anything else must not reach a URL path."""
    if not _NUMERIC_ID.fullmatch(external_id):
        raise ValidationFailed(f"not a {system} order id", field="external_id")
    return external_id


def as_utc(moment: datetime) -> datetime:
    """A naive time is ambiguous across a shop's time zone and ours, so it is refused rather than guessed."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValidationFailed("a time zone is required", field="since")
    return moment.astimezone(UTC)


def required(settings: dict[str, str], key: str, where: str) -> str:
    """A connection value the client cannot work without; a missing one is a deployment fault, named."""
    value = settings.get(key)
    if not value:
        raise ValidationFailed("connection is missing a value", field=f"{where}.{key}")
    return value


def status_note(status: ChannelStatus, reasons: Sequence[Reason]) -> str:
    """The private note a person in the channel's admin reads: the status, then each reason."""
    lines = [f"Crossdock: {status.value.replace('_', ' ')}."]
    for reason in reasons:
        where = f" (line {reason.line_id})" if reason.line_id else ""
        lines.append(f"- {reason.code}: {reason.message}{where}")
    return "\n".join(lines)
