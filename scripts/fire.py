"""Fire a schedule of a running `make serve` now.

    .venv/bin/python -m scripts.fire NAME [--port 8082]     (make fire TRIGGER=NAME)

`make serve` listens on 127.0.0.1:<events port> (`--events-port`, default 8082) for
`POST /schedules/<name>`: it invokes the schedule's function with its target's input, as
EventBridge Scheduler would at the scheduled time, and answers the function's result (200), its
error (502, Lambda's error object) or the schedules there are (404). This command sends that
request and prints the answer: exit status 0 when the function succeeded, 1 when it failed, 2
when there is no such schedule or no server.
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
import urllib.error
import urllib.request
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, unquote

from scripts.local_delivery import DeliveryEngine, UnknownSchedule
from scripts.sandbox import FunctionError

HOST = "127.0.0.1"
DEFAULT_PORT = 8082
PATH_PREFIX = "/schedules/"
# A fired function may run up to Lambda's longest timeout.
ANSWER_WAIT_S = 900 + 30


class EventsServer(ThreadingHTTPServer):
    """The endpoint that fires schedules, beside the API's and the load balancer's."""

    daemon_threads = True

    def __init__(self, port: int, engine: DeliveryEngine | None = None) -> None:
        super().__init__((HOST, port), FireRequestHandler)
        self.engine = engine  # set once the triggers exist in moto


class FireRequestHandler(BaseHTTPRequestHandler):
    server: EventsServer

    def do_POST(self) -> None:
        if not self.path.startswith(PATH_PREFIX):
            self._send(HTTPStatus.NOT_FOUND, {"message": f"POST {PATH_PREFIX}<name> fires one"})
            return
        name = unquote(self.path.removeprefix(PATH_PREFIX))
        engine = self.server.engine
        if engine is None:
            self._send(HTTPStatus.SERVICE_UNAVAILABLE, {"message": "make serve is starting"})
            return
        try:
            result = engine.fire(name)
        except UnknownSchedule:
            known = ", ".join(engine.schedules) or "none"
            self._send(
                HTTPStatus.NOT_FOUND, {"message": f"no schedule {name!r}; schedules: {known}"}
            )
        except FunctionError as error:
            self._send(HTTPStatus.BAD_GATEWAY, error.error)
        except Exception as error:
            traceback.print_exc()
            self._send(HTTPStatus.INTERNAL_SERVER_ERROR, {"message": str(error)})
        else:
            self._send(HTTPStatus.OK, result)

    def _send(self, status: int, body: object) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        """The engine logs each firing itself."""


def fire(name: str, port: int) -> tuple[int, str]:
    """The server's status and answer for firing `name`."""
    request = urllib.request.Request(
        f"http://{HOST}:{port}{PATH_PREFIX}{quote(name, safe='')}", method="POST", data=b""
    )
    try:
        with urllib.request.urlopen(request, timeout=ANSWER_WAIT_S) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("name", help="the schedule trigger's name (make serve lists them)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="make serve's events port")
    args = parser.parse_args(argv)
    try:
        status, answer = fire(args.name, args.port)
    except urllib.error.URLError as error:
        print(f"--port {args.port}: no make serve on {HOST} ({error.reason})", file=sys.stderr)
        return 2
    if status == HTTPStatus.NOT_FOUND:
        print(json.loads(answer)["message"], file=sys.stderr)
        return 2
    print(answer)
    return 0 if status == HTTPStatus.OK else 1


if __name__ == "__main__":
    sys.exit(main())
