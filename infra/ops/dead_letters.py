"""Why a message is in a DLQ, read back from its attributes, and what the operator filters on.

Three kinds of message end up in a DLQ:
- parked by our consumers (``shared.consumer``): ``DeadLetterAttribute`` names the class, the error, the source;
- parked by EventBridge when a rule could not deliver to its target: ``ERROR_CODE``, ``ERROR_MESSAGE``,
  ``RULE_ARN``, ``TARGET_ARN``;
- moved by SQS after maxReceiveCount receives, with no attribute at all: the function crashed or timed out.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from infra.ops.queues import Message
from shared.errors import ErrorClass
from shared.models.operations import EVENTBRIDGE_ATTRIBUTES, DeadLetterReason
from shared.models.operations import DeadLetterAttribute as Attr
from shared.waiting import SINCE, WAITS

REDRIVEN_AT = "crossdock-redriven-at"
SQS_MOVED = "moved by SQS after maxReceiveCount receives: the function crashed or timed out"
# Attributes a redriven copy must not carry: the old reason, and the waiting clock (it starts fresh).
DROPPED_ON_REDRIVE = frozenset(
    {v for k, v in vars(Attr).items() if k.isupper()} | set(EVENTBRIDGE_ATTRIBUTES) | {SINCE, WAITS, REDRIVEN_AT}
)
_EVENTBRIDGE_CLASSES = (
    (("THROTTL", "RATE_EXCEEDED", "TOO_MANY", "LIMIT_EXCEEDED"), ErrorClass.RATE_LIMITED),
    (("ACCESS_DENIED", "PERMISSION", "UNAUTHORIZED", "FORBIDDEN", "KMS"), ErrorClass.AUTH),
    (("NOT_FOUND", "NON_EXISTENT", "DOES_NOT_EXIST"), ErrorClass.NOT_FOUND),
)


def classify(attributes: Mapping[str, str]) -> DeadLetterReason:
    """The reason for a dead letter, from its message attributes' string values."""
    if Attr.ERROR_CLASS in attributes:
        return _ours(attributes)
    if "ERROR_CODE" in attributes:
        return _eventbridge(attributes)
    return DeadLetterReason(error_class=ErrorClass.UNKNOWN, retryable=None, error=SQS_MOVED, parked_by="sqs")


def _ours(attributes: Mapping[str, str]) -> DeadLetterReason:
    try:
        error_class = ErrorClass(attributes[Attr.ERROR_CLASS])
    except ValueError:
        error_class = ErrorClass.UNKNOWN
    retryable = attributes.get(Attr.RETRYABLE)
    attempts = attributes.get(Attr.ATTEMPTS, "")
    failed_at = attributes.get(Attr.FAILED_AT)
    return DeadLetterReason(
        error_class=error_class,
        retryable=None if retryable is None else retryable == "true",
        error=attributes.get(Attr.ERROR, ""),
        correlation_id=attributes.get(Attr.CORRELATION_ID),
        source_queue=attributes.get(Attr.SOURCE_QUEUE),
        attempts=int(attempts) if attempts.isdigit() else None,
        failed_at=_time(failed_at),
        function=attributes.get(Attr.FUNCTION),
        parked_by="crossdock",
    )


def _eventbridge(attributes: Mapping[str, str]) -> DeadLetterReason:
    code = attributes["ERROR_CODE"]
    upper = code.upper()
    error_class = next(
        (cls for needles, cls in _EVENTBRIDGE_CLASSES if any(n in upper for n in needles)),
        ErrorClass.DOWNSTREAM_UNAVAILABLE,
    )
    message = attributes.get("ERROR_MESSAGE", "")
    rule = attributes.get("RULE_ARN", "").rsplit("/", 1)[-1]
    return DeadLetterReason(
        error_class=error_class,
        # A throttled or unreachable target may take it later; a permission or a missing target needs a fix first.
        retryable=error_class in (ErrorClass.RATE_LIMITED, ErrorClass.DOWNSTREAM_UNAVAILABLE),
        error=f"{code}: {message}" + (f" (rule {rule})" if rule else ""),
        source_queue=attributes.get("TARGET_ARN"),
        parked_by="eventbridge",
    )


def _time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


class DeadLetter(BaseModel):
    """One DLQ message as the operator sees it."""

    model_config = ConfigDict(frozen=True)

    message_id: str
    queue: str  # the DLQ's label
    reason: DeadLetterReason
    correlation_id: str | None
    sent_at: datetime | None
    detail_type: str | None
    order_key: str | None

    @classmethod
    def of(cls, message: Message) -> DeadLetter:
        reason = classify(message.strings())
        event = _event(message.body)
        detail = _mapping(event.get("detail"))
        metadata = _mapping(detail.get("metadata"))
        return cls(
            message_id=message.message_id,
            queue=message.queue.label,
            reason=reason,
            correlation_id=reason.correlation_id or _text(metadata.get("correlation_id")),
            sent_at=message.sent_at,
            detail_type=_text(event.get("detail-type")),
            order_key=_order_key(detail.get("data")),
        )


def _event(body: str) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _order_key(data: object) -> str | None:
    if not isinstance(data, dict):
        return None
    if isinstance(data.get("order_key"), str):
        return str(data["order_key"])
    parts = [data.get(k) for k in ("channel", "store", "external_id")]
    return ":".join(str(p) for p in parts) if all(isinstance(p, str | int) for p in parts) else None


def wanted(letter: DeadLetter, error_class: ErrorClass | None, correlation_id: str | None) -> bool:
    """Whether a dead letter matches the operator's filters (none given: every one)."""
    if error_class is not None and letter.reason.error_class != error_class:
        return False
    return correlation_id is None or letter.correlation_id == correlation_id


def redrive_attributes(attributes: Mapping[str, Mapping[str, Any]], now: datetime) -> dict[str, dict[str, Any]]:
    """A redriven copy's attributes: the message's own, without the dead-letter reason or waiting clock."""
    kept = {
        name: {k: v for k, v in value.items() if k in ("DataType", "StringValue", "BinaryValue")}
        for name, value in attributes.items()
        if name not in DROPPED_ON_REDRIVE
    }
    kept[REDRIVEN_AT] = {"DataType": "String", "StringValue": now.isoformat(timespec="seconds")}
    return kept
