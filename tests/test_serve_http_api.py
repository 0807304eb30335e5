"""`make serve` as an HTTP API, through the real server (moto, each function sandboxed), on
tests/config/http_api.toml (`api.type = "http"`): a browser app on another origin sends the
preflight, which the API answers itself, then calls the Cognito-protected `GET /me` at the
root (the `$default` stage) with a token printed by the documented command; each function
gets the payload 2.0 event, its answer is read as payload 2.0 reads it, the API's CORS headers
replace the function's, and a Lambda authorizer's simple response allows, refuses and is
cached."""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterator
from email.message import Message
from urllib.error import HTTPError

import pytest

from tests.support import REPO_ROOT
from tests.test_serve import ANSWER_WAIT_S, Server, code_folders, serving
from tests.test_serve_front import Front, make_token

HTTP_API_CONFIG = REPO_ROOT / "tests" / "config" / "http_api.toml"
# An origin the file's [api.cors] allows.
APP = "https://app.example.com"
# What the test adds to the file: a function that answers with the event it got (and CORS
# headers and cookies of its own), behind a greedy ANY route, the file's JWT authorizer and a
# Lambda authorizer with simple responses (its own `counter`: the file's `gate` counts nothing).
ADDED = """
[authorizers.counter]
type = "lambda"
function = "counter"
identity_sources = ["header.X-Api-Key"]
result_ttl_seconds = 300

[functions.probe]
source_dir = "{probe}"

[functions.counter]
source_dir = "{counter}"

[[routes]]
method = "ANY"
path = "/probe/{{proxy+}}"
function = "probe"
authorization = "NONE"
load_balancer = false

[[routes]]
method = "GET"
path = "/partner"
function = "probe"
authorization = "partners"
scopes = ["orders/read"]

[[routes]]
method = "GET"
path = "/gated"
function = "probe"
authorization = "counter"
"""
PROBE_APP = """
import json

def handler(event, context):
    if event["rawPath"] == "/probe/bare":
        return ["a", 1]
    if event["rawPath"] == "/probe/boom":
        raise RuntimeError("boom")
    return {
        "statusCode": 201,
        "headers": {"Access-Control-Allow-Origin": "*", "X-Probe": "yes"},
        "cookies": ["a=1; Path=/", "b=2"],
        "body": json.dumps(event),
    }
"""
# Authorizes keys starting with "open", not "closed", fails "wrong" as Unauthorized; counts its
# own invocations, so a cached answer shows.
GATE_APP = """
calls = 0

def handler(event, context):
    global calls
    calls += 1
    key = event["headers"]["x-api-key"]
    if key == "wrong":
        raise Exception("Unauthorized")
    return {
        "isAuthorized": key.startswith("open"),
        "context": {"key": key, "call": calls, "route_arn": event["routeArn"]},
    }
"""


@pytest.fixture(scope="module")
def api(tmp_path_factory) -> Iterator[Front]:
    folder = tmp_path_factory.mktemp("http-api")
    config = folder / "http_api.toml"
    added = ADDED.format(**code_folders(folder, {"probe": PROBE_APP, "counter": GATE_APP}))
    config.write_text(HTTP_API_CONFIG.read_text() + added)
    with serving("--config", str(config)) as running:
        assert running.process.stdout is not None
        line = running.process.stdout.readline()
        issuer = re.match(r"token issuer: (http://127\.0\.0\.1:\d+) ", line)
        assert issuer, f"no issuer line: {line!r}"
        yield Front(running, issuer.group(1))


def call(
    server: Server, path: str, method: str = "GET", **headers: str
) -> tuple[int, Message, bytes]:
    """The answer to a request at the API's root: status, headers (repeated ones kept), body."""
    request = urllib.request.Request(f"{server.base_url}{path}", method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=ANSWER_WAIT_S) as reply:
            return reply.status, reply.headers, reply.read()
    except HTTPError as error:
        return error.code, error.headers, error.read()


PREFLIGHT = {
    "Origin": APP,
    "Access-Control-Request-Method": "GET",
    "Access-Control-Request-Headers": "authorization",
}


def cors_headers(headers: Message) -> dict[str, str]:
    return {name: value for name, value in headers.items() if name.startswith("Access-Control")}


def test_a_browser_app_on_another_origin_calls_a_token_protected_route_of_the_http_api(api):
    """The file as shipped: GET /me behind the user pool; the API answers the preflight."""
    status, headers, body = call(api.server, "/me", "OPTIONS", **PREFLIGHT)
    assert (status, body) == (204, b"")
    assert cors_headers(headers) == {
        "Access-Control-Allow-Origin": APP,
        # One CORS configuration for the API: every route's method (ANY /probe/{proxy+}: all).
        "Access-Control-Allow-Methods": "GET,POST,PUT,PATCH,DELETE,HEAD",
        "Access-Control-Allow-Headers": "authorization,content-type",
        "Access-Control-Max-Age": "600",
    }

    token = make_token(api, {"sub": "alice", "email": "alice@example.com"})
    status, headers, body = call(api.server, "/me", Origin=APP, Authorization=f"Bearer {token}")
    assert status == 200, body
    assert headers["Access-Control-Allow-Origin"] == APP
    assert headers["apigw-requestid"]
    # The shipped function greets the caller the JWT authorizer's claims name.
    assert json.loads(body)["message"] == "Hello, alice@example.com!"


def test_the_api_serves_at_the_root_and_answers_404_elsewhere(api):
    status, headers, body = call(api.server, "/dev/hello/Ada", Origin=APP)
    assert (status, json.loads(body)) == (404, {"message": "Not Found"})
    assert headers["Access-Control-Allow-Origin"] == APP
    status, _, body = call(api.server, "/hello/x?name=Ada")
    assert (status, json.loads(body)["message"]) == (200, "Hello, Ada!")


def test_the_api_answers_a_preflight_on_any_path(api):
    status, headers, _ = call(api.server, "/nowhere", "OPTIONS", **PREFLIGHT)
    assert (status, headers["Access-Control-Allow-Origin"]) == (204, APP)


def test_a_function_gets_the_payload_2_0_event_and_its_answer_is_read_as_2_0(api):
    status, headers, body = call(
        api.server,
        "/probe/a%20b/c?x=1&x=2&y=%3Cz%3E",
        Origin=APP,
        Cookie="c1=v1; c2=v2",
        **{"X-Custom": "kept"},
    )
    assert status == 201, body
    event = json.loads(body)
    assert (event["version"], event["routeKey"], event["rawPath"]) == (
        "2.0",
        "ANY /probe/{proxy+}",
        "/probe/a b/c",
    )
    assert event["rawQueryString"] == "x=1&x=2&y=%3Cz%3E"
    assert event["queryStringParameters"] == {"x": "1,2", "y": "<z>"}
    assert event["pathParameters"] == {"proxy": "a b/c"}
    assert event["cookies"] == ["c1=v1", "c2=v2"]
    assert (event["headers"]["x-custom"], "cookie" in event["headers"]) == ("kept", False)
    context = event["requestContext"]
    assert (context["stage"], context["http"]["method"], context["http"]["sourceIp"]) == (
        "$default",
        "GET",
        "127.0.0.1",
    )
    assert context["requestId"] == headers["apigw-requestid"]
    # Each cookie its own Set-Cookie; the function's "*" replaced by the API's CORS headers.
    assert headers.get_all("Set-Cookie") == ["a=1; Path=/", "b=2"]
    assert (headers["X-Probe"], headers.get_all("Access-Control-Allow-Origin")) == ("yes", [APP])


def test_an_answer_without_a_status_code_is_a_200_json_body(api):
    status, headers, body = call(api.server, "/probe/bare")
    assert (status, headers["Content-Type"], json.loads(body)) == (
        200,
        "application/json",
        ["a", 1],
    )


def test_a_failed_function_is_the_apis_500_with_cors(api):
    status, headers, body = call(api.server, "/probe/boom", Origin=APP)
    assert (status, json.loads(body)) == (500, {"message": "Internal Server Error"})
    assert headers["Access-Control-Allow-Origin"] == APP


@pytest.mark.parametrize(
    ("claims", "status"),
    [
        ({"sub": "carol", "scope": "orders/read"}, 201),
        ({"sub": "carol", "scope": "orders/write"}, 403),
    ],
    ids=["with-the-scope", "without-it"],
)
def test_a_jwt_route_wants_the_audience_and_a_scope(api, claims, status):
    token = make_token(api, claims, "--audience", "partner-api")
    answered, _, body = call(api.server, "/partner", Authorization=f"Bearer {token}")
    assert answered == status, body
    if status == 201:
        jwt = json.loads(body)["requestContext"]["authorizer"]["jwt"]
        assert (jwt["claims"]["sub"], jwt["scopes"]) == ("carol", ["orders/read"])


@pytest.mark.parametrize(
    ("key", "status", "body"),
    [
        ("closed", 403, {"message": "Forbidden"}),
        ("wrong", 401, {"message": "Unauthorized"}),
        (None, 401, {"message": "Unauthorized"}),
    ],
    ids=["not-authorized", "fails-unauthorized", "no-identity-source"],
)
def test_a_lambda_authorizer_refuses(api, key, status, body):
    headers = {"X-Api-Key": key} if key is not None else {}
    answered, _, answer = call(api.server, "/gated", **headers)
    assert (answered, json.loads(answer)) == (status, body)


def test_a_lambda_authorizer_allows_passes_its_context_and_is_cached(api):
    seen = []
    for key in ("open-1", "open-1", "open-2"):
        status, _, body = call(api.server, "/gated", **{"X-Api-Key": key})
        assert status == 201, body
        seen.append(json.loads(body)["requestContext"]["authorizer"]["lambda"])
    first, cached, other = seen
    assert first["route_arn"].endswith(":local/$default/GET/gated")
    assert cached == first
    assert (other["key"], other["call"]) == ("open-2", first["call"] + 1)
