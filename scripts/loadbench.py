"""`make loadbench`: `make serve` under concurrent load on 127.0.0.1, bounded and self-stopping.

    .venv/bin/python -m scripts.loadbench [--config config/dev.toml] [--runs 5] [--requests 200]
                                          [--clients 16] [--run-limit-s 10]

Runs `--runs` rounds, each against a fresh `python -m scripts.serve` on a free loopback port:
`--clients` threads share `--requests` GETs (a new connection each, as curl would), and a round
stops early once `--run-limit-s` has passed. A fresh server per round because moto copies the
whole table for every transaction: a table grown by earlier rounds would slow the later ones.
Prints each round's throughput, p50 and p99 latency and the median of the rounds. Names rotate
over a few values, so both new and existing counters are written.
"""

from __future__ import annotations

import argparse
import http.client
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from scripts.local_events import HOST
from scripts.serve import ANY_FREE_PORTS, DEFAULT_CONFIG

STARTUP_TIMEOUT_S = 60
REQUEST_TIMEOUT_S = 15
NAMES = 8


@dataclass(frozen=True)
class Round:
    completed: int
    failed: int
    wall_s: float
    latencies_ms: list[float]

    @property
    def throughput(self) -> float:
        return self.completed / self.wall_s

    def percentile(self, percent: int) -> float:
        return statistics.quantiles(self.latencies_ms, n=100, method="inclusive")[percent - 1]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    rounds = [round_on_a_fresh_server(args) for _ in range(args.runs)]
    report(rounds, args)
    return 0 if all(r.failed == 0 for r in rounds) else 1


SERVE = [sys.executable, "-m", "scripts.serve"]


def round_on_a_fresh_server(args: argparse.Namespace) -> Round:
    server = subprocess.Popen(
        [*SERVE, "--config", str(args.config), *ANY_FREE_PORTS],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        port, path = api_address(server)
        return run_round(port, path, args)
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=STARTUP_TIMEOUT_S)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="environment file")
    parser.add_argument("--runs", type=int, default=5, help="rounds (default: 5)")
    parser.add_argument("--requests", type=int, default=200, help="per round (default: 200)")
    parser.add_argument("--clients", type=int, default=16, help="concurrent (default: 16)")
    parser.add_argument("--run-limit-s", type=float, default=10, help="per round (default: 10)")
    return parser.parse_args(argv)


def api_address(server: subprocess.Popen[str]) -> tuple[int, str]:
    """The port and path of the API from serve's startup lines; its later output is drained."""
    assert server.stdout is not None
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        line = server.stdout.readline()
        if not line:
            raise SystemExit(f"serve stopped before it was ready (exit code {server.poll()})")
        match = re.match(rf"API: http://{re.escape(HOST)}:(\d+)(/\S+)", line)
        if match:
            # The function logs a line per request: an unread pipe would fill and stall serve.
            threading.Thread(target=server.stdout.read, daemon=True).start()
            return int(match.group(1)), match.group(2)
    raise SystemExit("serve did not print its API address in time")


def run_round(port: int, path: str, args: argparse.Namespace) -> Round:
    tickets = iter(range(args.requests))
    lock = threading.Lock()
    latencies_ms: list[float] = []
    failures: list[float] = []
    stop_at = time.monotonic() + args.run_limit_s

    def client() -> None:
        while time.monotonic() < stop_at:
            with lock:
                ticket = next(tickets, None)
            if ticket is None:
                return
            started = time.perf_counter()
            ok = get(port, f"{path}?name=bench-{ticket % NAMES}")
            elapsed_ms = (time.perf_counter() - started) * 1000
            (latencies_ms if ok else failures).append(elapsed_ms)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(args.clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(args.run_limit_s + REQUEST_TIMEOUT_S)
    return Round(len(latencies_ms), len(failures), time.perf_counter() - started, latencies_ms)


def get(port: int, target: str) -> bool:
    connection = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT_S)
    try:
        connection.request("GET", target)
        reply = connection.getresponse()
        reply.read()
        return reply.status == 200
    except OSError:
        return False
    finally:
        connection.close()


def report(rounds: list[Round], args: argparse.Namespace) -> None:
    print(f"{args.clients} clients, up to {args.requests} requests per round, {HOST} only")
    print("| round | ok | failed | req/s | p50 ms | p99 ms |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for number, r in enumerate(rounds, start=1):
        print(
            f"| {number} | {r.completed} | {r.failed} | {r.throughput:.0f} "
            f"| {r.percentile(50):.1f} | {r.percentile(99):.1f} |"
        )
    median = statistics.median
    print(
        f"| median | {median(r.completed for r in rounds):.0f} "
        f"| {median(r.failed for r in rounds):.0f} "
        f"| {median(r.throughput for r in rounds):.0f} "
        f"| {median(r.percentile(50) for r in rounds):.1f} "
        f"| {median(r.percentile(99) for r in rounds):.1f} |"
    )


if __name__ == "__main__":
    sys.exit(main())
