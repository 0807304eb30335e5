"""`make fire`: the events endpoint of `make serve` (scripts/fire.py) and the command that calls
it, against the delivery engine on moto in server mode with a real function process."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest

from scripts.fire import EventsServer
from scripts.local_triggers import LocalTriggers, ScheduleTrigger
from tests.delivery_harness import (  # noqa: F401 (the engine tests' fixtures)
    Harness,
    aws_fixture,
    moto_url_fixture,
    worker_fixture,
)
from tests.support import REPO_ROOT
from tests.test_local_delivery import NIGHTLY


@pytest.fixture
def events_server(aws, worker) -> Iterator[tuple[Harness, int]]:
    crashing = ScheduleTrigger(**{**NIGHTLY.__dict__, "name": "broken", "input": '{"x": "CRASH"}'})
    run = Harness(aws, worker, LocalTriggers(schedules=[NIGHTLY, crashing]))
    server = EventsServer(0, run.engine)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield run, server.server_address[1]
    server.shutdown()
    server.server_close()


def fire_command(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scripts.fire", *arguments],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_make_fire_invokes_the_schedule_and_prints_the_result(events_server):
    run, port = events_server
    done = fire_command("nightly", "--port", str(port))
    assert (done.returncode, json.loads(done.stdout)) == (0, {"batchItemFailures": []})
    (event,) = run.events()
    assert event["job"] == "report"


def test_make_fire_of_a_failing_function_prints_lambdas_error_and_exits_1(events_server):
    _, port = events_server
    done = fire_command("broken", "--port", str(port))
    error = json.loads(done.stdout)
    assert (done.returncode, error["errorType"], error["errorMessage"]) == (
        1,
        "RuntimeError",
        "asked to crash",
    )


def test_make_fire_of_an_unknown_schedule_lists_them_and_exits_2(events_server):
    _, port = events_server
    done = fire_command("nightli", "--port", str(port))
    assert (done.returncode, done.stderr) == (
        2,
        "no schedule 'nightli'; schedules: nightly, broken\n",
    )


def test_make_fire_without_a_server_is_one_line_and_exit_2():
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    done = fire_command("nightly", "--port", str(port))
    assert done.returncode == 2
    assert done.stderr.startswith(f"--port {port}: no make serve on 127.0.0.1 (")
    assert done.stderr.count("\n") == 1
