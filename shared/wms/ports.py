"""What Crossdock needs from a WMS or 3PL. ``shared/wms/shipbob.py`` implements it against ShipBob's API."""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from shared.models.lifecycle import FulfillmentRequest


class WmsOrder(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    reference_id: str
    status: str
    created: bool  # False when the release had already been made (a retry found it)


class WmsCancelOutcome(StrEnum):
    CANCELLED = "cancelled"
    TOO_LATE = "too_late"  # already shipped
    NOT_FOUND = "not_found"


class Wms(Protocol):
    def release(self, request: FulfillmentRequest) -> WmsOrder:
        """Create the fulfillment order once per ``request.reference_id``; a retry returns the existing one."""

    def cancel(self, reference_id: str) -> WmsCancelOutcome: ...
