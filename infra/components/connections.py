"""One secret per outside system: ``{"base_url", "credentials", "settings"}``, filled in by ops (or the local
stack with its sandboxes)."""

from __future__ import annotations

import json

from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.components.common import removal_policy
from infra.config import EnvConfig
from infra.nag import acknowledge

PLACEHOLDER = {"base_url": "https://unconfigured.invalid", "credentials": {}, "settings": {}}


class Connections(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: EnvConfig) -> None:
        super().__init__(scope, construct_id)
        self.prefix = f"{config.prefix}/connections/"
        self.secrets: dict[str, secretsmanager.Secret] = {}
        for system in config.connected_systems:
            secret = secretsmanager.Secret(
                self,
                system.title().replace("_", ""),
                secret_name=f"{self.prefix}{system}",
                description=f"How {config.prefix} reaches {system}: base URL, credentials, settings",
                generate_secret_string=secretsmanager.SecretStringGenerator(
                    secret_string_template=json.dumps(PLACEHOLDER),
                    generate_string_key="placeholder",
                    exclude_punctuation=True,
                ),
                removal_policy=removal_policy(config),
            )
            acknowledge(
                secret,
                "SMG4",
                "The outside system issues these credentials; ops rotate them there and put the new value here "
                "(README runbook). A rotation Lambda cannot change the other system's side.",
            )
            self.secrets[system] = secret

    def grant_read(self, grantee: iam.IGrantable, *systems: str) -> None:
        for system in systems:
            self.secrets[system].grant_read(grantee)
