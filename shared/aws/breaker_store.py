"""Breaker state in the operations table: ``pk = BREAKER``, ``sk = <system>``, so one query reads them all.

Times are epoch seconds (numbers), so conditions compare them in DynamoDB. Each change of state is a
conditional write: of two containers that open (or close) the same breaker at once, one wins, and only the
winner logs it. The failure count is an atomic counter; a window older than ``window_seconds`` starts over.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from shared.aws import clients
from shared.aws.paging import query_all
from shared.breaker import BreakerState
from shared.errors import DownstreamUnavailable

PK = "BREAKER"
_NAMES = {"#state": "state"}


class DynamoBreakerStore:
    def __init__(self, table_name: str, client: Callable[[], Any] = lambda: clients.client("dynamodb")) -> None:
        self._table = table_name
        self._client = client

    # -- reads ------------------------------------------------------------------------------------------------
    def read(self, system: str) -> BreakerState:
        item = self._call("get_item", Key=_key(system), ConsistentRead=True).get("Item")
        return _state(item) if item else BreakerState(system=system)

    def states(self) -> list[BreakerState]:
        items = query_all(
            self._call,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": PK}},
            ConsistentRead=True,
        )
        return [_state(item) for item in items]

    # -- writes -----------------------------------------------------------------------------------------------
    def record_failure(self, system: str, now: float, window_seconds: int, error: str) -> BreakerState:
        cutoff = _n(now - window_seconds)
        for _attempt in range(2):
            # In the current window: count one more.
            counted = self._update(
                system,
                "SET failures = failures + :one, last_error = :error",
                "window_started > :cutoff",
                {":one": {"N": "1"}, ":error": {"S": error}, ":cutoff": cutoff},
                returns="ALL_NEW",
            )
            if counted is not None:
                return _state(counted)
            # No window yet, or an old one: this failure starts a new one. Loses only to another that just did.
            started = self._update(
                system,
                "SET failures = :one, window_started = :now, last_error = :error, "
                "#state = if_not_exists(#state, :closed)",
                "attribute_not_exists(window_started) OR window_started <= :cutoff",
                {
                    ":one": {"N": "1"},
                    ":now": _n(now),
                    ":error": {"S": error},
                    ":cutoff": cutoff,
                    ":closed": {"S": "closed"},
                },
                returns="ALL_NEW",
            )
            if started is not None:
                return _state(started)
        return self.read(system)

    def open(self, system: str, now: float, open_seconds: int, failures: int, error: str) -> bool:
        return (
            self._update(
                system,
                "SET #state = :open, opened_at = :now, open_until = :until, cooldown_seconds = :cooldown, "
                "failures = :failures, last_error = :error REMOVE probe_until",
                "attribute_not_exists(#state) OR #state = :closed",
                {
                    ":open": {"S": "open"},
                    ":closed": {"S": "closed"},
                    ":now": _n(now),
                    ":until": _n(now + open_seconds),
                    ":cooldown": {"N": str(open_seconds)},
                    ":failures": {"N": str(failures)},
                    ":error": {"S": error},
                },
            )
            is not None
        )

    def take_probe(self, system: str, now: float, lease_seconds: int) -> BreakerState | None:
        leased = self._update(
            system,
            "SET probe_until = :lease",
            "#state = :open AND open_until <= :now AND (attribute_not_exists(probe_until) OR probe_until <= :now)",
            {":open": {"S": "open"}, ":now": _n(now), ":lease": _n(now + lease_seconds)},
            returns="ALL_NEW",
        )
        return _state(leased) if leased is not None else None

    def reopen(self, system: str, now: float, open_seconds: int, error: str) -> bool:
        # ``opened_at`` stays: the outage is one, however many probes it took.
        return (
            self._update(
                system,
                "SET open_until = :until, cooldown_seconds = :cooldown, last_error = :error REMOVE probe_until",
                "#state = :open",
                {
                    ":open": {"S": "open"},
                    ":until": _n(now + open_seconds),
                    ":cooldown": {"N": str(open_seconds)},
                    ":error": {"S": error},
                },
            )
            is not None
        )

    def close(self, system: str) -> BreakerState | None:
        old = self._update(
            system,
            "SET #state = :closed, failures = :zero "
            "REMOVE window_started, opened_at, open_until, cooldown_seconds, probe_until",
            "#state = :open",
            {":open": {"S": "open"}, ":closed": {"S": "closed"}, ":zero": {"N": "0"}},
            returns="ALL_OLD",
        )
        return _state(old) if old is not None else None

    # -- plumbing ---------------------------------------------------------------------------------------------
    def _update(
        self, system: str, expression: str, condition: str, values: dict[str, Any], *, returns: str = "NONE"
    ) -> dict[str, Any] | None:
        """A conditional update: the item as ``returns`` asks ({} for NONE), or None when the condition failed."""
        names = {k: v for k, v in _NAMES.items() if k in expression or k in condition}
        try:
            result = self._client().update_item(
                TableName=self._table,
                Key=_key(system),
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
                **({"ExpressionAttributeNames": names} if names else {}),
                ReturnValues=returns,
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return None
            raise _unavailable(error) from error
        except BotoCoreError as error:
            raise _unavailable(error) from error
        attributes: dict[str, Any] = result.get("Attributes", {})
        return attributes

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        try:
            result: dict[str, Any] = getattr(self._client(), operation)(TableName=self._table, **kwargs)
        except (ClientError, BotoCoreError) as error:
            raise _unavailable(error) from error
        return result


def _unavailable(error: Exception) -> DownstreamUnavailable:
    return DownstreamUnavailable("operations table unavailable", error=type(error).__name__)


def _key(system: str) -> dict[str, Any]:
    return {"pk": {"S": PK}, "sk": {"S": system}}


def _n(seconds: float) -> dict[str, str]:
    return {"N": f"{seconds:.3f}"}


def _state(item: dict[str, Any]) -> BreakerState:
    def number(name: str) -> float | None:
        return float(item[name]["N"]) if name in item else None

    def moment(name: str) -> datetime | None:
        value = number(name)
        return datetime.fromtimestamp(value, UTC) if value is not None else None

    cooldown = number("cooldown_seconds")
    return BreakerState(
        system=item["sk"]["S"],
        state="open" if item.get("state", {}).get("S") == "open" else "closed",
        failures=int(number("failures") or 0),
        window_started=moment("window_started"),
        opened_at=moment("opened_at"),
        open_until=moment("open_until"),
        cooldown_seconds=int(cooldown) if cooldown is not None else None,
        last_error=item["last_error"]["S"] if "last_error" in item else None,
        probe_until=moment("probe_until"),
    )
