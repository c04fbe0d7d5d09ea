"""What a function finds in its Lambda execution environment: the variables set, the packages importable.

The cold-start proxy (``infra.bench.imports``) starts each fresh interpreter with these.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping
from importlib.metadata import packages_distributions
from pathlib import Path

from pydantic import BaseModel, Json

from infra.assets import LAYER_DIR, ROOT

FUNCTIONS_DIR = ROOT / "functions"

# The Lambda Python runtime's own packages: boto3 and what it needs (not in our layer on purpose, infra/build.py).
RUNTIME_PACKAGES = frozenset({"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six"})


def lambda_packages(layer: Path = LAYER_DIR / "python") -> frozenset[str]:
    """What a function can import on Lambda besides the standard library: the runtime's, the layer's, the asset's."""
    names = {p.name.removesuffix(".py") for p in layer.iterdir() if not p.name.endswith(".dist-info")}
    return RUNTIME_PACKAGES | names | {"functions", "shared"}


def blocked_packages(layer: Path = LAYER_DIR / "python") -> list[str]:
    """The venv's packages a function would not find on Lambda (test and CDK tooling, optional extras)."""
    return sorted(set(packages_distributions()) - lambda_packages(layer) - set(sys.stdlib_module_names))


def handler_names() -> list[str]:
    return sorted(path.parent.name for path in FUNCTIONS_DIR.glob("*/handler.py"))


def settings_model(function: str) -> type[BaseModel] | None:
    """The function's environment model: the ``*Env`` class its ``env.py`` defines."""
    module = importlib.import_module(f"functions.{function}.env")
    models = [
        value
        for name, value in vars(module).items()
        if name.endswith("Env")
        and isinstance(value, type)
        and issubclass(value, BaseModel)
        and value.__module__ == module.__name__
    ]
    return models[0] if len(models) == 1 else None


def placeholder_settings(model: type[BaseModel] | None) -> dict[str, str]:
    """Every variable the model reads, with a value of the right shape (never read at import)."""
    if model is None:
        return {}
    values = {}
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if Json not in info.metadata:
            values[name] = "1" if annotation is int else "bench-placeholder"
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            values[name] = _default_json(annotation)
        else:
            values[name] = _empty_json(getattr(annotation, "__origin__", annotation))
    return values


def _empty_json(kind: object) -> str:
    if kind is list:
        return "[]"
    if kind is dict:
        return "{}"
    return "true" if kind is bool else "null"


def _default_json(model: type[BaseModel]) -> str:
    try:
        return model().model_dump_json()
    except ValueError:  # required fields: no default instance (pydantic's ValidationError is a ValueError)
        return "{}"


def lambda_environment(function: str, code_dir: Path, settings: Mapping[str, str]) -> dict[str, str]:
    """What a Lambda execution environment sets (the local stack's worker sets the same), then the settings."""
    name = f"crossdock-bench-{function}"
    return {
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "LAMBDA_TASK_ROOT": str(code_dir),
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        # Dummies: nothing may call AWS at import, and the bench must never reach a real account.
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_SESSION_TOKEN": "bench",
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
        "AWS_LAMBDA_LOG_FORMAT": "JSON",
        "AWS_LAMBDA_LOG_LEVEL": "INFO",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "POWERTOOLS_SERVICE_NAME": f"crossdock-{function}",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "POWERTOOLS_METRICS_NAMESPACE": "Crossdock/bench",
        "CROSSDOCK_ENV": "bench",
        **settings,
    }
