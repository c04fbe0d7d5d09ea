"""Orders table: one ``STATE`` item per order, one item per timeline entry, shipment and return authorization.

Keys: ``pk = ORDER#<channel>:<store>:<external id>``; ``sk = STATE``, ``TL#<event id>`` (read back in time order),
``SHIP#<shipment id>``, ``RMA#<rma number>`` or ``RETURNS`` (the count of RMAs, which serialises authorizations).
References we give other systems (a WMS reference id, an RMA number) map back to the order: ``pk = REF#<ref>``.
The ``by_external_id`` index (``channel_external = <channel>#<external id>``) finds an order without its store.
The sparse ``by_open_status`` index (``open_status``, ``status_at``) holds only orders in a status that can be stuck:
the stuck-order check is one query per status, however many orders are done.
Every write is conditional, so redelivered or out-of-order events change nothing they should not.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, get_args

from botocore.exceptions import BotoCoreError, ClientError

from shared.aws import clients
from shared.aws.paging import query_all
from shared.errors import DownstreamUnavailable
from shared.models.operations import StuckStatus
from shared.models.order_state import OrderState, OrderStatus, OrderVersion, TimelineEntry
from shared.models.returns import ReturnAuthorization
from shared.models.shipping import Shipment
from shared.stuck import OpenOrder

INDEX = "by_external_id"
OPEN_INDEX = "by_open_status"
# Statuses an order can be stuck in: only these keep it in the open-status index.
OPEN_STATUSES = frozenset(get_args(StuckStatus))


class DynamoOrderStore:
    def __init__(self, table_name: str, client: Callable[[], Any] = lambda: clients.client("dynamodb")) -> None:
        self._table = table_name
        self._client = client

    # -- writes ---------------------------------------------------------------------------------------------
    def apply_version(self, state: OrderVersion) -> bool:
        """Apply ``state`` unless a version at least as new is there. False means stale or a duplicate."""
        return self._update(
            state.order_key,
            "SET version = :version, channel = :channel, #store = :store, external_id = :external_id, "
            "channel_external = :channel_external, correlation_id = :correlation_id, last_event_id = :event_id",
            "attribute_not_exists(version) OR version < :version",
            {
                ":version": {"N": str(state.version)},
                ":channel": {"S": state.channel},
                ":store": {"S": state.store},
                ":external_id": {"S": state.external_id},
                ":channel_external": {"S": f"{state.channel}#{state.external_id}"},
                ":correlation_id": {"S": state.correlation_id},
                ":event_id": {"S": state.last_event_id},
            },
            names={"#store": "store"},
        )

    def advance_status(self, order_key: str, status: OrderStatus, at: datetime) -> bool:
        """Move the status forward only; False when it is already there or beyond.

        An order in a status that can be stuck is in the open-status index under it; a final status takes it out.
        """
        expression = "SET #status = :status, status_rank = :rank, status_at = :at"
        expression += ", open_status = :status" if status.value in OPEN_STATUSES else " REMOVE open_status"
        return self._update(
            order_key,
            expression,
            "attribute_not_exists(status_rank) OR status_rank < :rank",
            {":status": {"S": status.value}, ":rank": {"N": str(status.rank)}, ":at": {"S": _sortable(at)}},
            names={"#status": "status"},
        )

    def request_cancel(self, order_key: str, at: datetime) -> None:
        """Mark that the channel cancelled the order, before anything is undone: releases check it."""
        self._update(
            order_key,
            "SET cancel_requested_at = if_not_exists(cancel_requested_at, :at)",
            None,  # unconditional: the first request's time stays
            {":at": {"S": at.isoformat()}},
            names={},
        )

    def _put_new(self, item: dict[str, Any]) -> bool:
        return self._write("put_item", TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(pk)")

    def append(self, entry: TimelineEntry) -> bool:
        """Append once per event id: a redelivered event adds nothing."""
        item = {
            "pk": {"S": f"ORDER#{entry.order_key}"},
            # Keyed on the event id alone: a redone hop (same id, later time) is not a second entry.
            "sk": {"S": f"TL#{entry.event_id}"},
            "event_id": {"S": entry.event_id},
            "what": {"S": entry.what},
            "at": {"S": entry.at.isoformat()},
            "system": {"S": entry.system},
            "ids": {"M": {k: {"S": v} for k, v in entry.ids.items()}},
        }
        return self._put_new(item)

    def remember_reference(self, reference: str, order_key: str) -> None:
        """Map a reference we are about to give another system back to the order (written before it is given)."""
        item = {"pk": {"S": f"REF#{reference}"}, "sk": {"S": "REF"}, "order_key": {"S": order_key}}
        self._call("put_item", Item=item)

    def record_shipment(self, shipment: Shipment) -> bool:
        """Keep what shipped (the returns API checks against it); once per shipment id."""
        item = {
            "pk": {"S": f"ORDER#{shipment.order_key}"},
            "sk": {"S": f"SHIP#{shipment.shipment_id}"},
            "data": {"S": shipment.model_dump_json()},
        }
        return self._put_new(item)

    def save_return(self, authorization: ReturnAuthorization, known: int) -> bool:
        """Save an RMA if the order still has ``known`` RMAs: two authorizations racing cannot both pass the
        quantity check. False when another RMA landed first (re-read and check again) or this one exists."""
        pk = {"S": f"ORDER#{authorization.order_key}"}
        writes = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": {
                        "pk": pk,
                        "sk": {"S": f"RMA#{authorization.rma_number}"},
                        "data": {"S": authorization.model_dump_json()},
                    },
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {
                "Update": {
                    "TableName": self._table,
                    "Key": {"pk": pk, "sk": {"S": "RETURNS"}},
                    "UpdateExpression": "SET rma_count = :next",
                    "ConditionExpression": "attribute_not_exists(rma_count) AND :known = :zero OR rma_count = :known",
                    "ExpressionAttributeValues": {
                        ":next": {"N": str(known + 1)},
                        ":known": {"N": str(known)},
                        ":zero": {"N": "0"},
                    },
                }
            },
            {
                "Put": {
                    "TableName": self._table,
                    "Item": {
                        "pk": {"S": f"REF#{authorization.rma_number}"},
                        "sk": {"S": "REF"},
                        "order_key": {"S": authorization.order_key},
                    },
                }
            },
        ]
        return self._transact(writes)

    def _transact(self, writes: list[dict[str, Any]]) -> bool:
        return self._write("transact_write_items", TransactItems=writes)

    def _write(self, operation: str, **kwargs: Any) -> bool:
        """A conditional write; False when its condition (or a transaction's) did not hold."""
        try:
            getattr(self._client(), operation)(**kwargs)
        except ClientError as error:
            if _conditional(error):
                return False
            raise DownstreamUnavailable("orders table unavailable", error=type(error).__name__) from error
        except BotoCoreError as error:
            raise DownstreamUnavailable("orders table unavailable", error=type(error).__name__) from error
        return True

    def void_return(self, authorization: ReturnAuthorization) -> bool:
        """Take back an RMA the ERP refused for good: its units are returnable again. False if the RMAs moved."""
        pk = {"S": f"ORDER#{authorization.order_key}"}
        writes = [
            {
                "Delete": {
                    "TableName": self._table,
                    "Key": {"pk": pk, "sk": {"S": f"RMA#{authorization.rma_number}"}},
                    "ConditionExpression": "attribute_exists(pk)",
                }
            },
            {
                "Update": {
                    "TableName": self._table,
                    "Key": {"pk": pk, "sk": {"S": "RETURNS"}},
                    "UpdateExpression": "SET rma_count = rma_count - :one",
                    "ConditionExpression": "rma_count > :zero",
                    "ExpressionAttributeValues": {":one": {"N": "1"}, ":zero": {"N": "0"}},
                }
            },
        ]
        return self._transact(writes)

    def complete_return(self, authorization: ReturnAuthorization) -> None:
        """Store the RMA with its ERP id, once the ERP made it (same RMA, same lines: only the id is new)."""
        self._update_item(
            {"pk": {"S": f"ORDER#{authorization.order_key}"}, "sk": {"S": f"RMA#{authorization.rma_number}"}},
            "SET #data = :data",
            {":data": {"S": authorization.model_dump_json()}},
            {"#data": "data"},
        )

    # -- reads ----------------------------------------------------------------------------------------------
    def order_for(self, reference: str) -> str | None:
        key = {"pk": {"S": f"REF#{reference}"}, "sk": {"S": "REF"}}
        item = self._call("get_item", Key=key, ConsistentRead=True).get("Item")
        return item["order_key"]["S"] if item else None

    def shipments(self, order_key: str) -> list[Shipment]:
        return [Shipment.model_validate_json(item["data"]["S"]) for item in self._children(order_key, "SHIP#")]

    def returns(self, order_key: str) -> list[ReturnAuthorization]:
        items = self._children(order_key, "RMA#")
        return [ReturnAuthorization.model_validate_json(item["data"]["S"]) for item in items]

    def _children(self, order_key: str, prefix: str) -> list[dict[str, Any]]:
        return self._query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": {"S": f"ORDER#{order_key}"}, ":prefix": {"S": prefix}},
            ConsistentRead=True,
        )

    def get(self, order_key: str) -> OrderState | None:
        item = self._call("get_item", Key=_key(order_key), ConsistentRead=True).get("Item")
        return _state(item) if item else None

    def timeline(self, order_key: str) -> list[TimelineEntry]:
        items = self._query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :tl)",
            ExpressionAttributeValues={":pk": {"S": f"ORDER#{order_key}"}, ":tl": {"S": "TL#"}},
        )
        return sorted((_entry(order_key, item) for item in items), key=lambda entry: entry.at)

    def find(self, channel: str, external_id: str) -> list[OrderState]:
        items = self._query(
            IndexName=INDEX,
            KeyConditionExpression="channel_external = :ce",
            ExpressionAttributeValues={":ce": {"S": f"{channel}#{external_id}"}},
        )
        return [_state(item) for item in items]

    def open_since(self, status: OrderStatus, before: datetime) -> list[OpenOrder]:
        """Orders whose status is ``status`` and has been since before ``before`` (``shared.stuck``)."""
        items = self._query(
            IndexName=OPEN_INDEX,
            KeyConditionExpression="open_status = :status AND status_at < :before",
            ExpressionAttributeValues={":status": {"S": status.value}, ":before": {"S": _sortable(before)}},
            ProjectionExpression="pk, status_at, correlation_id",
        )
        return [
            OpenOrder(
                order_key=item["pk"]["S"].removeprefix("ORDER#"),
                status=status,
                since=datetime.fromisoformat(item["status_at"]["S"]),
                correlation_id=item["correlation_id"]["S"] if "correlation_id" in item else None,
            )
            for item in items
        ]

    # -- plumbing -------------------------------------------------------------------------------------------
    def _update(
        self, order_key: str, expression: str, condition: str | None, values: dict[str, Any], names: dict[str, str]
    ) -> bool:
        request: dict[str, Any] = {
            "TableName": self._table,
            "Key": _key(order_key),
            "UpdateExpression": expression,
            "ExpressionAttributeValues": values,
        }
        if condition:
            request["ConditionExpression"] = condition
        if names:  # DynamoDB refuses an empty map
            request["ExpressionAttributeNames"] = names
        return self._write("update_item", **request)

    def _update_item(self, key: dict[str, Any], expression: str, values: dict[str, Any], names: dict[str, str]) -> None:
        self._call(
            "update_item",
            Key=key,
            UpdateExpression=expression,
            ExpressionAttributeValues=values,
            ExpressionAttributeNames=names,
        )

    def _query(self, **kwargs: Any) -> list[dict[str, Any]]:
        return query_all(self._call, **kwargs)

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        try:
            result: dict[str, Any] = getattr(self._client(), operation)(TableName=self._table, **kwargs)
        except (ClientError, BotoCoreError) as error:
            raise DownstreamUnavailable("orders table unavailable", error=type(error).__name__) from error
        return result


def _sortable(at: datetime) -> str:
    """One ISO 8601 form for every ``status_at``: UTC, microseconds always, so strings sort as the times do."""
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def _key(order_key: str) -> dict[str, Any]:
    return {"pk": {"S": f"ORDER#{order_key}"}, "sk": {"S": "STATE"}}


def _conditional(error: ClientError) -> bool:
    code = error.response.get("Error", {}).get("Code")
    return code in ("ConditionalCheckFailedException", "TransactionCanceledException")


def _state(item: dict[str, Any]) -> OrderState:
    def text(name: str) -> str | None:
        return item[name]["S"] if name in item else None

    status = text("status")
    return OrderState(
        order_key=item["pk"]["S"].removeprefix("ORDER#"),
        channel=text("channel"),
        store=text("store"),
        external_id=text("external_id"),
        version=int(item["version"]["N"]) if "version" in item else None,
        status=OrderStatus(status) if status else None,
        correlation_id=text("correlation_id"),
        cancel_requested="cancel_requested_at" in item,
    )


def _entry(order_key: str, item: dict[str, Any]) -> TimelineEntry:
    return TimelineEntry(
        order_key=order_key,
        event_id=item["event_id"]["S"],
        what=item["what"]["S"],
        at=datetime.fromisoformat(item["at"]["S"]),
        system=item["system"]["S"],
        ids={k: v["S"] for k, v in item.get("ids", {}).get("M", {}).items()},
    )
