"""`make bench`: wall time and peak memory of `main.py`, fast provider loader vs stock import.

    .venv/bin/python -m scripts.bench [--runs 5]

Every run is a fresh `python main.py` subprocess, as a user would start it. One round runs,
in this order: the shipped environments (config/) with the fast loader, the same with an empty
dependency cache (a first synth: pip installs the functions' dependencies; every other row
reuses a cache filled by one untimed run before the rounds), the same through the
stock path (CDKTF_FULL_PROVIDER_IMPORT=1: stock Python import and stock node load), the
shipped environments on CDK Terrain (.venv-cdktn) with the fast loader and through the stock
path, then 1, 4 and 16 generated environments with the fast loader, then the phase runs
(below); rounds repeat `--runs` times, so machine noise spreads over every row.

CPU is user + system time of python and node: other load on the machine disturbs it less than
wall time. Peak memory is the largest sum of the resident set sizes of the python process and
its node children, sampled from /proc every 20 ms; node peak is the sum of the node processes'
own high-water marks (VmHWM: exact, not sampled). Prints a Markdown table, the fast/stock
ratio and the cost of each additional environment (least-squares slope over 1, 4, 16).

The phase runs split one synth of the shipped environments into components. They run this
module as a small program (`--phases-child`) that does what `main.py` does in explicit steps
and stamps the time after each; the parent adds the time from its own start of the process to
the first stamp and from the last stamp to the process's end (teardown).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

from constructs_lib.dependencies import CACHE_ENV
from fast_synth import provider_loader
from fast_synth.provider_loader import (
    OPT_OUT_VARIABLE,
    disable_node_preload,
    exit_after_flush,
)
from frameworks import CDKTN_PYTHON

REPO_ROOT = Path(__file__).resolve().parent.parent
SHIPPED_CONFIG = REPO_ROOT / "config"
SCALE_SIZES = (1, 4, 16)
TARGET_RATIO = 0.15
TARGET_SECONDS_PER_ENVIRONMENT = 0.15
TARGET_NODE_PEAK_MB = 250
SAMPLE_INTERVAL_S = 0.02
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


@dataclass(frozen=True)
class Scenario:
    label: str
    environments: int
    config: Path
    stock: bool = False
    # Run the instrumented phase program instead of main.py; fast_exit: end it as main.py does.
    phases: bool = False
    fast_exit: bool = True
    # Install the functions' dependencies into an empty cache (a first synth, e.g. a fresh
    # clone) instead of reusing the warm one every other row uses.
    empty_dependency_cache: bool = False
    # CDK Terrain's environment (.venv-cdktn) instead of this one (cdktf).
    cdktn: bool = False


@dataclass(frozen=True)
class Run:
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    node_peak_mb: float
    phases: dict[str, float] = field(default_factory=dict)


PHASE_NAMES = (
    "python start, jsii import, loader install",
    "node start + jsii handshake",
    "cdktf + constructs: python import, node load",
    "AWS provider load (stock: + python __init__)",
    "python imports: stack modules",
    "construct tree",
    "synth + write",
    "teardown",
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per row (default: 5)")
    parser.add_argument("--phases-child", nargs=2, metavar=("CONFIG", "OUTDIR"), help="internal")
    parser.add_argument("--normal-exit", action="store_true", help="internal")
    args = parser.parse_args()
    if args.phases_child:
        phases_child(Path(args.phases_child[0]), Path(args.phases_child[1]), not args.normal_exit)
    with tempfile.TemporaryDirectory(prefix="bench-") as workdir:
        work = Path(workdir)
        fast = Scenario("fast loader", 2, SHIPPED_CONFIG)
        first = Scenario(
            "fast loader, empty dependency cache", 2, SHIPPED_CONFIG, empty_dependency_cache=True
        )
        stock = Scenario("stock import", 2, SHIPPED_CONFIG, stock=True)
        cdktn_fast = Scenario("cdktn: fast loader", 2, SHIPPED_CONFIG, cdktn=True)
        cdktn_stock = Scenario("cdktn: stock import", 2, SHIPPED_CONFIG, stock=True, cdktn=True)
        scale = [
            Scenario("fast loader, generated", size, generated_configs(work / f"envs-{size}", size))
            for size in SCALE_SIZES
        ]
        phases = [
            Scenario("phases: fast loader", 2, SHIPPED_CONFIG, phases=True),
            Scenario(
                "phases: fast loader, normal exit", 2, SHIPPED_CONFIG, phases=True, fast_exit=False
            ),
            Scenario("phases: stock", 2, SHIPPED_CONFIG, stock=True, phases=True, fast_exit=False),
        ]
        # Untimed: fills the warm dependency cache every row but `first` uses, and jsii's
        # package cache with CDK Terrain's packages (unpacked on their first load).
        synth_once(fast, work / "cdktf.out", work)
        synth_once(cdktn_fast, work / "cdktf.out", work)
        scenarios = [fast, first, stock, cdktn_fast, cdktn_stock, *scale, *phases]
        results = measure(scenarios, args.runs, work)
    print_report(results, fast, stock, scale)
    print_framework_comparison(results, (fast, stock), (cdktn_fast, cdktn_stock))
    print_dependency_install(results, first, fast)
    print_phases({scenario: results[scenario] for scenario in phases})
    return 0


def phases_child(config: Path, outdir: Path, fast_exit: bool) -> NoReturn:
    """What main.py does for `--config CONFIG --outdir OUTDIR`, stamping the time after each
    step; prints the stamps as JSON. Imports are inside on purpose: their cost is a phase."""
    import jsii

    # What main.py does before it builds anything (stock when CDKTF_FULL_PROVIDER_IMPORT=1).
    provider_loader.install(runtime_type_checks=False)
    stamps = [time.time()]
    # The first use starts node and shakes hands; jsii types `provider` as its base class.
    jsii.kernel.provider._process  # type: ignore[attr-defined]  # noqa: B018
    stamps.append(time.time())
    import cdktf

    stamps.append(time.time())
    import cdktf_cdktf_provider_aws._jsii  # noqa: F401  (loads the provider into node)

    stamps.append(time.time())
    from serverless_app.config import validate_configs
    from serverless_app.stack import ServerlessStack

    stamps.append(time.time())
    configs, problems = validate_configs(config)
    if problems:
        raise SystemExit("\n".join(problems))
    app = cdktf.App(outdir=str(outdir), stack_traces=False)
    for _, stack_config in configs:
        ServerlessStack(app, stack_config)
    stamps.append(time.time())
    app.synth()
    stamps.append(time.time())
    print(json.dumps(stamps))
    if fast_exit:
        exit_after_flush(0)
    sys.exit(0)


def generated_configs(folder: Path, count: int) -> Path:
    """`count` environments e0, e1, ... with distinct names and address ranges."""
    folder.mkdir(parents=True)
    for index in range(count):
        (folder / f"e{index}.toml").write_text(
            'project = "bench"\n'
            f'env = "e{index}"\n'
            "[vpc]\n"
            f'cidr = "10.{index}.0.0/16"\n'
            "[vpc.public_subnets]\n"
            f'a = {{ cidr = "10.{index}.1.0/24", az = "us-east-1a" }}\n'
            f'b = {{ cidr = "10.{index}.2.0/24", az = "us-east-1b" }}\n'
            "[vpc.private_subnets]\n"
            f'a = {{ cidr = "10.{index}.11.0/24", az = "us-east-1a" }}\n'
            f'b = {{ cidr = "10.{index}.12.0/24", az = "us-east-1b" }}\n'
            # One table, bucket, function and route, as prod ships them.
            "[tables.requests]\n"
            'partition_key = { name = "pk", type = "S" }\n'
            "[buckets.assets]\n"
            "[functions.api]\n"
            'source_dir = "lambda"\n'
            'grants = { tables = { requests = "write" }, buckets = { assets = "read" } }\n'
            "[[routes]]\n"
            'method = "GET"\npath = "/items"\nfunction = "api"\n',
            encoding="utf-8",
        )
    return folder


def measure(scenarios: list[Scenario], runs: int, work: Path) -> dict[Scenario, list[Run]]:
    results: dict[Scenario, list[Run]] = {scenario: [] for scenario in scenarios}
    for round_number in range(1, runs + 1):
        for scenario in scenarios:
            run = synth_once(scenario, work / "cdktf.out", work)
            results[scenario].append(run)
            print(
                f"round {round_number}/{runs}: {scenario.label}, {scenario.environments} env: "
                f"{run.wall_s:.2f} s, {run.cpu_s:.2f} s CPU, {run.peak_rss_mb:.0f} MB",
                file=sys.stderr,
            )
    return results


def synth_once(scenario: Scenario, outdir: Path, work: Path) -> Run:
    env = dict(os.environ)
    cache = work / "dependencies-warm"
    if scenario.empty_dependency_cache:
        cache = Path(tempfile.mkdtemp(prefix="dependencies-empty-", dir=work))
    env[CACHE_ENV] = str(cache)
    # Importing constructs_lib here put the node preload into this process's environment:
    # every child starts from the user's environment and sets up its own loader.
    disable_node_preload(env)
    env.pop(OPT_OUT_VARIABLE, None)
    if scenario.stock:
        env[OPT_OUT_VARIABLE] = "1"
    if scenario.phases:
        command = [sys.executable, "-m", "scripts.bench", "--phases-child"]
        command += [str(scenario.config), str(outdir)]
        command += [] if scenario.fast_exit else ["--normal-exit"]
    else:
        python = str(CDKTN_PYTHON) if scenario.cdktn else sys.executable
        command = [python, "main.py", "--config", str(scenario.config)]
        command += ["--outdir", str(outdir)]
    cpu_before = _children_cpu_s()
    started_at = time.time()
    start = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    sampler = PeakRssSampler(process.pid)
    sampler.start()
    stdout, stderr = process.communicate()
    wall_s = time.perf_counter() - start
    ended_at = time.time()
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{stderr.decode()}")
    shutil.rmtree(outdir)
    if scenario.empty_dependency_cache:
        shutil.rmtree(cache)
    phases = _phase_durations(started_at, json.loads(stdout), ended_at) if scenario.phases else {}
    return Run(
        wall_s,
        _children_cpu_s() - cpu_before,
        sampler.peak_kb / 1024,
        sampler.node_peak_kb / 1024,
        phases,
    )


def _phase_durations(started_at: float, stamps: list[float], ended_at: float) -> dict[str, float]:
    edges = [started_at, *stamps, ended_at]
    return {name: edges[i + 1] - edges[i] for i, name in enumerate(PHASE_NAMES)}


def _children_cpu_s() -> float:
    """User + system time of every finished child (python waits for node, so node counts)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class PeakRssSampler(threading.Thread):
    """Largest total RSS of a process and all its descendants, until the process exits; and
    the high-water marks of the node processes among them."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_kb = 0
        self._node_hwm_kb: dict[int, int] = {}

    @property
    def node_peak_kb(self) -> int:
        """Sum of each node process's own peak: at least their largest simultaneous total."""
        return sum(self._node_hwm_kb.values())

    def run(self) -> None:
        while True:
            processes = _processes()
            root = processes.get(self.pid)
            if root is None or root.state == "Z":
                return
            self.peak_kb = max(self.peak_kb, _tree_rss_kb(self.pid, processes))
            for pid in _descendants(self.pid, processes):
                if processes[pid].command == "node" and (hwm := _high_water_mark_kb(pid)):
                    self._node_hwm_kb[pid] = max(self._node_hwm_kb.get(pid, 0), hwm)
            time.sleep(SAMPLE_INTERVAL_S)


def _high_water_mark_kb(pid: int) -> int:
    """VmHWM: the process's peak resident set size so far (0 once it has exited)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return 0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


@dataclass(frozen=True)
class ProcessStat:
    parent: int
    state: str
    rss_kb: int
    command: str


def _processes() -> dict[int, ProcessStat]:
    """Every process in /proc (one `stat` read each: /proc/<pid>/task/*/children is often
    missing, so descendants are found through parent ids)."""
    found: dict[int, ProcessStat] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{name}/stat").read_text()
        except (FileNotFoundError, ProcessLookupError):
            continue  # exited between listing and reading
        # Fields after the command name, which may itself contain spaces and parentheses.
        command = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        found[int(name)] = ProcessStat(
            int(fields[1]), fields[0], int(fields[21]) * PAGE_KB, command
        )
    return found


def _descendants(root: int, processes: dict[int, ProcessStat]) -> list[int]:
    """`root` and every process below it."""
    children: dict[int, list[int]] = {}
    for pid, stat in processes.items():
        children.setdefault(stat.parent, []).append(pid)
    found, pending = [], [root]
    while pending:
        pid = pending.pop()
        found.append(pid)
        pending.extend(children.get(pid, []))
    return found


def _tree_rss_kb(root: int, processes: dict[int, ProcessStat]) -> int:
    return sum(processes[pid].rss_kb for pid in _descendants(root, processes))


def print_report(
    results: dict[Scenario, list[Run]], fast: Scenario, stock: Scenario, scale: list[Scenario]
) -> None:
    print(
        "| synth | environments | runs | median s | min s | max s | median CPU s "
        "| peak MB, python + node | node peak MB |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for scenario, runs in results.items():
        walls = [run.wall_s for run in runs]
        print(
            f"| {scenario.label} | {scenario.environments} | {len(runs)} "
            f"| {statistics.median(walls):.2f} | {min(walls):.2f} | {max(walls):.2f} "
            f"| {_median_cpu(runs):.2f} "
            f"| {statistics.median(run.peak_rss_mb for run in runs):.0f} "
            f"| {_median_node_peak(runs):.0f} |"
        )
    ratio = _median_wall(results[fast]) / _median_wall(results[stock])
    cpu_ratio = _median_cpu(results[fast]) / _median_cpu(results[stock])
    print(
        f"\nratio fast / stock: {ratio:.3f} median wall time ({_verdict(ratio, TARGET_RATIO)}), "
        f"{cpu_ratio:.3f} median CPU time ({_verdict(cpu_ratio, TARGET_RATIO)})"
    )
    node_peak = _median_node_peak(results[fast])
    largest = max(scale, key=lambda scenario: scenario.environments)
    print(
        f"node peak memory, shipped environments: {node_peak:.0f} MB fast loader "
        f"({_verdict(node_peak, TARGET_NODE_PEAK_MB)}), "
        f"{_median_node_peak(results[stock]):.0f} MB stock; "
        f"{largest.environments} environments: {_median_node_peak(results[largest]):.0f} MB"
    )
    print_scaling(
        [scenario.environments for scenario in scale], [results[scenario] for scenario in scale]
    )


def print_framework_comparison(
    results: dict[Scenario, list[Run]],
    cdktf: tuple[Scenario, Scenario],
    cdktn: tuple[Scenario, Scenario],
) -> None:
    """CDK Terrain against cdktf, fast and stock, on the shipped environments."""
    for label, mine, theirs in (
        ("fast loader", cdktn[0], cdktf[0]),
        ("stock", cdktn[1], cdktf[1]),
    ):
        wall = _median_wall(results[mine]) / _median_wall(results[theirs])
        cpu = _median_cpu(results[mine]) / _median_cpu(results[theirs])
        node_peaks = [_median_node_peak(results[scenario]) for scenario in (mine, theirs)]
        print(
            f"cdktn / cdktf, {label}: {wall:.2f} median wall time, {cpu:.2f} median CPU; "
            f"node peak {node_peaks[0]:.0f} / {node_peaks[1]:.0f} MB"
        )
    ratio = _median_wall(results[cdktn[0]]) / _median_wall(results[cdktn[1]])
    print(f"cdktn ratio fast / stock: {ratio:.3f} median wall time")


def print_dependency_install(
    results: dict[Scenario, list[Run]], first: Scenario, cached: Scenario
) -> None:
    """What installing the functions' dependencies costs a first synth; later synths reuse
    the cache (keyed by the dependency file's content) and do not touch the network."""
    first_s, cached_s = _median_wall(results[first]), _median_wall(results[cached])
    print(
        f"dependencies: first synth {first_s:.2f} s (empty cache: pip installs them), "
        f"cached {cached_s:.2f} s; the install costs {first_s - cached_s:.2f} s once"
    )


def print_scaling(sizes: list[int], results: list[list[Run]]) -> None:
    """Least-squares cost per environment, and the cost per step: equal steps mean linear."""
    walls = [_median_wall(runs) for runs in results]
    cpus = [_median_cpu(runs) for runs in results]
    peaks = [statistics.median(run.peak_rss_mb for run in runs) for runs in results]
    per_env_s = statistics.linear_regression(sizes, walls).slope
    steps = ", ".join(
        f"{sizes[i]}->{sizes[i + 1]}: {(walls[i + 1] - walls[i]) / (sizes[i + 1] - sizes[i]):.2f} s"
        f" ({(cpus[i + 1] - cpus[i]) / (sizes[i + 1] - sizes[i]):.2f} s CPU)"
        for i in range(len(sizes) - 1)
    )
    print(
        f"cost per additional environment: {per_env_s:.2f} s wall time "
        f"({_verdict(per_env_s, TARGET_SECONDS_PER_ENVIRONMENT)}), "
        f"{statistics.linear_regression(sizes, cpus).slope:.2f} s CPU, "
        f"{statistics.linear_regression(sizes, peaks).slope:.1f} MB peak memory"
    )
    print(f"per environment, step by step: {steps}")


def print_phases(results: dict[Scenario, list[Run]]) -> None:
    """Median seconds of each phase, one column per phase scenario."""
    print(
        f"\n| phase, {len(next(iter(results.values())))} runs, median s | "
        + " | ".join(scenario.label.removeprefix("phases: ") for scenario in results)
        + " |"
    )
    print("| --- |" + " ---: |" * len(results))
    for name in (*PHASE_NAMES, "total"):
        cells = [
            statistics.median(
                sum(run.phases.values()) if name == "total" else run.phases[name] for run in runs
            )
            for runs in results.values()
        ]
        print(f"| {name} | " + " | ".join(f"{cell:.2f}" for cell in cells) + " |")


def _median_node_peak(runs: list[Run]) -> float:
    return statistics.median(run.node_peak_mb for run in runs)


def _median_wall(runs: list[Run]) -> float:
    return statistics.median(run.wall_s for run in runs)


def _median_cpu(runs: list[Run]) -> float:
    return statistics.median(run.cpu_s for run in runs)


def _verdict(value: float, target: float) -> str:
    return f"target <= {target:g}: {'met' if value <= target else 'NOT met'}"


if __name__ == "__main__":
    sys.exit(main())
