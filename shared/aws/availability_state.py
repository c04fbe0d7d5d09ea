"""What each channel's availability sync remembers, in the inventory table next to the ledger.

Keys (``pk`` / ``sk``):
- ``DIRTY#<channel>`` / ``<at>#<uuid>``: ``at``, ``skus``: SKUs whose channel quantity may have moved;
- ``SENT#<channel>`` / ``<sku>``: ``quantity``, ``basis``, ``at``: the last value pushed and the ledger basis it
  came from;
- ``LISTING#<channel>`` / ``<sku>``: ``ids`` (the channel's ids) or ``unlisted``, and ``at``;
- ``LEASE#<channel>`` / ``LEASE``: ``owner``, ``expires_at`` (epoch seconds): one sync per channel at a time.

Dirty marks are one item per marking run (``DIRTY#<channel>`` / ``<at>#<uuid>``, a string set of up to 2,000
SKUs), not one per SKU: a burst of 10,000 changes marks with a handful of writes, and a SKU's first and last
mark times are the oldest and newest item naming it. Clearing takes SKUs out of the items this instance last
read only, so a mark made after that reading survives whatever its time (clocks of two runs may disagree).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.aws import clients
from shared.aws.inventory_ledger import Table, iso
from shared.ports import DirtyMark, SentValue

LEASE_SK = "LEASE"
# SKUs per mark item: 2,000 SKUs of up to 128 characters stay under DynamoDB's 400 KB item limit.
SKUS_PER_MARK = 2000
UNLISTED_FOR = timedelta(hours=1)


class DynamoAvailabilityState:
    def __init__(self, table_name: str, client: Callable[[], Any] = lambda: clients.client("dynamodb")) -> None:
        self._table = Table(table_name, client)
        # The mark items the last ``dirty`` read, per channel: only those can be cleared.
        self._read: dict[str, dict[str, list[str]]] = {}

    # -- dirty marks ----------------------------------------------------------------------------------------
    def mark_dirty(self, channel: str, skus: Iterable[str], at: datetime, *, forced: bool = False) -> None:
        unique = list(dict.fromkeys(skus))
        for start in range(0, len(unique), SKUS_PER_MARK):
            self._table.call(
                "put_item",
                Item={
                    # The time first, so a query reads marks oldest first; the uuid keeps two runs apart.
                    **_key(f"DIRTY#{channel}", f"{iso(at)}#{uuid.uuid4().hex}"),
                    "at": {"S": iso(at)},
                    "skus": {"SS": unique[start : start + SKUS_PER_MARK]},
                    "forced": {"BOOL": forced},
                },
            )

    def dirty(self, channel: str) -> dict[str, DirtyMark]:
        marks: dict[str, DirtyMark] = {}
        read: dict[str, list[str]] = {}
        for item in self._table.query(f"DIRTY#{channel}"):
            at = datetime.fromisoformat(item["at"]["S"])
            forced = item.get("forced", {}).get("BOOL", False)
            read[item["sk"]["S"]] = item.get("skus", {}).get("SS", [])
            for sku in read[item["sk"]["S"]]:
                marks[sku] = _merge(marks.get(sku), DirtyMark(sku=sku, first_at=at, last_at=at, forced=forced))
        self._read[channel] = read
        return marks

    def clear_dirty(self, channel: str, marks: Iterable[DirtyMark]) -> None:
        """Take the SKUs out of the mark items the last ``dirty`` read; items made since then stay whole."""
        cleared = {mark.sku for mark in marks}
        for sk, skus in self._read.get(channel, {}).items():
            done = [sku for sku in skus if sku in cleared]
            if not done:
                continue
            key = _key(f"DIRTY#{channel}", sk)
            if len(done) == len(skus):
                self._table.call("delete_item", Key=key)
            else:
                self._table.call(
                    "update_item",
                    Key=key,
                    UpdateExpression="DELETE skus :done",
                    ExpressionAttributeValues={":done": {"SS": done}},
                )
            self._read[channel][sk] = [sku for sku in skus if sku not in cleared]

    # -- values sent ----------------------------------------------------------------------------------------
    def sent(self, channel: str, skus: Iterable[str]) -> dict[str, SentValue]:
        items = self._table.batch_get([_key(f"SENT#{channel}", sku) for sku in dict.fromkeys(skus)])
        return {
            item["sk"]["S"]: SentValue(
                sku=item["sk"]["S"],
                quantity=int(item["quantity"]["N"]),
                basis=int(item["basis"]["N"]),
                at=datetime.fromisoformat(item["at"]["S"]),
            )
            for item in items
        }

    def record_sent_many(self, channel: str, values: Iterable[SentValue]) -> None:
        # Unconditional and batched: only the lease holder writes these, and it checked the basis first.
        self._table.batch_write([{"PutRequest": {"Item": _sent_item(channel, value)}} for value in values])

    def record_sent(self, channel: str, value: SentValue) -> bool:
        # An equal basis is the same reading of the ledger, so the same value: recording it again is harmless.
        return self._table.conditional(
            "put_item",
            Item=_sent_item(channel, value),
            ConditionExpression="attribute_not_exists(pk) OR #basis <= :basis",
            ExpressionAttributeNames={"#basis": "basis"},
            ExpressionAttributeValues={":basis": {"N": str(value.basis)}},
        )

    # -- listings -------------------------------------------------------------------------------------------
    def listings(self, channel: str, skus: Iterable[str]) -> dict[str, dict[str, str] | None]:
        items = self._table.batch_get([_key(f"LISTING#{channel}", sku) for sku in dict.fromkeys(skus)])
        # "Not listed" is remembered for a while only: the merchant may list the SKU later.
        stale = (datetime.now(UTC) - UNLISTED_FOR).isoformat()
        items = [i for i in items if not (i.get("unlisted", {}).get("BOOL") and i["at"]["S"] < stale)]
        return {
            item["sk"]["S"]: None
            if item.get("unlisted", {}).get("BOOL")
            else {name: value["S"] for name, value in item.get("ids", {}).get("M", {}).items()}
            for item in items
        }

    def save_listings(self, channel: str, listings: Mapping[str, dict[str, str] | None], at: datetime) -> None:
        requests = []
        for sku, ids in listings.items():
            item: dict[str, Any] = {**_key(f"LISTING#{channel}", sku), "at": {"S": iso(at)}}
            if ids is None:
                item["unlisted"] = {"BOOL": True}
            else:
                item["ids"] = {"M": {name: {"S": value} for name, value in ids.items()}}
            requests.append({"PutRequest": {"Item": item}})
        self._table.batch_write(requests)

    # -- lease ----------------------------------------------------------------------------------------------
    def acquire(self, channel: str, owner: str, lease_seconds: int, at: datetime) -> bool:
        now = at.timestamp()
        return self._table.conditional(
            "put_item",
            Item={
                **_key(f"LEASE#{channel}", LEASE_SK),
                "owner": {"S": owner},
                "expires_at": {"N": repr(now + lease_seconds)},
                "at": {"S": iso(at)},
            },
            # The holder may renew; anyone may take a lease that has run out.
            ConditionExpression="attribute_not_exists(pk) OR #expires <= :now OR #owner = :owner",
            ExpressionAttributeNames={"#expires": "expires_at", "#owner": "owner"},
            ExpressionAttributeValues={":now": {"N": repr(now)}, ":owner": {"S": owner}},
        )

    def release_lease(self, channel: str, owner: str) -> None:
        # Someone else's lease (ours ran out and was taken) is theirs to release.
        self._table.conditional(
            "delete_item",
            Key=_key(f"LEASE#{channel}", LEASE_SK),
            ConditionExpression="#owner = :owner",
            ExpressionAttributeNames={"#owner": "owner"},
            ExpressionAttributeValues={":owner": {"S": owner}},
        )


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def _merge(mark: DirtyMark | None, new: DirtyMark) -> DirtyMark:
    """One SKU's marks as one: the oldest first time, the newest last time, forced if any was."""
    if mark is None:
        return new
    return DirtyMark(
        sku=new.sku,
        first_at=min(mark.first_at, new.first_at),
        last_at=max(mark.last_at, new.last_at),
        forced=mark.forced or new.forced,
    )


def _sent_item(channel: str, value: SentValue) -> dict[str, Any]:
    return {
        **_key(f"SENT#{channel}", value.sku),
        "quantity": {"N": str(value.quantity)},
        "basis": {"N": str(value.basis)},
        "at": {"S": iso(value.at)},
    }
