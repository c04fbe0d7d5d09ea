"""An EventBridge event as a rule delivers it to a queue target: the envelope around one of our contracts."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.errors import ValidationFailed
from shared.models.events import CONTRACTS, EventEnvelope, OrderEvent
from shared.validation import as_validation_failed

EventT = TypeVar("EventT", bound=EventEnvelope[Any])


class BusEvent(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    id: str
    source: str
    detail_type: str = Field(alias="detail-type")
    time: str
    detail: dict[str, Any]


def parse_event(body: str, expected: type[EventT] | tuple[type[EventT], ...]) -> EventT:
    """Parse a queued bus event by its detail-type's contract, and insist it is one this consumer takes."""
    try:
        envelope = BusEvent.model_validate_json(body)
    except ValidationError as error:
        raise as_validation_failed(error, "bus event") from None
    contract = CONTRACTS.get(envelope.detail_type)
    if contract is None or not issubclass(contract, expected):
        raise ValidationFailed("unexpected detail-type", field="detail-type", detail=envelope.detail_type[:64])
    try:
        event = contract.model_validate(envelope.detail)
    except ValidationError as error:
        raise as_validation_failed(error, envelope.detail_type) from None
    assert isinstance(event, expected)
    return event


def parse_order_event(body: str) -> OrderEvent:
    return parse_event(body, OrderEvent)
