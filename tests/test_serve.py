"""scripts/serve.py, the local run behind `make serve`: started as a real process on free ports,
called over HTTP, its stored items read back from its moto endpoint."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.error import HTTPError

import boto3
import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from constructs_lib.bytecode import BytecodeUnavailable, find_interpreter
from scripts.local_events import (
    ReceivedRequest,
    alb_event,
    listener_rules,
    match_listener_rule,
    rest_proxy_event,
)
from scripts.local_front_doors import LocalGateway
from scripts.serve import ANY_FREE_PORTS
from serverless_app.config import load_config
from tests.event_samples import sample, shape
from tests.support import CONFIG_DIR, REPO_ROOT, file_values, name_prefix
from tests.wheels import make_wheel

SERVE = [sys.executable, "-m", "scripts.serve"]
DEV_CONFIG = CONFIG_DIR / "dev.toml"
# dev's table and bucket, named as the stack names them: after project, env and key.
DEV_TABLE = f"{name_prefix(DEV_CONFIG)}-requests"
# The bucket prefix, completed with "local" where Terraform would append its suffix.
DEV_BUCKET = f"{name_prefix(DEV_CONFIG)}-assets-local"
SHIPPED_GREETING = file_values(DEV_CONFIG)["buckets"]["assets"]["objects"]["greeting.txt"]
STARTUP_TIMEOUT_S = 60


@dataclass
class Server:
    process: subprocess.Popen
    base_url: str
    moto_url: str
    stderr_file: IO[str]
    load_balancer_url: str
    # Keys of the user the server prints, allowed everything: moto enforces IAM.
    admin_keys: dict[str, str]

    def client(self, service: str) -> BaseClient:
        return boto3.client(
            service,
            endpoint_url=self.moto_url,
            region_name="us-east-1",
            aws_access_key_id=self.admin_keys["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=self.admin_keys["AWS_SECRET_ACCESS_KEY"],
        )

    def stop(self, signum: int) -> tuple[int, str, str]:
        """Send the signal; the exit code, the rest of stdout and all of stderr."""
        self.process.send_signal(signum)
        out, _ = self.process.communicate(timeout=STARTUP_TIMEOUT_S)
        self.stderr_file.seek(0)
        return self.process.returncode, out, self.stderr_file.read()


@contextmanager
def serving(*args: str, **env: str) -> Iterator[Server]:
    """Run serve.py on a free port until the block ends."""
    # stderr goes to a file: an unread pipe would fill up with access lines and block the server.
    with tempfile.TemporaryFile("w+") as stderr_file:
        process = subprocess.Popen(
            [*SERVE, *ANY_FREE_PORTS, *args],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=stderr_file,
            text=True,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1", **env},
        )
        assert process.stdout is not None  # stdout=PIPE
        try:
            lines = [process.stdout.readline() for _ in range(3)]
            moto_url, base_url, balancer_url = (
                re.search(r"http://127\.0\.0\.1:\d+", line) for line in lines
            )
            assert moto_url and base_url and balancer_url, f"no startup lines: {lines}"
            admin_keys = dict(re.findall(r"(AWS_[A-Z_]+)=([^\s)]+)", lines[0]))
            yield Server(
                process,
                base_url.group(),
                moto_url.group(),
                stderr_file,
                balancer_url.group(),
                admin_keys,
            )
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
            process.stdout.close()


# How long a test waits for an answer before it fails rather than hang: far beyond what any
# answer takes on a loaded machine (queued requests wait for each other).
ANSWER_WAIT_S = 120


def fetch(url: str, method: str = "GET") -> tuple[int, dict[str, str], dict]:
    status, headers, body = fetch_bytes(url, method)
    return status, headers, json.loads(body)


def fetch_bytes(url: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=ANSWER_WAIT_S) as reply:
            return reply.status, dict(reply.headers), reply.read()
    except HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    """dev, its greeting object changed in the file: serve uploads what the file says."""
    config = tmp_path_factory.mktemp("greeting") / "dev.toml"
    text = DEV_CONFIG.read_text()
    assert '"greeting.txt" = "Hello, {name}!"' in text
    config.write_text(text.replace('"Hello, {name}!"', '"Hello, {name}! Welcome to dev."'))
    with serving("--config", str(config)) as s:
        yield s


def test_get_returns_the_function_response(server):
    answers = [fetch(f"{server.base_url}/dev/hello?name=Ada") for _ in range(2)]
    for visits, (status, headers, body) in enumerate(answers, start=1):
        assert status == 200
        assert headers["Content-Type"] == "application/json"
        assert body["message"] == "Hello, Ada! Welcome to dev."
        assert body["visits"] == visits
        assert headers["x-amzn-RequestId"] == body["request_id"]
    assert answers[0][2]["request_id"] != answers[1][2]["request_id"]


def test_requests_are_stored_in_the_local_table(server):
    _, _, body = fetch(f"{server.base_url}/dev/hello?name=Grace%20Hopper")
    dynamodb = server.client("dynamodb")
    item = dynamodb.get_item(
        TableName=DEV_TABLE, Key={"pk": {"S": f"REQUEST#{body['request_id']}"}}
    )["Item"]
    assert item["path"] == {"S": "/hello"}
    assert item["method"] == {"S": "GET"}
    assert item["name"] == {"S": "Grace Hopper"}
    assert item["source_ip"] == {"S": "127.0.0.1"}
    assert item["user_agent"]["S"].startswith("Python-urllib/")
    assert int(item["expires_at"]["N"]) > 0
    counter = dynamodb.get_item(TableName=DEV_TABLE, Key={"pk": {"S": "VISITS#Grace Hopper"}})
    assert counter["Item"]["visits"] == {"N": "1"}


def test_table_and_bucket_are_created_as_the_stack_defines_them(server):
    dynamodb, s3 = server.client("dynamodb"), server.client("s3")
    table = dynamodb.describe_table(TableName=DEV_TABLE)["Table"]
    assert table["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    ttl = dynamodb.describe_time_to_live(TableName=DEV_TABLE)["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "expires_at")
    greeting = s3.get_object(Bucket=DEV_BUCKET, Key="greeting.txt")
    assert greeting["Body"].read() == b"Hello, {name}! Welcome to dev."


def test_the_shipped_file_objects_are_uploaded():
    with serving("--config", str(DEV_CONFIG)) as running:
        _, _, body = fetch(f"{running.base_url}/dev/hello?name=Ada")
        greeting = running.client("s3").get_object(Bucket=DEV_BUCKET, Key="greeting.txt")
        assert greeting["Body"].read() == SHIPPED_GREETING.encode()
        running.stop(signal.SIGINT)
    assert body["message"] == "Hello, Ada!"


def test_bad_input_gets_the_function_error(server):
    status, headers, body = fetch(f"{server.base_url}/dev/hello?name=%07")
    assert status == 400
    assert body["error"] == "name must not contain control or invisible characters"
    assert headers["x-amzn-RequestId"] == body["request_id"]


@pytest.mark.parametrize(
    ("method", "path", "message"),
    [
        ("POST", "/dev/hello", "Missing Authentication Token"),
        ("DELETE", "/dev/hello", "Missing Authentication Token"),
        ("GET", "/dev/goodbye", "Missing Authentication Token"),
        ("GET", "/dev/hello/extra", "Missing Authentication Token"),
        ("GET", "/prod/hello", "Forbidden"),
        ("GET", "/", "Forbidden"),
    ],
)
def test_requests_outside_the_api_are_refused_like_api_gateway(server, method, path, message):
    before = server.client("dynamodb").scan(TableName=DEV_TABLE, Select="COUNT")["Count"]
    status, headers, body = fetch(server.base_url + path, method)
    assert (status, body) == (403, {"message": message})
    assert headers["Content-Type"] == "application/json"
    after = server.client("dynamodb").scan(TableName=DEV_TABLE, Select="COUNT")["Count"]
    assert after == before


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_both_servers_cleanly(signum):
    with serving() as running:
        status, _, body = fetch(f"{running.base_url}/dev/hello?name=Ada")
        assert (status, body["message"]) == (200, "Hello, Ada!")
        code, out, err = running.stop(signum)
        assert code == 0
        assert out.splitlines()[-1] == "stopped"
        assert "Traceback" not in err
        for url in (running.base_url, running.moto_url):
            host, port = url.removeprefix("http://").split(":")
            with pytest.raises(ConnectionRefusedError), socket.create_connection((host, port)):
                pass


def test_a_failing_function_is_a_502_like_api_gateway(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    (source / "app.py").write_text("def handler(event, context):\n    raise RuntimeError('boom')\n")
    config = tmp_path / "dev.toml"
    config.write_text(
        DEV_CONFIG.read_text().replace('source_dir = "lambda"', f'source_dir = "{source}"')
    )
    with serving("--config", str(config)) as running:
        status, _, body = fetch(f"{running.base_url}/dev/hello")
        assert (status, body) == (502, {"message": "Internal server error"})
        code, _, err = running.stop(signal.SIGINT)
    assert code == 0
    assert "RuntimeError: boom" in err


# A second function, also in a module named app, that answers what it was given.
ECHO_APP = """
import os, json

def handler(event, context):
    body = {
        "resource": event["resource"],
        "path": event["path"],
        "method": event["httpMethod"],
        "pathParameters": event["pathParameters"],
        "who": os.environ.get("WHO"),
        "names": {k: v for k, v in os.environ.items() if k.startswith(("TABLE_", "BUCKET_"))},
        "log_level": os.environ.get("LOG_LEVEL"),
    }
    headers = {"Content-Type": "application/json"}
    return {"statusCode": 200, "headers": headers, "body": json.dumps(body)}
"""
ECHO_ROUTES = """
[tables.orders]
partition_key = {{ name = "customer", type = "S" }}
sort_key = {{ name = "placed_at", type = "N" }}
stream = "NEW_IMAGE"

[buckets.drops]
objects = {{ "a/b.txt" = "first" }}

[functions.echo]
source_dir = "{source}"
environment = {{ WHO = "echo" }}
grants = {{ tables = {{ orders = "read" }}, buckets = {{ drops = "write" }} }}

[[routes]]
method = "ANY"
path = "/items/{{id}}"
function = "echo"

[[routes]]
method = "GET"
path = "/items/latest"
function = "echo"

[[routes]]
method = "GET"
path = "/files/{{path+}}"
function = "echo"
authorization = "NONE"
"""


def code_folders(folder: Path, apps: dict[str, str]) -> dict[str, Path]:
    """Each function's code as `<folder>/<key>/app.py`: its folder, by key."""
    folders = {key: folder / key for key in apps}
    for key, code in apps.items():
        folders[key].mkdir()
        (folders[key] / "app.py").write_text(code)
    return folders


@pytest.fixture(scope="module")
def two_functions(tmp_path_factory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("echo")
    config = folder / "dev.toml"
    added = ECHO_ROUTES.format(**code_folders(folder, {"source": ECHO_APP}))
    config.write_text(DEV_CONFIG.read_text() + added)
    with serving("--config", str(config)) as running:
        yield running


def test_each_route_reaches_its_function_with_its_path_parameters(two_functions):
    status, _, body = fetch(f"{two_functions.base_url}/dev/items/42", "DELETE")
    assert (status, body) == (
        200,
        {
            "resource": "/items/{id}",
            "path": "/items/42",
            "method": "DELETE",
            "pathParameters": {"id": "42"},
            "who": "echo",
            "log_level": None,  # the hello function's variable, not this one's
            # What it is granted, named as the stack names them; not hello's table and bucket.
            "names": {
                "TABLE_ORDERS_NAME": f"{name_prefix(DEV_CONFIG)}-orders",
                "BUCKET_DROPS_NAME": f"{name_prefix(DEV_CONFIG)}-drops-local",
            },
        },
    )
    status, _, body = fetch(f"{two_functions.base_url}/dev/files/a/b/c.txt")
    assert (status, body["resource"], body["pathParameters"]) == (
        200,
        "/files/{path+}",
        {"path": "a/b/c.txt"},
    )
    # The hello function still answers its own route, with its own module named app.
    status, _, body = fetch(f"{two_functions.base_url}/dev/hello?name=Ada")
    assert (status, body["message"]) == (200, "Hello, Ada!")


def test_every_table_and_bucket_of_the_file_is_created_as_declared(two_functions):
    dynamodb, s3 = two_functions.client("dynamodb"), two_functions.client("s3")
    table = dynamodb.describe_table(TableName=f"{name_prefix(DEV_CONFIG)}-orders")["Table"]
    assert table["KeySchema"] == [
        {"AttributeName": "customer", "KeyType": "HASH"},
        {"AttributeName": "placed_at", "KeyType": "RANGE"},
    ]
    assert sorted(table["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == [
        {"AttributeName": "customer", "AttributeType": "S"},
        {"AttributeName": "placed_at", "AttributeType": "N"},
    ]
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    ttl = dynamodb.describe_time_to_live(TableName=table["TableName"])["TimeToLiveDescription"]
    assert ttl["TimeToLiveStatus"] == "DISABLED"
    bucket = f"{name_prefix(DEV_CONFIG)}-drops-local"
    assert s3.get_object(Bucket=bucket, Key="a/b.txt")["Body"].read() == b"first"


def test_a_literal_segment_wins_over_a_parameter(two_functions):
    _, _, body = fetch(f"{two_functions.base_url}/dev/items/latest")
    assert (body["resource"], body["pathParameters"]) == ("/items/latest", None)
    # The literal route has GET only: API Gateway does not fall back to /items/{id}.
    status, _, body = fetch(f"{two_functions.base_url}/dev/items/latest", "POST")
    assert (status, body) == (403, {"message": "Missing Authentication Token"})


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/files/a"), ("GET", "/files"), ("GET", "/items"), ("GET", "/items/1/2")],
)
def test_requests_outside_every_route_are_refused(two_functions, method, path):
    status, _, body = fetch(f"{two_functions.base_url}/dev{path}", method)
    assert (status, body) == (403, {"message": "Missing Authentication Token"})


# --- many clients, slow clients, broken requests --------------------------------------------


def raw_reply(base_url: str, request: bytes) -> tuple[int, list[str], bytes]:
    """Send bytes as they are and keep the connection open until the server closes it: the
    status, the header lines and the body answered."""
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=ANSWER_WAIT_S) as connection:
        connection.sendall(request)
        reply = b""
        while chunk := connection.recv(65536):
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode().split("\r\n")
    return int(status_line.split()[1]), header_lines, body


def raw_exchange(base_url: str, request: bytes) -> tuple[int, dict]:
    """The status and JSON body answered to bytes sent as they are."""
    status, _, body = raw_reply(base_url, request)
    return status, json.loads(body)


def test_an_idle_connection_holds_up_no_one(server):
    """Served while the idle connection is still open: a server that waited for it would
    answer only after dropping it."""
    host, port = server.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as idle:
        status, _, _ = fetch(f"{server.base_url}/dev/hello?name=Ada")
        assert status == 200
        idle.setblocking(False)
        with pytest.raises(BlockingIOError):  # open, nothing to read; b"" once closed
            idle.recv(1)


@pytest.mark.parametrize(
    ("request_bytes", "status", "message"),
    [
        (b"GET /dev/hello HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400, "Content-Length"),
        (b"GET /dev/hello HTTP/1.1\r\nContent-Length: abc\r\n\r\n", 400, "Content-Length"),
        (b"GET /dev/hello HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n", 413, "Too Long"),
        (b"GET\r\n\r\n", 400, "Bad request"),
        (b"GET /dev/hello HTTP/9.9\r\n\r\n", 505, "HTTP"),
    ],
    ids=["negative-length", "text-length", "huge-length", "no-path", "bad-version"],
)
def test_malformed_requests_get_json_errors_at_once(server, request_bytes, status, message):
    """Answered on the request line and headers alone: a server that waited for the body
    would give up on the connection after its timeout, with no answer at all."""
    assert raw_exchange(server.base_url, request_bytes)[0] == status
    assert message in raw_exchange(server.base_url, request_bytes)[1]["message"]
    server.stderr_file.seek(0)
    assert "Traceback" not in server.stderr_file.read()


def test_concurrent_clients_are_all_served_and_counted(server):
    replies: list[tuple[int, dict, dict]] = []

    def client() -> None:
        replies.append(fetch(f"{server.base_url}/dev/hello?name=Concurrent"))

    threads = [threading.Thread(target=client) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=ANSWER_WAIT_S)
    assert [status for status, _, _ in replies] == [200] * 16
    assert sorted(body["visits"] for _, _, body in replies) == list(range(1, 17))


def test_a_burst_of_connections_waits_in_the_listen_queue():
    """Connections beyond the listen backlog are dropped by the kernel until the client
    retries a second later; a burst below the backlog completes its handshakes at once."""
    gateway = LocalGateway(0, "dev", [])  # listening, but nobody accepts
    burst = 64
    connections: list[socket.socket] = []
    try:
        for _ in range(burst):
            host, port = gateway.server_address[:2]
            connections.append(socket.create_connection((str(host), port), timeout=0.5))
    finally:
        for connection in connections:
            connection.close()
        gateway.server_close()
    assert len(connections) == burst


def run_serve(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*SERVE, *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=STARTUP_TIMEOUT_S,
    )


def test_bad_config_is_one_line_and_exit_2(tmp_path):
    config = tmp_path / "broken.toml"
    config.write_text(
        DEV_CONFIG.read_text().replace("memory_mb = 256", "memory_mb = 1"), encoding="utf-8"
    )
    result = run_serve("--config", str(config))
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert "broken.toml: functions.hello.memory_mb:" in line


# --- both front doors: the same route through the API and the load balancer -----------------


@pytest.mark.parametrize(
    ("api_path", "balancer_path", "greeting"),
    [
        # A path parameter: API Gateway decodes it; the load balancer passes the path as sent.
        (
            "/dev/escape/Ada%2BLovelace%20%26%20Co",
            "/escape/Ada%2BLovelace%20%26%20Co",
            "<p>Hello, Ada+Lovelace &amp; Co!</p>",
        ),
        # A query value: decoded by API Gateway, still encoded (with `+` a space) from the ALB.
        (
            "/dev/escape?name=%3Cb%3EAda+Lovelace%3C/b%3E",
            "/escape?name=%3Cb%3EAda+Lovelace%3C/b%3E",
            "<p>Hello, &lt;b&gt;Ada Lovelace&lt;/b&gt;!</p>",
        ),
    ],
    ids=["path-parameter", "query"],
)
def test_one_route_answers_alike_through_both_front_doors(
    server, api_path, balancer_path, greeting
):
    through_api = fetch_bytes(server.base_url + api_path)
    through_balancer = fetch_bytes(server.load_balancer_url + balancer_path)
    for status, headers, body in (through_api, through_balancer):
        assert (status, body.decode()) == (200, greeting)
        assert headers["Content-Type"] == "text/html; charset=utf-8"


@pytest.mark.parametrize(
    "path",
    [
        "/hello",  # AWS_IAM: never on the load balancer
        "/dev/escape",  # the stage is the API's, not the load balancer's
        "/nothing",
    ],
)
def test_what_no_listener_rule_takes_gets_the_listeners_404(server, path):
    status, headers, body = fetch(server.load_balancer_url + path)
    assert (status, body) == (404, {"message": "Not Found"})
    assert headers["Content-Type"] == "application/json"


def test_the_load_balancer_refuses_an_answer_without_is_base64_encoded(two_functions):
    """API Gateway takes the echo function's answer; a Lambda target's answer needs
    isBase64Encoded, or the load balancer answers 502 with its own page."""
    status, _, body = fetch(f"{two_functions.base_url}/dev/files/a/b.txt")
    assert (status, body["resource"]) == (200, "/files/{path+}")
    status, headers, page = fetch_bytes(f"{two_functions.load_balancer_url}/files/a/b.txt")
    assert status == 502
    assert headers["Content-Type"] == "text/html"
    assert b"502 Bad Gateway" in page


def test_busy_port_is_one_line_and_exit_2():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        results = [
            run_serve("--port", str(port)),
            run_serve("--port", "0", "--alb-port", str(port)),
            # dev has a route behind its user pool: the local token issuer starts.
            run_serve("--port", "0", "--alb-port", "0", "--issuer-port", str(port)),
            run_serve(
                "--port", "0", "--alb-port", "0", "--issuer-port", "0", "--events-port", str(port)
            ),
        ]
    assert [(result.returncode, result.stderr.splitlines()) for result in results] == [
        (2, [f"--port {port}: cannot listen on 127.0.0.1: Address already in use"]),
        (2, [f"--alb-port {port}: cannot listen on 127.0.0.1: Address already in use"]),
        (2, [f"--issuer-port {port}: cannot listen on 127.0.0.1: Address already in use"]),
        (2, [f"--events-port {port}: cannot listen on 127.0.0.1: Address already in use"]),
    ]


# --- the event: what API Gateway would send -------------------------------------------------


def local_event(target: str) -> dict:
    return rest_proxy_event(
        ReceivedRequest(
            method="GET",
            target=target,
            headers=[("Host", "127.0.0.1:8080"), ("User-Agent", "curl/8.5.0"), ("Accept", "*/*")],
            body=b"",
            client_ip="127.0.0.1",
            server_port=8080,
        ),
        stage="dev",
    )


def test_event_has_the_shape_of_the_documented_api_gateway_event():
    documented = sample("apigw-rest-get")
    event = local_event("/dev/hello?name=Ada")
    assert shape(event) == shape(documented)
    for key in ("resource", "path", "httpMethod", "queryStringParameters", "body"):
        assert event[key] == documented[key], key
    for key in ("resourcePath", "path", "stage", "httpMethod"):
        assert event["requestContext"][key] == documented["requestContext"][key], key
    assert event["requestContext"]["identity"]["sourceIp"] == "127.0.0.1"
    assert event["requestContext"]["identity"]["userAgent"] == "curl/8.5.0"
    assert event["headers"]["X-Forwarded-For"] == "127.0.0.1"


def test_repeated_query_keys_keep_the_last_value_and_all_values():
    event = local_event("/dev/hello?name=Ada&name=Grace%20Hopper")
    assert event["queryStringParameters"] == {"name": "Grace Hopper"}
    assert event["multiValueQueryStringParameters"] == {"name": ["Ada", "Grace Hopper"]}


def test_no_query_string_is_null_as_in_api_gateway():
    event = local_event("/dev/hello")
    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None


# --- one function, one sandbox: its package, its process ------------------------------------

# The shipped function on its table and bucket, as the start of the files below (a
# str.format template, as they are).
HELLO_CONFIG = """project = "t"
env = "dev"

[tables.requests]
partition_key = {{ name = "pk", type = "S" }}
ttl_attribute = "expires_at"

[buckets.assets]
objects = {{ "greeting.txt" = "Hello, {{name}}!" }}

[functions.hello]
source_dir = "lambda"

[functions.hello.grants]
tables = {{ requests = "write" }}
buckets = {{ assets = {{ read = ["greeting.txt"] }} }}
"""
# Functions of their own, in a file of their own: `orders` needs `humanize`, a dependency the
# project's virtualenv lacks (served from a hand-made wheel: offline); `leaky` imports moto,
# which only the project's virtualenv has; `hello` is the shipped one.
SANDBOX_CONFIG = (
    HELLO_CONFIG
    + """
[functions.orders]
source_dir = "{orders}"
dependencies = "{orders}/requirements.txt"

[functions.leaky]
source_dir = "{leaky}"

[[routes]]
method = "GET"
path = "/hello"
function = "hello"

[[routes]]
method = "GET"
path = "/orders/{{id}}"
function = "orders"

[[routes]]
method = "GET"
path = "/leaky"
function = "leaky"
"""
)
ORDERS_APP = """import json
import sys

import humanize


def handler(event, context):
    body = {
        "order": event["pathParameters"]["id"],
        "size": humanize.size(1234),
        "version": humanize.VERSION,
        "python": list(sys.version_info[:2]),
        "request_id": context.aws_request_id,
    }
    return {"statusCode": 200, "headers": {}, "body": json.dumps(body)}
"""


def humanize_wheel(wheelhouse: Path, version: str) -> None:
    make_wheel(
        wheelhouse,
        "humanize",
        version,
        files={
            "humanize/__init__.py": f"VERSION = {version!r}\n\n"
            "def size(n):\n    return f'{n / 1000:.1f} kB'\n"
        },
    )


@pytest.fixture
def sandbox_project(tmp_path) -> tuple[Path, dict[str, str]]:
    """The config file, and the variables that make pip see only a local wheelhouse and
    install into a cache of this test's own."""
    wheelhouse = tmp_path / "wheelhouse"
    humanize_wheel(wheelhouse, "1.0")
    orders, leaky = tmp_path / "orders", tmp_path / "leaky"
    orders.mkdir()
    (orders / "app.py").write_text(ORDERS_APP)
    (orders / "requirements.txt").write_text("humanize==1.0\n")
    leaky.mkdir()
    (leaky / "app.py").write_text("import moto\n\ndef handler(event, context):\n    return {}\n")
    config = tmp_path / "dev.toml"
    config.write_text(SANDBOX_CONFIG.format(orders=orders, leaky=leaky))
    pip_sees_only = {
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(wheelhouse),
        "LAMBDA_DEPS_CACHE": str(tmp_path / "deps-cache"),
    }
    return config, pip_sees_only


def server_log(server: Server) -> str:
    server.stderr_file.seek(0)
    return server.stderr_file.read()


def test_a_dependency_the_project_lacks_is_served_from_the_functions_own_package(
    sandbox_project,
):
    config, pip_env = sandbox_project
    assert importlib.util.find_spec("humanize") is None, "the project must not have humanize"
    with serving("--config", str(config), **pip_env) as running:
        status, _, body = fetch(f"{running.base_url}/dev/orders/42")
        running.stop(signal.SIGTERM)
    assert status == 200
    assert (body["order"], body["size"], body["version"]) == ("42", "1.2 kB", "1.0")
    # In the runtime's Python (the default runtime, python3.13) where the machine has it.
    try:
        find_interpreter("python3.13")
    except BytecodeUnavailable:
        return
    assert body["python"] == [3, 13]


def test_a_missing_dependency_fails_that_functions_requests_only(sandbox_project):
    config, pip_env = sandbox_project
    with serving("--config", str(config), **pip_env) as running:
        failed = [fetch(f"{running.base_url}/dev/leaky") for _ in range(2)]
        status, _, body = fetch(f"{running.base_url}/dev/hello?name=Ada")
        orders_status, _, _ = fetch(f"{running.base_url}/dev/orders/1")
        log = server_log(running)
        code, _, _ = running.stop(signal.SIGTERM)
    # moto is in the project's virtualenv, not in the function's package: as on Lambda.
    assert [(status, body) for status, _, body in failed] == [
        (502, {"message": "Internal server error"})
    ] * 2
    line = (
        "leaky: [ERROR] Runtime.ImportModuleError: "
        "Unable to import module 'app': No module named 'moto'"
    )
    # Lambda tries the init again at each request; each failure is logged.
    assert log.count(line + "\n") == 2
    assert (status, body["message"], orders_status, code) == (200, "Hello, Ada!", 200, 0)


def test_an_edit_is_served_at_the_next_request(sandbox_project):
    config, pip_env = sandbox_project
    orders = config.parent / "orders"
    with serving("--config", str(config), **pip_env) as running:
        _, _, before = fetch(f"{running.base_url}/dev/orders/1")
        (orders / "app.py").write_text(ORDERS_APP.replace('"order": ', '"edited": True, "order": '))
        _, _, after_edit = fetch(f"{running.base_url}/dev/orders/1")
        # A new pin: the dependency is installed again and the package rebuilt.
        humanize_wheel(Path(pip_env["PIP_FIND_LINKS"]), "2.0")
        (orders / "requirements.txt").write_text("humanize==2.0\n")
        _, _, after_pin = fetch(f"{running.base_url}/dev/orders/1")
        fetch(f"{running.base_url}/dev/orders/1")  # nothing changed: no new process
        log = server_log(running)
        running.stop(signal.SIGTERM)
    assert "edited" not in before and after_edit["edited"] is True
    assert (before["version"], after_pin["version"]) == ("1.0", "2.0")
    assert log.count("orders: code changed, packaged and started afresh\n") == 2


def test_load_balancer_event_has_the_shape_of_the_documented_alb_event():
    documented = sample("alb-get")
    event = alb_event(
        ReceivedRequest(
            method="GET",
            target="/hello?name=Ada%20Lovelace",
            headers=[
                ("Accept", "*/*"),
                ("Host", "dev-alb-1234567890.us-east-1.elb.amazonaws.com"),
                ("User-Agent", "curl/8.5.0"),
            ],
            body=b"",
            client_ip="198.51.100.7",
            server_port=80,
        ),
        target_group_arn=documented["requestContext"]["elb"]["targetGroupArn"],
    )
    assert shape(event) == shape(documented)
    for key in ("requestContext", "httpMethod", "path", "queryStringParameters", "body"):
        assert event[key] == documented[key], key
    volatile = {"x-amzn-trace-id"}
    assert {k: v for k, v in event["headers"].items() if k not in volatile} == {
        k: v for k, v in documented["headers"].items() if k not in volatile
    }


@pytest.mark.parametrize(
    ("method", "path", "function"),
    [
        ("GET", "/a/1/b", "deep"),  # deeper before shallower, though both patterns match
        ("POST", "/a/1/b", "greedy"),  # a method condition: ANY takes the other methods
        ("GET", "/a/1", "shallow"),
        # ELB's `*` takes `/` too, and rules without a greedy parameter come first: the
        # shallow GET rule wins where API Gateway would pick the greedy route.
        ("GET", "/a/1/2/3", "shallow"),
        ("DELETE", "/a/1/2/3", "greedy"),
        ("POST", "/a/1", None),
        ("GET", "/b", None),
    ],
)
def test_listener_rules_are_tested_in_the_stacks_priority_order(tmp_path, method, path, function):
    (tmp_path / "dev.toml").write_text(LISTENER_ROUTES)
    config = load_config(tmp_path / "dev.toml")
    rule = match_listener_rule(method, path, listener_rules(config.routes))
    assert (rule.function if rule else None) == function


LISTENER_ROUTES = """project = "t"
env = "dev"
[functions.deep]
source_dir = "lambda"
[functions.shallow]
source_dir = "lambda"
[functions.greedy]
source_dir = "lambda"
[[routes]]
method = "GET"
path = "/a/{x}"
function = "shallow"
authorization = "NONE"
[[routes]]
method = "GET"
path = "/a/{x}/b"
function = "deep"
authorization = "NONE"
[[routes]]
method = "ANY"
path = "/a/{x}/{rest+}"
function = "greedy"
authorization = "NONE"
"""


# --- grants enforced: each function calls moto as its own role --------------------------------

READER_APP = """import json
import os

import boto3


def handler(event, context):
    what = event["pathParameters"]["what"]
    if what == "item":
        boto3.client("dynamodb").get_item(
            TableName=os.environ["TABLE_REQUESTS_NAME"], Key={"pk": {"S": "VISITS#nobody"}}
        )
    else:
        boto3.client("s3").get_object(Bucket=os.environ["BUCKET_ASSETS_NAME"], Key=what)
    return {"statusCode": 200, "headers": {}, "body": json.dumps({"read": what})}
"""
GRANTS_CONFIG = (
    HELLO_CONFIG
    + """
[functions.reader]
source_dir = "{source}"

[functions.reader.grants]
tables = {{ requests = "read" }}
buckets = {{ assets = {{ read = ["greeting.txt"] }} }}

[functions.writer]
source_dir = "{source}"

[functions.writer.grants]
tables = {{ requests = "write" }}
buckets = {{ assets = {{ write = ["greeting.txt"] }} }}

[[routes]]
method = "GET"
path = "/hello"
function = "hello"

[[routes]]
method = "GET"
path = "/reader/{{what}}"
function = "reader"

[[routes]]
method = "GET"
path = "/writer/{{what}}"
function = "writer"
"""
)


@pytest.fixture(scope="module")
def granted(tmp_path_factory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("grants")
    (folder / "dev.toml").write_text(
        GRANTS_CONFIG.format(**code_folders(folder, {"source": READER_APP}))
    )
    with serving("--config", str(folder / "dev.toml")) as running:
        yield running


@pytest.mark.parametrize(
    ("path", "denied"),
    [
        ("/reader/item", None),
        ("/reader/greeting.txt", None),
        # The same code with a write grant only: AWS would refuse both reads, and so does moto
        # (which answers DynamoDB's denial in its XML error format: botocore sees "403").
        (
            "/writer/item",
            [
                "writer: [ERROR] ClientError: An error occurred (403) when calling the GetItem "
                "operation: ",
                "<Code>AccessDenied</Code><Message>User: arn:aws:sts::123456789012:assumed-role/"
                "t-dev-writer-role/t-dev-writer-role is not authorized to perform: "
                "dynamodb:GetItem</Message>",
            ],
        ),
        (
            "/writer/greeting.txt",
            [
                # botocore's class for the code: Lambda's errorType is the exception's.
                "writer: [ERROR] AccessDenied: An error occurred (AccessDenied) when calling the "
                "GetObject operation: Access Denied"
            ],
        ),
    ],
)
def test_a_call_the_functions_role_is_not_granted_fails_locally(granted, path, denied):
    status, _, body = fetch(f"{granted.base_url}/dev{path}")
    log = server_log(granted)
    if denied is None:
        assert (status, body) == (200, {"read": path.rsplit("/", 1)[1]})
    else:
        assert (status, body) == (502, {"message": "Internal server error"})
        assert [fragment for fragment in denied if fragment not in log] == []


def test_moto_refuses_callers_it_does_not_know(granted):
    """Credentials that are no role's or user's: refused, not let through as before."""
    client = boto3.client(
        "dynamodb",
        endpoint_url=granted.moto_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    with pytest.raises(ClientError, match=r"UnrecognizedClientException|InvalidClientTokenId"):
        client.list_tables()
