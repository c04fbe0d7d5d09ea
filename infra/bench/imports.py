"""Cold-start proxy: each handler module imported in fresh interpreters, next to baselines measured in the same run.

Each run is a new ``python`` process started the way the local stack's worker starts a function: the built asset
first on ``sys.path``, the function's environment (Lambda's own variables, Powertools', and its settings with
placeholder values: handlers read their settings on the first invocation, not at import), and the venv's packages
that Lambda would not have (neither in the runtime nor in our layer) hidden. Three figures per run:

- ``cold_ms``: from spawning the process to the handler module imported, the interpreter's start included (minus
  nothing). This is the figure the goal is about, and what ``results.json`` calls ``import_ms``.
- ``import_only_ms``: ``time.perf_counter`` around ``importlib.import_module`` inside the process.
- ``cpu_ms``: the process's CPU time up to the same point. It grows far less than the wall time when the machine is
  loaded, so the two side by side say how much of a figure is the load.

Runs go round-robin over the cases, so a burst of load on the machine hits every case alike, after a warm-up that
imports every module once. Bytecode is cached under a temporary ``PYTHONPYCACHEPREFIX``, so the asset is never written
to. Lambda itself finds no ``.pyc`` in the asset or the layer (``infra.build`` strips them), so there a cold start also
compiles them: these figures leave that out, and ``no_bytecode_runs`` measures it.
"""

from __future__ import annotations

import functools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from infra.assets import ASSET_DIR, LAYER_DIR, ensure_built
from infra.bench.lambda_env import (
    RUNTIME_PACKAGES,
    blocked_packages,
    handler_names,
    lambda_environment,
    lambda_packages,
    placeholder_settings,
    settings_model,
)

GOAL_MS = 140.0
CHILD_TIMEOUT_SECONDS = 120

# Every child first hides the packages Lambda would not have (``blocked_packages``): an import of one fails, as on
# Lambda, so optional imports take the path they take there (httpx, say, skips its CLI and rich).
_NOT_ON_LAMBDA = """
import os, sys
class _NotOnLambda:
    blocked = frozenset(os.environ.get("CROSSDOCK_BENCH_BLOCKED", "").split())

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name.partition(".")[0] in cls.blocked:
            raise ModuleNotFoundError(f"No module named {name!r} (not on Lambda)", name=name)
        return None
sys.meta_path.insert(0, _NotOnLambda)
"""

# What the fresh interpreter runs: argv is (code dir, module or "" for none). Only the import is timed.
_CHILD = (
    _NOT_ON_LAMBDA
    + """
import time
code_dir, module = sys.argv[1], sys.argv[2]
sys.path.insert(0, code_dir)
import importlib
started = time.perf_counter()
if module:
    importlib.import_module(module)
imported = time.perf_counter()
ready = time.monotonic()
cpu = time.process_time()
import json, os
print(json.dumps({
    "ready": ready,
    "cpu_ms": cpu * 1000,
    "import_ms": (imported - started) * 1000,
    "s3transfer": "s3transfer" in sys.modules,
    "boto3": "boto3" in sys.modules,
    "modules": len(sys.modules),
}), flush=True)
os._exit(0)  # the figures are out: skip the interpreter's teardown, which only slows the bench down
"""
)

# One process importing every case's module: fills the bytecode cache and the page cache before any run counts.
_WARM_UP = (
    _NOT_ON_LAMBDA
    + """
import importlib
sys.path[:0] = sys.argv[1].split("\\n")
for module in sys.argv[2].split():
    importlib.import_module(module)
"""
)

# A handler written the obvious way: every utility imported at the top, the logger and processor made at import.
NAIVE_HANDLER = '''"""The naive baseline: boto3, the Powertools logger, parser, idempotency and batch utilities."""
import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, idempotent
from aws_lambda_powertools.utilities.parser import parse
from pydantic import BaseModel

logger = Logger()
processor = BatchProcessor(event_type=EventType.SQS)


class Order(BaseModel):
    id: str
    total: str


def record_handler(record):
    return parse(event=record.body, model=Order)


def lambda_handler(event, context):
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
'''
NAIVE_MODULE = "naive_handler"


@dataclass(frozen=True)
class ImportCase:
    name: str
    module: str  # "" imports nothing: the bare interpreter
    code_dir: Path
    environment: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ImportSample:
    cold_ms: float
    import_only_ms: float
    cpu_ms: float
    s3transfer: bool
    boto3: bool
    modules: int


@dataclass(frozen=True)
class ImportFigure:
    name: str
    cold_ms: float  # medians
    import_only_ms: float
    cpu_ms: float
    runs: int
    s3transfer: bool
    boto3: bool
    modules: int
    # Why a handler misses the goal: ``-X importtime`` self time per top-level package (ms), largest first.
    self_ms_by_package: Mapping[str, float] = field(default_factory=dict)
    # Spawn to imported with no bytecode for the asset and the layer, as on Lambda (measured only when asked).
    no_bytecode_ms: float | None = None

    @property
    def baseline(self) -> bool:
        return self.name.startswith("baseline")


def cases(naive_dir: Path, code_dir: Path = ASSET_DIR, handlers: Sequence[str] | None = None) -> list[ImportCase]:
    baseline_env = lambda_environment("baseline", code_dir, {})
    made = [
        ImportCase("baseline_bare_interpreter", "", code_dir, baseline_env),
        ImportCase("baseline_import_boto3", "boto3", code_dir, baseline_env),
        ImportCase("baseline_naive_handler", NAIVE_MODULE, naive_dir, lambda_environment("naive", naive_dir, {})),
    ]
    for function in handler_names() if handlers is None else handlers:
        settings = placeholder_settings(settings_model(function))
        environment = lambda_environment(function, code_dir, settings)
        made.append(ImportCase(function, f"functions.{function}.handler", code_dir, environment))
    return made


def warm_up(measured: Sequence[ImportCase], pycache: Path) -> None:
    code_dirs = "\n".join(dict.fromkeys(str(case.code_dir) for case in measured))
    modules = " ".join(case.module for case in measured if case.module)
    subprocess.run(  # noqa: S603 - our own interpreter and program
        [sys.executable, "-c", _WARM_UP, code_dirs, modules],
        env=child_environment(measured[-1].environment, pycache),
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT_SECONDS,
        check=True,
    )


def child_environment(case_environment: Mapping[str, str], pycache: Path) -> dict[str, str]:
    """The case's environment, plus what every child needs: PATH, the bytecode cache, the packages to hide."""
    return {
        **case_environment,
        "PATH": os.environ.get("PATH", os.defpath),
        "PYTHONPYCACHEPREFIX": str(pycache),
        "CROSSDOCK_BENCH_BLOCKED": " ".join(_blocked()),
    }


@functools.cache
def _blocked() -> tuple[str, ...]:
    # No layer, nothing to compare with: ``measure`` insists on one; a lone run (a test) hides nothing.
    return tuple(blocked_packages()) if (LAYER_DIR / "python").is_dir() else ()


def run_once(case: ImportCase, pycache: Path) -> ImportSample:
    environment = child_environment(case.environment, pycache)
    spawned = time.monotonic()
    done = subprocess.run(  # noqa: S603 - our own interpreter and program
        [sys.executable, "-c", _CHILD, str(case.code_dir), case.module],
        cwd=case.code_dir,
        env=environment,
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT_SECONDS,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"importing {case.module or 'nothing'} failed:\n{done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return ImportSample(
        # CLOCK_MONOTONIC is one clock for every process on Linux, so the child's reading is comparable to ours.
        cold_ms=(float(result["ready"]) - spawned) * 1000,
        import_only_ms=float(result["import_ms"]),
        cpu_ms=float(result["cpu_ms"]),
        s3transfer=bool(result["s3transfer"]),
        boto3=bool(result["boto3"]),
        modules=int(result["modules"]),
    )


def measure(
    runs: int = 10,
    handlers: Sequence[str] | None = None,
    code_dir: Path = ASSET_DIR,
    explain_over_ms: float | None = GOAL_MS,
    explain_top: int = 5,
    no_bytecode_runs: int = 0,
) -> list[ImportFigure]:
    """Median figures per case.

    The ``explain_top`` slowest handlers over ``explain_over_ms`` also get their import time by package. With
    ``no_bytecode_runs``, each case is also imported that many times with no bytecode for the asset and the layer's
    packages, as Lambda reads them (``infra.build`` ships no ``.pyc``): what a real cold start pays on top.
    """
    if code_dir == ASSET_DIR:
        ensure_built()
    if not (LAYER_DIR / "python").is_dir():  # it says which packages Lambda has
        raise RuntimeError(f"the dependency layer is not built ({LAYER_DIR}): run `make build` first")
    with tempfile.TemporaryDirectory(prefix="crossdock-bench-") as scratch:
        naive_dir = Path(scratch) / "naive"
        naive_dir.mkdir()
        (naive_dir / f"{NAIVE_MODULE}.py").write_text(NAIVE_HANDLER)
        pycache = Path(scratch) / "pycache"
        measured = cases(naive_dir, code_dir, handlers)
        warm_up(measured, pycache)
        samples: dict[str, list[ImportSample]] = defaultdict(list)
        for _ in range(runs):
            for case in measured:
                samples[case.name].append(run_once(case, pycache))
        figures = {case.name: summarize(case.name, samples[case.name]) for case in measured}
        if no_bytecode_runs:
            lambda_cache = without_lambda_bytecode(pycache, [code_dir / "functions", code_dir / "shared", naive_dir])
            compiled: dict[str, list[float]] = defaultdict(list)
            for _ in range(no_bytecode_runs):
                for case in measured:
                    uncached = replace(case, environment={**case.environment, "PYTHONDONTWRITEBYTECODE": "1"})
                    compiled[case.name].append(run_once(uncached, lambda_cache).cold_ms)
            for name, values in compiled.items():
                figures[name] = replace(figures[name], no_bytecode_ms=statistics.median(values))
        misses = sorted(
            (
                f
                for f in figures.values()
                if not f.baseline and explain_over_ms is not None and f.cold_ms > explain_over_ms
            ),
            key=lambda f: f.cold_ms,
            reverse=True,
        )[:explain_top]
        for case in measured:
            if figures[case.name] in misses:
                figures[case.name] = replace(figures[case.name], self_ms_by_package=self_time_by_package(case, pycache))
    return [figures[case.name] for case in measured]


def slowest_misses(figures: Iterable[ImportFigure], goal_ms: float | None, top: int) -> set[str]:
    if goal_ms is None:
        return set()
    misses = sorted((f for f in figures if not f.baseline and f.cold_ms > goal_ms), key=lambda f: -f.cold_ms)
    return {f.name for f in misses[:top]}


def without_lambda_bytecode(pycache: Path, code_dirs: Sequence[Path], layer: Path = LAYER_DIR / "python") -> Path:
    """A copy of the bytecode cache with no entries for ``code_dirs`` and the layer's packages."""
    import importlib.util
    import shutil

    stripped = pycache.with_name(f"{pycache.name}-lambda")
    shutil.copytree(pycache, stripped)

    def mirrored(source: Path) -> Path:
        # Python keeps a module's bytecode at <prefix>/<its source directory's absolute path>/<name>.<tag>.pyc.
        return stripped / str(source).lstrip(os.sep)

    for directory in code_dirs:
        shutil.rmtree(mirrored(directory), ignore_errors=True)
    for name in lambda_packages(layer) - RUNTIME_PACKAGES - {"functions", "shared"}:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            continue
        if spec.submodule_search_locations:  # a package: its whole directory
            shutil.rmtree(mirrored(Path(spec.origin).parent), ignore_errors=True)
        else:  # a single module (typing_extensions.py) beside the others: only its own file
            for compiled in mirrored(Path(spec.origin).parent).glob(f"{name}.*.pyc"):
                compiled.unlink()
    return stripped


def summarize(name: str, samples: Sequence[ImportSample]) -> ImportFigure:
    return ImportFigure(
        name=name,
        cold_ms=statistics.median(s.cold_ms for s in samples),
        import_only_ms=statistics.median(s.import_only_ms for s in samples),
        cpu_ms=statistics.median(s.cpu_ms for s in samples),
        runs=len(samples),
        s3transfer=any(s.s3transfer for s in samples),
        boto3=any(s.boto3 for s in samples),
        modules=max(s.modules for s in samples),
    )


def self_time_by_package(case: ImportCase, pycache: Path, top: int = 8) -> dict[str, float]:
    """Where an import spends its time: ``-X importtime`` self times summed per top-level package, in ms."""
    environment = child_environment(case.environment, pycache)
    done = subprocess.run(  # noqa: S603 - our own interpreter and program
        [sys.executable, "-X", "importtime", "-c", f"{_NOT_ON_LAMBDA}\nimport {case.module}"],
        cwd=case.code_dir,
        env=environment,
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT_SECONDS,
        check=True,
    )
    return dict(list(parse_importtime(done.stderr).items())[:top])


def parse_importtime(text: str) -> dict[str, float]:
    totals: dict[str, float] = defaultdict(float)
    for line in text.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _cumulative, name = (part.strip() for part in line.removeprefix("import time:").split("|", 2))
        totals[name.split(".", 1)[0]] += int(self_us) / 1000
    return dict(sorted(totals.items(), key=lambda item: item[1], reverse=True))
