"""``python -m infra.bench [--quick] [--no-stack] [--no-bytecode] [--usage FILE]``: measure, print the markdown
table, write bench/results.json.

The import and hot-path figures come first, on a machine with nothing else of ours running; then one local stack
runs the order journey, the inventory burst and the ack latency (``infra.bench.on_stack``), unless ``--quick`` or
``--no-stack``."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from infra.assets import ASSET_DIR, ROOT
from infra.bench import hot_path, imports, report
from infra.bench.cost import OrderUsage
from infra.bench.figures import StackFigures

RESULTS = ROOT / "bench" / "results.json"
FULL_RUNS = 10  # fresh interpreters per module: the issue asks for at least 10
QUICK_RUNS = 2
NO_BYTECODE_RUNS = 3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.bench", description=__doc__)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="fewer interpreters and repeats, and no local stack: a smoke run, not figures",
    )
    parser.add_argument(
        "--no-stack",
        action="store_true",
        help="skip the local stack (cost, calls per order, throughput, ack latency, inventory)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="where results.json goes (default: bench/)")
    parser.add_argument(
        "--no-bytecode",
        action="store_true",
        help=f"also import each module {NO_BYTECODE_RUNS} times with no .pyc for the asset and the layer, as Lambda "
        "reads them (about a minute more)",
    )
    parser.add_argument(
        "--code-dir",
        type=Path,
        default=ASSET_DIR,
        help="where the function code is imported from (default: the built asset, as Lambda unpacks it)",
    )
    parser.add_argument(
        "--usage",
        type=Path,
        help="AWS usage per order (an OrderUsage as JSON) to price instead of the one the local stack measures",
    )
    args = parser.parse_args(argv)
    usage = OrderUsage.model_validate_json(args.usage.read_text()) if args.usage else None
    run_machine = report.machine()
    started = time.monotonic()
    import_figures = imports.measure(
        runs=QUICK_RUNS if args.quick else FULL_RUNS,
        code_dir=args.code_dir,
        explain_over_ms=None if args.quick else imports.GOAL_MS,
        no_bytecode_runs=NO_BYTECODE_RUNS if args.no_bytecode else 0,
    )
    hot = hot_path.measure(hot_path.QUICK if args.quick else hot_path.Settings())
    stack = None if args.quick or args.no_stack else measure_stack()
    data = report.results(
        imports=import_figures,
        hot=hot,
        usage=usage,
        mode="quick" if args.quick else "full",
        run_machine=run_machine,
        stack=stack,
    )
    data["duration_seconds"] = round(time.monotonic() - started, 1)
    # A loaded machine stretches every wall-clock figure: say how loaded it was at both ends.
    data["machine"]["load_average_1m_end"] = round(os.getloadavg()[0], 2)
    report.write(data, args.out)
    sys.stdout.write(report.markdown(data))
    sys.stdout.write(f"\nwrote {args.out} in {data['duration_seconds']} s\n")
    return 0


def measure_stack() -> StackFigures:
    # Imported here: the stack's modules load the CDK app (seconds), which a run without the stack never needs.
    from infra.bench import on_stack

    return on_stack.measure()


if __name__ == "__main__":
    sys.exit(main())
