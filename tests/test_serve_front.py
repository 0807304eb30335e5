"""`make serve` at the API's door, through the real server (moto, each function sandboxed):
a browser app on another origin sends the preflight, then calls dev's Cognito-protected
`GET /me` with a token of the local issuer printed by the documented command; bad tokens are
refused as API Gateway refuses them, and a Lambda authorizer of the file allows, denies and is
cached."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.error import HTTPError

import pytest

from tests.support import CONFIG_DIR, REPO_ROOT
from tests.test_serve import ANSWER_WAIT_S, Server, code_folders, raw_reply, serving

# An origin dev's [api.cors] allows.
APP = "https://app.example.com"
# What the test file adds to dev (which has CORS and the user pool authorizer `users`): the
# pool's tokens on two more routes (one asking for a scope), a Lambda authorizer on a third.
FRONT = """
[authorizers.gate]
type = "lambda"
function = "gate"
identity_sources = ["header.X-Api-Key"]
result_ttl_seconds = 300

[functions.orders]
source_dir = "{orders}"

[functions.gate]
source_dir = "{gate}"

[[routes]]
method = "POST"
path = "/orders/{{id}}"
function = "orders"
authorization = "users"
scopes = ["orders/write"]

[[routes]]
method = "GET"
path = "/whoami"
function = "orders"
authorization = "users"

[[routes]]
method = "GET"
path = "/gated"
function = "orders"
authorization = "gate"

[[routes]]
method = "GET"
path = "/boom"
function = "orders"
authorization = "NONE"
load_balancer = false
"""
# dev's `users` gets the resource server whose scope the POST route asks for (a route's
# scopes must exist on its authorizer).
USERS = '[authorizers.users]\ntype = "cognito"\n'
USERS_SCOPES = (
    'resource_server = { identifier = "orders", scopes = { write = "Place orders" } }\n'
    'callback_urls = ["http://localhost:3000/callback"]\n'
)
# Answers what reached it, with the CORS headers a function adds itself from CORS_POLICY.
ORDERS_APP = """
import json, os

def handler(event, context):
    if event["path"] == "/boom":
        raise RuntimeError("boom")
    policy = json.loads(os.environ["CORS_POLICY"])
    origin = (event["headers"] or {}).get("Origin")
    cors = {}
    if origin in policy["allow_origins"]:
        cors = {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
        if policy["allow_credentials"]:
            cors["Access-Control-Allow-Credentials"] = "true"
    body = {
        "authorizer": event["requestContext"].get("authorizer"),
        "cors_policy": policy,
        "path": event["path"],
    }
    headers = {"Content-Type": "application/json", "X-Request-Id": context.aws_request_id, **cors}
    return {"statusCode": 200, "headers": headers, "body": json.dumps(body)}
"""
# Allows keys starting with "open", denies "closed", refuses "wrong" as Unauthorized; counts
# its own invocations, so a cached answer shows.
GATE_APP = """
calls = 0

def handler(event, context):
    global calls
    calls += 1
    key = event["headers"]["X-Api-Key"]
    if key == "wrong":
        raise Exception("Unauthorized")
    effect = "Allow" if key.startswith("open") else "Deny"
    statement = {"Action": "execute-api:Invoke", "Effect": effect, "Resource": event["methodArn"]}
    return {
        "principalId": "gatekeeper",
        "policyDocument": {"Version": "2012-10-17", "Statement": [statement]},
        "context": {"key": key, "call": calls},
    }
"""


@dataclass
class Front:
    server: Server
    issuer_url: str

    def url(self, path: str) -> str:
        return f"{self.server.base_url}/dev{path}"


@pytest.fixture(scope="module")
def front(tmp_path_factory) -> Iterator[Front]:
    folder = tmp_path_factory.mktemp("front")
    config = folder / "dev.toml"
    added = FRONT.format(**code_folders(folder, {"orders": ORDERS_APP, "gate": GATE_APP}))
    dev = (CONFIG_DIR / "dev.toml").read_text()
    assert dev.count(USERS) == 1
    config.write_text(dev.replace(USERS, USERS + USERS_SCOPES) + added)
    with serving("--config", str(config), "--issuer-port", "0") as running:
        assert running.process.stdout is not None
        line = running.process.stdout.readline()
        issuer = re.match(r"token issuer: (http://127\.0\.0\.1:\d+) ", line)
        assert issuer, f"no issuer line: {line!r}"
        yield Front(running, issuer.group(1))


def make_token(front: Front, claims: dict, *options: str) -> str:
    """A token printed by `make token`'s command, for the running server's issuer."""
    port = front.issuer_url.rsplit(":", 1)[1]
    command = [sys.executable, "-m", "scripts.local_issuer", "--issuer-port", port]
    printed = subprocess.run(
        [*command, "--claims", json.dumps(claims), *options],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return printed.stdout.strip()


def call(url: str, method: str = "GET", **headers: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=ANSWER_WAIT_S) as reply:
            return reply.status, dict(reply.headers), reply.read()
    except HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_a_browser_app_on_another_origin_calls_a_token_protected_route(front):
    """dev as shipped: its GET /me behind the user pool, its function adding the CORS headers."""
    status, headers, body = call(
        front.url("/me"),
        "OPTIONS",
        Origin=APP,
        **{
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert (status, body) == (200, b"")
    assert {name: value for name, value in headers.items() if name.startswith("Access")} == {
        "Access-Control-Allow-Origin": APP,
        "Access-Control-Allow-Methods": "GET",
        "Access-Control-Allow-Headers": "authorization,content-type",
        "Access-Control-Max-Age": "600",
    }

    token = make_token(front, {"sub": "alice", "email": "alice@example.com"})
    status, headers, body = call(front.url("/me"), Origin=APP, Authorization=f"Bearer {token}")
    assert status == 200, body
    assert headers["Access-Control-Allow-Origin"] == APP
    # The shipped function greets the caller its claims name.
    assert json.loads(body)["message"] == "Hello, alice@example.com!"


def test_the_claims_reach_the_function_as_text_in_the_rest_event(front):
    token = make_token(front, {"sub": "bob", "cognito:groups": ["admins", "ops"], "age": 42})
    status, _, body = call(front.url("/whoami"), Authorization=token)
    assert status == 200, body
    claims = json.loads(body)["authorizer"]["claims"]
    assert (claims["sub"], claims["token_use"], claims["cognito:groups"], claims["age"]) == (
        "bob",
        "id",
        "[admins ops]",
        "42",
    )
    assert claims["iss"] == front.issuer_url


def test_a_scoped_route_takes_an_access_token_with_the_scope(front):
    token = make_token(front, {"sub": "alice", "scope": "orders/write"})
    status, headers, body = call(
        front.url("/orders/42"), "POST", Origin=APP, Authorization=f"Bearer {token}"
    )
    assert status == 200, body
    assert headers["Access-Control-Allow-Origin"] == APP
    assert json.loads(body)["authorizer"]["claims"]["scope"] == "orders/write"


def test_the_issuer_publishes_the_key_that_verifies_its_tokens(front):
    with urllib.request.urlopen(
        f"{front.issuer_url}/.well-known/openid-configuration", timeout=ANSWER_WAIT_S
    ) as reply:
        discovery = json.load(reply)
    assert discovery["issuer"] == front.issuer_url
    with urllib.request.urlopen(discovery["jwks_uri"], timeout=ANSWER_WAIT_S) as reply:
        (key,) = json.load(reply)["keys"]
    header = json.loads(_base64url(make_token(front, {"sub": "x"}).split(".")[0]))
    assert (key["kty"], key["kid"], "d" in key) == ("RSA", header["kid"], False)


def _base64url(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


@pytest.mark.parametrize(
    ("claims", "options", "description"),
    [
        ({"sub": "alice"}, ["--expires-in", "-60"], "the token has expired"),
        ({"iss": "https://cognito-idp.us-east-1.amazonaws.com/pool"}, [], "valid issuer"),
        ({"nbf": 4102444800}, [], "the token's nbf is in the future"),
        ({"sub": "mallory"}, ["--key-file", "{other_key}"], "not a valid JWT signed by"),
    ],
    ids=["expired", "other-issuer", "not-yet-valid", "other-key"],
)
def test_a_bad_token_is_401_with_the_reason_and_cors_headers(
    front, tmp_path, claims, options, description
):
    options = [option.format(other_key=tmp_path / "other.json") for option in options]
    token = make_token(front, claims, *options)
    status, headers, body = call(front.url("/me"), Origin=APP, Authorization=f"Bearer {token}")
    assert (status, json.loads(body)) == (401, {"message": "Unauthorized"})
    assert description in headers["www-authenticate"]
    assert headers["Access-Control-Allow-Origin"] == APP


@pytest.mark.parametrize(
    ("path", "method", "claims"),
    [
        ("/orders/42", "POST", {"sub": "alice", "scope": "orders/read"}),
        ("/orders/42", "POST", {"sub": "alice"}),
        ("/whoami", "GET", {"sub": "alice", "scope": "orders/write"}),
    ],
    ids=["without-the-scope", "id-token-on-a-scoped-route", "access-token-on-an-id-route"],
)
def test_cognitos_rest_authorizer_wants_the_right_kind_of_token(front, path, method, claims):
    token = make_token(front, claims)
    status, _, body = call(front.url(path), method, Authorization=f"Bearer {token}")
    assert (status, json.loads(body)) == (401, {"message": "Unauthorized"})


def test_no_token_is_401_before_any_function_runs(front):
    status, headers, body = call(front.url("/me"), Origin=APP)
    assert (status, json.loads(body)) == (401, {"message": "Unauthorized"})
    assert headers["Access-Control-Allow-Origin"] == APP


@pytest.mark.parametrize(
    ("key", "status", "body"),
    [
        (
            "closed",
            403,
            {"Message": "User is not authorized to access this resource with an explicit deny"},
        ),
        ("wrong", 401, {"message": "Unauthorized"}),
    ],
)
def test_a_lambda_authorizer_denies(front, key, status, body):
    answer_status, _, answer = call(front.url("/gated"), **{"X-Api-Key": key})
    assert (answer_status, json.loads(answer)) == (status, body)


def test_a_lambda_authorizer_allows_passes_its_context_and_is_cached(front):
    seen = []
    for key in ("open-1", "open-1", "open-2"):
        status, _, body = call(front.url("/gated"), **{"X-Api-Key": key})
        assert status == 200, body
        seen.append(json.loads(body)["authorizer"])
    first, cached, other = seen
    assert (first["principalId"], first["key"]) == ("gatekeeper", "open-1")
    assert cached == first
    assert (other["key"], other["call"]) == ("open-2", first["call"] + 1)


def test_a_missing_identity_source_is_401_without_the_authorizer(front):
    status, _, body = call(front.url("/gated"))
    assert (status, json.loads(body)) == (401, {"message": "Unauthorized"})


def raw_headers(base_url: str, request: bytes) -> tuple[int, dict[str, str]]:
    """Send bytes as they are: the status and the headers answered."""
    status, lines, _ = raw_reply(base_url, request)
    return status, dict(line.split(": ", 1) for line in lines)


@pytest.mark.parametrize(
    ("path", "status"),
    [("/nowhere", 403), ("/boom", 502)],
    ids=["missing-authentication-token", "function-failed"],
)
def test_the_gateways_own_errors_carry_the_cors_headers_for_an_allowed_origin(front, path, status):
    answered, headers, _ = call(front.url(path), Origin=APP)
    assert (answered, headers["Access-Control-Allow-Origin"]) == (status, APP)
    answered, headers, _ = call(front.url(path), Origin="https://evil.example.com")
    assert answered == status
    assert "Access-Control-Allow-Origin" not in headers


MALFORMED = "GET {path} HTTP/1.1\r\nOrigin: https://app.example.com\r\nContent-Length: abc\r\n\r\n"


def test_a_malformed_request_is_answered_with_cors_by_the_api_not_the_load_balancer(front):
    status, headers = raw_headers(front.server.base_url, MALFORMED.format(path="/dev/me").encode())
    assert (status, headers["Access-Control-Allow-Origin"]) == (400, APP)
    balancer_request = MALFORMED.format(path="/escape").encode()
    status, headers = raw_headers(front.server.load_balancer_url, balancer_request)
    assert status == 400
    assert not any(name.startswith("Access-Control") for name in headers)
