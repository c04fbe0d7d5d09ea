"""Fuzz every parser directly: adapters' ``verify``/``parse``, Standard Webhooks, HMAC helpers, bus envelopes.

The contract: a parser returns its result or raises a permanent ``CrossdockError`` with a 4xx status. Anything
else (a ``KeyError``, an ``OverflowError``, a pydantic error that escaped) would be a 5xx at the intake, or a
retried-then-dead-lettered message in a consumer. How to run more examples: see ``tests/unit/fuzzing.py``.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infra.samples import compact
from shared import signatures, standard_webhooks
from shared.channels.base import Delivery, Ignored, OrderBound, WebhookRequest
from shared.channels.registry import adapter_for, platforms
from shared.errors import CrossdockError, DownstreamUnavailable, PermanentError, Unauthorized
from shared.models.bus import parse_event
from shared.models.events import CONTRACTS, EventEnvelope
from tests.unit.fuzzing import (
    SAMPLES,
    SECRETS,
    TOPICS,
    fuzz,
    json_values,
    mutated,
    random_headers,
    raw_bodies,
    sample_bodies,
    signed_headers,
)
from tests.unit.test_order_journey import ORDER

SECRET_BYTES = {platform: [secret.encode()] for platform, secret in SECRETS.items()}


def lower(headers: dict[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def assert_permanent_4xx(error: BaseException) -> None:
    assert isinstance(error, PermanentError), repr(error)
    assert 400 <= error.status_code < 500
    assert error.message


def parse_checked(platform: str, request: WebhookRequest) -> None:
    """Parse, and when it succeeds, build and serialise the event as the intake would."""
    try:
        parsed = adapter_for(platform).parse(request)
    except CrossdockError as error:
        assert_permanent_4xx(error)
        return
    assert isinstance(parsed, Delivery | OrderBound | Ignored)
    if isinstance(parsed, OrderBound):
        # Built after the order is resolved: it must not fail then, the delivery was already taken.
        event: EventEnvelope[Any] = parsed.build(ORDER.key)
    elif isinstance(parsed, Delivery):
        event = parsed.event
    else:
        return
    round_trip(event)


def round_trip(event: EventEnvelope[Any]) -> None:
    """The event as the bus carries it, read back as a consumer reads it."""
    bus_event = {
        "id": "fuzz",
        "source": event.metadata.source,
        "detail-type": event.detail_type,
        "time": "2026-11-30T00:00:00Z",
        "detail": json.loads(event.model_dump_json()),
    }
    assert type(parse_event(json.dumps(bus_event), EventEnvelope)) is type(event)


@pytest.mark.parametrize("platform", platforms())
@fuzz(30)
@given(headers=random_headers, body=raw_bodies)
def test_verify_refuses_random_requests(platform: str, headers: dict[str, str], body: bytes) -> None:
    with pytest.raises(Unauthorized):
        adapter_for(platform).verify(WebhookRequest(headers=lower(headers), body=body), SECRET_BYTES[platform])


@pytest.mark.parametrize("platform", platforms())
@fuzz(30)
@given(headers=random_headers, body=raw_bodies)
def test_parse_of_random_requests_raises_only_permanent_4xx(
    platform: str, headers: dict[str, str], body: bytes
) -> None:
    parse_checked(platform, WebhookRequest(headers=lower(headers), body=body))


@pytest.mark.parametrize("platform", platforms())
@fuzz(60)
@given(data=st.data())
def test_parse_of_mutated_real_payloads_raises_only_permanent_4xx(platform: str, data: st.DataObject) -> None:
    topic, body = data.draw(sample_bodies(platform))
    if data.draw(st.booleans()):
        topic = data.draw(st.sampled_from(TOPICS.get(platform, [""])))
    headers = lower(signed_headers(platform, body, topic))
    adapter_for(platform).verify(WebhookRequest(headers=headers, body=body), SECRET_BYTES[platform])
    parse_checked(platform, WebhookRequest(headers=headers, body=body))


@pytest.mark.parametrize("platform", platforms())
def test_every_real_payload_parses(platform: str) -> None:
    """The samples the mutations start from are valid: the mutations test the parsers, not broken samples."""
    for topic, sample in SAMPLES[platform]:
        body = compact(sample)
        parsed = adapter_for(platform).parse(
            WebhookRequest(headers=lower(signed_headers(platform, body, topic)), body=body)
        )
        assert isinstance(parsed, Delivery | OrderBound | Ignored)


@pytest.mark.parametrize("platform", platforms())
@fuzz(20)
@given(headers=random_headers, body=raw_bodies)
def test_handshake_never_raises(platform: str, headers: dict[str, str], body: bytes) -> None:
    reply = adapter_for(platform).handshake(WebhookRequest(headers=lower(headers), body=body))
    assert reply is None or isinstance(reply, dict)


# -- Standard Webhooks and the HMAC helper ---------------------------------------------------------------------

sw_headers = st.fixed_dictionaries(
    {},
    optional={
        "webhook-id": st.text(max_size=40),
        "webhook-timestamp": st.one_of(st.text(max_size=20), st.integers(-(2**70), 2**70).map(str)),
        "webhook-signature": st.one_of(
            st.text(max_size=120),
            st.lists(st.binary(min_size=0, max_size=40), max_size=3).map(
                lambda sigs: " ".join("v1," + base64.b64encode(s).decode() for s in sigs)
            ),
        ),
    },
)
secrets_lists = st.lists(st.binary(min_size=1, max_size=40), min_size=1, max_size=3)


@fuzz(150)
@given(headers=sw_headers, body=raw_bodies, secrets=secrets_lists)
def test_standard_webhooks_refuses_random_deliveries(
    headers: dict[str, str], body: bytes, secrets: list[bytes]
) -> None:
    with pytest.raises(Unauthorized):
        standard_webhooks.verify(headers, body, secrets)


@fuzz(60)
@given(
    secret=st.one_of(st.binary(max_size=40), st.binary(max_size=40).map(lambda b: b"whsec_" + b)),
    msg_id=st.text(min_size=1, max_size=40),
    body=raw_bodies,
)
def test_standard_webhooks_with_any_secret_is_401_or_a_deployment_fault(
    secret: bytes, msg_id: str, body: bytes
) -> None:
    """A bad ``whsec_`` secret is ours to fix (503, the sender retries); nothing else may escape."""
    headers = {"webhook-id": msg_id, "webhook-timestamp": "1", "webhook-signature": "v1,AAAA"}
    with pytest.raises((Unauthorized, DownstreamUnavailable)):
        standard_webhooks.verify(headers, body, [secret], now=lambda: 1.0)


@fuzz(60)
@given(
    key=st.binary(min_size=1, max_size=40),
    msg_id=st.text(min_size=1, max_size=40).filter(lambda s: s.strip() == s and " " not in s),
    timestamp=st.integers(0, 10**12 - 1),
    body=raw_bodies,
    # Another live secret (rotation); a malformed whsec_ one is a deployment fault, tested above.
    others=st.lists(st.binary(min_size=1, max_size=40).filter(lambda s: not s.startswith(b"whsec_")), max_size=2),
)
def test_standard_webhooks_takes_what_it_signed(
    key: bytes, msg_id: str, timestamp: int, body: bytes, others: list[bytes]
) -> None:
    secret = b"whsec_" + base64.b64encode(key)
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": standard_webhooks.sign(secret, msg_id, timestamp, body),
    }
    standard_webhooks.verify(headers, body, [*others, secret], now=lambda: float(timestamp))
    with pytest.raises(Unauthorized):
        standard_webhooks.verify(headers, body + b" ", [*others, secret], now=lambda: float(timestamp))


@fuzz(100)
@given(
    secrets=st.lists(st.binary(max_size=40), max_size=3),
    message=st.binary(max_size=200),
    signature=st.text(max_size=80),
)
def test_matches_any_is_a_bool_for_any_signature(secrets: list[bytes], message: bytes, signature: str) -> None:
    matched = signatures.matches_any(secrets, message, signature)
    assert matched is (any(signatures.hmac_sha256_b64(s, message) == signature.strip() for s in secrets))


@fuzz(50)
@given(
    secret=st.binary(min_size=1, max_size=40), message=st.binary(max_size=200), padding=st.sampled_from(["", " ", "\n"])
)
def test_matches_any_takes_its_own_signature(secret: bytes, message: bytes, padding: str) -> None:
    signature = signatures.hmac_sha256_b64(secret, message)
    assert signatures.matches_any([b"other", secret], message, padding + signature + padding)
    assert not signatures.matches_any([b"other"], message, signature)


# -- the bus envelope ------------------------------------------------------------------------------------------


def sample_bus_events() -> list[dict[str, Any]]:
    """One real envelope per contract the samples produce, as EventBridge hands it to a queue."""
    found = []
    for platform in platforms():
        for topic, sample in SAMPLES[platform]:
            body = compact(sample)
            parsed = adapter_for(platform).parse(
                WebhookRequest(headers=lower(signed_headers(platform, body, topic)), body=body)
            )
            event = parsed.build(ORDER.key) if isinstance(parsed, OrderBound) else getattr(parsed, "event", None)
            if event is not None:
                found.append(
                    {
                        "id": "e",
                        "source": event.metadata.source,
                        "detail-type": event.detail_type,
                        "time": "2026-11-30T00:00:00Z",
                        "detail": json.loads(event.model_dump_json()),
                    }
                )
    return found


BUS_EVENTS = sample_bus_events()
bus_bodies = st.one_of(
    raw_bodies.map(lambda body: body.decode("utf-8", "replace")),
    st.sampled_from(BUS_EVENTS).flatmap(mutated).map(json.dumps),
    st.sampled_from(BUS_EVENTS).flatmap(mutated).map(json.dumps),
    st.sampled_from(BUS_EVENTS).map(json.dumps),
    st.builds(
        lambda detail_type, detail: json.dumps(
            {"id": "e", "source": "s", "detail-type": detail_type, "time": "t", "detail": detail}
        ),
        st.sampled_from(sorted(CONTRACTS)) | st.text(max_size=20),
        json_values,
    ),
)


@fuzz(200)
@given(body=bus_bodies)
def test_parse_event_raises_only_permanent_4xx(body: str) -> None:
    try:
        event = parse_event(body, EventEnvelope)
    except CrossdockError as error:
        assert_permanent_4xx(error)
        return
    assert event.detail_type in CONTRACTS
    json.loads(event.model_dump_json())
