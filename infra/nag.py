"""cdk-nag, policy as code: the rule packs every synth runs, and acknowledgments that name their rule and say why,
next to the resource."""

from __future__ import annotations

from typing import Literal

from aws_cdk import Acknowledgment, App, Validations
from cdk_nag import AwsSolutionsChecks, ServerlessChecks
from constructs import IConstruct

Pack = Literal["AwsSolutions", "Serverless"]


def add_nag_packs(app: App) -> None:
    """Any unacknowledged finding of either pack fails synth. The acknowledgments are also written into the
    template (``Metadata.cdk_nag.rules_to_suppress``), so the deployed stack carries each reason."""
    Validations.of(app).add_plugins(
        AwsSolutionsChecks(app, write_suppressions_to_cloud_formation=True),
        ServerlessChecks(app),
    )


def acknowledge(construct: IConstruct, rule: str, reason: str, *, pack: Pack = "AwsSolutions") -> None:
    """``rule`` as cdk-nag prints it after ``<pack>-``, e.g. ``SMG4``, ``IAM5[Resource::*]`` or ``LambdaDLQ``.

    It covers ``construct`` and everything under it, so acknowledge on the narrowest construct that has the finding.
    """
    Validations.of(construct).acknowledge(Acknowledgment(id=f"{pack}::{pack}-{rule}", reason=reason))
