"""Aware datetimes that every later step can use: they convert to UTC and leave room for a window to be added.

Pydantic's ``AwareDatetime`` takes ``0001-01-01T00:00:00+14:00``, which has no UTC equivalent, and
``9999-12-31``, to which no return window can be added: both would raise ``OverflowError`` in a consumer, long
after the intake accepted them. Here they fail validation where they come in (found by the fuzz tests).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import pydantic
from pydantic import AfterValidator

# Generous either way: no order, shipment or stock report is dated outside these years.
MIN_YEAR = 1900
MAX_YEAR = 9000


def _usable(value: datetime) -> datetime:
    try:
        in_utc = value.astimezone(UTC)
    except OverflowError:
        raise ValueError("datetime out of range") from None
    if not MIN_YEAR <= in_utc.year <= MAX_YEAR:
        raise ValueError(f"datetime outside the years {MIN_YEAR}-{MAX_YEAR}")
    return value


AwareDatetime = Annotated[pydantic.AwareDatetime, AfterValidator(_usable)]
