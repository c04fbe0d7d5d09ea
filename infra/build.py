"""Build the Lambda code asset and the dependency layer with pip alone (no Docker).

The layer pins the exact versions installed in this venv, so Lambda runs what the tests ran, built for the
Lambda platform (arm64, CPython 3.13) from wheels only.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from importlib import metadata

from infra.assets import ASSET_DIR, LAYER_DIR, ROOT

# boto3/botocore are in the Lambda runtime; shipping them would only add cold-start weight.
LAYER_PACKAGES = ("aws-lambda-powertools", "pydantic", "httpx")
PYTHON_VERSION = "3.13"
PLATFORM = "manylinux2014_aarch64"
CODE_PACKAGES = ("functions", "shared")


def build_asset() -> None:
    if ASSET_DIR.exists():
        shutil.rmtree(ASSET_DIR)
    for package in CODE_PACKAGES:
        shutil.copytree(ROOT / package, ASSET_DIR / package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


def layer_requirements() -> list[str]:
    return [f"{name}=={metadata.version(name)}" for name in LAYER_PACKAGES]


def build_layer() -> bool:
    """Returns False when the layer was already built for these exact requirements."""
    requirements = layer_requirements()
    stamp_value = hashlib.sha256("\n".join([PLATFORM, PYTHON_VERSION, *requirements]).encode()).hexdigest()
    stamp = LAYER_DIR / ".requirements.sha256"
    if stamp.is_file() and stamp.read_text() == stamp_value:
        return False
    if LAYER_DIR.exists():
        shutil.rmtree(LAYER_DIR)
    target = LAYER_DIR / "python"
    subprocess.run(  # noqa: S603 - fixed argv, no shell
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--platform",
            PLATFORM,
            "--implementation",
            "cp",
            "--python-version",
            PYTHON_VERSION,
            "--only-binary=:all:",
            "--target",
            str(target),
            *requirements,
        ],
        check=True,
    )
    # dist-info stays: libraries read their own version through importlib.metadata.
    for junk in [*target.rglob("__pycache__"), target / "bin"]:
        shutil.rmtree(junk, ignore_errors=True)
    stamp.write_text(stamp_value)
    return True


def main() -> None:
    build_asset()
    rebuilt = build_layer()
    print(f"asset: {ASSET_DIR.relative_to(ROOT)}")  # noqa: T201 - a CLI's output
    print(f"layer: {LAYER_DIR.relative_to(ROOT)} ({'built' if rebuilt else 'up to date'})")  # noqa: T201


if __name__ == "__main__":
    main()
