"""Run the functions locally: moto as AWS, and an HTTP server that plays API Gateway.

    .venv/bin/python -m scripts.serve [--config config/dev.toml] [--port 8080] [--alb-port 8081]

Starts moto on 127.0.0.1 (a free port) with every table and bucket of the file created as the
stack declares them, then serves every `[[routes]]` entry at
`http://127.0.0.1:<port>/<stage><path>`, matched by method and path as API Gateway does
(`{param}` one segment, `{proxy+}` the rest, literal segments first): each request becomes the
REST proxy event API Gateway would send (with its pathParameters), and its response goes back
to the client. Connections are served concurrently, each with its own timeout.

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
import base64
import contextlib
import functools
import importlib.metadata
import json
import logging
import os
import re
import secrets
import signal
import sys
import threading
import traceback
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import parse_qsl, unquote, urlsplit

import boto3
from moto.server import ThreadedMotoServer

from constructs_lib.paths import (
    LISTENER_NOT_FOUND_BODY,
    rule_priority,
    segments,
    wildcard_path,
)
from scripts.fire import DEFAULT_PORT as DEFAULT_EVENTS_PORT
from scripts.fire import EventsServer
from scripts.local_iam import (
    admin_credentials,
    enforce_iam,
    local_role_policy,
    role_credentials,
    with_credentials,
)
from scripts.sandbox import FunctionError, FunctionSpec, Sandbox
from scripts.serve_events import granted_queue_arns, produce_variables, start_delivery
from serverless_app.config import (
    FUNCTION_ROLE_SUFFIX,
    ConfigError,
    RouteConfig,
    StackConfig,
    load_config,
    target_group_name,
)
from serverless_app.config.data import BucketConfig, TableConfig, bucket_prefix
from serverless_app.config.variables import granted_variable

PROJECT_ROOT = Path(__file__).resolve().parent.parent

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
# API Gateway's payload limit.
MAX_BODY_BYTES = 10 * 1024 * 1024


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


def local_bucket_name(config: StackConfig, key: str) -> str:
    """Bucket `key`'s configured name, or its prefix completed the way Terraform would, but
    readable."""
    bucket = config.buckets[key]
    return bucket.name or f"{bucket_prefix(config.name_prefix, key)}local"


def function_environment(config: StackConfig, key: str) -> dict[str, str]:
    """The variables the stack gives function `key`: its own, then TABLE_<KEY>_NAME and
    BUCKET_<KEY>_NAME for what it is granted (no SECRET_* variables: there is no SSM here)."""
    grants = config.functions[key].grants
    return {
        **config.functions[key].environment,
        **{granted_variable("TABLE", table): config.tables[table].name for table in grants.tables},
        **{
            granted_variable("BUCKET", bucket): local_bucket_name(config, bucket)
            for bucket in grants.buckets
        },
        **produce_variables(config, key),
    }


def create_resources(endpoint_url: str, config: StackConfig) -> None:
    """Every table and bucket of the file, as the stack declares them (key schema, TTL,
    stream; the text objects)."""
    for table in config.tables.values():
        _create_table(endpoint_url, config.region, table.name, table)
    for key, bucket in config.buckets.items():
        _create_bucket(endpoint_url, config.region, local_bucket_name(config, key), bucket)


def _create_table(endpoint_url: str, region: str, name: str, table: TableConfig) -> None:
    dynamodb = boto3.client("dynamodb", endpoint_url=endpoint_url, region_name=region)
    keys = [(table.partition_key, "HASH"), (table.sort_key, "RANGE")]
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": key.name, "KeyType": kind} for key, kind in keys if key],
        AttributeDefinitions=[
            {"AttributeName": key.name, "AttributeType": key.type} for key, _ in keys if key
        ],
        BillingMode="PAY_PER_REQUEST",
        **(
            {"StreamSpecification": {"StreamEnabled": True, "StreamViewType": table.stream}}
            if table.stream is not None
            else {}
        ),
    )
    if table.ttl_attribute is not None:
        dynamodb.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute},
        )


def _create_bucket(endpoint_url: str, region: str, name: str, bucket: BucketConfig) -> None:
    s3 = boto3.client("s3", endpoint_url=endpoint_url, region_name=region)
    if region == "us-east-1":
        s3.create_bucket(Bucket=name)
    else:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
    for key, text in bucket.objects.items():
        s3.put_object(Bucket=name, Key=key, Body=text.encode())


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


class LocalGateway(ThreadingHTTPServer):
    """A thread per connection, so a slow or idle client holds up no one else; each function
    runs one request at a time in its own sandbox."""

    request_queue_size = LISTEN_BACKLOG
    daemon_threads = True

    def __init__(self, port: int, stage: str, routes: list[RouteConfig]) -> None:
        super().__init__((HOST, port), GatewayRequestHandler)
        self.stage = stage
        self.routes = routes
        self.sandboxes: dict[str, Sandbox] = {}

    def invoke(self, key: str, event: dict[str, Any]) -> Any:
        """The function's result; FunctionError when it fails as a Lambda invocation would."""
        return self.sandboxes[key].invoke(event, event["requestContext"]["requestId"])

    def stop_functions(self) -> None:
        for sandbox in self.sandboxes.values():
            sandbox.stop()


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
        except Exception as error:
            # What API Gateway does when the function fails (its sandbox logged Lambda's
            # error) or answers something that is not a proxy response.
            if not isinstance(error, FunctionError):
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


@dataclass(frozen=True)
class ListenerRule:
    """A route's rule on the load balancer's listener, as the stack writes it."""

    priority: int
    method: str  # "ANY": no method condition
    path_pattern: re.Pattern[str]
    function: str


def listener_rules(routes: list[RouteConfig]) -> list[ListenerRule]:
    """The rules of the routes on the load balancer, in the order it tests them."""
    return sorted(
        (
            ListenerRule(
                rule_priority(route.method, route.path, route.priority),
                route.method,
                _path_pattern(wildcard_path(route.path)),
                route.function,
            )
            for route in routes
            if route.load_balancer
        ),
        key=lambda rule: rule.priority,
    )


def _path_pattern(pattern: str) -> re.Pattern[str]:
    """ELB's path pattern: `*` any characters (`/` too), `?` one, the rest literal."""
    wildcards = {"*": ".*", "?": "."}
    return re.compile("".join(wildcards.get(char) or re.escape(char) for char in pattern))


def match_listener_rule(method: str, path: str, rules: list[ListenerRule]) -> ListenerRule | None:
    """The first rule, by priority, whose conditions the request meets; its path as sent."""
    return next(
        (
            rule
            for rule in rules
            if rule.method in (method, "ANY") and rule.path_pattern.fullmatch(path)
        ),
        None,
    )


def alb_event(
    *,
    method: str,
    target: str,
    headers: list[tuple[str, str]],
    body: bytes,
    client_ip: str,
    server_port: int,
    target_group_arn: str,
) -> dict[str, Any]:
    """The event an application load balancer sends a Lambda target (multi-value headers off,
    the stack's setting): the path and query as the client sent them, still percent-encoded;
    header names in lower case; the last value of a repeated header or query key."""
    url = urlsplit(target)
    query = dict(part.partition("=")[::2] for part in url.query.split("&") if part)
    received = {name.lower(): value for name, value in headers}
    forwarded_for = ", ".join(filter(None, [received.get("x-forwarded-for"), client_ip]))
    now = datetime.now(UTC)
    body_text, is_base64 = _event_body(body)
    return {
        "requestContext": {"elb": {"targetGroupArn": target_group_arn}},
        "httpMethod": method,
        "path": url.path,
        "queryStringParameters": query,
        "headers": {
            **received,
            "x-amzn-trace-id": f"Root=1-{int(now.timestamp()):08x}-{secrets.token_hex(12)}",
            "x-forwarded-for": forwarded_for,
            "x-forwarded-port": str(server_port),
            "x-forwarded-proto": "http",
        },
        "body": body_text or "",
        "isBase64Encoded": is_base64,
    }


# What the load balancer answers when the function fails or its answer is not one a Lambda
# target may give (ELB's own page).
ALB_BAD_GATEWAY = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n"
)


class LocalLoadBalancer(ThreadingHTTPServer):
    """The application load balancer's listener: the routes with `load_balancer`, as its
    rules match them, each to its function's sandbox (the API's), with the ALB's event."""

    request_queue_size = LISTEN_BACKLOG
    daemon_threads = True

    def __init__(self, port: int, config: StackConfig, gateway: LocalGateway) -> None:
        super().__init__((HOST, port), LoadBalancerRequestHandler)
        self.rules = listener_rules(config.routes)
        self.gateway = gateway
        self.target_group_arns = {
            key: f"arn:aws:elasticloadbalancing:{config.region}:{ACCOUNT_ID}:targetgroup/"
            f"{target_group_name(config, key)}/local"
            for key in config.functions
        }


class LoadBalancerRequestHandler(GatewayRequestHandler):
    server: LocalLoadBalancer  # type: ignore[assignment]

    def _answer(self) -> None:
        balancer = self.server
        rule = match_listener_rule(self.command, urlsplit(self.path).path, balancer.rules)
        if rule is None:  # the listener's default action
            not_found = LISTENER_NOT_FOUND_BODY.encode()
            self._send(HTTPStatus.NOT_FOUND, {"Content-Type": "application/json"}, not_found)
            return
        length = self._content_length()
        if length is None:
            return
        event = alb_event(
            method=self.command,
            target=self.path,
            headers=list(self.headers.items()),
            body=self.rfile.read(length),
            client_ip=self.client_address[0],
            server_port=balancer.server_address[1],
            target_group_arn=balancer.target_group_arns[rule.function],
        )
        try:
            sandbox = balancer.gateway.sandboxes[rule.function]
            status, headers, body = _alb_response(sandbox.invoke(event, str(uuid.uuid4())))
        except Exception as error:
            if not isinstance(error, FunctionError):
                traceback.print_exc()
            status, headers, body = (
                HTTPStatus.BAD_GATEWAY,
                {"Content-Type": "text/html"},
                (ALB_BAD_GATEWAY),
            )
        self._send(status, headers, body)


def _alb_response(response: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    """A Lambda target's answer needs `isBase64Encoded`, or the load balancer answers 502."""
    if not isinstance(response.get("isBase64Encoded"), bool):
        raise ValueError("the answer has no boolean isBase64Encoded: the load balancer's 502")
    return _proxy_response(response)


def _proxy_response(response: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    headers = {k: ",".join(v) for k, v in (response.get("multiValueHeaders") or {}).items()}
    headers.update(response.get("headers") or {})
    body = response.get("body") or ""
    payload = base64.b64decode(body) if response.get("isBase64Encoded") else body.encode()
    return int(response["statusCode"]), headers, payload


def _message(text: str) -> bytes:
    return json.dumps({"message": text}).encode()


def function_spec(config: StackConfig, key: str) -> FunctionSpec:
    function = config.functions[key]
    return FunctionSpec(
        key=key,
        name=function.name,
        source_dir=function.source_path,
        handler=function.handler,
        runtime=function.runtime,
        architecture=function.architecture,
        dependencies=function.dependencies_path,
        timeout_s=function.timeout_s,
        memory_mb=function.memory_mb,
        environment=function_environment(config, key),
    )


def function_role(endpoint_url: str, config: StackConfig, key: str) -> dict[str, str]:
    """Credentials of a session of the function's role, holding its grants."""
    function = config.functions[key]
    grants = function.grants
    policy = local_role_policy(
        grants.tables.values(),
        {
            local_bucket_name(config, bucket): (grant.read, grant.write)
            for bucket, grant in grants.buckets.items()
        },
        granted_queue_arns(config, key),
        publishes=bool(grants.topics),
    )
    role_name = f"{function.name}{FUNCTION_ROLE_SUFFIX}"
    return role_credentials(endpoint_url, config.region, role_name, policy)


def _reloaded(key: str) -> None:
    print(f"{key}: code changed, packaged and started afresh", file=sys.stderr, flush=True)


def _interrupt(signum: int, frame: object) -> NoReturn:
    """Ctrl-C and SIGTERM stop the servers the same way."""
    raise KeyboardInterrupt


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
        gateway = LocalGateway(args.port, config.api.stage_name, config.routes)
    except OSError as error:
        print(f"--port {args.port}: cannot listen on {HOST}: {error.strerror}", file=sys.stderr)
        return 2
    try:
        balancer = LocalLoadBalancer(args.alb_port, config, gateway)
    except OSError as error:
        gateway.server_close()
        print(
            f"--alb-port {args.alb_port}: cannot listen on {HOST}: {error.strerror}",
            file=sys.stderr,
        )
        return 2
    try:
        events = EventsServer(args.events_port)
    except OSError as error:
        balancer.server_close()
        gateway.server_close()
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
    try:
        serve(gateway, moto, config, balancer.server_address[1], events)
    finally:
        events.server_close()
        balancer.shutdown()
        balancer.server_close()
        gateway.server_close()
        gateway.stop_functions()
        moto.stop()
    print("stopped", flush=True)
    return 0


def serve(
    gateway: LocalGateway,
    moto: ThreadedMotoServer,
    config: StackConfig,
    load_balancer_port: int,
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
    stage = config.api.stage_name
    print(
        f"local AWS (moto): {endpoint_url} "
        f"(tables: {', '.join(tables) or 'none'}; buckets: {', '.join(buckets) or 'none'}; "
        "IAM enforced, every permission: "
        f"{' '.join(f'{name}={value}' for name, value in admin.items())})",
        f"API: http://{HOST}:{port}/{stage} (Ctrl-C stops)",
        f"load balancer: http://{HOST}:{load_balancer_port} (the routes marked [lb])",
        *(
            f"  {route.method} /{stage}{route.path.rstrip('/')} -> {route.function}"
            + ("" if route.authorization == "NONE" else f" ({route.authorization} not checked)")
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
