"""`make bench`: wall time and peak memory of `main.py`, fast provider loader vs stock import.

    .venv/bin/python -m scripts.bench [--runs 5]

Every run is a fresh `python main.py` subprocess, as a user would start it. One round runs,
in this order: the shipped environments (config/) with the fast loader, the same through the
stock import path (CDKTF_FULL_PROVIDER_IMPORT=1), then 1, 4 and 16 generated environments with
the fast loader; rounds repeat `--runs` times, so machine noise spreads over every row.

CPU is user + system time of python and node: other load on the machine disturbs it less than
wall time. Peak memory is the largest sum of the resident set sizes of the python process and
its node children, sampled from /proc every 20 ms. Prints a Markdown table, the fast/stock
ratio and the cost of each additional environment (least-squares slope over 1, 4, 16).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from serverless_app.provider_loader import OPT_OUT_VARIABLE

REPO_ROOT = Path(__file__).resolve().parent.parent
SHIPPED_CONFIG = REPO_ROOT / "config"
SCALE_SIZES = (1, 4, 16)
TARGET_RATIO = 0.30
TARGET_SECONDS_PER_ENVIRONMENT = 0.3
SAMPLE_INTERVAL_S = 0.02
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


@dataclass(frozen=True)
class Scenario:
    label: str
    environments: int
    config: Path
    stock: bool = False


@dataclass(frozen=True)
class Run:
    wall_s: float
    cpu_s: float
    peak_rss_mb: float


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per row (default: 5)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-") as workdir:
        work = Path(workdir)
        fast = Scenario("fast loader", 2, SHIPPED_CONFIG)
        stock = Scenario("stock import", 2, SHIPPED_CONFIG, stock=True)
        scale = [
            Scenario("fast loader, generated", size, generated_configs(work / f"envs-{size}", size))
            for size in SCALE_SIZES
        ]
        results = measure([fast, stock, *scale], args.runs, work / "cdktf.out")
    print_report(results, fast, stock, scale)
    return 0


def generated_configs(folder: Path, count: int) -> Path:
    """`count` environments e0, e1, ... with distinct names and address ranges."""
    folder.mkdir(parents=True)
    for index in range(count):
        (folder / f"e{index}.toml").write_text(
            f'env = "e{index}"\n'
            "[vpc]\n"
            f'cidr = "10.{index}.0.0/16"\n'
            "[vpc.public_subnets]\n"
            f'a = {{ cidr = "10.{index}.1.0/24", az = "us-east-1a" }}\n'
            f'b = {{ cidr = "10.{index}.2.0/24", az = "us-east-1b" }}\n'
            "[vpc.private_subnets]\n"
            f'a = {{ cidr = "10.{index}.11.0/24", az = "us-east-1a" }}\n'
            f'b = {{ cidr = "10.{index}.12.0/24", az = "us-east-1b" }}\n',
            encoding="utf-8",
        )
    return folder


def measure(scenarios: list[Scenario], runs: int, outdir: Path) -> dict[Scenario, list[Run]]:
    results: dict[Scenario, list[Run]] = {scenario: [] for scenario in scenarios}
    for round_number in range(1, runs + 1):
        for scenario in scenarios:
            run = synth_once(scenario, outdir)
            results[scenario].append(run)
            print(
                f"round {round_number}/{runs}: {scenario.label}, {scenario.environments} env: "
                f"{run.wall_s:.2f} s, {run.cpu_s:.2f} s CPU, {run.peak_rss_mb:.0f} MB",
                file=sys.stderr,
            )
    return results


def synth_once(scenario: Scenario, outdir: Path) -> Run:
    env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    env.pop(OPT_OUT_VARIABLE, None)
    if scenario.stock:
        env[OPT_OUT_VARIABLE] = "1"
    command = [sys.executable, "main.py", "--config", str(scenario.config), "--outdir", str(outdir)]
    cpu_before = _children_cpu_s()
    start = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    sampler = PeakRssSampler(process.pid)
    sampler.start()
    _, stderr = process.communicate()
    wall_s = time.perf_counter() - start
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{stderr.decode()}")
    shutil.rmtree(outdir)
    return Run(wall_s, _children_cpu_s() - cpu_before, sampler.peak_kb / 1024)


def _children_cpu_s() -> float:
    """User + system time of every finished child (python waits for node, so node counts)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class PeakRssSampler(threading.Thread):
    """Largest total RSS of a process and all its descendants, until the process exits."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_kb = 0

    def run(self) -> None:
        while True:
            processes = _processes()
            root = processes.get(self.pid)
            if root is None or root.state == "Z":
                return
            self.peak_kb = max(self.peak_kb, _tree_rss_kb(self.pid, processes))
            time.sleep(SAMPLE_INTERVAL_S)


@dataclass(frozen=True)
class ProcessStat:
    parent: int
    state: str
    rss_kb: int


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
        fields = stat[stat.rindex(")") + 2 :].split()
        found[int(name)] = ProcessStat(int(fields[1]), fields[0], int(fields[21]) * PAGE_KB)
    return found


def _tree_rss_kb(root: int, processes: dict[int, ProcessStat]) -> int:
    children: dict[int, list[int]] = {}
    for pid, stat in processes.items():
        children.setdefault(stat.parent, []).append(pid)
    total, pending = 0, [root]
    while pending:
        pid = pending.pop()
        total += processes[pid].rss_kb
        pending.extend(children.get(pid, []))
    return total


def print_report(
    results: dict[Scenario, list[Run]], fast: Scenario, stock: Scenario, scale: list[Scenario]
) -> None:
    print(
        "| synth | environments | runs | median s | min s | max s | median CPU s "
        "| peak MB, python + node |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for scenario, runs in results.items():
        walls = [run.wall_s for run in runs]
        print(
            f"| {scenario.label} | {scenario.environments} | {len(runs)} "
            f"| {statistics.median(walls):.2f} | {min(walls):.2f} | {max(walls):.2f} "
            f"| {_median_cpu(runs):.2f} "
            f"| {statistics.median(run.peak_rss_mb for run in runs):.0f} |"
        )
    ratio = _median_wall(results[fast]) / _median_wall(results[stock])
    cpu_ratio = _median_cpu(results[fast]) / _median_cpu(results[stock])
    print(
        f"\nratio fast / stock: {ratio:.2f} median wall time ({_verdict(ratio, TARGET_RATIO)}), "
        f"{cpu_ratio:.2f} median CPU time"
    )
    print_scaling(
        [scenario.environments for scenario in scale], [results[scenario] for scenario in scale]
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


def _median_wall(runs: list[Run]) -> float:
    return statistics.median(run.wall_s for run in runs)


def _median_cpu(runs: list[Run]) -> float:
    return statistics.median(run.cpu_s for run in runs)


def _verdict(value: float, target: float) -> str:
    return f"target <= {target:.2f}: {'met' if value <= target else 'NOT met'}"


if __name__ == "__main__":
    sys.exit(main())
