"""Load a function's environment model once, with an error that names the missing variable."""

from __future__ import annotations

import os
from typing import TypeVar

from pydantic import BaseModel, ValidationError

EnvT = TypeVar("EnvT", bound=BaseModel)


class MisconfiguredError(RuntimeError):
    """The deployment is wrong, not the request: infra must set these variables."""


def load_env(model: type[EnvT]) -> EnvT:
    try:
        return model.model_validate(dict(os.environ))
    except ValidationError as error:
        fields = sorted({".".join(str(p) for p in e["loc"]) for e in error.errors()})
        raise MisconfiguredError(f"bad or missing environment variables: {', '.join(fields)}") from None
