"""Connections to outside systems from Secrets Manager (``<prefix><system>``), cached per container."""

from __future__ import annotations

from functools import cached_property

from aws_lambda_powertools.utilities.parameters import SecretsProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError, TransformParameterError
from pydantic import ValidationError

from shared.aws import clients
from shared.connections import Connection
from shared.errors import DownstreamUnavailable


class SecretsManagerConnections:
    def __init__(self, name_prefix: str, max_age_seconds: int = 300) -> None:
        self._prefix = name_prefix
        self._max_age = max_age_seconds

    @cached_property
    def _provider(self) -> SecretsProvider:
        return SecretsProvider(boto3_client=clients.client("secretsmanager"))

    def connection(self, system: str) -> Connection:
        try:
            raw = self._provider.get(f"{self._prefix}{system}", max_age=self._max_age)
            return Connection.model_validate_json(str(raw))
        except (GetParameterError, TransformParameterError, ValidationError) as error:
            # Not configured yet, or malformed: retry later rather than drop the work.
            raise DownstreamUnavailable("connection settings unavailable", system=system) from error
