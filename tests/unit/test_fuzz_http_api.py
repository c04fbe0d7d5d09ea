"""Fuzz the IAM-authorized API (``GET /v1/orders/{channel}/{id}``, ``POST /v1/returns``) through its handlers.

Random path and query parameters, bodies, encodings and sizes: every answer is a documented 2xx or a JSON 4xx with
an error message, never a 5xx. Fakes stand behind the ports. How to run more examples: ``tests/unit/fuzzing.py``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from aws_lambda_powertools.utilities.typing import LambdaContext
from hypothesis import event, given
from hypothesis import strategies as st

from functions.authorize_return import handler as returns_handler
from functions.authorize_return.logic import ReturnDeps
from functions.get_order import handler as orders_handler
from infra.samples import compact, load_json
from shared.models.order import Channel
from shared.models.order_state import OrderVersion
from shared.models.returns import ReturnPolicy, ReturnRequest
from tests.fakes import FakeLambdaContext, FakeOrderStore, FakePublisher
from tests.unit.fuzzing import NASTY, fuzz, json_values, mutated, random_headers, raw_bodies
from tests.unit.test_after_sale import SKU, erp_with_order, shipment
from tests.unit.test_order_journey import ORDER

CONTEXT = cast(LambdaContext, FakeLambdaContext())


def store_with_order() -> FakeOrderStore:
    store = FakeOrderStore()
    store.apply_version(
        OrderVersion(
            order_key=ORDER.key,
            channel=ORDER.channel.value,
            store=ORDER.store,
            external_id=ORDER.external_id,
            version=1,
            correlation_id="c",
            last_event_id="e",
        )
    )
    # Shipped yesterday, so a valid return passes the window and the random ones get as far as the checks.
    store.record_shipment(shipment(quantity=5).model_copy(update={"shipped_at": datetime.now(UTC) - timedelta(1)}))
    return store


def api_event(route: str, **parts: Any) -> dict[str, Any]:
    event: dict[str, Any] = load_json("apigw/http_api_v2_webhook.json")
    event["routeKey"] = route
    event["headers"] = {"content-type": "application/json"}
    event.update(parts)
    return event


def assert_json_answer(response: dict[str, Any], ok: set[int]) -> int:
    status: int = response["statusCode"]
    assert status in ok or 400 <= status < 500, response
    body = json.loads(response["body"])
    assert isinstance(body, dict)
    if status >= 400:
        assert isinstance(body.get("error"), str), body
        assert body["error"], body
    return status


# -- GET /v1/orders/{channel}/{external_id} --------------------------------------------------------------------


@pytest.fixture(scope="module")
def orders() -> Iterator[FakeOrderStore]:
    store = store_with_order()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(orders_handler, "reader", lambda: store)
        yield store


ids = st.one_of(st.text(max_size=300), st.sampled_from([ORDER.external_id, "", "x" * 256, "%2F..%2F", "a#b"]))
channels = st.one_of(st.sampled_from([c.value for c in Channel]), st.text(max_size=20))


@fuzz(100)
@given(
    path=st.one_of(
        st.none(),
        st.fixed_dictionaries({}, optional={"channel": channels, "external_id": ids}),
        st.dictionaries(st.text(max_size=10), st.text(max_size=10)),
    ),
    query=st.one_of(
        st.none(),
        st.fixed_dictionaries({}, optional={"store": st.one_of(st.text(max_size=300), st.just(ORDER.store))}),
    ),
)
def test_get_order_answers_200_or_a_json_4xx(
    orders: FakeOrderStore, path: dict[str, str] | None, query: dict[str, str] | None
) -> None:
    event = api_event("GET /v1/orders/{channel}/{external_id}", pathParameters=path, queryStringParameters=query)
    response = orders_handler.lambda_handler(event, CONTEXT)
    status = assert_json_answer(response, {200})
    found = (path or {}).get("channel") == ORDER.channel.value and (path or {}).get("external_id") == ORDER.external_id
    found = found and (query or {}).get("store", ORDER.store) == ORDER.store
    assert (status == 200) == found, response


# -- POST /v1/returns ------------------------------------------------------------------------------------------

MAX_RETURN_BODY = returns_handler.MAX_BODY_BYTES
VALID_LINE: dict[str, Any] = {"sku": SKU, "quantity": 1, "reason_code": "damaged"}
VALID_RETURN: dict[str, Any] = {
    "channel": ORDER.channel.value,
    "external_id": ORDER.external_id,
    "request_id": "req-fuzz-1",
    "lines": [VALID_LINE],
    "note": "box crushed",
}


def return_deps() -> ReturnDeps:
    return ReturnDeps(store=store_with_order(), erp=erp_with_order(), publisher=FakePublisher(), policy=ReturnPolicy())


@pytest.fixture(scope="module")
def returns() -> Iterator[ReturnDeps]:
    made = return_deps()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(returns_handler, "deps", lambda: made)
        yield made


def post_return(body: bytes, *, base64_encoded: bool, headers: dict[str, str] | None = None) -> dict[str, Any]:
    event = api_event(
        "POST /v1/returns",
        body=base64.b64encode(body).decode() if base64_encoded else body.decode("utf-8", "surrogatepass"),
        isBase64Encoded=base64_encoded,
        pathParameters=None,
    )
    event["headers"].update(headers or {})
    return returns_handler.lambda_handler(event, CONTEXT)


return_bodies = st.one_of(
    raw_bodies,
    json_values.map(lambda value: json.dumps(value).encode()),
    mutated(VALID_RETURN).map(compact),
    mutated(VALID_RETURN).map(compact),
    st.sampled_from(NASTY).map(lambda value: compact({**VALID_RETURN, "lines": [{**VALID_LINE, "quantity": value}]})),
)


@fuzz(150)
@given(body=return_bodies, base64_encoded=st.booleans(), headers=random_headers)
def test_post_returns_answers_2xx_or_a_json_4xx(
    returns: ReturnDeps, body: bytes, base64_encoded: bool, headers: dict[str, str]
) -> None:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        base64_encoded = True
    status = assert_json_answer(post_return(body, base64_encoded=base64_encoded, headers=headers), {200, 201})
    event(f"status {status}")


@fuzz(30)
@given(body=st.text(max_size=100))
def test_post_returns_with_invalid_base64_is_a_400(returns: ReturnDeps, body: str) -> None:
    event = api_event("POST /v1/returns", body=body + "!", isBase64Encoded=True)
    assert assert_json_answer(returns_handler.lambda_handler(event, CONTEXT), set()) == 400


@fuzz(12)
@given(size=st.integers(MAX_RETURN_BODY - 2, MAX_RETURN_BODY + 2) | st.integers(MAX_RETURN_BODY, 4 * MAX_RETURN_BODY))
def test_post_returns_bodies_around_the_limit(returns: ReturnDeps, size: int) -> None:
    # Whitespace after the object: valid JSON of any size (the request model forbids unknown keys).
    request = compact({**VALID_RETURN, "request_id": f"req-size-{size}"})
    padded = request + b" " * (size - len(request))
    assert len(padded) == size
    status = assert_json_answer(post_return(padded, base64_encoded=False), {200, 201})
    assert (status == 413) == (size > MAX_RETURN_BODY)


def test_a_valid_return_is_authorized() -> None:
    """The happy path the properties allow for: without it, '4xx everywhere' would pass them."""
    made = return_deps()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(returns_handler, "deps", lambda: made)
        response = post_return(compact(VALID_RETURN), base64_encoded=False)
    assert response["statusCode"] == 201, response


def test_an_oversized_return_is_a_413_before_it_is_parsed(returns: ReturnDeps) -> None:
    body = b"[" * (MAX_RETURN_BODY + 1)  # would be a recursion error, not a 413, if it were parsed
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ReturnRequest, "model_validate_json", _refuse)
        response = post_return(body, base64_encoded=True)
    assert response["statusCode"] == 413


def _refuse(*args: object) -> None:
    raise AssertionError("parsed an oversized body")
