"""One lazily created client per service per container.

Clients are created on first use, never at import: that keeps INIT short, and lets tests start moto first.
Endpoints come from the standard ``AWS_ENDPOINT_URL_<SERVICE>`` variables, which is how the local stack
points functions at its emulators with no code path of its own.
"""

from __future__ import annotations

import functools
from typing import Any

# Shopify gives a webhook 5 s end to end, so no single AWS call may hang for long.
_TIMEOUTS: dict[str, Any] = {
    "connect_timeout": 1,
    "read_timeout": 3,
    "retries": {"mode": "standard", "max_attempts": 3},
}


@functools.cache
def client(service: str) -> Any:
    # Imported here, not at the top: botocore's session, client and config modules take about 90 ms to import
    # (make bench), and the first AWS call pays them instead of INIT. botocore, not boto3: boto3 brings s3transfer
    # along (about 20 ms more).
    import botocore.session
    from botocore.config import Config

    return botocore.session.Session().create_client(service, config=Config(**_TIMEOUTS))


def reset() -> None:
    """Forget every client, e.g. after the environment changed under a test."""
    client.cache_clear()
