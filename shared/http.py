"""API Gateway (HTTP API, payload 2.0) in and out, and the one table that maps errors to responses."""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Callable, Mapping
from typing import Any

from shared.channels.base import WebhookRequest
from shared.errors import CrossdockError, ValidationFailed
from shared.observability import failure_fields, logger

JSON_HEADERS = {"content-type": "application/json"}


def webhook_request(event: Mapping[str, Any]) -> WebhookRequest:
    """The raw bytes as the sender signed them: API Gateway base64-encodes bodies it deems binary."""
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise ValidationFailed("body is not valid base64") from None
    else:
        raw = body.encode("utf-8", errors="surrogatepass")
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    return WebhookRequest(headers=headers, body=raw)


def json_response(status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {**JSON_HEADERS, **(headers or {})},
        "body": json.dumps(body, default=str),
    }


def error_response(error: CrossdockError) -> dict[str, Any]:
    body: dict[str, Any] = {"error": error.message, "error_class": error.error_class.value}
    field = error.details.get("field")
    if field:
        body["field"] = field
    detail = error.details.get("detail")
    if detail and error.status_code < 500:
        body["detail"] = detail
    headers = {}
    retry_after = getattr(error, "retry_after_seconds", None)
    if retry_after is None:
        retry_after = error.details.get("retry_after_seconds")
    if retry_after is not None:
        # Whole seconds, rounded up: a client told "0" for a wait of 0.4 s would come back too early.
        headers["retry-after"] = str(max(0, math.ceil(retry_after)))
    return json_response(error.status_code, body, headers)


def handle_errors(call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run ``call`` and map what it raises: 4xx for bad input, 5xx only when something downstream failed."""
    try:
        return call()
    except CrossdockError as error:
        log = logger.warning if error.status_code < 500 else logger.error
        log(
            "request failed",
            status=error.status_code,
            error_class=error.error_class.value,
            reason=error.message,
            **{k: v for k, v in error.details.items() if k in _LOGGABLE},
        )
        return error_response(error)
    except Exception as error:
        # The type and the frames, not the text: an exception's message can quote the request body.
        logger.error("unhandled error", **failure_fields(error))
        return json_response(500, {"error": "internal error", "error_class": "unknown"})


# Detail keys safe to log: none of them can hold a secret or personal data.
_LOGGABLE = frozenset({"field", "platform", "topic", "bytes", "limit", "failed", "error_codes", "error", "problems"})
