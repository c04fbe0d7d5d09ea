"""Webhook signing secrets from Secrets Manager, through Powertools parameters (cached per container).

A secret holds ``{"current": "...", "previous": "..."}`` so a platform secret can rotate with no rejected
deliveries: both are accepted until ``previous`` is cleared. A plain string value is one secret.
"""

from __future__ import annotations

import json
from functools import cached_property

from aws_lambda_powertools.utilities.parameters import SecretsProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

from shared.aws import clients
from shared.errors import DownstreamUnavailable


class SecretsManagerWebhookSecrets:
    def __init__(self, name_prefix: str, max_age_seconds: int = 300) -> None:
        self._prefix = name_prefix
        self._max_age = max_age_seconds

    @cached_property
    def _provider(self) -> SecretsProvider:
        return SecretsProvider(boto3_client=clients.client("secretsmanager"))

    def name_for(self, platform: str) -> str:
        return f"{self._prefix}{platform}"

    def for_platform(self, platform: str) -> list[bytes]:
        try:
            raw = self._provider.get(self.name_for(platform), max_age=self._max_age)
        except GetParameterError as error:
            # Misconfiguration or an outage: answer 5xx so the platform retries while someone fixes it.
            raise DownstreamUnavailable("webhook secret unavailable", platform=platform) from error
        return parse_secret_value(str(raw))


def parse_secret_value(raw: str) -> list[bytes]:
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    candidates = [value.get("current"), value.get("previous")] if isinstance(value, dict) else [value]
    secrets = [c.encode() for c in candidates if isinstance(c, str) and c]
    if not secrets:
        raise DownstreamUnavailable("webhook secret is empty")
    return secrets
