"""Orders table: one ``STATE`` item per order (versioned conditional writes) and one item per timeline entry.

Keys: ``pk = ORDER#<channel>:<store>:<external id>``; ``sk = STATE`` or ``TL#<iso time>#<event id>``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from shared.aws import clients
from shared.errors import DownstreamUnavailable
from shared.models.order_state import OrderVersion, TimelineEntry


class DynamoOrderStore:
    def __init__(self, table_name: str, client: Callable[[], Any] = lambda: clients.client("dynamodb")) -> None:
        self._table = table_name
        self._client = client

    def apply_version(self, state: OrderVersion) -> bool:
        """Write ``state`` unless a version at least as new is there. False means stale or a duplicate."""
        item = {
            "pk": {"S": f"ORDER#{state.order_key}"},
            "sk": {"S": "STATE"},
            "channel": {"S": state.channel},
            "store": {"S": state.store},
            "external_id": {"S": state.external_id},
            "status": {"S": state.status.value},
            "version": {"N": str(state.version)},
            "correlation_id": {"S": state.correlation_id},
            "last_event_id": {"S": state.last_event_id},
        }
        return self._put_if(item, "attribute_not_exists(pk) OR version < :version", {":version": item["version"]})

    def append(self, entry: TimelineEntry) -> bool:
        """Append once per event id: a redelivered event adds nothing."""
        item = {
            "pk": {"S": f"ORDER#{entry.order_key}"},
            "sk": {"S": f"TL#{entry.at.isoformat()}#{entry.event_id}"},
            "event_id": {"S": entry.event_id},
            "what": {"S": entry.what},
            "at": {"S": entry.at.isoformat()},
            "system": {"S": entry.system},
            "ids": {"M": {k: {"S": v} for k, v in entry.ids.items()}},
        }
        return self._put_if(item, "attribute_not_exists(pk)", None)

    def _put_if(self, item: dict[str, Any], condition: str, values: dict[str, Any] | None) -> bool:
        kwargs: dict[str, Any] = {"TableName": self._table, "Item": item, "ConditionExpression": condition}
        if values:
            kwargs["ExpressionAttributeValues"] = values
        try:
            self._client().put_item(**kwargs)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise DownstreamUnavailable("orders table unavailable", error=type(error).__name__) from error
        except BotoCoreError as error:
            raise DownstreamUnavailable("orders table unavailable", error=type(error).__name__) from error
        return True
