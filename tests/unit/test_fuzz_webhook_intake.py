"""Fuzz ``POST /v1/webhooks/{platform}`` through its Lambda handler: hostile input gets a JSON 4xx, never a 5xx.

The handler runs in-process on an API Gateway HTTP API (payload 2.0) event, with fakes behind its ports (the moto
wiring is covered by tests/integration/*_intake.py). Random requests must fail the signature check (401) before
any parsing; validly signed random and mutated bodies reach the parsers, which must answer 4xx or the documented
200/202. How to run more examples: see ``tests/unit/fuzzing.py``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any, cast

import pytest
from aws_lambda_powertools.utilities.typing import LambdaContext
from hypothesis import event, given
from hypothesis import strategies as st

from functions.receive_webhook import handler
from functions.receive_webhook.logic import IntakeDeps
from infra.samples import compact, http_api_event, shopify_payload
from shared.channels.base import WebhookRequest
from shared.channels.registry import adapter_for, platforms
from shared.channels.shopify.adapter import ShopifyAdapter
from tests.fakes import FakeLambdaContext, FakeOrderStore, FakePublisher, FakeSecrets, InMemoryPersistence
from tests.unit.fuzzing import (
    REFERENCES,
    SECRETS,
    TOPICS,
    fuzz,
    json_values,
    random_headers,
    raw_bodies,
    sample_bodies,
    signed_headers,
)
from tests.unit.test_order_journey import ORDER

LIMIT = 32 * 1024  # the fakes' body limit: above every sample, small enough that bodies beyond it are cheap
ACKS = {200, 202}


def intake_deps(max_body_bytes: int = LIMIT) -> IntakeDeps:
    references = FakeOrderStore()
    for reference in REFERENCES[::2]:  # half of them known: both the resolved and the "not ours" paths run
        references.remember_reference(reference, ORDER.key)
    return IntakeDeps(
        secrets=FakeSecrets(**{platform: [secret] for platform, secret in SECRETS.items()}),
        publisher=FakePublisher(),
        persistence=InMemoryPersistence(),
        references=references,
        max_body_bytes=max_body_bytes,
    )


@pytest.fixture(scope="module")
def deps() -> Iterator[IntakeDeps]:
    made = intake_deps()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(handler, "deps", lambda: made)
        yield made


def invoke(platform: str, headers: dict[str, str], body: bytes, *, base64_encoded: bool = False) -> dict[str, Any]:
    event = http_api_event("shopify", headers, b"", base64_encoded=False)
    event["pathParameters"] = {"platform": platform}
    event["isBase64Encoded"] = base64_encoded
    event["body"] = base64.b64encode(body).decode() if base64_encoded else body.decode("utf-8", "surrogatepass")
    return call(event)


def call(event: dict[str, Any]) -> dict[str, Any]:
    response = handler.lambda_handler(event, cast(LambdaContext, FakeLambdaContext()))
    assert_json_answer(response)
    return response


def assert_json_answer(response: dict[str, Any]) -> None:
    """A status we document, a JSON object body, and an error message on every refusal."""
    status = response["statusCode"]
    assert status in ACKS or 400 <= status < 500, response
    assert response["headers"]["content-type"] == "application/json"
    body = json.loads(response["body"])
    assert isinstance(body, dict)
    if status >= 400:
        assert isinstance(body.get("error"), str), body
        assert body["error"], body


def is_ping(platform: str, headers: dict[str, str], body: bytes) -> bool:
    request = WebhookRequest(headers={k.lower(): v for k, v in headers.items()}, body=body)
    return platform == "woocommerce" and adapter_for(platform).handshake(request) is not None


known_platforms = st.sampled_from(platforms())
any_platform = st.one_of(known_platforms, st.text(max_size=20), st.sampled_from(["", "Shopify", "shopify/", "../"]))


@fuzz(200)
@given(platform=any_platform, headers=random_headers, body=raw_bodies, base64_encoded=st.booleans())
def test_unsigned_requests_are_refused_before_parsing(
    deps: IntakeDeps, platform: str, headers: dict[str, str], body: bytes, base64_encoded: bool
) -> None:
    if not base64_encoded and _not_utf8(body):
        base64_encoded = True  # API Gateway base64-encodes what is not text
    response = invoke(platform, headers, body, base64_encoded=base64_encoded)
    status = response["statusCode"]
    if platform not in platforms():
        assert status == 404
    elif len(body) > LIMIT:
        assert status == 413
    elif is_ping(platform, headers, body):
        assert status == 200
    else:
        assert status == 401, response


@fuzz(50)
@given(platform=st.one_of(known_platforms, st.text(max_size=8)), body=st.text(max_size=200), headers=random_headers)
def test_invalid_base64_is_a_400(deps: IntakeDeps, platform: str, body: str, headers: dict[str, str]) -> None:
    event = http_api_event("shopify", headers, b"")
    event.update(pathParameters={"platform": platform}, isBase64Encoded=True, body=body + "!")
    assert call(event)["statusCode"] in {400, 404}


@fuzz(30)
@given(
    event=st.fixed_dictionaries(
        {},
        optional={
            "pathParameters": st.one_of(st.none(), st.dictionaries(st.text(max_size=10), st.text(max_size=10))),
            "headers": st.one_of(st.none(), random_headers),
            "body": st.one_of(st.none(), st.text(max_size=50)),
            "isBase64Encoded": st.one_of(st.none(), st.booleans()),
        },
    )
)
def test_events_missing_any_part_get_a_4xx(deps: IntakeDeps, event: dict[str, Any]) -> None:
    call(event)


def signed_bodies(platform: str) -> st.SearchStrategy[tuple[str, bytes]]:
    topics = st.sampled_from(TOPICS.get(platform, [""]))
    random_json = st.tuples(topics, json_values.map(lambda value: json.dumps(value).encode()))
    return st.one_of(sample_bodies(platform), sample_bodies(platform), random_json, st.tuples(topics, raw_bodies))


@fuzz(200)
@given(data=st.data(), platform=known_platforms, base64_encoded=st.booleans())
def test_signed_random_bodies_reach_the_parsers_and_get_4xx_or_an_ack(
    deps: IntakeDeps, data: st.DataObject, platform: str, base64_encoded: bool
) -> None:
    topic, body = data.draw(signed_bodies(platform))
    if not base64_encoded and _not_utf8(body):
        base64_encoded = True
    headers = signed_headers(platform, body, topic)
    extra = data.draw(st.dictionaries(st.sampled_from(["content-type", "content-encoding", "x-portal-id"]), st.text()))
    response = invoke(platform, {**headers, **extra}, body, base64_encoded=base64_encoded)
    event(f"{platform} {response['statusCode']}")  # --hypothesis-show-statistics: how far the bodies got
    if len(body) > LIMIT:
        assert response["statusCode"] == 413
    else:
        assert response["statusCode"] != 401, response  # signed: the parser ran


@fuzz(15)
@given(platform=known_platforms, data=st.data())
def test_bodies_around_the_limit(deps: IntakeDeps, platform: str, data: st.DataObject) -> None:
    """A valid delivery padded to the limit is taken; one byte more is a 413, however well signed."""
    topic, body = data.draw(sample_bodies(platform).filter(lambda pair: pair[1].startswith(b"{")))
    size = data.draw(st.integers(LIMIT - 2, LIMIT + 2) | st.integers(LIMIT, 4 * LIMIT))
    padded = _padded(body, size)
    if len(padded) != size:
        assert len(body) > LIMIT - 16  # only a sample mutated to near the limit is too big to pad
        return
    response = invoke(platform, signed_headers(platform, padded, topic), padded)
    if size > LIMIT:
        assert response["statusCode"] == 413
        assert json.loads(response["body"])["error"] == "body too large"
    else:
        assert response["statusCode"] != 413


def _padded(body: bytes, size: int) -> bytes:
    """``body`` (a JSON object) with an unknown key that makes it ``size`` bytes: the parsers ignore unknown keys."""
    head, comma = b'{"_pad":"', b"," if body.strip() != b"{}" else b""
    filler = size - (len(body) - 1) - len(head) - 1 - len(comma)
    padded = head + b"x" * max(filler, 0) + b'"' + comma + body[1:]
    assert len(padded) == size or filler < 0
    return padded


# -- oversized bodies never reach verification or parsing -----------------------------------------------------


def _refuse(*args: object) -> None:
    raise AssertionError("called on an oversized body")


def test_an_oversized_body_is_a_413_before_the_signature_or_the_parser_runs(deps: IntakeDeps) -> None:
    # Signed, and it would blow up json if parsed: only the size check may answer.
    body = b"[" * (LIMIT + 1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ShopifyAdapter, "verify", _refuse)
        patch.setattr(ShopifyAdapter, "parse", _refuse)
        response = invoke("shopify", signed_headers("shopify", body, "orders/create"), body)
    assert response["statusCode"] == 413


def test_the_default_limit_is_two_mebibytes_and_a_byte_more_is_refused() -> None:
    made = intake_deps(max_body_bytes=IntakeDeps.max_body_bytes)
    body = _padded(compact(shopify_payload()), 2 * 1024 * 1024 + 1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(handler, "deps", lambda: made)
        patch.setattr(ShopifyAdapter, "parse", _refuse)
        response = invoke("shopify", signed_headers("shopify", body, "orders/create"), body, base64_encoded=True)
    assert response["statusCode"] == 413
    assert made.publisher.events == []  # type: ignore[attr-defined]


def test_a_valid_signed_delivery_is_accepted(deps: IntakeDeps) -> None:
    """The happy path the properties allow for: without it, '401 everywhere' would pass them."""
    body = compact(shopify_payload())
    response = invoke("shopify", signed_headers("shopify", body, "orders/create"), body)
    assert response["statusCode"] == 202


def _not_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False
