"""Where the Lambda code asset and the dependency layer are built (by ``infra.build``, never with Docker)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD_DIR = ROOT / "build"
ASSET_DIR = BUILD_DIR / "asset"
LAYER_DIR = BUILD_DIR / "layer"


def ensure_built() -> None:
    missing = [d for d in (ASSET_DIR, LAYER_DIR / "python") if not d.is_dir()]
    if missing:
        raise RuntimeError(f"Lambda assets not built ({', '.join(map(str, missing))}): run `make build` first")
