"""moto in server mode, in its own process, as the AWS endpoint of the handler tests.

A process of its own because moto keeps its state and its settings (IAM enforcement included)
per process: a test that turns enforcement on cannot leak it into others. Run as a script, this
file starts moto on a free port of 127.0.0.1, prints the port, and serves until its standard
input closes (the test process finished or died) or it gets SIGTERM.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import NoReturn

HOST = "127.0.0.1"
STARTUP_TIMEOUT_S = 30


@contextmanager
def moto_server(environment: Mapping[str, str] | None = None) -> Iterator[str]:
    """Start a moto server process; yield its endpoint URL; stop it on exit."""
    process = subprocess.Popen(
        [sys.executable, __file__],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, **(environment or {})},
    )
    assert process.stdout is not None and process.stdin is not None
    try:
        port = process.stdout.readline().strip()
        assert port.isdigit(), f"moto server did not start (exit code {process.poll()})"
        yield f"http://{HOST}:{port}"
    finally:
        process.stdin.close()
        process.wait(timeout=STARTUP_TIMEOUT_S)


def reset(endpoint_url: str) -> None:
    """Forget every resource, so each test starts from an empty account."""
    _post(endpoint_url, "/moto-api/reset", b"")


def enforce_iam(endpoint_url: str) -> None:
    """Authenticate and authorize every later request against moto's IAM.

    The server-mode switch for moto's INITIAL_NO_AUTH_ACTION_COUNT: the count becomes 0, so
    from now on no action is allowed without a signature of a known key and a policy allowing it.
    """
    _post(endpoint_url, "/moto-api/reset-auth", b"0")


def _post(endpoint_url: str, path: str, data: bytes) -> None:
    # Not urllib's default form type: the server would parse the body as a form and see nothing.
    headers = {"Content-Type": "text/plain"}
    request = urllib.request.Request(endpoint_url + path, data=data, headers=headers)
    with urllib.request.urlopen(request) as reply:
        assert reply.status == 200, f"{path}: HTTP {reply.status}"


def _terminate(signum: int, frame: object) -> NoReturn:
    raise SystemExit(0)


def main() -> None:
    # Imported here: the tests import this module only to start the server process.
    from moto.server import ThreadedMotoServer

    # werkzeug would print an access line for every call into the test output.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    signal.signal(signal.SIGTERM, _terminate)
    server = ThreadedMotoServer(ip_address=HOST, port=0, verbose=False)
    server.start()
    print(server.get_host_and_port()[1], flush=True)
    try:
        sys.stdin.read()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
