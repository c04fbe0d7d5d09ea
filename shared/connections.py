"""How a function reaches an outside system: a base URL and credentials, kept in Secrets Manager.

One secret per system and environment, ``crossdock-<env>/connections/<system>``, holding
``{"base_url": "...", "credentials": {...}}``. Ops put the real values after the first deploy; the local stack
puts the sandboxes' values. Adapters take a ``Connection`` and never read the environment.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field


class Connection(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    base_url: str = Field(min_length=1)
    credentials: dict[str, str] = Field(default_factory=dict)
    # Settings that are not secret but belong to the connection, e.g. a store hash or an account id.
    settings: dict[str, str] = Field(default_factory=dict)


class ConnectionSource(Protocol):
    def connection(self, system: str) -> Connection: ...


AdapterT = TypeVar("AdapterT")


class Connected(Generic[AdapterT]):
    """An adapter that follows its connection secret: rebuilt when ops put new credentials, else reused.

    The secret read is cached (5 minutes), so a rotation reaches warm containers within that time.
    """

    def __init__(self, connections: ConnectionSource, system: str, build: Callable[[Connection], AdapterT]) -> None:
        self._connections = connections
        self._system = system
        self._build = build
        self._current: tuple[Connection, AdapterT] | None = None

    def __call__(self) -> AdapterT:
        connection = self._connections.connection(self._system)
        if self._current is None or self._current[0] != connection:
            self._current = (connection, self._build(connection))
        return self._current[1]
