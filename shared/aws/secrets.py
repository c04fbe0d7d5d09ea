"""Webhook signing secrets from Secrets Manager, through Powertools parameters (cached per container).

A secret holds ``{"current": "...", "previous": "..."}`` so a platform secret can rotate with no rejected
deliveries: both are accepted until ``previous`` is cleared. A plain string value is one secret.
"""

from __future__ import annotations

import json

from shared.aws.secret_values import CachedSecrets
from shared.errors import DownstreamUnavailable


class SecretsManagerWebhookSecrets:
    def __init__(self, name_prefix: str, max_age_seconds: int = 300) -> None:
        self._secrets = CachedSecrets(name_prefix, max_age_seconds)

    def name_for(self, platform: str) -> str:
        return f"{self._secrets.prefix}{platform}"

    def for_platform(self, platform: str) -> list[bytes]:
        # Missing is a 5xx, not a 401: the platform retries while someone fixes the configuration.
        return parse_secret_value(self._secrets.value(platform, what="webhook secret"))


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
