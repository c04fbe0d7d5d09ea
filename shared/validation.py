"""Turn a pydantic ``ValidationError`` into our ``ValidationFailed`` that names the field, and no more."""

from __future__ import annotations

from pydantic import ValidationError

from shared.errors import ValidationFailed


def as_validation_failed(error: ValidationError, what: str) -> ValidationFailed:
    first = error.errors(include_url=False, include_input=False)[0]
    if first["type"] == "json_invalid":
        return ValidationFailed("malformed JSON", detail=first["msg"])
    field = ".".join(str(part) for part in first["loc"]) or "(root)"
    # The input value is left out on purpose: it may be personal data.
    return ValidationFailed(f"invalid {what}", field=field, detail=first["msg"], problems=error.error_count())
