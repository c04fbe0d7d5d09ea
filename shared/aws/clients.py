"""One lazily created client per service per container.

Clients are created on first use, never at import: that keeps INIT short, and lets tests start moto first.
Endpoints come from the standard ``AWS_ENDPOINT_URL_<SERVICE>`` variables, which is how the local stack
points functions at its emulators with no code path of its own.
"""

from __future__ import annotations

import functools
from typing import Any

import boto3
from botocore.config import Config

# Shopify gives a webhook 5 s end to end, so no single AWS call may hang for long.
_CONFIG = Config(connect_timeout=1, read_timeout=3, retries={"mode": "standard", "max_attempts": 3})


@functools.cache
def client(service: str) -> Any:
    return boto3.session.Session().client(service, config=_CONFIG)  # type: ignore[call-overload]


def reset() -> None:
    """Forget every client, e.g. after the environment changed under a test."""
    client.cache_clear()
