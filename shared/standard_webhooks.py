"""Standard Webhooks, symmetric ``v1`` (standard-webhooks/standard-webhooks, ``spec/standard-webhooks.md``).

The signed content is ``{webhook-id}.{webhook-timestamp}.{raw body}``; ``webhook-signature`` is a space-separated
list of ``v1,<base64 HMAC-SHA256>`` so a sender can sign with an old and a new secret while it rotates. The
timestamp is signed, so a captured delivery replays for at most ``TOLERANCE_SECONDS``; after that the
``webhook-id`` dedupe catches it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable, Mapping, Sequence

from shared.errors import DownstreamUnavailable, Unauthorized

SECRET_PREFIX = b"whsec_"
TOLERANCE_SECONDS = 300  # the spec's reference libraries reject more than 5 minutes either way
VERSION = "v1"


def signing_key(secret: bytes) -> bytes:
    """The HMAC key of a secret.

    ``whsec_<base64>`` is the spec's serialisation, so the key is the decoded part. Anything else is used as its
    own bytes: BigCommerce keys with the app's client secret itself (its docs base64 the secret only to hand it to
    the reference library, which decodes it again).
    """
    if not secret.startswith(SECRET_PREFIX):
        return secret
    encoded = secret[len(SECRET_PREFIX) :].rstrip(b"=")
    try:
        # The reference libraries accept unpadded base64, so the padding is put back before a strict decode.
        key = base64.b64decode(encoded + b"=" * (-len(encoded) % 4), validate=True)
    except ValueError:
        key = b""
    if not key:
        # A deployment fault, like a missing secret: 5xx, so the sender retries while someone fixes it.
        raise DownstreamUnavailable("webhook secret is not valid whsec_ base64")
    return key


def sign(secret: bytes, msg_id: str, timestamp: int | str, body: bytes) -> str:
    """One ``v1,<base64>`` signature entry, as a sender puts it in ``webhook-signature``."""
    digest = _digest(signing_key(secret), msg_id, str(timestamp), body)
    return f"{VERSION},{base64.b64encode(digest).decode('ascii')}"


def verify(
    headers: Mapping[str, str],
    body: bytes,
    secrets: Sequence[bytes],
    *,
    now: Callable[[], float] = time.time,
    tolerance_seconds: int = TOLERANCE_SECONDS,
) -> None:
    """Raise ``Unauthorized`` unless one ``v1`` entry is the signature of the delivery under one of ``secrets``.

    ``headers`` has lower-case names (``WebhookRequest.headers``). The timestamp is checked first: it is cheap and
    tells ops about clock skew without saying anything about the signature.
    """
    msg_id = headers.get("webhook-id")
    timestamp = headers.get("webhook-timestamp")
    presented = _presented_signatures(headers.get("webhook-signature") or "")
    if not msg_id or not timestamp or not presented:
        raise Unauthorized("invalid signature")
    # The spec's "integer unix timestamp"; twelve digits reach the year 33658, more is an attack on int().
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        raise Unauthorized("invalid signature")
    if abs(now() - int(timestamp)) > tolerance_seconds:
        raise Unauthorized("webhook timestamp outside tolerance")
    keys = [signing_key(secret) for secret in secrets]
    matched = False
    # Every pair is compared, so the time taken says nothing about which secret or entry matched.
    for key in keys:
        expected = _digest(key, msg_id, timestamp, body)
        for signature in presented:
            matched |= hmac.compare_digest(expected, signature)
    if not matched:
        raise Unauthorized("invalid signature")


def _digest(key: bytes, msg_id: str, timestamp: str, body: bytes) -> bytes:
    return hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()


def _presented_signatures(header: str) -> list[bytes]:
    """The decoded ``v1`` entries; other versions (``v1a``: asymmetric) and malformed entries are skipped."""
    signatures = []
    for entry in header.split():
        version, _, encoded = entry.partition(",")
        if version != VERSION:
            continue
        try:
            signatures.append(base64.b64decode(encoded, validate=True))
        except ValueError:  # binascii.Error is one
            continue
    return signatures
