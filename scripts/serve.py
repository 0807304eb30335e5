"""Run the functions locally: moto as AWS, and an HTTP server that plays API Gateway.

    .venv/bin/python -m scripts.serve [--config config/dev.toml] [--port 8080] [--alb-port 8081]

Starts moto on 127.0.0.1 (a free port) with every table and bucket of the file created as the
stack declares them, then serves every `[[routes]]` entry at
`http://127.0.0.1:<port>/<stage><path>` (a REST API) or `http://127.0.0.1:<port><path>` (an
HTTP API, `api.type = "http"`: its `$default` stage), matched by method and path as API Gateway
does (`{param}` one segment, `{proxy+}` the rest, literal segments first): each request becomes
the event API Gateway would send (REST: the proxy event, payload 1.0; HTTP API: payload 2.0),
and the function's response goes back to the client as that kind of API reads it. Connections
are served concurrently, each with its own timeout.

The routes on the load balancer are also served on a second port (`--alb-port`), matched as
its listener rules match and sent the load balancer's event.

Each function runs in its own interpreter process, from the package the stack ships, with its
own variables, one request at a time, like one execution environment, and is packaged and
started afresh when its code changes (scripts/sandbox.py). A function that fails, even to
import, fails its own requests (502, and Lambda's error in the log); the server stays up.
Each function calls moto as its own role, holding its grants, with moto's IAM authorization on
(scripts/local_iam.py). Ctrl-C or SIGTERM stops everything.

Only the standard library, boto3, moto and the configuration module: no cdktf, so it starts fast.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import importlib.metadata
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import NoReturn

from moto.server import ThreadedMotoServer

from constructs_lib.authorizers import AWS_IAM, NO_AUTHORIZATION
from scripts.fire import DEFAULT_PORT as DEFAULT_EVENTS_PORT
from scripts.fire import EventsServer
from scripts.local_api_guard import api_guard
from scripts.local_authorizers import AccessControl
from scripts.local_aws import (
    UNSET_AWS_VARIABLES,
    create_resources,
    function_role,
    function_spec,
    local_aws_environment,
    local_bucket_name,
)
from scripts.local_events import ACCOUNT_ID, HOST
from scripts.local_front_doors import LocalApi, LocalLoadBalancer, local_api
from scripts.local_iam import admin_credentials, enforce_iam, with_credentials
from scripts.local_issuer import DEFAULT_PORT as DEFAULT_ISSUER_PORT
from scripts.local_issuer import IssuerServer, signing_key
from scripts.sandbox import Sandbox
from scripts.serve_events import start_delivery
from serverless_app.config import ConfigError, RouteConfig, StackConfig, load_config

PROJECT_ROOT = Path(__file__).resolve().parent.parent

DEFAULT_CONFIG = PROJECT_ROOT / "config" / "dev.toml"


def _access_note(route: RouteConfig, config: StackConfig) -> str:
    """How serve checks a route's callers, for its start-up line."""
    if route.authorization == NO_AUTHORIZATION:
        return ""
    if route.authorization == AWS_IAM:
        return f" ({AWS_IAM} not checked)"
    kind = config.authorizers[route.authorization].type
    scopes = f", scopes {' '.join(route.scopes)}" if route.scopes else ""
    return f" ({kind} authorizer {route.authorization}{scopes})"


def _url_path(prefix: str, route: RouteConfig) -> str:
    """Where a route is served, for its start-up line: `/dev/orders`, or `/orders` at the root."""
    return f"{prefix}{route.path.rstrip('/')}" or "/"


def _reloaded(key: str) -> None:
    print(f"{key}: code changed, packaged and started afresh", file=sys.stderr, flush=True)


def _interrupt(signum: int, frame: object) -> NoReturn:
    """Ctrl-C and SIGTERM stop the servers the same way."""
    raise KeyboardInterrupt


# Every port option parse_args takes: with 0 the system chooses a free port.
PORT_OPTIONS = ("--port", "--alb-port", "--issuer-port", "--events-port")
# The arguments that leave every port to the system: a bench round or a test beside others.
ANY_FREE_PORTS = [argument for option in PORT_OPTIONS for argument in (option, "0")]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="environment file")
    parser.add_argument("--port", type=int, default=8080, help="HTTP port (0: any free port)")
    parser.add_argument(
        "--alb-port",
        type=int,
        default=8081,
        help="HTTP port of the load balancer's routes, with its event (0: any free port)",
    )
    parser.add_argument(
        "--issuer-port",
        type=int,
        default=DEFAULT_ISSUER_PORT,
        help="HTTP port of the local token issuer, when a route checks tokens (0: any free port)",
    )
    parser.add_argument(
        "--events-port",
        type=int,
        default=DEFAULT_EVENTS_PORT,
        help="HTTP port where make fire fires a schedule (0: any free port)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as error:
        print("\n".join(error.problems), file=sys.stderr)
        return 2
    try:
        gateway = local_api(args.port, config, api_guard(config))
    except OSError as error:
        print(f"--port {args.port}: cannot listen on {HOST}: {error.strerror}", file=sys.stderr)
        return 2
    try:
        balancer = LocalLoadBalancer(args.alb_port, config, gateway.sandboxes)
    except OSError as error:
        gateway.server_close()
        print(
            f"--alb-port {args.alb_port}: cannot listen on {HOST}: {error.strerror}",
            file=sys.stderr,
        )
        return 2
    try:
        issuer = (
            IssuerServer(args.issuer_port, signing_key()) if gateway.guard.uses_tokens() else None
        )
    except OSError as error:
        gateway.server_close()
        balancer.server_close()
        print(
            f"--issuer-port {args.issuer_port}: cannot listen on {HOST}: {error.strerror}",
            file=sys.stderr,
        )
        return 2
    try:
        events = EventsServer(args.events_port)
    except OSError as error:
        balancer.server_close()
        gateway.server_close()
        if issuer is not None:
            issuer.server_close()
        print(
            f"--events-port {args.events_port}: cannot listen on {HOST}: {error.strerror}",
            file=sys.stderr,
        )
        return 2
    # werkzeug would print one access line per AWS call the function makes.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    moto = ThreadedMotoServer(ip_address=HOST, port=0, verbose=False)
    moto.start()
    load_balancer = threading.Thread(target=balancer.serve_forever, daemon=True)
    load_balancer.start()
    if issuer is not None:
        threading.Thread(target=issuer.serve_forever, daemon=True).start()
    try:
        serve(gateway, moto, config, balancer.server_address[1], issuer, events)
    finally:
        events.server_close()
        if issuer is not None:
            issuer.shutdown()
            issuer.server_close()
        balancer.shutdown()
        balancer.server_close()
        gateway.server_close()
        gateway.stop_functions()
        moto.stop()
    print("stopped", flush=True)
    return 0


def serve(
    gateway: LocalApi,
    moto: ThreadedMotoServer,
    config: StackConfig,
    load_balancer_port: int,
    issuer: IssuerServer | None,
    events: EventsServer,
) -> None:
    endpoint_url = "http://{}:{}".format(*moto.get_host_and_port())
    for name in UNSET_AWS_VARIABLES:
        os.environ.pop(name, None)
    local_aws = local_aws_environment(endpoint_url, config.region)
    os.environ.update(local_aws)
    create_resources(endpoint_url, config)
    for key in config.functions:
        credentials = function_role(endpoint_url, config, key)
        gateway.sandboxes[key] = Sandbox(
            function_spec(config, key),
            with_credentials(local_aws, credentials),
            on_reload=_reloaded,
        )
        gateway.sandboxes[key].prepare()
    gateway.guard.control = AccessControl(
        issuer.issuer if issuer is not None else None,
        gateway.invoke_authorizer,
        time.time,
        config.region,
        ACCOUNT_ID,
    )
    # The server's own calls are over; from now on every caller needs a role or user allowed.
    admin = admin_credentials(endpoint_url, config.region)
    delivery = start_delivery(
        events,
        endpoint_url,
        admin,
        config,
        functools.partial(local_bucket_name, config),
        lambda key, event, request_id: gateway.sandboxes[key].invoke(event, request_id),
    )
    enforce_iam(endpoint_url)
    tables = [table.name for table in config.tables.values()]
    buckets = [local_bucket_name(config, key) for key in config.buckets]
    port = gateway.server_address[1]
    prefix = gateway.path_prefix
    kind = "HTTP API, $default stage" if config.api.type == "http" else "REST API"
    print(
        f"local AWS (moto): {endpoint_url} "
        f"(tables: {', '.join(tables) or 'none'}; buckets: {', '.join(buckets) or 'none'}; "
        "IAM enforced, every permission: "
        f"{' '.join(f'{name}={value}' for name, value in admin.items())})",
        f"API: http://{HOST}:{port}{prefix} ({kind}; Ctrl-C stops)",
        f"load balancer: http://{HOST}:{load_balancer_port} (the routes marked [lb])",
        *(
            [
                f"token issuer: {issuer.issuer.url} (stands in for the jwt and cognito "
                "authorizers' issuers; make token prints a token)"
            ]
            if issuer is not None
            else []
        ),
        *(
            f"  {route.method} {_url_path(prefix, route)} -> {route.function}"
            + _access_note(route, config)
            + (" [lb]" if route.load_balancer else "")
            for route in config.routes
        ),
        "functions (each in its own process; boto3 of the runtime: the project's "
        f"{importlib.metadata.version('boto3')}):",
        *(f"  {sandbox.describe()}" for sandbox in gateway.sandboxes.values()),
        *delivery.describe(),
        sep="\n",
        flush=True,
    )
    # Both set explicitly: a shell starting this in the background would have SIGINT ignored.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _interrupt)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            gateway.serve_forever()
    finally:
        delivery.stop()


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    sys.exit(main())
