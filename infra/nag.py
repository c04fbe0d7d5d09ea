"""cdk-nag AwsSolutions acknowledgments: every one names its rule and says why, next to the resource."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct


def acknowledge(construct: IConstruct, rule: str, reason: str) -> None:
    """``rule`` as cdk-nag prints it after ``AwsSolutions-``, e.g. ``SMG4`` or ``IAM5[Resource::*]``."""
    Validations.of(construct).acknowledge(Acknowledgment(id=f"AwsSolutions::AwsSolutions-{rule}", reason=reason))
