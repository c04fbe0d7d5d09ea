"""What the logs of a local run must not hold: the stack's secrets, the signatures sent, the scenario's personal data.

The needles for ``infra.local.log_scan``, gathered from a running ``LocalStack`` and from the payloads the
scenario sends (the samples under ``events/``, which ``infra.local.scenario_orders`` copies into its orders).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from infra.local.log_scan import Needle
from infra.local.sandboxes.base import Sandbox
from infra.local.scenario_orders import b2b_order, bigcommerce_order, shopify_order, woocommerce_order
from infra.samples import EVENTS_DIR

# Header names that carry a signature: webhook-signature, X-Shopify-Hmac-Sha256, X-WC-Webhook-Signature, ...
_SIGNATURE_HEADER = re.compile(r"signature|hmac", re.IGNORECASE)
# Signatures the sandboxes do not record (the scenario's own B2B posts, SigV4, NetSuite's token auth): by shape.
SIGNATURE_SHAPES = (
    Needle.shape("signature", r"v1,[A-Za-z0-9+/]{40,}={0,2}"),
    Needle.shape("signature", r"oauth_signature=\"?[A-Za-z0-9%+/=]{20,}"),
    Needle.shape("signature", r"Signature=[0-9a-f]{64}"),
)
_ADDRESS_LINES = {"address1", "address_1", "street_1", "street1", "line1", "address_line_1"}
_ADDRESS_PARTS = _ADDRESS_LINES | {"zip", "zip_code", "postal_code", "postcode"}


def secret_needles(secrets: Mapping[str, str], sandboxes: Iterable[Sandbox] = ()) -> list[Needle]:
    """Every value of every secret: webhook secrets (current and previous), connection credentials."""
    values = {value for secret in secrets.values() for value in _secret_values(secret)}
    values |= {sandbox.webhook_secret for sandbox in sandboxes if sandbox.webhook_secret}
    return [Needle.literal("secret", value) for value in sorted(values) if value]


def signature_needles(sandboxes: Iterable[Sandbox]) -> list[Needle]:
    """The signature header values the sandboxes sent, each signature of a multi-signature header on its own."""
    values: set[str] = set()
    for sandbox in sandboxes:
        with sandbox.lock:
            sent = [d.sent_headers for d in sandbox.outbox if d.sent_headers]
        for headers in sent:
            for name, value in headers.items():
                if _SIGNATURE_HEADER.search(name):
                    for part in value.split():
                        values.add(part)
                        values.add(part.split(",", 1)[-1])  # "v1,<base64>": the base64 alone too
    return [Needle.literal("signature", value) for value in sorted(values)] + list(SIGNATURE_SHAPES)


def scenario_payloads() -> list[Any]:
    """The payloads the scenario sends: every sample under ``events/`` and the orders built from them."""
    samples = [
        json.loads(path.read_text())
        for path in sorted(EVENTS_DIR.rglob("*.json"))
        if path.parent.name != "schemas" and not path.name.startswith("headers_")
    ]
    return [*samples, shopify_order(0), bigcommerce_order(0), woocommerce_order(0), b2b_order(0)]


def personal_data_needles(payloads: Iterable[Any]) -> list[Needle]:
    """Emails, phone numbers, street lines, and names with their address, as the payloads carry them."""
    emails: set[str] = set()
    phones: set[str] = set()
    lines: set[str] = set()
    names: dict[str, set[str]] = {}
    for payload in payloads:
        for record in _records(payload):
            for key, value in record.items():
                if not isinstance(value, str) or not value.strip():
                    continue
                lowered = key.lower()
                if "email" in lowered and "@" in value:
                    emails.add(value)
                elif "phone" in lowered and len(re.sub(r"\D", "", value)) >= 10:
                    phones.add(re.sub(r"\D", "", value)[-10:])
                elif lowered in _ADDRESS_LINES:
                    lines.add(value)
            name = _name(record)
            parts = {str(record[k]) for k in _ADDRESS_PARTS if isinstance(record.get(k), str) and record[k]}
            if name and parts:
                names.setdefault(name, set()).update(parts)
    return [
        *(Needle.literal("email", value, ignore_case=True) for value in sorted(emails)),
        *(Needle.phone(value) for value in sorted(phones)),
        *(Needle.literal("address", value, ignore_case=True) for value in sorted(lines)),
        *(Needle.name_with_address(name, sorted(parts)) for name, parts in sorted(names.items())),
    ]


def _secret_values(secret: str) -> Iterator[str]:
    """A connection's credentials (not its URL or settings), a webhook secret's values, or the plain string."""
    try:
        document = json.loads(secret)
    except ValueError:
        yield secret
        return
    if isinstance(document, dict) and "credentials" in document:
        document = {"credentials": document["credentials"], "placeholder": document.get("placeholder")}
    yield from (value for _, value in _leaves(document))


def _leaves(value: Any) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, str):
                yield str(key), item
            else:
                yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    elif isinstance(value, str):
        yield "", value


def _records(value: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object in a payload, nested ones included."""
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from _records(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _records(item)


def _name(record: Mapping[str, Any]) -> str | None:
    first, last = record.get("first_name"), record.get("last_name")
    if isinstance(first, str) and isinstance(last, str) and first and last:
        return f"{first} {last}"
    for key in ("full_name", "name"):
        value = record.get(key)
        if isinstance(value, str) and " " in value:
            return value
    return None
