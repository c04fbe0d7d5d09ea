"""How a function reaches an outside system: a base URL and credentials, kept in Secrets Manager.

One secret per system and environment, ``crossdock-<env>/connections/<system>``, holding
``{"base_url": "...", "credentials": {...}}``. Ops put the real values after the first deploy; the local stack
puts the sandboxes' values. Adapters take a ``Connection`` and never read the environment.
"""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field


class Connection(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    base_url: str = Field(min_length=1)
    credentials: dict[str, str] = Field(default_factory=dict)
    # Settings that are not secret but belong to the connection, e.g. a store hash or an account id.
    settings: dict[str, str] = Field(default_factory=dict)


class ConnectionSource(Protocol):
    def connection(self, system: str) -> Connection: ...
