"""One Secrets Manager secret per platform: ``{"current": ..., "previous": ...}`` so secrets rotate live."""

from __future__ import annotations

from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.components.common import removal_policy
from infra.config import EnvConfig
from infra.nag import acknowledge


class WebhookSecrets(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: EnvConfig) -> None:
        super().__init__(scope, construct_id)
        self.prefix = f"{config.prefix}/webhooks/"
        self.secrets: dict[str, secretsmanager.Secret] = {}
        for platform in config.platforms:
            # A random placeholder: the platform issues the real secret and ops put it in (README runbook).
            self.secrets[platform] = secretsmanager.Secret(
                self,
                platform.title(),
                secret_name=f"{self.prefix}{platform}",
                description=f"{platform} webhook signing secret(s) for {config.prefix}",
                generate_secret_string=secretsmanager.SecretStringGenerator(
                    secret_string_template='{"previous": ""}',  # noqa: S106 - a template, no secret
                    generate_string_key="current",
                    exclude_punctuation=True,
                ),
                removal_policy=removal_policy(config),
            )
            acknowledge(
                self.secrets[platform],
                "SMG4",
                "The platform issues this secret; it rotates by the README runbook (current + previous), "
                "not by a Lambda rotator that could not change the platform's side.",
            )
