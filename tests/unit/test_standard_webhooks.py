"""Standard Webhooks: the spec's published vector, a vector from the definition, rotation, tolerance, tampering."""

from __future__ import annotations

import base64

import pytest

from shared import standard_webhooks
from shared.errors import DownstreamUnavailable, Unauthorized
from tests.unit.test_signatures import hmac_sha256_by_definition

# The reference libraries' own test vector (standard-webhooks/standard-webhooks, libraries/python/tests).
SPEC_SECRET = b"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

NOW = 1_796_053_339


def headers(body: bytes, *secrets: bytes, msg_id: str = "msg_1", timestamp: int = NOW) -> dict[str, str]:
    signatures = " ".join(standard_webhooks.sign(s, msg_id, timestamp, body) for s in secrets)
    return {"webhook-id": msg_id, "webhook-timestamp": str(timestamp), "webhook-signature": signatures}


def verify(headers: dict[str, str], body: bytes, secrets: list[bytes], now: float = NOW) -> None:
    standard_webhooks.verify(headers, body, secrets, now=lambda: now)


def test_the_spec_libraries_published_vector() -> None:
    assert standard_webhooks.sign(SPEC_SECRET, SPEC_MSG_ID, SPEC_TIMESTAMP, SPEC_BODY) == SPEC_SIGNATURE
    spec_headers = {
        "webhook-id": SPEC_MSG_ID,
        "webhook-timestamp": str(SPEC_TIMESTAMP),
        "webhook-signature": SPEC_SIGNATURE,
    }
    verify(spec_headers, SPEC_BODY, [SPEC_SECRET], now=SPEC_TIMESTAMP + 10)


def test_signature_follows_the_definition() -> None:
    """HMAC-SHA256 (spelled out with hashlib) of ``{id}.{timestamp}.{body}`` under the decoded whsec_ key."""
    key = base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    content = f"{SPEC_MSG_ID}.{SPEC_TIMESTAMP}.".encode() + SPEC_BODY
    expected = "v1," + base64.b64encode(hmac_sha256_by_definition(key, content)).decode()
    assert standard_webhooks.sign(SPEC_SECRET, SPEC_MSG_ID, SPEC_TIMESTAMP, SPEC_BODY) == expected


def test_a_secret_without_the_prefix_is_its_own_key() -> None:
    """BigCommerce keys with the client secret's bytes (its docs base64 it only for the reference library)."""
    secret = b"bc-client-secret"
    content = f"{SPEC_MSG_ID}.{SPEC_TIMESTAMP}.".encode() + SPEC_BODY
    expected = "v1," + base64.b64encode(hmac_sha256_by_definition(secret, content)).decode()
    assert standard_webhooks.sign(secret, SPEC_MSG_ID, SPEC_TIMESTAMP, SPEC_BODY) == expected
    assert standard_webhooks.signing_key(secret) == secret


def test_unpadded_whsec_secrets_decode() -> None:
    key = bytes(range(16))  # 16 bytes: base64 with "==" padding
    unpadded = b"whsec_" + base64.b64encode(key).rstrip(b"=")
    assert standard_webhooks.signing_key(unpadded) == key


@pytest.mark.parametrize("secret", [b"whsec_", b"whsec_!!!not base64!!!", b"whsec_a"])
def test_a_malformed_whsec_secret_is_a_deployment_fault(secret: bytes) -> None:
    with pytest.raises(DownstreamUnavailable):
        standard_webhooks.signing_key(secret)


def test_either_of_two_configured_secrets_verifies() -> None:
    old, new = b"whsec_" + base64.b64encode(b"o" * 24), b"whsec_" + base64.b64encode(b"n" * 24)
    verify(headers(b"{}", old), b"{}", [new, old])
    verify(headers(b"{}", new), b"{}", [new, old])
    with pytest.raises(Unauthorized):
        verify(headers(b"{}", old), b"{}", [new])


def test_a_sender_rotating_signs_twice_and_either_entry_verifies() -> None:
    old, new = b"old-secret", b"new-secret"
    both = headers(b"{}", old, new)
    assert len(both["webhook-signature"].split()) == 2
    verify(both, b"{}", [old])
    verify(both, b"{}", [new])


def test_other_versions_and_junk_entries_are_ignored() -> None:
    valid = headers(b"{}", b"s")["webhook-signature"]
    forged = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="
    signed = headers(b"{}", b"s")
    signed["webhook-signature"] = f"{forged} v2,{valid[3:]} v1a,xyz junk v1,%%% {valid} {forged}"
    verify(signed, b"{}", [b"s"])


@pytest.mark.parametrize("signature", ["v2,{sig}", "v1a,{sig}", "{sig}", "v1 {sig}", "V1,{sig}"])
def test_the_right_signature_under_another_version_does_not_verify(signature: str) -> None:
    signed = headers(b"{}", b"s")
    signed["webhook-signature"] = signature.format(sig=signed["webhook-signature"][3:])
    with pytest.raises(Unauthorized):
        verify(signed, b"{}", [b"s"])


@pytest.mark.parametrize("skew", [-300, -1, 0, 1, 300])
def test_timestamps_within_five_minutes_either_way_verify(skew: int) -> None:
    verify(headers(b"{}", b"s", timestamp=NOW + skew), b"{}", [b"s"])


@pytest.mark.parametrize("skew", [-301, 301, -86_400, 86_400])
def test_stale_or_future_timestamps_are_refused(skew: int) -> None:
    with pytest.raises(Unauthorized, match="tolerance"):
        verify(headers(b"{}", b"s", timestamp=NOW + skew), b"{}", [b"s"])


@pytest.mark.parametrize(
    "tamper",
    [
        lambda h, b: (h, b + b" "),
        lambda h, b: (h, b.replace(b"1", b"2")),
        lambda h, b: ({**h, "webhook-id": "msg_2"}, b),
        lambda h, b: ({**h, "webhook-timestamp": str(NOW + 1)}, b),
    ],
)
def test_any_change_to_body_id_or_timestamp_breaks_the_signature(tamper) -> None:  # type: ignore[no-untyped-def]
    body = b'{"id":1}'
    tampered_headers, tampered_body = tamper(headers(body, b"s"), body)
    with pytest.raises(Unauthorized, match="invalid signature"):
        verify(tampered_headers, tampered_body, [b"s"])


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_a_missing_header_is_unauthorized(missing: str) -> None:
    signed = headers(b"{}", b"s")
    del signed[missing]
    with pytest.raises(Unauthorized):
        verify(signed, b"{}", [b"s"])


@pytest.mark.parametrize("timestamp", ["hello", "1796053339.0", "-1796053339", "", " 1796053339", "١٢٣"])
def test_a_timestamp_that_is_not_an_integer_is_unauthorized(timestamp: str) -> None:
    signed = headers(b"{}", b"s")
    signed["webhook-timestamp"] = timestamp
    with pytest.raises(Unauthorized):
        verify(signed, b"{}", [b"s"])


def test_no_secret_verifies_nothing() -> None:
    with pytest.raises(Unauthorized):
        verify(headers(b"{}", b"s"), b"{}", [])
