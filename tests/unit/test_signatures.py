"""Signature vectors: a known vector from the algorithm's definition, rotation, and tampering."""

from __future__ import annotations

import base64
import hashlib

import pytest

from shared.channels.base import WebhookRequest
from shared.channels.shopify.adapter import ShopifyAdapter
from shared.errors import Unauthorized
from shared.signatures import hmac_sha256_b64, matches_any


def hmac_sha256_by_definition(key: bytes, message: bytes) -> bytes:
    """RFC 2104 spelled out with hashlib alone, independent of the ``hmac`` module under test."""
    block = 64
    if len(key) > block:
        key = hashlib.sha256(key).digest()
    key = key.ljust(block, b"\0")
    inner = hashlib.sha256(bytes(k ^ 0x36 for k in key) + message).digest()
    return hashlib.sha256(bytes(k ^ 0x5C for k in key) + inner).digest()


def test_rfc4231_case_2_vector() -> None:
    expected_hex = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    assert base64.b64decode(hmac_sha256_b64(b"Jefe", b"what do ya want for nothing?")).hex() == expected_hex


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (b"shpss_0123456789abcdef", b'{"id":1}'),
        (b"k" * 200, b"long key is hashed first"),
        (b"", b"empty key"),
        (b"\x00\xff binary", "unicode \u00e9\u4e2d".encode()),
    ],
)
def test_matches_the_definition(key: bytes, message: bytes) -> None:
    assert hmac_sha256_b64(key, message) == base64.b64encode(hmac_sha256_by_definition(key, message)).decode()


def test_any_of_two_rotating_secrets_verifies() -> None:
    body = b'{"id":42}'
    old, new = b"old-secret", b"new-secret"
    assert matches_any([new, old], body, hmac_sha256_b64(old, body))
    assert matches_any([new, old], body, hmac_sha256_b64(new, body))
    assert not matches_any([new], body, hmac_sha256_b64(old, body))


@pytest.mark.parametrize("signature", ["", "   ", "not-base64!", "AAAA", "\u00e9\u00e9"])
def test_garbage_signatures_do_not_match(signature: str) -> None:
    assert not matches_any([b"secret"], b"body", signature)


def _shopify_request(body: bytes, signature: str | None) -> WebhookRequest:
    headers = {"x-shopify-topic": "orders/create"}
    if signature is not None:
        headers["x-shopify-hmac-sha256"] = signature
    return WebhookRequest(headers=headers, body=body)


def test_shopify_verifies_raw_bytes_not_reserialised_json() -> None:
    body = b'{"id": 1,  "total_price": "10.00"}'
    ShopifyAdapter().verify(_shopify_request(body, hmac_sha256_b64(b"s", body)), [b"s"])
    reserialised = b'{"id":1,"total_price":"10.00"}'
    with pytest.raises(Unauthorized):
        ShopifyAdapter().verify(_shopify_request(reserialised, hmac_sha256_b64(b"s", body)), [b"s"])


@pytest.mark.parametrize("signature", [None, "", "c2lnbmF0dXJl"])
def test_shopify_rejects_missing_or_wrong_signature(signature: str | None) -> None:
    with pytest.raises(Unauthorized):
        ShopifyAdapter().verify(_shopify_request(b"{}", signature), [b"secret"])
