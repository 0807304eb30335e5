"""make serve as an HTTP API (`api.type = "http"`), piece by piece: the route an HTTP API picks
(scripts/local_events.py), the payload 2.0 event checked key by key against AWS's documented
sample (tests/events/apigw-http-v2-aws-docs.json), the function's answer read as payload 2.0,
the API's own CORS (scripts/local_api_guard.py) and a Lambda authorizer's simple response,
cached on an injected clock. tests/test_serve_http_api.py runs them through the real server."""

from __future__ import annotations

import base64
import copy
from datetime import datetime
from typing import Any

import pytest

from scripts.local_api_guard import ApiGuard
from scripts.local_authorizers import (
    AccessControl,
    IdentitySource,
    LambdaAuthorizer,
    RouteAccess,
    TokenAuthorizer,
)
from scripts.local_events import (
    ReceivedRequest,
    http_api_event,
    http_api_response,
    match_http_route,
)
from scripts.local_issuer import LocalIssuer, signing_key
from serverless_app.config import RouteConfig
from serverless_app.config.access import CorsConfig
from serverless_app.config.routes import HttpMethod
from tests.event_samples import sample, shape
from tests.test_local_front import AuthorizerFunction, Clock

NOW = 1_800_000_000
ISSUER_URL = "http://127.0.0.1:8083"
REGION = "us-east-1"
ACCOUNT = "123456789012"


def route(method: HttpMethod, path: str, function: str = "f") -> RouteConfig:
    return RouteConfig(method=method, path=path, function=function, authorization="NONE")


# --- which route ----------------------------------------------------------------------------

ROUTES = [
    route("GET", "/pets/dog/1", "exact"),
    route("GET", "/pets/dog/{id}", "parameter"),
    route("GET", "/pets/{proxy+}", "greedy"),
    route("ANY", "/pets/dog/{id}", "any-parameter"),
    route("ANY", "/{proxy+}", "catch-all"),
    route("POST", "/orders", "orders"),
]


@pytest.mark.parametrize(
    ("method", "path", "function", "parameters"),
    [
        ("GET", "/pets/dog/1", "exact", {}),
        ("GET", "/pets/dog/2", "parameter", {"id": "2"}),
        ("GET", "/pets/cat/1", "greedy", {"proxy": "cat/1"}),
        # Same path, no route for the method: ANY on the same path ...
        ("DELETE", "/pets/dog/1", "any-parameter", {"id": "1"}),
        # ... else the less specific route that has the method (a REST API would answer 403).
        ("POST", "/pets/cat", "catch-all", {"proxy": "pets/cat"}),
        ("GET", "/orders", "catch-all", {"proxy": "orders"}),
        ("POST", "/orders", "orders", {}),
        ("GET", "/", None, None),  # {proxy+} needs a segment: the API's 404
    ],
)
def test_an_http_api_picks_the_most_specific_route_for_the_method(
    method, path, function, parameters
):
    found = match_http_route(method, path, ROUTES)
    if function is None:
        assert found is None
    else:
        assert found is not None
        assert (found.route.function, found.path_parameters) == (function, parameters)


def test_there_is_no_stage_in_the_path():
    assert match_http_route("POST", "/dev/orders", [route("POST", "/orders")]) is None


# --- the event ------------------------------------------------------------------------------

# What AWS's sample (a POST to /my/path) stands for, sent to a route taking its path parameter.
DOCUMENTED_REQUEST = ReceivedRequest(
    method="POST",
    target="/my/value1?parameter1=value1&parameter1=value2&parameter2=value",
    headers=[
        ("Host", "127.0.0.1:8080"),
        ("User-Agent", "agent"),
        ("header1", "value1"),
        ("Header2", "value1"),
        ("header2", "value2"),
        ("Cookie", "cookie1; cookie2"),
    ],
    body=b"Hello from Lambda",
    client_ip="192.0.2.1",
    server_port=8080,
)
# What the sample holds that the stack never has: mutual TLS, stage variables.
NOT_EMULATED = (("requestContext", "authentication"), ("stageVariables",))


@pytest.fixture(scope="module")
def issuer(tmp_path_factory) -> LocalIssuer:
    return LocalIssuer(signing_key(tmp_path_factory.mktemp("issuer") / "key.json"), ISSUER_URL)


def documented_event(issuer: LocalIssuer) -> dict[str, Any]:
    """The local event for AWS's sample request, through a JWT authorizer as in the sample."""
    matched = match_http_route("POST", "/my/value1", [route("POST", "/my/{parameter1}")])
    assert matched is not None
    event = http_api_event(
        DOCUMENTED_REQUEST, route=matched.route, path_parameters=matched.path_parameters
    )
    token = issuer.token({"sub": "alice", "scope": "scope1 scope2"}, audience="api", now=NOW)
    event["headers"]["authorization"] = f"Bearer {token}"
    door = AccessControl(issuer, AuthorizerFunction(None), Clock(), REGION, ACCOUNT)
    access = RouteAccess(TokenAuthorizer("partners", "jwt", ("api",)))
    assert door.authorize(access, event) is None
    return event


def without(event: dict[str, Any], paths: tuple[tuple[str, ...], ...]) -> dict[str, Any]:
    kept = copy.deepcopy(event)
    for *parents, key in paths:
        holder = kept
        for parent in parents:
            holder = holder[parent]
        del holder[key]
    return kept


def test_the_event_has_every_key_of_awss_documented_payload_2_0_sample(issuer):
    documented = without(sample("apigw-http-v2-aws-docs"), NOT_EMULATED)
    event = documented_event(issuer)
    # Headers and claims hold more here (the host, the forwarding headers, the token's claims):
    # their own checks below.
    compared = copy.deepcopy(event)
    compared["headers"] = {name: event["headers"][name] for name in documented["headers"]}
    claims = compared["requestContext"]["authorizer"]["jwt"]["claims"]
    assert all(isinstance(value, str) for value in claims.values())
    compared["requestContext"]["authorizer"]["jwt"]["claims"] = {
        name: "text" for name in documented["requestContext"]["authorizer"]["jwt"]["claims"]
    }
    assert shape(compared) == shape(documented)


@pytest.mark.parametrize(
    "key_path",
    [
        ("version",),
        ("rawQueryString",),
        ("cookies",),
        ("headers", "header1"),
        ("headers", "header2"),
        ("queryStringParameters",),
        ("pathParameters",),
        ("body",),
        ("isBase64Encoded",),
        ("requestContext", "accountId"),
        ("requestContext", "stage"),
        ("requestContext", "http", "method"),
        ("requestContext", "http", "protocol"),
        ("requestContext", "http", "sourceIp"),
        ("requestContext", "http", "userAgent"),
        ("requestContext", "authorizer", "jwt", "scopes"),
    ],
    ids=lambda path: ".".join(path),
)
def test_the_event_holds_what_aws_sample_holds_for_the_same_request(issuer, key_path):
    event, documented = documented_event(issuer), sample("apigw-http-v2-aws-docs")
    for key in key_path:
        event, documented = event[key], documented[key]
    assert event == documented


def test_the_route_key_path_and_context_name_the_route_and_the_request(issuer):
    event = documented_event(issuer)
    context = event["requestContext"]
    assert (event["routeKey"], context["routeKey"]) == ("POST /my/{parameter1}",) * 2
    assert (event["rawPath"], context["http"]["path"]) == ("/my/value1",) * 2
    assert "cookie" not in event["headers"]
    assert event["headers"]["x-forwarded-for"] == "192.0.2.1"
    assert context["authorizer"]["jwt"]["claims"]["sub"] == "alice"
    # The same moment twice: as text in seconds, and in epoch milliseconds.
    at = datetime.strptime(context["time"], "%d/%b/%Y:%H:%M:%S %z")
    assert int(at.timestamp()) == context["timeEpoch"] // 1000


def test_a_bare_get_leaves_out_what_it_does_not_have_as_aws_does():
    event = http_api_event(
        ReceivedRequest(
            method="GET",
            target="/hello",
            headers=[("Host", "127.0.0.1:8080"), ("User-Agent", "curl/8.5.0")],
            body=b"",
            client_ip="127.0.0.1",
            server_port=8080,
        ),
        route=route("GET", "/hello"),
    )
    # AWS's GET sample (tests/events/apigw-http-v2-get.json) has no cookies, path parameters
    # or body; its query is what this request lacks.
    documented = without(sample("apigw-http-v2-get"), (("queryStringParameters",),))
    assert set(event) == set(documented)
    assert (event["rawQueryString"], event["isBase64Encoded"]) == ("", False)


@pytest.mark.parametrize(
    ("target", "raw_path", "query"),
    [
        ("/escape/Ada%20Lovelace", "/escape/Ada Lovelace", None),
        ("/escape/x?name=%3Cb%3E&name=Ada+L", "/escape/x", {"name": "<b>,Ada L"}),
        ("/escape/x?flag", "/escape/x", {"flag": ""}),
    ],
    ids=["path-decoded", "query-decoded-and-joined", "key-without-value"],
)
def test_the_path_and_query_values_arrive_decoded_the_raw_query_as_sent(target, raw_path, query):
    event = http_api_event(
        ReceivedRequest(
            method="GET",
            target=target,
            headers=[],
            body=b"",
            client_ip="127.0.0.1",
            server_port=8080,
        ),
        route=route("GET", "/escape/{name}"),
    )
    assert (event["rawPath"], event.get("queryStringParameters")) == (raw_path, query)
    assert event["rawQueryString"] == target.partition("?")[2]


def test_a_body_that_is_not_utf8_arrives_in_base64():
    event = http_api_event(
        ReceivedRequest(
            method="POST",
            target="/upload",
            headers=[],
            body=b"\xff\x00",
            client_ip="127.0.0.1",
            server_port=8080,
        ),
        route=route("POST", "/upload"),
    )
    assert (event["body"], event["isBase64Encoded"]) == ("/wA=", True)


# --- the answer -----------------------------------------------------------------------------

JSON_TYPE = {"Content-Type": "application/json"}


@pytest.mark.parametrize(
    ("response", "answer"),
    [
        (
            {"statusCode": 201, "headers": {"X-A": "1"}, "body": "made"},
            (201, {"X-A": "1"}, b"made"),
        ),
        (
            {"statusCode": 200, "cookies": ["a=1; Secure", "b=2"], "body": ""},
            (200, {"Set-Cookie": ["a=1; Secure", "b=2"]}, b""),
        ),
        (
            {
                "statusCode": 200,
                "body": base64.b64encode(b"\xff").decode(),
                "isBase64Encoded": True,
            },
            (200, {}, b"\xff"),
        ),
        # Anything else is the body of a 200 JSON answer (AWS: "Hello from Lambda!" as it is).
        ("Hello from Lambda!", (200, JSON_TYPE, b"Hello from Lambda!")),
        ({"message": "hi"}, (200, JSON_TYPE, b'{"message": "hi"}')),
        ([1, 2], (200, JSON_TYPE, b"[1, 2]")),
        (None, (200, JSON_TYPE, b"null")),
    ],
    ids=["response", "cookies", "base64", "string", "object-without-status", "list", "null"],
)
def test_the_functions_answer_is_read_as_payload_2_0(response, answer):
    assert http_api_response(response) == answer


@pytest.mark.parametrize(
    "response",
    [
        {"statusCode": "200"},
        {"statusCode": True},
        {"statusCode": 99},
        {"statusCode": 200, "headers": {"X-A": 1}},
        {"statusCode": 200, "cookies": "a=1"},
        {"statusCode": 200, "body": {"not": "text"}},
    ],
    ids=["status-text", "status-bool", "status-range", "header-number", "cookies-text", "body"],
)
def test_a_malformed_response_is_refused(response):
    with pytest.raises(ValueError):
        http_api_response(response)


# --- the API's own CORS ---------------------------------------------------------------------

APP = "https://app.example.com"
CORS = CorsConfig(allow_origins=[APP], expose_headers=["x-request-id"])


@pytest.mark.parametrize(
    ("cors", "origin", "expected"),
    [
        (
            CORS,
            APP,
            {
                "Content-Type": "text/plain",
                "Vary": "Origin",
                "Access-Control-Allow-Origin": APP,
                "Access-Control-Expose-Headers": "x-request-id",
            },
        ),
        (CORS, "https://evil.example.com", {"Content-Type": "text/plain", "Vary": "Origin"}),
        (
            None,
            APP,
            {
                "Content-Type": "text/plain",
                "access-control-allow-origin": "*",
                "Access-Control-Max-Age": "5",
            },
        ),
    ],
    ids=["allowed-origin", "other-origin", "no-cors-configured"],
)
def test_an_http_apis_cors_replaces_the_functions_cors_headers(cors, origin, expected):
    written = {
        "Content-Type": "text/plain",
        "access-control-allow-origin": "*",
        "Access-Control-Max-Age": "5",
    }
    assert ApiGuard(cors=cors).http_api_headers({"Origin": origin}, written) == expected


# --- a Lambda authorizer, payload 2.0 -------------------------------------------------------

GATE = LambdaAuthorizer("gate", "gate", (IdentitySource.parse("header.X-Api-Key"),), 300)


def gated_event(key: str) -> dict[str, Any]:
    return http_api_event(
        ReceivedRequest(
            method="GET",
            target="/orders/42?view=full",
            headers=[("X-Api-Key", key)],
            body=b"",
            client_ip="127.0.0.1",
            server_port=8080,
        ),
        route=route("GET", "/orders/{id}"),
        path_parameters={"id": "42"},
    )


def test_a_lambda_authorizer_gets_the_2_0_request_event_of_awss_documentation(issuer):
    function = AuthorizerFunction({"isAuthorized": True})
    AccessControl(issuer, function, Clock(), REGION, ACCOUNT).authorize(
        RouteAccess(GATE), gated_event("k1")
    )
    (sent,) = function.events
    assert (sent["version"], sent["type"], sent["identitySource"]) == ("2.0", "REQUEST", ["k1"])
    assert (
        sent["routeArn"] == f"arn:aws:execute-api:{REGION}:{ACCOUNT}:local/$default/GET/orders/42"
    )
    assert (sent["routeKey"], sent["pathParameters"]) == ("GET /orders/{id}", {"id": "42"})
    assert sent["queryStringParameters"] == {"view": "full"}


def test_a_simple_response_is_cached_per_identity_for_its_ttl(issuer):
    function, clock = AuthorizerFunction({"isAuthorized": True, "context": {"n": 1}}), Clock()
    door = AccessControl(issuer, function, clock, REGION, ACCOUNT)
    for key, seconds_later in [("k1", 0), ("k1", 299), ("k2", 299), ("k1", 300)]:
        clock.now = NOW + seconds_later
        event = gated_event(key)
        assert door.authorize(RouteAccess(GATE), event) is None
        assert event["requestContext"]["authorizer"] == {"lambda": {"n": 1}}
    assert [event["identitySource"] for event in function.events] == [["k1"], ["k2"], ["k1"]]


@pytest.mark.parametrize(
    ("answer", "status", "body"),
    [
        ({"isAuthorized": False}, 403, {"message": "Forbidden"}),
        ({"principalId": "x", "policyDocument": {}}, 500, {"message": "Internal Server Error"}),
    ],
    ids=["not-authorized", "iam-policy-not-simple"],
)
def test_a_simple_response_that_does_not_authorize_is_refused(issuer, answer, status, body):
    door = AccessControl(issuer, AuthorizerFunction(answer), Clock(), REGION, ACCOUNT)
    refusal = door.authorize(RouteAccess(GATE), gated_event("k1"))
    assert refusal is not None
    assert (refusal.status, refusal.body) == (status, body)
