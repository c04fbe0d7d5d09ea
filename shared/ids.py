"""Ids we give our records in other systems: stable, readable, and within every system's alphabet.

NetSuite external ids (Oracle, "Using External IDs") and ShipBob reference ids take letters, digits, ``_`` and
``-``, so an order key such as ``shopify:acme-supply.myshopify.com:7124853309745`` cannot be used as it is.
The format is

    <channel>-<first 8 hex digits of sha256(store)>-<channel id, escaped>
    e.g. shopify-3f1c9a2b-7124853309745

- The store is hashed because domains carry dots and can be long; 8 hex digits keep it short and, for the handful
  of stores one distributor runs, collision-free in practice (32 bits).
- The channel's own id stays readable, so a person can find the order in NetSuite by the channel's number.
  Characters outside ``[A-Za-z0-9-]`` become ``_`` plus two hex digits per UTF-8 byte (``_`` itself is ``_5f``),
  which keeps the mapping one-to-one: two different order ids can never share a NetSuite record.
- An id too long once escaped is replaced by ``_h`` and a sha256 prefix. No escape produces ``_h`` (``h`` is
  not a hex digit), so hashed ids cannot collide with escaped ones either.

Customers use the same format. NetSuite requires an external id to be unique within its record group (entities
and transactions are different groups), so a customer and a sales order may share the number part.
"""

from __future__ import annotations

import hashlib
import re
from typing import Final

_SAFE_ID: Final = re.compile(r"[A-Za-z0-9-]")
# Channel names are our own enum (``b2b_portal``): ``_`` stays readable there, ``-`` is the separator.
_SAFE_CHANNEL: Final = re.compile(r"[A-Za-z0-9_]")
# Leaves room under the 255 characters NetSuite's text fields hold for the channel and store parts.
_MAX_ID_PART: Final = 200
_MAX_EXTERNAL_ID: Final = 255
# Suffixes (a warehouse, "ship" + a shipment id) share what the id part leaves: 255 - 200 - the channel and hash.
_MAX_SUFFIX_PART: Final = 20


def erp_external_id(order_key: str) -> str:
    """The sales order's external id for ``order.key`` (``channel:store:external_id``)."""
    channel, rest = order_key.split(":", 1)
    # Store names may hold a colon (host:port); channel order ids do not, so the id is after the last colon.
    store, external_id = rest.rsplit(":", 1)
    return _external_id(channel, store, external_id)


def safe_ref(order_key: str, *suffix: str) -> str:
    """``erp_external_id`` plus escaped suffixes, e.g. the WMS reference id of one (order, warehouse).

    Only when the whole id would pass NetSuite's 255 characters are the long suffixes (a partner's shipment or
    receipt id) hashed like an over-long order id: every id that fits keeps the form it always had.
    """
    parts = [_escape(part, _SAFE_ID) for part in suffix]
    whole = "-".join([erp_external_id(order_key), *parts])
    if len(whole) <= _MAX_EXTERNAL_ID:
        return whole
    hashed = [
        escaped if len(escaped) <= _MAX_SUFFIX_PART else "_h" + hashlib.sha256(raw.encode()).hexdigest()[:24]
        for raw, escaped in zip(suffix, parts, strict=True)
    ]
    return "-".join([erp_external_id(order_key), *hashed])


def customer_external_id(channel: str, store: str, customer_id: str) -> str:
    """The customer's external id for a channel's customer id, in the same format as the sales orders'."""
    return _external_id(channel, store, customer_id)


def _external_id(channel: str, store: str, value: str) -> str:
    if not channel or not store or not value:
        raise ValueError("channel, store and id must not be empty")
    store_hash = hashlib.sha256(store.encode()).hexdigest()[:8]
    return f"{_escape(channel, _SAFE_CHANNEL)}-{store_hash}-{_id_part(value)}"


def _id_part(value: str) -> str:
    escaped = _escape(value, _SAFE_ID)
    if len(escaped) <= _MAX_ID_PART:
        return escaped
    return "_h" + hashlib.sha256(value.encode()).hexdigest()[:40]


def _escape(value: str, safe: re.Pattern[str]) -> str:
    return "".join(
        char if safe.fullmatch(char) else "".join(f"_{byte:02x}" for byte in char.encode()) for char in value
    )
