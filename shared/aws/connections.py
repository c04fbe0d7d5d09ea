"""Connections to outside systems from Secrets Manager (``<prefix><system>``), cached per container."""

from __future__ import annotations

from pydantic import ValidationError

from shared.aws.secret_values import CachedSecrets
from shared.connections import Connection
from shared.errors import DownstreamUnavailable


class SecretsManagerConnections:
    def __init__(self, name_prefix: str, max_age_seconds: int = 300) -> None:
        self._secrets = CachedSecrets(name_prefix, max_age_seconds)

    def connection(self, system: str) -> Connection:
        raw = self._secrets.value(system, what="connection settings")
        try:
            return Connection.model_validate_json(raw)
        except ValidationError as error:
            # Still the deploy-time placeholder, or malformed: retry later rather than drop the work.
            raise DownstreamUnavailable("connection settings unavailable", system=system) from error
