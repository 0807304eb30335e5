"""`make coldstart`: how long a fresh interpreter takes to get each shipped function's handler
ready, from its unpacked package with and without byte-code.

    .venv/bin/python -m scripts.coldstart [--config config/] [--runs 15]

For each distinct function of the environment files (code folder, dependency file, runtime):
the package is built twice for the function's runtime and this machine's architecture, with and
without byte-code (nothing else differs), and unpacked. Each run starts `scripts/lambda_worker.py`
in a fresh interpreter of the runtime, isolated as `make serve` runs it (the unpacked package,
the runtime's boto3 stand-in with its byte-code, the standard library), and waits for it to
report the handler imported. The two variants alternate, so load on the machine hits both
alike. Printed per function: the zip sizes, and the medians of

- import: the handler module's import, timed inside the process (what byte-code changes),
  elapsed and as the process's CPU time (which load from other processes hardly changes);
- ready: from starting the process to its "ready" line, timed here (adds the interpreter's own
  start-up, the same in both variants).

Lambda's own cold start adds what no local run has (fetching the code, starting the
environment); this measures the part the package decides.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from constructs_lib.bytecode import BytecodeUnavailable, find_interpreter
from constructs_lib.dependencies import Target, install_dependencies
from constructs_lib.packaging import PackagingError, build_zip
from scripts.local_aws import function_spec
from scripts.sandbox import (
    LOCAL_CACHE,
    FunctionSpec,
    Worker,
    host_architecture,
    lambda_environment,
    runtime_standin,
    unpacked,
    worker_command,
)
from serverless_app.config import ConfigError, load_config

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = PROJECT_ROOT / "config"
DEFAULT_RUNS = 15
VARIANTS = ("without", "with")
# Where boto3 would send requests: nowhere, no function calls AWS while importing.
IMPORT_ONLY_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}


@dataclass(frozen=True)
class Timing:
    import_s: float
    import_cpu_s: float
    ready_s: float


@dataclass(frozen=True)
class Row:
    function: str
    runtime: str
    zip_bytes: dict[str, int]  # by variant
    timings: dict[str, list[Timing]]  # by variant


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="file or folder")
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS, help="runs per variant")
    return parser.parse_args(argv)


def shipped_functions(config_path: Path) -> list[FunctionSpec]:
    """Each distinct function of the environment files, by code, dependencies and runtime."""
    files = sorted(config_path.glob("*.toml")) if config_path.is_dir() else [config_path]
    found: dict[tuple[Path, Path | None, str], FunctionSpec] = {}
    for file in files:
        config = load_config(file)
        for key in config.functions:
            spec = function_spec(config, key)
            found.setdefault((spec.source_dir, spec.dependencies, spec.runtime), spec)
    return list(found.values())


def measure(
    spec: FunctionSpec,
    runs: int,
    scratch: Path,
    clock: Callable[[], float] = time.perf_counter,
) -> Row:
    """Both variants' zip sizes and `runs` timings each, alternating."""
    interpreter = find_interpreter(spec.runtime).path
    target = Target(spec.runtime, host_architecture() or spec.architecture)
    installed = (
        None if spec.dependencies is None else install_dependencies(spec.dependencies, target)
    )
    runtime_dir = runtime_standin(spec.runtime, LOCAL_CACHE / "local-runtime")
    scratch.mkdir(parents=True, exist_ok=True)
    task_roots, sizes = {}, {}
    for variant in VARIANTS:
        package = build_zip(
            spec.source_dir,
            scratch / f"{spec.key}-{variant}.zip",
            dependencies_dir=installed,
            bytecode_runtime=spec.runtime if variant == "with" else None,
        )
        sizes[variant] = package.path.stat().st_size
        task_roots[variant] = unpacked(package, scratch / "unpacked")
    timings: dict[str, list[Timing]] = {variant: [] for variant in VARIANTS}
    for _ in range(runs):
        for variant in VARIANTS:
            command = worker_command(interpreter, task_roots[variant], runtime_dir, spec.handler)
            environment = lambda_environment(
                spec, task_roots[variant], runtime_dir, IMPORT_ONLY_AWS
            )
            timings[variant].append(time_to_ready(command, environment, clock))
    return Row(spec.key, spec.runtime, sizes, timings)


def time_to_ready(
    command: list[str], environment: dict[str, str], clock: Callable[[], float]
) -> Timing:
    started = clock()
    worker = Worker(command, environment, sys.stderr)
    try:
        answer = worker.next_answer(None)
        ready_s = clock() - started
    finally:
        worker.stop()
    if answer is None or "ready" not in answer:
        raise RuntimeError(f"{command[-1]}: the handler did not import: {answer}")
    return Timing(answer["ready"]["import_s"], answer["ready"]["import_cpu_s"], ready_s)


def report(rows: Iterable[Row], runs: int) -> list[str]:
    """The table, medians in milliseconds; change = with / without - 1."""
    columns: dict[str, Callable[[Timing], float]] = {
        "import": lambda timing: timing.import_s,
        "import CPU": lambda timing: timing.import_cpu_s,
        "ready": lambda timing: timing.ready_s,
    }
    lines = [
        f"median of {runs} runs each; import = the handler module's import (elapsed, and the "
        "process's CPU time), ready = from starting the process to the handler ready",
        "| function | runtime | zip without | zip with | "
        + " | ".join(f"{name} without | {name} with | change" for name in columns)
        + " |",
        "|---|---|---|---|" + "---|---|---|" * len(columns),
    ]
    for row in rows:
        cells = [row.function, row.runtime, *(f"{row.zip_bytes[v]:,} B" for v in VARIANTS)]
        for read in columns.values():
            medians = {v: median_ms(read(t) for t in row.timings[v]) for v in VARIANTS}
            cells += [*(f"{medians[v]:.1f} ms" for v in VARIANTS), change(medians)]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def median_ms(seconds: Iterable[float]) -> float:
    return statistics.median(seconds) * 1000


def change(by_variant: dict[str, float]) -> str:
    return f"{by_variant['with'] / by_variant['without'] - 1:+.0%}"


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.runs < 1:
        print(f"--runs {args.runs}: at least 1", file=sys.stderr)
        return 2
    try:
        functions = shipped_functions(args.config)
    except ConfigError as error:
        print("\n".join(error.problems), file=sys.stderr)
        return 2
    rows = []
    with tempfile.TemporaryDirectory(prefix="coldstart-") as scratch:
        for spec in functions:
            try:
                rows.append(measure(spec, args.runs, Path(scratch)))
            except (BytecodeUnavailable, PackagingError) as reason:
                print(f"{spec.key}: not measured: {reason}", file=sys.stderr)
    print("\n".join(report(rows, args.runs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
