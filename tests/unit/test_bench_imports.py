"""The cold-start proxy's pieces: each handler gets the variables its settings model reads, the importtime
breakdown, and one fresh interpreter per case (two in all: no subprocess storm)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from pydantic import Json

from infra.bench import imports, lambda_env


@pytest.mark.parametrize("function", lambda_env.handler_names())
def test_every_handler_gets_each_variable_its_settings_model_reads(function: str) -> None:
    model = lambda_env.settings_model(function)
    assert model is not None, f"functions/{function}/env.py defines no single *Env model"
    settings = lambda_env.placeholder_settings(model)
    assert set(settings) == set(model.model_fields)
    for name, info in model.model_fields.items():
        if Json in info.metadata:
            json.loads(settings[name])  # a Json field gets JSON
        else:
            assert settings[name]
    environment = lambda_env.lambda_environment(function, Path("/var/task"), settings)
    assert environment["POWERTOOLS_SERVICE_NAME"] == f"crossdock-{function}"
    assert environment["AWS_LAMBDA_FUNCTION_NAME"].endswith(function)


def test_every_function_package_is_measured() -> None:
    names = lambda_env.handler_names()
    assert "receive_webhook" in names
    assert len(names) == len(list(lambda_env.FUNCTIONS_DIR.glob("*/handler.py")))


def test_importtime_self_times_are_summed_per_top_level_package() -> None:
    text = "\n".join(
        [
            "import time: self [us] | cumulative | imported package",
            "import time:      1500 |       1500 |     botocore.utils",
            "import time:       500 |       2000 |   botocore",
            "import time:      3000 |       3000 | shared.models.events",
            "not an importtime line",
        ]
    )
    assert imports.parse_importtime(text) == {"shared": 3.0, "botocore": 2.0}


def test_the_naive_handler_is_valid_python() -> None:
    compile(imports.NAIVE_HANDLER, "naive_handler.py", "exec")


def test_a_fresh_interpreter_reports_its_timings_and_whether_s3transfer_came_in(tmp_path: Path) -> None:
    (tmp_path / "pulls_s3transfer.py").write_text("import s3transfer\n")
    bare = imports.ImportCase("baseline_bare_interpreter", "", tmp_path)
    heavy = imports.ImportCase("heavy", "pulls_s3transfer", tmp_path)
    pycache = tmp_path / "pycache"

    empty, loaded = imports.run_once(bare, pycache), imports.run_once(heavy, pycache)

    assert not empty.s3transfer
    assert loaded.s3transfer
    assert loaded.modules > empty.modules
    assert 0 < loaded.import_only_ms < loaded.cold_ms  # the spawn figure includes the interpreter's start
    assert not list(tmp_path.glob("__pycache__"))  # bytecode went to the prefix, not next to the code
    assert list(pycache.rglob("pulls_s3transfer*.pyc"))


def test_a_module_that_fails_to_import_stops_the_bench_with_its_error(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("raise RuntimeError('no I/O at import, please')\n")
    with pytest.raises(RuntimeError, match="no I/O at import"):
        imports.run_once(imports.ImportCase("broken", "broken", tmp_path), tmp_path / "pycache")


def test_packages_lambda_lacks_are_hidden_and_the_layer_and_runtime_are_not(tmp_path: Path) -> None:
    layer = tmp_path / "python"
    layer.mkdir()
    for name in ("pydantic", "httpx", "pydantic-2.0.dist-info"):
        (layer / name).mkdir()
    (layer / "typing_extensions.py").write_text("")
    assert lambda_env.lambda_packages(layer) >= {"pydantic", "httpx", "typing_extensions", "boto3", "shared"}
    blocked = lambda_env.blocked_packages(layer)
    assert {"pytest", "moto", "rich"} <= set(blocked)  # installed here for the tests, absent on Lambda
    assert not {"pydantic", "httpx", "boto3", "botocore", "functions", "shared", "json"} & set(blocked)


def test_an_import_of_a_package_lambda_lacks_fails_in_the_child_as_it_would_there(tmp_path: Path) -> None:
    (tmp_path / "needs_pytest.py").write_text("import pytest\n")
    case = imports.ImportCase("needs_pytest", "needs_pytest", tmp_path)
    with pytest.raises(RuntimeError, match="not on Lambda"):
        imports.run_once(case, tmp_path / "pycache")


def test_only_the_slowest_handlers_over_the_goal_are_explained() -> None:
    figures = [
        imports.ImportFigure(name, cold, cold, cold, 10, False, False, 1)
        for name, cold in [("baseline_naive_handler", 900.0), ("a", 300.0), ("b", 200.0), ("c", 150.0), ("d", 90.0)]
    ]
    assert imports.slowest_misses(figures, 140.0, top=2) == {"a", "b"}
    assert imports.slowest_misses(figures, None, top=2) == set()


def test_the_lambda_bytecode_cache_keeps_the_runtime_s_bytecode_and_drops_the_asset_s(tmp_path: Path) -> None:
    pycache, code = tmp_path / "pycache", tmp_path / "asset"
    kept = pycache / str(Path(imports.__file__).parent).lstrip("/") / "kept.cpython-311.pyc"
    dropped = pycache / str(code / "shared").lstrip("/") / "models.cpython-311.pyc"
    for path in (kept, dropped):
        path.parent.mkdir(parents=True)
        path.write_bytes(b"")
    layer = tmp_path / "layer"
    (layer / "pydantic").mkdir(parents=True)
    stripped = imports.without_lambda_bytecode(pycache, [code / "functions", code / "shared"], layer)
    assert (stripped / kept.relative_to(pycache)).exists()
    assert not (stripped / dropped.relative_to(pycache)).exists()
    assert dropped.exists()  # the cache the cached runs use is left alone


def test_a_single_module_in_the_layer_loses_its_own_bytecode_not_its_neighbours(tmp_path: Path) -> None:
    site_packages = Path(str(importlib.util.find_spec("typing_extensions").origin)).parent  # type: ignore[union-attr]
    pycache = tmp_path / "pycache"
    mirrored = pycache / str(site_packages).lstrip("/")
    single = mirrored / "typing_extensions.cpython-311.pyc"
    neighbour = mirrored / "boto3" / "__init__.cpython-311.pyc"
    for path in (single, neighbour):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")
    layer = tmp_path / "layer"
    layer.mkdir()
    (layer / "typing_extensions.py").write_text("")
    stripped = imports.without_lambda_bytecode(pycache, [], layer)
    assert not (stripped / single.relative_to(pycache)).exists()
    assert (stripped / neighbour.relative_to(pycache)).exists()  # boto3 is the runtime's, compiled there
