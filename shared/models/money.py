"""Money as Decimal with an ISO 4217 currency: floats never touch a price."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

# Serialised as a string so no JSON reader turns it into a float on the way.
DecimalStr = Annotated[Decimal, PlainSerializer(lambda v: str(v), return_type=str, when_used="json")]
CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code")]


class Money(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    amount: DecimalStr
    currency: CurrencyCode
