"""`[api.cors]`, `[authorizers]`, routes' `authorization` and `scopes`, `[functions.<key>.url]`:
each bad value is one line naming its key path; the good shapes pass."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import run_main
from tests.test_config_rules import assert_one_problem, dev_with, loaded, problems, written

CORS = {"allow_origins": ["https://app.example.com"]}
COGNITO = {"type": "cognito"}
LAMBDA = {"type": "lambda", "function": "escape"}
# The index of the route `with_route` adds.
NEW = len(dev_with({})["routes"])
JWT = {"type": "jwt", "issuer": "https://issuer.example.com", "audiences": ["api"]}
# A user pool with custom scopes: its resource server and the hosted sign-in's return address.
ORDERS_SERVER = {"identifier": "orders", "scopes": {"read": "Read orders", "write": "Place orders"}}
SIGN_IN = {"callback_urls": ["https://app.example.com/callback"]}
COGNITO_SCOPED = {**COGNITO, "resource_server": ORDERS_SERVER, **SIGN_IN}


def route(**keys: Any) -> dict[str, Any]:
    return {"method": "GET", "path": "/extra", "function": "hello", **keys}


def with_route(changes: dict[str, Any], **keys: Any) -> dict[str, Any]:
    """dev.toml with `changes` and one more route, `GET /extra` with `keys`."""
    data = dev_with(changes)
    data["routes"].append(route(**keys))
    return data


BAD: dict[str, tuple[dict[str, Any], str, str]] = {
    "unknown authorizer, with a suggestion": (
        with_route({"authorizers.users": COGNITO}, authorization="user"),
        f"routes[{NEW}].authorization",
        'not "AWS_IAM", "NONE" or a key of [authorizers] (users); did you mean \'users\'?',
    ),
    "authorizer key of the wrong shape": (
        with_route({}, authorization="Users!"),
        f"routes[{NEW}].authorization",
        'must be "AWS_IAM", "NONE" or a key of [authorizers]',
    ),
    "wildcard origin with credentials": (
        dev_with({"api.cors": {"allow_origins": ["*"], "allow_credentials": True}}),
        "api.cors.allow_origins[0]",
        '"*" with allow_credentials = true: browsers refuse credentials',
    ),
    "wildcard header with credentials": (
        dev_with({"api.cors": {**CORS, "allow_headers": ["*"], "allow_credentials": True}}),
        "api.cors.allow_headers[0]",
        '"*" with allow_credentials = true',
    ),
    "wildcard among origins": (
        dev_with({"api.cors": {"allow_origins": ["*", "https://a.example.com"]}}),
        "api.cors.allow_origins",
        '"*" already allows every origin',
    ),
    "origin with a path": (
        dev_with({"api.cors": {"allow_origins": ["https://app.example.com/"]}}),
        "api.cors.allow_origins[0]",
        "an origin as browsers send it",
    ),
    "origin in capitals": (
        dev_with({"api.cors": {"allow_origins": ["https://App.example.com"]}}),
        "api.cors.allow_origins[0]",
        "lowercase",
    ),
    "max age above HTTP API's and Lambda's 86400": (
        dev_with({"api.cors": {**CORS, "max_age_seconds": 86401}}),
        "api.cors.max_age_seconds",
        "less than or equal to 86400",
    ),
    "negative max age": (
        dev_with({"api.cors": {**CORS, "max_age_seconds": -1}}),
        "api.cors.max_age_seconds",
        "greater than or equal to 0",
    ),
    "a method CORS does not know": (
        dev_with({"api.cors": {**CORS, "allow_methods": ["FETCH"]}}),
        "api.cors.allow_methods[0]",
        "",
    ),
    "scopes on an AWS_IAM route": (
        with_route({}, scopes=["orders/write"]),
        f"routes[{NEW}].scopes",
        "AWS_IAM carries no OAuth scopes",
    ),
    "scopes on a lambda authorizer": (
        with_route({"authorizers.gate": LAMBDA}, authorization="gate", scopes=["orders/write"]),
        f"routes[{NEW}].scopes",
        "authorizers.gate is a lambda authorizer, whose answers carry no OAuth scopes",
    ),
    "a scope with a space": (
        with_route({"authorizers.users": COGNITO}, authorization="users", scopes=["a b"]),
        f"routes[{NEW}].scopes[0]",
        "an OAuth scope",
    ),
    "a custom scope without a resource server": (
        with_route({"authorizers.users": COGNITO}, authorization="users", scopes=["orders/write"]),
        f"routes[{NEW}].scopes[0]",
        "no token of authorizers.users carries it (aws.cognito.signin.user.admin): custom "
        "scopes need authorizers.users.resource_server",
    ),
    "a scope the resource server does not have, with a suggestion": (
        with_route(
            {"authorizers.users": COGNITO_SCOPED}, authorization="users", scopes=["orders/wirte"]
        ),
        f"routes[{NEW}].scopes[0]",
        "no token of authorizers.users carries it (orders/read, orders/write, openid, email, "
        "aws.cognito.signin.user.admin); did you mean 'orders/write'?",
    ),
    "a resource server on a jwt authorizer": (
        dev_with({"authorizers.partner": {**JWT, "resource_server": ORDERS_SERVER}}),
        "authorizers.partner.resource_server",
        "only used with type = 'cognito', not 'jwt'",
    ),
    "a resource server without callback URLs": (
        dev_with({"authorizers.users": {**COGNITO, "resource_server": ORDERS_SERVER}}),
        "authorizers.users.callback_urls",
        "required with resource_server",
    ),
    "callback URLs without a resource server": (
        dev_with({"authorizers.users": {**COGNITO, **SIGN_IN}}),
        "authorizers.users.callback_urls",
        "only used with resource_server",
    ),
    "a plain-http callback URL off localhost": (
        dev_with(
            {"authorizers.users": {**COGNITO_SCOPED, "callback_urls": ["http://app.example.com/"]}}
        ),
        "authorizers.users.callback_urls[0]",
        "http:// only for localhost",
    ),
    "a callback URL with a fragment": (
        dev_with(
            {"authorizers.users": {**COGNITO_SCOPED, "callback_urls": ["https://a.example.com/#x"]}}
        ),
        "authorizers.users.callback_urls[0]",
        "without a `#` fragment",
    ),
    "a scope name with a slash": (
        dev_with(
            {
                "authorizers.users": {
                    **COGNITO_SCOPED,
                    "resource_server": {"identifier": "orders", "scopes": {"a/b": "x"}},
                }
            }
        ),
        "authorizers.users.resource_server.scopes.a/b",
        "no space, quote, backslash or `/`",
    ),
    "no scopes on a resource server": (
        dev_with(
            {
                "authorizers.users": {
                    **COGNITO_SCOPED,
                    "resource_server": {"identifier": "orders", "scopes": {}},
                }
            }
        ),
        "authorizers.users.resource_server.scopes",
        "at least 1 item",
    ),
    "a scope longer than Cognito's 256 characters": (
        dev_with(
            {
                "authorizers.users": {
                    **COGNITO_SCOPED,
                    "resource_server": {"identifier": "o" * 250, "scopes": {"written": "x"}},
                }
            }
        ),
        "authorizers.users.resource_server.scopes.written",
        "is 258 characters; Cognito's allowed scopes are at most 256",
    ),
    "a domain prefix Cognito reserves": (
        dev_with({"authorizers.users": {**COGNITO_SCOPED, "domain_prefix": "my-aws-login"}}),
        "authorizers.users.domain_prefix",
        "Cognito refuses a domain prefix containing 'aws'",
    ),
    "a derived domain prefix Cognito reserves": (
        dev_with({"authorizers.cognito-users": COGNITO_SCOPED}),
        "authorizers.cognito-users.resource_server",
        "its hosted sign-in domain prefix 'hello-dev-cognito-users' (<project>-<env>-<key>): "
        "Cognito refuses a domain prefix containing 'cognito'; set domain_prefix",
    ),
    "lambda authorizer naming a missing function": (
        dev_with({"authorizers.gate": {"type": "lambda", "function": "escpe"}}),
        "authorizers.gate.function",
        "not a key of [functions] (hello, escape, orders-api, worker, housekeeping); "
        "did you mean 'escape'?",
    ),
    "lambda authorizer without a function": (
        dev_with({"authorizers.gate": {"type": "lambda"}}),
        "authorizers.gate.function",
        "required with type = 'lambda'",
    ),
    "cache longer than API Gateway's 3600 s": (
        dev_with({"authorizers.gate": {**LAMBDA, "result_ttl_seconds": 3601}}),
        "authorizers.gate.result_ttl_seconds",
        "less than or equal to 3600",
    ),
    "identity source in no API's spelling": (
        dev_with({"authorizers.gate": {**LAMBDA, "identity_sources": ["$request.header.X"]}}),
        "authorizers.gate.identity_sources[0]",
        "`header.<name>` or `query.<name>`",
    ),
    "a lambda key on a cognito authorizer": (
        dev_with({"authorizers.users": {**COGNITO, "result_ttl_seconds": 60}}),
        "authorizers.users.result_ttl_seconds",
        "only used with type = 'lambda', not 'cognito'",
    ),
    "jwt on the REST API": (
        dev_with({"authorizers.partner": JWT}),
        "authorizers.partner.type",
        "a REST API verifies only Cognito user pool tokens, not any issuer's: use an HTTP API",
    ),
    "open function URL without a reason": (
        dev_with({"functions.escape.url": {"auth": "NONE"}}),
        "functions.escape.url.auth",
        "say why it is safe in public_reason",
    ),
    "a reason on a signed function URL": (
        dev_with({"functions.escape.url": {"public_reason": "the handler checks HMAC"}}),
        "functions.escape.url.public_reason",
        'only used with auth = "NONE"',
    ),
    "response streaming from Python": (
        dev_with({"functions.escape.url": {"invoke_mode": "RESPONSE_STREAM"}}),
        "functions.escape.url.invoke_mode",
        "Lambda streams answers only from Node.js managed runtimes",
    ),
    "a function URL's CORS like the API's": (
        dev_with(
            {"functions.escape.url": {"cors": {"allow_origins": ["*"], "allow_credentials": True}}}
        ),
        "functions.escape.url.cors.allow_origins[0]",
        '"*" with allow_credentials = true',
    ),
}


@pytest.mark.parametrize(("data", "key", "message"), BAD.values(), ids=list(BAD))
def test_a_bad_value_is_one_line_on_its_key(tmp_path, data, key, message):
    assert_one_problem(tmp_path, data, key, message)


GOOD = {
    "CORS with every key": dev_with(
        {
            "api.cors": {
                "allow_origins": ["https://app.example.com", "http://localhost:3000"],
                "allow_methods": ["GET", "POST"],
                "allow_headers": ["authorization", "content-type"],
                "expose_headers": ["x-request-id"],
                "allow_credentials": True,
                "max_age_seconds": 86400,
            }
        }
    ),
    "any origin without credentials": dev_with({"api.cors": {"allow_origins": ["*"]}}),
    "a cognito route with a custom scope of its resource server": with_route(
        {"authorizers.users": COGNITO_SCOPED}, authorization="users", scopes=["orders/write"]
    ),
    "a cognito route asking for the sign-in API's own scope": with_route(
        {"authorizers.users": COGNITO},
        authorization="users",
        scopes=["aws.cognito.signin.user.admin"],
    ),
    "a derived domain prefix overridden": dev_with(
        {"authorizers.cognito-users": {**COGNITO_SCOPED, "domain_prefix": "hello-dev-login"}}
    ),
    "a lambda authorizer with a query source and no cache": with_route(
        {
            "authorizers.gate": {
                **LAMBDA,
                "identity_sources": ["header.Authorization", "query.token"],
                "result_ttl_seconds": 0,
            }
        },
        authorization="gate",
    ),
    "an open function URL with its reason": dev_with(
        {
            "functions.escape.url": {
                "auth": "NONE",
                "public_reason": "the handler verifies the sender's HMAC signature",
                "cors": CORS,
            }
        }
    ),
}


@pytest.mark.parametrize("data", GOOD.values(), ids=list(GOOD))
def test_good_shapes_pass(tmp_path, data):
    loaded(tmp_path, data)


def test_an_authorized_route_stays_off_the_load_balancer(tmp_path):
    data = with_route({"authorizers.users": COGNITO}, authorization="users")
    routes = loaded(tmp_path, data).routes
    assert [route.load_balancer for route in routes if route.path == "/extra"] == [False]


def test_asking_the_load_balancer_for_an_authorized_route_is_refused(tmp_path):
    data = with_route({"authorizers.users": COGNITO}, authorization="users", load_balancer=True)
    assert problems(tmp_path, data) == [
        f"routes[{NEW}].load_balancer: the load balancer cannot check users authorization: the "
        'route would be public there; set load_balancer = false or authorization = "NONE" '
        "(given: True)"
    ]


def test_the_check_prints_one_line_and_exits_2(tmp_path):
    path = written(tmp_path, with_route({}, authorization="nobody"))
    result = run_main("--check", "--config", str(path))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f'{path}: routes[{NEW}].authorization: not "AWS_IAM", "NONE" or a key of [authorizers] '
        "(users) (given: 'nobody')"
    ]
