"""Run the function locally: moto as AWS, and an HTTP server that plays API Gateway.

    .venv/bin/python -m scripts.serve [--config config/dev.toml] [--port 8080] [--greeting TEXT]

Starts moto on 127.0.0.1 (a free port) with the table and bucket created as the stack defines
them, then serves every `[[routes]]` entry at `http://127.0.0.1:<port>/<stage><path>`, matched
by method and path as API Gateway does (`{param}` one segment, `{proxy+}` the rest, literal
segments first): each request becomes the REST proxy event API Gateway would send (with its
pathParameters), the route's function runs in this process with its own environment variables
and its response goes back to the client. Connections are served concurrently, each with its
own timeout; the functions run one request at a time, like one execution environment, with the
function's configured timeout as its context's remaining time. Ctrl-C or SIGTERM stops both
servers.

Only the standard library, boto3, moto and the configuration module: no cdktf, so it starts fast.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import importlib
import json
import logging
import os
import secrets
import signal
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any, NoReturn
from urllib.parse import parse_qsl, unquote, urlsplit

import boto3
from moto.server import ThreadedMotoServer

from constructs_lib.paths import segments
from serverless_app.config import GREETING_KEY, ConfigError, RouteConfig, StackConfig, load_config

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Importing the function must not leave byte-code caches in the folder that gets packaged.
sys.dont_write_bytecode = True

DEFAULT_CONFIG = PROJECT_ROOT / "config" / "dev.toml"
HOST = "127.0.0.1"
# moto's default account; the ids below only make the events look like API Gateway's.
ACCOUNT_ID = "123456789012"
LOCAL_API_ID = "local"
# Credentials and config that can only ever reach the local endpoint.
UNSET_AWS_VARIABLES = ("AWS_PROFILE", "AWS_SESSION_TOKEN")
# Connections waiting to be accepted: bursts of clients queue here instead of being dropped.
LISTEN_BACKLOG = 128
# A client that sends nothing for this long loses its connection (and its thread).
CONNECTION_TIMEOUT_S = 10
# The table's key and expiry attribute when no function defines them (the stack's values).
DEFAULT_PARTITION_KEY = "pk"
DEFAULT_TTL_ATTRIBUTE = "expires_at"
# API Gateway's payload limit.
MAX_BODY_BYTES = 10 * 1024 * 1024

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def local_aws_environment(endpoint_url: str, region: str) -> dict[str, str]:
    """Variables that point boto3 at moto with throwaway credentials and no shared config."""
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }


def local_bucket_name(config: StackConfig) -> str:
    """The configured name, or the prefix completed the way Terraform would, but readable."""
    return config.s3.bucket_name or f"{config.s3.bucket_prefix}local"


def function_environment(config: StackConfig, key: str) -> dict[str, str]:
    """The variables the stack gives function `key` (GREETING_KEY keeps the function's default;
    no SECRET_* variables: there is no SSM here)."""
    return {
        **config.functions[key].environment,
        "TABLE_NAME": config.dynamodb.table_name,
        "BUCKET_NAME": local_bucket_name(config),
    }


def create_resources(
    endpoint_url: str,
    region: str,
    *,
    table_name: str,
    partition_key: str,
    ttl_attribute: str,
    bucket_name: str,
) -> None:
    """The table (keyed and expiring as the stack defines it) and the bucket."""
    dynamodb = boto3.client("dynamodb", endpoint_url=endpoint_url, region_name=region)
    dynamodb.create_table(
        TableName=table_name,
        KeySchema=[{"AttributeName": partition_key, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": partition_key, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.update_time_to_live(
        TableName=table_name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl_attribute},
    )
    s3 = boto3.client("s3", endpoint_url=endpoint_url, region_name=region)
    if region == "us-east-1":
        s3.create_bucket(Bucket=bucket_name)
    else:
        s3.create_bucket(
            Bucket=bucket_name, CreateBucketConfiguration={"LocationConstraint": region}
        )


def load_function(source_dir: Path, handler: str) -> tuple[ModuleType, Handler]:
    """Import `module.function` from the source folder, the way the Lambda runtime does.

    The modules imported from the folder are then forgotten by name, so that the next function's
    `app` is its own and not this one's."""
    module_name, _, function_name = handler.rpartition(".")
    before = set(sys.modules)
    sys.path.insert(0, str(source_dir))
    try:
        module = importlib.import_module(module_name)
    finally:
        sys.path.remove(str(source_dir))
    for name in set(sys.modules) - before:
        file = getattr(sys.modules[name], "__file__", None)
        if file is not None and Path(file).resolve().is_relative_to(source_dir.resolve()):
            del sys.modules[name]
    return module, getattr(module, function_name)


@dataclass(frozen=True)
class RouteMatch:
    route: RouteConfig
    path_parameters: dict[str, str]


# How specific a path segment is: API Gateway prefers a literal to a parameter to a greedy one.
_LITERAL, _PARAMETER, _GREEDY = 2, 1, 0


def _match_path(template: str, path: str) -> tuple[list[int], dict[str, str]] | None:
    """The specificity of each segment and the parameters, when `path` fits `template`."""
    wanted = segments(template)
    given = path[1:].split("/") if path != "/" else []
    ranks: list[int] = []
    parameters: dict[str, str] = {}
    for position, segment in enumerate(wanted):
        if segment.parameter and segment.greedy:  # one segment or more: the rest of the path
            if position >= len(given):
                return None
            parameters[segment.parameter] = "/".join(given[position:])
            return [*ranks, _GREEDY], parameters
        if position >= len(given) or not given[position]:
            return None
        if segment.parameter:
            parameters[segment.parameter] = given[position]
            ranks.append(_PARAMETER)
        elif segment.text == given[position]:
            ranks.append(_LITERAL)
        else:
            return None
    return (ranks, parameters) if len(wanted) == len(given) else None


def match_route(method: str, path: str, stage: str, routes: list[RouteConfig]) -> RouteMatch | str:
    """The route a request reaches and its path parameters, or API Gateway's own 403 message
    for requests that never reach a function. The most specific path wins, then its route for
    the method (an exact method before ANY)."""
    if path.split("/")[1:2] != [stage]:
        return "Forbidden"
    resource_path = path.removeprefix(f"/{stage}") or "/"
    matches = [
        (found, route)
        for route in routes
        if (found := _match_path(route.path, resource_path)) is not None
    ]
    if not matches:
        return "Missing Authentication Token"
    best = max(ranks for (ranks, _), _ in matches)
    on_best = [(parameters, route) for (ranks, parameters), route in matches if ranks == best]
    for wanted in (method, "ANY"):
        for parameters, route in on_best:
            if route.method == wanted:
                return RouteMatch(route, parameters)
    return "Missing Authentication Token"


def rest_proxy_event(
    *,
    method: str,
    target: str,
    headers: list[tuple[str, str]],
    body: bytes,
    client_ip: str,
    server_port: int,
    stage: str,
    resource: str | None = None,
    path_parameters: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The REST API proxy event (payload 1.0) API Gateway sends for this request to the route
    whose path is `resource` (default: the request's path)."""
    url = urlsplit(target)
    stage_path = unquote(url.path)
    request_path = stage_path.removeprefix(f"/{stage}") or "/"
    resource_path = resource or request_path
    now = datetime.now(UTC)
    request_id = str(uuid.uuid4())
    forwarded = [
        ("X-Amzn-Trace-Id", f"Root=1-{int(now.timestamp()):08x}-{secrets.token_hex(12)}"),
        ("X-Forwarded-For", client_ip),
        ("X-Forwarded-Port", str(server_port)),
        ("X-Forwarded-Proto", "http"),
    ]
    all_headers = headers + forwarded
    query = parse_qsl(url.query, keep_blank_values=True)
    user_agent = next((v for k, v in all_headers if k.lower() == "user-agent"), None)
    host = next((v for k, v in all_headers if k.lower() == "host"), f"{HOST}:{server_port}")
    body_text, is_base64 = _event_body(body)
    return {
        "resource": resource_path,
        "path": request_path,
        "httpMethod": method,
        "headers": dict(all_headers) or None,
        "multiValueHeaders": _multi_value(all_headers),
        "queryStringParameters": dict(query) or None,
        "multiValueQueryStringParameters": _multi_value(query),
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": {
            "resourceId": secrets.token_hex(3),
            "resourcePath": resource_path,
            "httpMethod": method,
            "extendedRequestId": base64.b64encode(secrets.token_bytes(11)).decode(),
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "path": stage_path,
            "accountId": ACCOUNT_ID,
            "protocol": "HTTP/1.1",
            "stage": stage,
            "domainPrefix": LOCAL_API_ID,
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "requestId": request_id,
            "identity": {
                "cognitoIdentityPoolId": None,
                "accountId": None,
                "cognitoIdentityId": None,
                "caller": None,
                "sourceIp": client_ip,
                "principalOrgId": None,
                "accessKey": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                "userArn": None,
                "userAgent": user_agent,
                "user": None,
            },
            "domainName": host,
            "deploymentId": LOCAL_API_ID,
            "apiId": LOCAL_API_ID,
        },
        "body": body_text,
        "isBase64Encoded": is_base64,
    }


def _multi_value(pairs: list[tuple[str, str]]) -> dict[str, list[str]] | None:
    grouped: dict[str, list[str]] = {}
    for key, value in pairs:
        grouped.setdefault(key, []).append(value)
    return grouped or None


def _event_body(body: bytes) -> tuple[str | None, bool]:
    if not body:
        return None, False
    try:
        return body.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(body).decode(), True


@dataclass(frozen=True)
class LocalContext:
    """The parts of the Lambda context the function reads: its id and the time it has left."""

    aws_request_id: str
    deadline: float  # time.monotonic()

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


class TakingTurns:
    """A lock granted in arrival order: with threading.Lock, which is not fair, one unlucky
    request could wait behind many later ones."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._next_ticket = 0
        self._now_serving = 0

    def __enter__(self) -> None:
        with self._changed:
            ticket = self._next_ticket
            self._next_ticket += 1
            self._changed.wait_for(lambda: self._now_serving == ticket)

    def __exit__(self, *exc_info: object) -> None:
        with self._changed:
            self._now_serving += 1
            self._changed.notify_all()


@dataclass(frozen=True)
class LocalFunction:
    handler: Handler
    timeout_s: int
    # Set in os.environ while the function runs (the functions share this process).
    environment: dict[str, str]


class LocalGateway(ThreadingHTTPServer):
    """A thread per connection, so a slow or idle client holds up no one else; the functions
    run one request at a time, like one execution environment."""

    request_queue_size = LISTEN_BACKLOG
    daemon_threads = True

    def __init__(self, port: int, stage: str, routes: list[RouteConfig]) -> None:
        super().__init__((HOST, port), GatewayRequestHandler)
        self.stage = stage
        self.routes = routes
        self.functions: dict[str, LocalFunction] = {}
        self.execution_environment = TakingTurns()
        self._environment: dict[str, str] = {}

    def keep_environment(self) -> None:
        """Every function sees the process's variables as they are now, plus its own."""
        self._environment = dict(os.environ)

    def load(
        self, key: str, source_dir: Path, handler: str, timeout_s: int, environment: dict[str, str]
    ) -> ModuleType:
        """Import function `key` with its variables set, as at a cold start; its module."""
        self._use_environment(environment)
        module, function = load_function(source_dir, handler)
        self.functions[key] = LocalFunction(function, timeout_s, environment)
        return module

    def invoke(self, key: str, event: dict[str, Any]) -> dict[str, Any]:
        function = self.functions[key]
        with self.execution_environment:
            self._use_environment(function.environment)
            context = LocalContext(
                aws_request_id=str(uuid.uuid4()),
                deadline=time.monotonic() + function.timeout_s,
            )
            return function.handler(event, context)

    def _use_environment(self, variables: dict[str, str]) -> None:
        """os.environ as the process started (with the local AWS settings) plus `variables`."""
        os.environ.clear()
        os.environ.update({**self._environment, **variables})


class GatewayRequestHandler(BaseHTTPRequestHandler):
    server: LocalGateway
    timeout = CONNECTION_TIMEOUT_S

    def do_GET(self) -> None:
        self._answer()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def _answer(self) -> None:
        gateway = self.server
        path = unquote(urlsplit(self.path).path)
        match = match_route(self.command, path, gateway.stage, gateway.routes)
        if isinstance(match, str):
            self._send(HTTPStatus.FORBIDDEN, {"Content-Type": "application/json"}, _message(match))
            return
        length = self._content_length()
        if length is None:
            return
        event = rest_proxy_event(
            method=self.command,
            target=self.path,
            headers=list(self.headers.items()),
            body=self.rfile.read(length),
            client_ip=self.client_address[0],
            server_port=gateway.server_address[1],
            stage=gateway.stage,
            resource=match.route.path,
            path_parameters=match.path_parameters,
        )
        request_id = event["requestContext"]["requestId"]
        try:
            response = gateway.invoke(match.route.function, event)
            status, headers, body = _proxy_response(response)
        except Exception:
            # What API Gateway does when the function fails or answers malformed JSON.
            traceback.print_exc()
            status = HTTPStatus.BAD_GATEWAY
            headers, body = {"Content-Type": "application/json"}, _message("Internal server error")
        self._send(status, {**headers, "x-amzn-RequestId": request_id}, body)

    def _content_length(self) -> int | None:
        """The body's length, or None once a malformed or oversized one has been answered."""
        given = self.headers.get("Content-Length", "0").strip()
        if not (given.isascii() and given.isdigit()):
            self.send_error(HTTPStatus.BAD_REQUEST, f"invalid Content-Length: {given[:32]!r}")
            return None
        if int(given) > MAX_BODY_BYTES:
            self.send_error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "Request Too Long")
            return None
        return int(given)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Malformed requests get JSON like every other answer, not the default HTML page."""
        status = HTTPStatus(code)
        self.log_error("code %d, message %s", code, message)
        self.close_connection = True
        # A request line that did not parse leaves HTTP/0.9, which would send the body bare.
        if not self.request_version.startswith("HTTP/1."):
            self.request_version = "HTTP/1.0"
        self._send(
            status,
            {"Content-Type": "application/json", "Connection": "close"},
            _message(message or status.phrase),
        )

    def _send(self, status: int, headers: Mapping[str, str], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        # A request line too broken to parse leaves no command.
        if getattr(self, "command", None) != "HEAD":
            self.wfile.write(body)


def _proxy_response(response: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    headers = {k: ",".join(v) for k, v in (response.get("multiValueHeaders") or {}).items()}
    headers.update(response.get("headers") or {})
    body = response.get("body") or ""
    payload = base64.b64decode(body) if response.get("isBase64Encoded") else body.encode()
    return int(response["statusCode"]), headers, payload


def _message(text: str) -> bytes:
    return json.dumps({"message": text}).encode()


def _interrupt(signum: int, frame: object) -> NoReturn:
    """Ctrl-C and SIGTERM stop the servers the same way."""
    raise KeyboardInterrupt


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="environment file")
    parser.add_argument("--port", type=int, default=8080, help="HTTP port (0: any free port)")
    parser.add_argument(
        "--greeting",
        help="the greeting template to upload, e.g. 'Hi {name}!' "
        "(default: the one the stack uploads, 'Hello, {name}!')",
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
        gateway = LocalGateway(args.port, config.api.stage_name, config.routes)
    except OSError as error:
        print(f"--port {args.port}: cannot listen on {HOST}: {error.strerror}", file=sys.stderr)
        return 2
    # werkzeug would print one access line per AWS call the function makes.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    moto = ThreadedMotoServer(ip_address=HOST, port=0, verbose=False)
    moto.start()
    try:
        serve(gateway, moto, config, args.greeting)
    finally:
        gateway.server_close()
        moto.stop()
    print("stopped", flush=True)
    return 0


def serve(
    gateway: LocalGateway, moto: ThreadedMotoServer, config: StackConfig, greeting: str | None
) -> None:
    endpoint_url = "http://{}:{}".format(*moto.get_host_and_port())
    for name in UNSET_AWS_VARIABLES:
        os.environ.pop(name, None)
    os.environ.update(local_aws_environment(endpoint_url, config.region))
    gateway.keep_environment()
    modules = [
        gateway.load(
            key,
            function.source_path,
            function.handler,
            function.timeout_s,
            function_environment(config, key),
        )
        for key, function in config.functions.items()
    ]
    # The hello function's constants (tests/test_app.py checks they match the stack's table
    # and the template the stack uploads): from the first function that defines them.
    app = next((m for m in modules if hasattr(m, "PARTITION_KEY")), None)
    bucket_name = local_bucket_name(config)
    create_resources(
        endpoint_url,
        config.region,
        table_name=config.dynamodb.table_name,
        partition_key=getattr(app, "PARTITION_KEY", DEFAULT_PARTITION_KEY),
        ttl_attribute=getattr(app, "TTL_ATTRIBUTE", DEFAULT_TTL_ATTRIBUTE),
        bucket_name=bucket_name,
    )
    # As the stack does: it uploads the function's default template unless told otherwise.
    template = greeting if greeting is not None else getattr(app, "DEFAULT_TEMPLATE", None)
    if template is not None:
        key = getattr(app, "DEFAULT_GREETING_KEY", GREETING_KEY)
        boto3.client("s3").put_object(Bucket=bucket_name, Key=key, Body=template.encode())
    port = gateway.server_address[1]
    stage = config.api.stage_name
    print(
        f"local AWS (moto): {endpoint_url} "
        f"(table {config.dynamodb.table_name}, bucket {bucket_name})",
        f"API: http://{HOST}:{port}/{stage} (Ctrl-C stops)",
        *(
            f"  {route.method} /{stage}{route.path.rstrip('/')} -> {route.function}"
            + ("" if route.authorization == "NONE" else f" ({route.authorization} not checked)")
            for route in config.routes
        ),
        sep="\n",
        flush=True,
    )
    # Both set explicitly: a shell starting this in the background would have SIGINT ignored.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _interrupt)
    with contextlib.suppress(KeyboardInterrupt):
        gateway.serve_forever()


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    sys.exit(main())
