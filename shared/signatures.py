"""HMAC helpers shared by the channel adapters. Comparison is always constant time."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence


def hmac_sha256_b64(secret: bytes, message: bytes) -> str:
    return base64.b64encode(hmac.new(secret, message, hashlib.sha256).digest()).decode("ascii")


def matches_any(secrets: Sequence[bytes], message: bytes, signature: str) -> bool:
    """True when ``signature`` is the base64 HMAC-SHA256 of ``message`` under any of ``secrets``.

    Every secret is tried even after a match, so the time taken says nothing about which one matched.
    """
    presented = signature.strip().encode("ascii", errors="replace")
    matched = False
    for secret in secrets:
        expected = hmac_sha256_b64(secret, message).encode("ascii")
        matched |= hmac.compare_digest(expected, presented)
    return matched
