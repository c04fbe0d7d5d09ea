"""What the fuzz tests (``tests/unit/test_fuzz_*.py``) share: settings, hostile inputs, signed deliveries.

CI runs a small, fixed number of examples per test, derandomized: every run tries the same inputs, so a failure
reproduces and the suite stays fast. To fuzz harder locally, with a random seed and 50 times the examples:

    HYPOTHESIS_PROFILE=fuzz-deep .venv/bin/pytest -q tests/unit/test_fuzz_*.py --hypothesis-show-statistics

(``FUZZ_SCALE=<n>`` sets another multiplier.) Hypothesis prints the failing example and stores it in
``.hypothesis/``, so the next run tries it first; keep it as a plain example test once the bug is fixed.
"""

from __future__ import annotations

import copy
import json
import os
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from infra.samples import (
    b2b_portal_payload,
    bigcommerce_delivery,
    bigcommerce_payload,
    compact,
    load_json,
    shopify_delivery,
    shopify_payload,
    standard_webhooks_headers,
    wms_delivery,
    woocommerce_delivery,
    woocommerce_payload,
)
from shared.channels.registry import platforms
from shared.signatures import hmac_sha256_b64

DEEP = os.environ.get("HYPOTHESIS_PROFILE") == "fuzz-deep"
SCALE = int(os.environ.get("FUZZ_SCALE", "50" if DEEP else "1"))


def fuzz(examples: int) -> settings:
    """``examples`` in CI (derandomized, no deadline: a cold import must not fail a test), more when asked."""
    checks = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
    if DEEP:
        return settings(max_examples=examples * SCALE, deadline=None, suppress_health_check=checks)
    # No example database in CI: derandomized runs replay nothing, and .hypothesis/ stays out of the tree.
    return settings(
        max_examples=examples * SCALE, deadline=None, derandomize=True, database=None, suppress_health_check=checks
    )


# -- secrets, one per platform, as ops would store them ---------------------------------------------------------

SECRETS: dict[str, str] = {
    "shopify": "shpss_fuzz_current",
    "bigcommerce": "bc_fuzz_client_secret",
    "woocommerce": "wc_fuzz_webhook_secret",
    "b2b_portal": "whsec_ZnV6ei1wb3J0YWwta2V5LTAxMjM0NTY3ODk=",
    "wms": "whsec_ZnV6ei13bXMta2V5LTAxMjM0NTY3ODlhYmM=",
    "carrier": "aftership_fuzz_secret",
}
assert set(SECRETS) == set(platforms()), "a new platform needs a fuzz secret and sample"

# -- hostile values ---------------------------------------------------------------------------------------------

# Values that broke parsers elsewhere: limits of ints, decimals, dates and strings, and the wrong types.
NASTY: list[Any] = [
    None,
    True,
    0,
    -1,
    2**31,
    2**63,
    -(2**63) - 1,
    10**40,
    1e308,
    -1e-308,
    "",
    " ",
    "0",
    "-0",
    "1e999999",
    "-1e-999999",
    "NaN",
    "Infinity",
    "-Infinity",
    "1" * 5000,
    "x" * 300,
    "\u0000",
    "\ud7ff\ue000",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "2026-02-30T00:00:00Z",
    "2026-11-28T14:14:04",
    [],
    {},
    [None],
    {"": None},
]

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.sampled_from(NASTY),
)
json_values: st.SearchStrategy[Any] = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
# Arbitrary bytes, text, and JSON documents of random shape.
raw_bodies = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300).map(lambda text: text.encode("utf-8", errors="surrogatepass")),
    json_values.map(lambda value: json.dumps(value).encode()),
    st.sampled_from([b"", b"{", b"[" * 5000, b'{"a":' * 300, b"null", b"\xff\xfe", b"\x1f\x8b\x08\x00"]),
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found.extend(_paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(_paths(value, (*prefix, index)))
    return found


def sample_value(document: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        document = document[step]
    return document


def _mutate(document: Any, path: tuple[Any, ...], action: str, value: Any) -> Any:
    if not path:
        return value
    parent = document
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if action == "delete":
        del parent[last]
    elif action == "wrap":
        parent[last] = [parent[last]]
    else:
        parent[last] = value
    return document


NASTY_DATES = [value for value in NASTY if isinstance(value, str) and value[:1].isdigit() and "T" in value]
NASTY_NUMBERS: list[Any] = [0, -1, 2**63, 10**40, 1e308, "1e999999", "-1e-999999", "NaN", "-0", "1" * 5000, "0.000001"]
NASTY_NUMBER_STRINGS = [str(number) for number in NASTY_NUMBERS]


def _same_kind(value: Any) -> list[Any]:
    """Extreme values of the kind already there: they pass the type check and test what comes after it."""
    if isinstance(value, str) and len(value) >= 10 and value[:4].isdigit() and value[4:5] == "-":
        return NASTY_DATES
    if isinstance(value, int | float) and not isinstance(value, bool):
        return NASTY_NUMBERS
    if isinstance(value, str) and value.replace(".", "", 1).lstrip("-").isdigit():
        return NASTY_NUMBER_STRINGS
    return NASTY


@st.composite
def mutated(draw: st.DrawFn, sample: Any) -> Any:
    """A real payload with one to three nodes changed: replaced by any JSON, by an extreme value of the same kind
    (dates, amounts), deleted or wrapped. It gets past the first checks, so the mapping behind them runs too."""
    document = copy.deepcopy(sample)
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(document)
        action = draw(st.sampled_from(["replace", "date", "number", "delete", "wrap"]))
        if action in {"date", "number"}:
            # Aimed at the dates and amounts: a handful among hundreds of nodes, where overflows hide.
            kinds = [NASTY_DATES] if action == "date" else [NASTY_NUMBERS, NASTY_NUMBER_STRINGS]
            aimed = [path for path in paths if any(_same_kind(sample_value(document, path)) is k for k in kinds)]
            path = draw(st.sampled_from(aimed or paths))
            value = draw(st.sampled_from(_same_kind(sample_value(document, path))))
            action = "replace"
        else:
            path = draw(st.sampled_from(paths))
            value = draw(json_values)
        document = _mutate(document, path, action, value)
    return document


# -- real payloads and their topics, per platform ---------------------------------------------------------------

WMS_SAMPLES = {
    "inventory.snapshot": "inventory_snapshot",
    "inventory.adjusted": "inventory_adjusted",
    "order.shipped": "order_shipped",
    "order.shipment.status.updated": "order_shipment_status_updated",
    "order.shipment.delivered": "order_shipment_delivered",
    "return.completed": "return_completed",
}
SAMPLES: dict[str, list[tuple[str, Any]]] = {
    "shopify": [
        ("orders/create", shopify_payload("orders_create")),
        ("orders/updated", shopify_payload("orders_updated")),
        ("orders/cancelled", shopify_payload("orders_cancelled")),
    ],
    "bigcommerce": [
        ("", bigcommerce_payload("webhook_order_created")),
        ("", bigcommerce_payload("webhook_order_updated")),
    ],
    "woocommerce": [
        ("order.created", woocommerce_payload()),
        ("order.updated", woocommerce_payload()),
        ("order.deleted", {"id": woocommerce_payload()["id"]}),
    ],
    "b2b_portal": [(name, b2b_portal_payload(name)) for name in ("order_created", "order_updated", "order_cancelled")],
    "wms": [(topic, load_json(f"wms/{name}.json")) for topic, name in WMS_SAMPLES.items()],
    "carrier": [("", load_json("carrier/tracking_update.json"))],
}
TOPICS: dict[str, list[str]] = {
    "shopify": ["orders/create", "orders/updated", "orders/cancelled", "orders/paid"],
    "woocommerce": ["order.created", "order.updated", "order.deleted", "order.restored", "product.created"],
    "wms": [*WMS_SAMPLES, "order.shipment.exception", "order.shipment.cancelled"],
}


# The references a WMS or carrier names orders by: the fake order store knows them, so their events get built.
REFERENCES = sorted(
    {
        str(sample_value(sample, path))
        for _, sample in SAMPLES["wms"] + SAMPLES["carrier"]
        for path in _paths(sample)
        if path and path[-1] in {"reference_id", "order_id"}
    }
)


def signed_headers(platform: str, body: bytes, topic: str, *, timestamp: int | None = None) -> dict[str, str]:
    """Headers a real sender would put on ``body``, signed with the platform's fuzz secret."""
    secret = SECRETS[platform]
    if platform == "shopify":
        return shopify_delivery(body, secret=secret, topic=topic or "orders/create")
    if platform == "bigcommerce":
        return bigcommerce_delivery(body, secret=secret, timestamp=timestamp)
    if platform == "woocommerce":
        return woocommerce_delivery(body, secret=secret, topic=topic or "order.created")
    if platform == "b2b_portal":
        return {
            "content-type": "application/json",
            **standard_webhooks_headers(body, secret, uuid.uuid4().hex, timestamp),
        }
    if platform == "wms":
        return wms_delivery(body, secret=secret, topic=topic or "inventory.snapshot", timestamp=timestamp)
    if platform == "carrier":
        return {"content-type": "application/json", "aftership-hmac-sha256": hmac_sha256_b64(secret.encode(), body)}
    raise AssertionError(f"no signer for {platform}")


# -- random headers ---------------------------------------------------------------------------------------------

HEADER_NAMES = [
    "content-type",
    "content-encoding",
    "content-length",
    "x-shopify-hmac-sha256",
    "x-shopify-topic",
    "x-shopify-shop-domain",
    "x-shopify-event-id",
    "x-shopify-webhook-id",
    "x-wc-webhook-signature",
    "x-wc-webhook-topic",
    "x-wc-webhook-source",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "x-webhook-topic",
    "x-portal-id",
    "aftership-hmac-sha256",
]
header_values = st.one_of(
    st.text(max_size=60),
    st.sampled_from(
        [
            "application/json",
            "application/x-www-form-urlencoded",
            "text/plain; charset=latin-1",
            "gzip",
            "br",
            "v1,",
            "v1,AAAA",
            "v1a,xyz v1,!!!",
            "v1," + "A" * 44,
            "0",
            "-1",
            "99999999999999999999",
            "\uff11\uff12\uff13",  # full-width digits: isdigit() says yes, int() takes them
            "1.5e9",
            "https://",
            "http://[::1",
            "orders/create",
            "order.created",
            "inventory.snapshot",
            "=" * 44,
        ]
    ),
    st.integers(0, 2**40).map(str),
)
random_headers = st.dictionaries(
    st.one_of(st.sampled_from(HEADER_NAMES), st.text(min_size=1, max_size=20)), header_values, max_size=8
)


def sample_bodies(platform: str, encode: Callable[[Any], bytes] = compact) -> st.SearchStrategy[tuple[str, bytes]]:
    """(topic, body) from a real payload, as it is or mutated."""
    samples: Sequence[tuple[str, Any]] = SAMPLES[platform]
    return st.sampled_from(samples).flatmap(
        lambda pair: st.one_of(st.just(pair[1]), mutated(pair[1])).map(lambda doc: (pair[0], encode(doc)))
    )
