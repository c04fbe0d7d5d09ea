"""Synthesize each environment once per test session (jsii makes every synth cost seconds)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App
from aws_cdk.assertions import Template

from infra.app import build_app
from infra.config import cdk_context

ENVS = ("dev", "staging", "prod")


class Synth:
    def __init__(self, env: str) -> None:
        self.env = env
        self.app: App = build_app(env, App(context=cdk_context()))
        assembly = self.app.synth()
        artifact = assembly.get_stack_by_name(f"Crossdock-{env}")
        self.template_path = Path(assembly.directory) / artifact.template_file
        self.template_json: dict[str, Any] = json.loads(self.template_path.read_text())
        self.template = Template.from_json(self.template_json)

    def resources(self, cfn_type: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.template_json["Resources"].items() if v["Type"] == cfn_type}


_CACHE: dict[str, Synth] = {}


def synth(env: str) -> Synth:
    if env not in _CACHE:
        _CACHE[env] = Synth(env)
    return _CACHE[env]


@pytest.fixture(params=ENVS)
def stack(request: pytest.FixtureRequest) -> Synth:
    return synth(request.param)
