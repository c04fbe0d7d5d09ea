"""Secret values by name from Secrets Manager, through Powertools parameters, cached per container.

Missing or unreadable is ``DownstreamUnavailable``: a deployment that is not configured yet, or an outage.
Either way the work is retried later, never dropped.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from shared.aws import clients
from shared.errors import DownstreamUnavailable

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider


class CachedSecrets:
    def __init__(self, name_prefix: str, max_age_seconds: int = 300) -> None:
        self.prefix = name_prefix
        self._max_age = max_age_seconds

    @cached_property
    def _provider(self) -> SecretsProvider:
        # Powertools parameters imports boto3 (and s3transfer) at import: only the first secret read pays for it.
        from aws_lambda_powertools.utilities.parameters import SecretsProvider

        return SecretsProvider(boto3_client=clients.client("secretsmanager"))

    def value(self, name: str, *, what: str) -> str:
        """The secret ``<prefix><name>``; ``what`` names it in the error."""
        from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

        try:
            return str(self._provider.get(f"{self.prefix}{name}", max_age=self._max_age))
        except GetParameterError as error:
            raise DownstreamUnavailable(f"{what} unavailable", system=name) from error
