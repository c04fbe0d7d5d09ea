"""The signature rules of issue 8, checked: constant-time comparison, and signed timestamps within ±5 minutes.

- No signature, digest or HMAC is compared with ``==``/``!=`` anywhere in ``shared/`` or ``functions/``: a scan of
  the syntax tree, and every module that computes an HMAC to check one compares with ``hmac.compare_digest``.
- Where the scheme signs a timestamp (Standard Webhooks: BigCommerce, B2B portals, the WMS), a delivery more than
  300 s either side of now is refused, one at exactly 300 s is taken: a property test around the boundary. Shopify,
  WooCommerce and AfterShip sign the body only, so there is no timestamp to hold them to; dedupe covers replays.

The size rule (413 before parsing) is in ``test_fuzz_webhook_intake.py`` and ``test_fuzz_http_api.py``.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from infra.assets import ROOT
from infra.samples import compact, load_json, standard_webhooks_headers
from shared import standard_webhooks
from shared.channels.b2b_portal.adapter import B2BPortalAdapter
from shared.channels.base import WebhookAdapter, WebhookRequest
from shared.channels.bigcommerce.adapter import BigCommerceAdapter
from shared.channels.registry import adapter_for
from shared.errors import Unauthorized
from shared.wms.webhook import WmsWebhookAdapter
from tests.unit.fuzzing import SECRETS, fuzz, signed_headers

SCANNED = ("shared", "functions")
# A name that holds a signature, a MAC or a digest (or what one is checked against).
SECRETISH = re.compile(r"(signature|hmac|digest|\bmac\b|_mac\b|\bsig\b|token|expected|presented)", re.IGNORECASE)
# Modules that compute an HMAC only to sign what we send (OAuth 1.0a to NetSuite): nothing to compare.
SIGN_ONLY = {"shared/erp/netsuite_auth.py"}


def python_files() -> Iterator[Path]:
    for folder in SCANNED:
        yield from sorted((ROOT / folder).rglob("*.py"))


def _names(node: ast.AST) -> str:
    """The identifiers and attribute names in an expression, space-separated."""
    parts = []
    for child in ast.walk(node):
        if isinstance(child, ast.Name):
            parts.append(child.id)
        elif isinstance(child, ast.Attribute):
            parts.append(child.attr)
        elif isinstance(child, ast.arg):
            parts.append(child.arg)
    return " ".join(parts)


def equality_on_signatures(source: str) -> list[str]:
    """Every ``a == b`` / ``a != b`` where a side names a signature, a MAC or a digest."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare) and any(isinstance(op, ast.Eq | ast.NotEq) for op in node.ops):
            operands = [node.left, *node.comparators]
            if any(SECRETISH.search(_names(operand)) for operand in operands):
                found.append(f"line {node.lineno}: {ast.unparse(node)}")
    return found


def computes_hmac_without_constant_time_check(source: str) -> bool:
    tree = ast.parse(source)
    calls = {ast.unparse(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    computes = bool(calls & {"hmac.new", "hmac.digest", "hmac_sha256_b64"})
    return computes and not calls & {"hmac.compare_digest", "matches_any"}


def test_no_signature_is_compared_with_equality() -> None:
    offenders = {
        str(path.relative_to(ROOT)): found
        for path in python_files()
        if (found := equality_on_signatures(path.read_text()))
    }
    assert offenders == {}


def test_every_module_that_checks_an_hmac_compares_in_constant_time() -> None:
    offenders = [
        relative
        for path in python_files()
        if (relative := str(path.relative_to(ROOT))) not in SIGN_ONLY
        and computes_hmac_without_constant_time_check(path.read_text())
    ]
    assert offenders == []


def test_the_scans_catch_what_they_look_for() -> None:
    """Both scans can fail: each flags the mistake it exists for."""
    leaky = "import hmac\ndef ok(s, m, presented):\n    return hmac.new(s, m, 'sha256').hexdigest() == presented\n"
    assert equality_on_signatures(leaky)
    assert computes_hmac_without_constant_time_check(leaky)
    assert equality_on_signatures("if request.header('x-shopify-hmac-sha256') != expected: pass")
    careful = "import hmac\ndef ok(s, m, p):\n    return hmac.compare_digest(hmac.new(s, m, 'sha256').digest(), p)\n"
    assert not equality_on_signatures(careful)
    assert not computes_hmac_without_constant_time_check(careful)


def test_the_scans_see_the_modules_that_sign() -> None:
    """The allowlist is still needed, and the checking modules are found computing HMACs: the scan is not blind."""
    for relative in SIGN_ONLY:
        assert computes_hmac_without_constant_time_check((ROOT / relative).read_text())
    for relative in ("shared/signatures.py", "shared/standard_webhooks.py"):
        tree = ast.parse((ROOT / relative).read_text())
        calls = {ast.unparse(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
        assert {"hmac.new", "hmac.compare_digest"} <= calls


# -- signed timestamps: ±5 minutes ------------------------------------------------------------------------------

TOLERANCE = standard_webhooks.TOLERANCE_SECONDS
SENT_AT = 1_795_961_643  # 2026-11-28T14:14:03Z
skews = st.one_of(
    st.integers(-3 * TOLERANCE, 3 * TOLERANCE),
    st.sampled_from([-TOLERANCE - 1, -TOLERANCE, TOLERANCE, TOLERANCE + 1, 0]),
    st.floats(-TOLERANCE - 2, TOLERANCE + 2, allow_nan=False),
    st.integers(-(10**10), 10**10),
)


def test_the_tolerance_is_five_minutes() -> None:
    assert TOLERANCE == 300


@fuzz(120)
@given(skew=skews)
@example(skew=TOLERANCE).via("boundary")
@example(skew=TOLERANCE + 0.001).via("boundary")
@example(skew=-TOLERANCE).via("boundary")
@example(skew=-TOLERANCE - 0.001).via("boundary")
def test_standard_webhooks_takes_a_timestamp_only_within_five_minutes(skew: float) -> None:
    secret = SECRETS["b2b_portal"].encode()
    body = b'{"type":"order.created"}'
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(SENT_AT)}
    headers["webhook-signature"] = standard_webhooks.sign(secret, "msg_1", SENT_AT, body)
    verify: Callable[[], None] = lambda: standard_webhooks.verify(headers, body, [secret], now=lambda: SENT_AT + skew)  # noqa: E731
    if abs(skew) <= TOLERANCE:
        verify()
    else:
        with pytest.raises(Unauthorized, match="outside tolerance"):
            verify()


TIMESTAMPED: dict[str, Callable[[Callable[[], float]], WebhookAdapter]] = {
    "bigcommerce": lambda now: BigCommerceAdapter(now=now),
    "b2b_portal": lambda now: B2BPortalAdapter(now=now),
    "wms": lambda now: WmsWebhookAdapter(now=now),
}


@pytest.mark.parametrize("platform", sorted(TIMESTAMPED))
@fuzz(30)
@given(skew=skews)
def test_adapters_that_sign_a_timestamp_hold_it_to_five_minutes(platform: str, skew: float) -> None:
    body = b'{"any":"body"}'
    headers = {k.lower(): v for k, v in signed_headers(platform, body, "", timestamp=SENT_AT).items()}
    adapter = TIMESTAMPED[platform](lambda: SENT_AT + skew)
    request = WebhookRequest(headers=headers, body=body)
    if abs(skew) <= TOLERANCE:
        adapter.verify(request, [SECRETS[platform].encode()])
    else:
        with pytest.raises(Unauthorized):
            adapter.verify(request, [SECRETS[platform].encode()])


@pytest.mark.parametrize("platform", sorted(TIMESTAMPED))
def test_a_timestamp_changed_after_signing_is_refused(platform: str) -> None:
    """Re-stamping a captured delivery to get it inside the window breaks the signature."""
    body = compact(load_json("carrier/tracking_update.json"))
    headers = {k.lower(): v for k, v in signed_headers(platform, body, "", timestamp=SENT_AT - 3600).items()}
    headers["webhook-timestamp"] = str(SENT_AT)
    with pytest.raises(Unauthorized, match="invalid signature"):
        TIMESTAMPED[platform](lambda: float(SENT_AT)).verify(
            WebhookRequest(headers=headers, body=body), [SECRETS[platform].encode()]
        )


@pytest.mark.parametrize("platform", ["shopify", "woocommerce", "carrier"])
def test_body_only_schemes_sign_no_timestamp(platform: str) -> None:
    """No Standard Webhooks headers are read: adding a stale one neither helps nor hurts (nothing signs it)."""
    body = b'{"id":1}'
    headers = {k.lower(): v for k, v in signed_headers(platform, body, "").items()}
    stale = standard_webhooks_headers(body, "whsec_AAAA", "msg_1", timestamp=0)
    adapter_for(platform).verify(WebhookRequest(headers={**headers, **stale}, body=body), [SECRETS[platform].encode()])
