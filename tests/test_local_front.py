"""make serve's door, piece by piece: CORS (scripts/local_cors.py), the local token issuer
(scripts/local_issuer.py) and the authorizers (scripts/local_authorizers.py), with an injected
clock. tests/test_serve_front.py runs them through the real server."""

from __future__ import annotations

import stat
from typing import Any

import pytest
from joserfc.jwk import RSAKey

from scripts.local_authorizers import (
    AccessControl,
    IdentitySource,
    LambdaAuthorizer,
    Refusal,
    RouteAccess,
    TokenAuthorizer,
)
from scripts.local_cors import is_preflight, with_gateway_cors
from scripts.local_events import ReceivedRequest, rest_proxy_event
from scripts.local_issuer import LocalIssuer, TokenRejected, main, signing_key, token_scopes
from scripts.sandbox import FunctionError
from serverless_app.config.access import CorsConfig, cors_policy

APP = "https://app.example.com"
CORS = CorsConfig(
    allow_origins=[APP],
    allow_headers=["authorization", "content-type"],
    expose_headers=["x-request-id"],
    allow_credentials=True,
    max_age_seconds=600,
)


@pytest.mark.parametrize(
    ("method", "headers", "expected"),
    [
        ("OPTIONS", {"origin": APP, "access-control-request-method": "POST"}, True),
        ("OPTIONS", {"Origin": APP}, False),
        ("OPTIONS", {"Access-Control-Request-Method": "POST"}, False),
        ("GET", {"Origin": APP, "Access-Control-Request-Method": "POST"}, False),
    ],
    ids=["preflight", "no-method-asked", "no-origin", "not-options"],
)
def test_a_preflight_is_an_options_request_with_an_origin_and_a_method(method, headers, expected):
    assert is_preflight(method, headers) is expected


@pytest.mark.parametrize(
    ("origin", "expected"),
    [
        (
            APP,
            {
                "Vary": "Origin",
                "Access-Control-Allow-Origin": APP,
                "Access-Control-Allow-Credentials": "true",
                "Access-Control-Expose-Headers": "x-request-id",
            },
        ),
        ("https://evil.example.com", {"Vary": "Origin"}),
    ],
    ids=["allowed-origin", "other-origin"],
)
def test_the_gateways_own_answers_get_the_policys_headers(origin, expected):
    answer = {"Content-Type": "application/json"}
    headers = with_gateway_cors(cors_policy(CORS), {"Origin": origin}, answer)
    assert headers == {"Content-Type": "application/json", **expected}


# --- the issuer ---------------------------------------------------------------------------

NOW = 1_800_000_000
ISSUER_URL = "http://127.0.0.1:8082"
AUDIENCE = "orders-api"


@pytest.fixture(scope="module")
def issuer(tmp_path_factory) -> LocalIssuer:
    return LocalIssuer(signing_key(tmp_path_factory.mktemp("issuer") / "key.json"), ISSUER_URL)


def test_a_token_verifies_with_its_claims_and_the_defaults(issuer):
    token = issuer.token({"sub": "alice", "scope": "orders/read"}, audience=AUDIENCE, now=NOW)
    claims = issuer.verify(token, [AUDIENCE], now=NOW + 10)
    assert {key: claims[key] for key in ("iss", "aud", "sub", "scope", "iat", "exp")} == {
        "iss": ISSUER_URL,
        "aud": AUDIENCE,
        "sub": "alice",
        "scope": "orders/read",
        "iat": NOW,
        "exp": NOW + 3600,
    }


def other_key_token(tmp_path) -> str:
    stranger = LocalIssuer(signing_key(tmp_path / "other.json"), ISSUER_URL)
    return stranger.token({"sub": "mallory"}, audience=AUDIENCE, now=NOW)


@pytest.mark.parametrize(
    ("claims", "at", "description"),
    [
        ({}, NOW + 3600, "the token has expired"),
        ({"exp": NOW + 5}, NOW + 5, "the token has expired"),
        ({"nbf": NOW + 60}, NOW, "the token's nbf is in the future"),
        ({"iat": NOW + 60}, NOW, "the token's iat is in the future"),
        ({"aud": "another-api"}, NOW, "the token does not have a valid audience"),
        ({"aud": ["a", "b"]}, NOW, "the token does not have a valid audience"),
        ({"client_id": "another-client"}, NOW, "the token does not have a valid audience"),
        (
            {"iss": "https://cognito-idp.example.com/pool"},
            NOW,
            "the token does not have a valid issuer",
        ),
        ({"exp": "tomorrow"}, NOW, "the token has no valid exp"),
    ],
    ids=[
        "expired",
        "at-exp",
        "nbf-future",
        "iat-future",
        "other-audience",
        "audience-list",
        "other-client-id",
        "other-issuer",
        "exp-not-a-number",
    ],
)
def test_a_token_is_rejected_as_api_gateway_rejects_it(issuer, claims, at, description):
    token = issuer.token(claims, audience=AUDIENCE, now=NOW)
    with pytest.raises(TokenRejected) as rejected:
        issuer.verify(token, [AUDIENCE], now=at)
    assert rejected.value.description == description


@pytest.mark.parametrize(
    "claims",
    [{"aud": ["other", AUDIENCE]}, {"client_id": AUDIENCE}, {"aud": AUDIENCE, "client_id": "x"}],
    ids=["one-of-a-list", "client-id-without-aud", "aud-over-client-id"],
)
def test_the_audience_is_aud_or_else_client_id(issuer, claims):
    token = issuer.token(claims, audience=None, now=NOW)
    assert issuer.verify(token, [AUDIENCE], now=NOW)["iss"] == ISSUER_URL


def test_a_token_of_another_key_or_no_token_at_all_is_not_valid(issuer, tmp_path):
    expected = f"the token is not a valid JWT signed by {ISSUER_URL}"
    for token in (other_key_token(tmp_path), "not-a-token", ""):
        with pytest.raises(TokenRejected, match=expected):
            issuer.verify(token, [AUDIENCE], now=NOW)


def test_the_signing_key_is_made_once_and_kept_private(tmp_path):
    path = tmp_path / "cache" / "signing-key.json"
    first, second = signing_key(path), signing_key(path)
    assert first.kid == second.kid
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert isinstance(first, RSAKey) and first.as_dict(private=False)["kty"] == "RSA"


def test_the_key_set_publishes_the_public_key_only(issuer):
    (published,) = issuer.key_set()["keys"]
    assert set(published) == {"kty", "n", "e", "kid", "use", "alg"}
    assert issuer.discovery()["jwks_uri"] == f"{ISSUER_URL}/.well-known/jwks.json"


@pytest.mark.parametrize(
    ("claims", "scopes"),
    [
        ({"scope": "orders/read orders/write"}, ["orders/read", "orders/write"]),
        ({"scp": ["a", "b"]}, ["a", "b"]),
        ({"scp": "a b"}, ["a", "b"]),
        ({}, []),
    ],
)
def test_scopes_come_from_scope_or_scp(claims, scopes):
    assert token_scopes(claims) == scopes


@pytest.mark.parametrize(
    ("claims", "problem"),
    [("{sub: alice}", "--claims: not JSON"), ('["sub"]', "--claims: must be a JSON object")],
)
def test_the_token_command_refuses_claims_that_are_not_an_object(tmp_path, capsys, claims, problem):
    key_file = str(tmp_path / "key.json")
    assert main(["--claims", claims, "--key-file", key_file]) == 2
    assert capsys.readouterr().err.startswith(problem)


def test_the_token_command_prints_a_token_the_issuer_verifies(tmp_path, capsys):
    key_file = tmp_path / "key.json"
    claims = '{"sub": "alice", "scope": "orders/write"}'
    arguments = ["--claims", claims, "--audience", AUDIENCE, "--key-file", str(key_file)]
    assert main([*arguments, "--issuer-port", "9999"], clock=lambda: NOW) == 0
    token = capsys.readouterr().out.strip()
    issuer = LocalIssuer(signing_key(key_file), "http://127.0.0.1:9999")
    assert issuer.verify(token, [AUDIENCE], now=NOW + 1)["sub"] == "alice"


# --- the authorizers ----------------------------------------------------------------------

REGION = "eu-west-1"
ACCOUNT = "123456789012"


class Clock:
    def __init__(self) -> None:
        self.now = float(NOW)

    def __call__(self) -> float:
        return self.now


class AuthorizerFunction:
    """Stands in for the authorizer's sandbox: records its events, answers what it is told."""

    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.events: list[dict[str, Any]] = []

    def __call__(self, key: str, event: dict[str, Any]) -> Any:
        self.events.append(event)
        if isinstance(self.answer, FunctionError):
            raise self.answer
        return self.answer


def rest_event(path: str = "/orders/42", **headers: str) -> dict[str, Any]:
    return rest_proxy_event(
        ReceivedRequest(
            method="GET",
            target=f"/dev{path}?view=full",
            headers=list(headers.items()),
            body=b"",
            client_ip="127.0.0.1",
            server_port=8080,
        ),
        stage="dev",
        resource="/orders/{id}",
        path_parameters={"id": "42"},
    )


def http_event(**headers: str) -> dict[str, Any]:
    """The parts of a payload 2.0 event the authorizers read."""
    return {
        "version": "2.0",
        "routeKey": "GET /orders/{id}",
        "rawPath": "/orders/42",
        "rawQueryString": "",
        "headers": {name.lower(): value for name, value in headers.items()},
        "requestContext": {
            "apiId": "local",
            "stage": "$default",
            "http": {"method": "GET", "path": "/orders/42"},
        },
    }


def allow(resource: str, effect: str = "Allow", **context: Any) -> dict[str, Any]:
    return {
        "principalId": "alice",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}],
        },
        "context": context,
    }


ARN = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:local/dev/GET/orders/42"
API_KEY = IdentitySource.parse("header.X-Api-Key")
BY_KEY = LambdaAuthorizer("gate", "gate", (API_KEY,), result_ttl_seconds=300)


def control(issuer: LocalIssuer, function: AuthorizerFunction, clock: Clock) -> AccessControl:
    return AccessControl(issuer, function, clock, REGION, ACCOUNT)


@pytest.mark.parametrize(
    ("answer", "status", "body"),
    [
        (allow("arn:aws:execute-api:*:*:local/dev/GET/*"), None, None),
        (
            allow(ARN, "Deny"),
            403,
            {"Message": "User is not authorized to access this resource with an explicit deny"},
        ),
        (
            allow(ARN.replace("GET", "POST")),
            403,
            {"Message": "User is not authorized to access this resource"},
        ),
        (
            FunctionError({"errorType": "Exception", "errorMessage": "Unauthorized"}),
            401,
            {"message": "Unauthorized"},
        ),
        (FunctionError({"errorType": "KeyError", "errorMessage": "'x'"}), 500, {"message": None}),
        ({"principalId": "alice"}, 500, {"message": None}),
        (allow(ARN, nested={"not": "flat"}), 500, {"message": None}),
    ],
    ids=[
        "allow",
        "deny",
        "allow-other-arn",
        "unauthorized",
        "fails",
        "no-policy",
        "nested-context",
    ],
)
def test_a_rest_lambda_authorizers_answer_decides(issuer, answer, status, body):
    function = AuthorizerFunction(answer)
    event = rest_event(**{"X-Api-Key": "k1"})
    refusal = control(issuer, function, Clock()).authorize(RouteAccess(BY_KEY), event)
    assert (refusal.status, refusal.body) == (status, body) if refusal else status is None
    (sent,) = function.events
    assert (sent["type"], sent["methodArn"], sent["headers"]["X-Api-Key"]) == ("REQUEST", ARN, "k1")


def test_an_allowing_rest_authorizer_passes_its_context_and_principal(issuer):
    function = AuthorizerFunction(allow(ARN, tenant="t-7", tier=2))
    event = rest_event(**{"X-Api-Key": "k1"})
    assert control(issuer, function, Clock()).authorize(RouteAccess(BY_KEY), event) is None
    assert event["requestContext"]["authorizer"] == {
        "principalId": "alice",
        "integrationLatency": 0,
        "tenant": "t-7",
        "tier": 2,
    }


@pytest.mark.parametrize(
    ("answer", "status", "authorizer"),
    [
        ({"isAuthorized": True, "context": {"tenant": "t-7"}}, None, {"lambda": {"tenant": "t-7"}}),
        ({"isAuthorized": False}, 403, None),
        ({"allowed": True}, 500, None),
    ],
    ids=["authorized", "not-authorized", "not-a-simple-response"],
)
def test_an_http_api_lambda_authorizers_simple_response_decides(issuer, answer, status, authorizer):
    source = IdentitySource.parse("header.X-Api-Key")
    access = RouteAccess(LambdaAuthorizer("gate", "gate", (source,), 0))
    function = AuthorizerFunction(answer)
    event = http_event(**{"X-Api-Key": "k1"})
    refusal = control(issuer, function, Clock()).authorize(access, event)
    assert (refusal.status if refusal else None) == status
    assert event["requestContext"].get("authorizer") == authorizer
    (sent,) = function.events
    assert (sent["type"], sent["identitySource"], sent["version"]) == ("REQUEST", ["k1"], "2.0")


def test_a_missing_identity_source_is_401_without_calling_the_authorizer(issuer):
    function = AuthorizerFunction(allow(ARN))
    refusal = control(issuer, function, Clock()).authorize(RouteAccess(BY_KEY), rest_event())
    assert refusal == Refusal(401, {"message": "Unauthorized"})
    assert function.events == []


def test_an_answer_is_cached_per_identity_for_its_ttl(issuer):
    function, clock = AuthorizerFunction(allow(ARN)), Clock()
    door = control(issuer, function, clock)
    for key, seconds_later in [("k1", 0), ("k1", 299), ("k2", 299), ("k1", 300)]:
        clock.now = NOW + seconds_later
        assert door.authorize(RouteAccess(BY_KEY), rest_event(**{"X-Api-Key": key})) is None
    assert [event["headers"]["X-Api-Key"] for event in function.events] == ["k1", "k2", "k1"]


def test_a_cached_rest_policy_is_checked_against_each_requests_arn(issuer):
    function = AuthorizerFunction(allow(ARN))
    door = control(issuer, function, Clock())
    assert door.authorize(RouteAccess(BY_KEY), rest_event(**{"X-Api-Key": "k1"})) is None
    other = rest_event("/orders/43", **{"X-Api-Key": "k1"})
    refusal = door.authorize(RouteAccess(BY_KEY), other)
    assert refusal is not None and refusal.status == 403
    assert len(function.events) == 1


ORDERS_JWT = TokenAuthorizer("users", "jwt", (AUDIENCE,))
ORDERS_POOL = TokenAuthorizer("users", "cognito")


@pytest.mark.parametrize(
    ("authorization", "scopes", "status", "challenge"),
    [
        ("Bearer {token}", ("orders/read",), None, None),
        ("{token}", (), None, None),
        ("Bearer {token}", ("orders/write", "orders/read"), None, None),
        ("Bearer {token}", ("orders/write",), 403, 'error="insufficient_scope"'),
        ("Bearer {expired}", (), 401, 'error_description="the token has expired"'),
        (
            "Bearer {stranger}",
            (),
            401,
            'error_description="the token does not have a valid audience"',
        ),
        ("Bearer garbage", (), 401, 'error="invalid_token"'),
        (None, (), 401, None),
    ],
    ids=[
        "bearer",
        "bare",
        "one-of-the-scopes",
        "missing-scope",
        "expired",
        "other-audience",
        "garbage",
        "none",
    ],
)
def test_an_http_api_jwt_route_takes_a_valid_token_with_one_of_its_scopes(
    issuer, authorization, scopes, status, challenge
):
    tokens = {
        "token": issuer.token({"sub": "alice", "scope": "orders/read"}, audience=AUDIENCE, now=NOW),
        "expired": issuer.token({}, audience=AUDIENCE, now=NOW - 7200),
        "stranger": issuer.token({}, audience="another-api", now=NOW),
    }
    headers = {"Authorization": authorization.format(**tokens)} if authorization else {}
    event = http_event(**headers)
    door = control(issuer, AuthorizerFunction(None), Clock())
    refusal = door.authorize(RouteAccess(ORDERS_JWT, scopes), event)
    assert (refusal.status if refusal else None) == status
    if challenge is not None:
        assert refusal is not None and challenge in refusal.headers["www-authenticate"]
    if status is None:
        assert event["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] == "alice"


@pytest.mark.parametrize(
    ("claims", "scopes", "allowed"),
    [
        ({"sub": "alice"}, (), True),
        ({"token_use": "access"}, (), False),
        ({"scope": "orders/write"}, ("orders/write",), True),
        ({"sub": "alice"}, ("orders/write",), False),
        ({"scope": "orders/read"}, ("orders/write",), False),
        ({"sub": "alice", "aud": "any-client-of-the-pool"}, (), True),
    ],
    ids=[
        "id-token",
        "access-token-without-scopes",
        "access-token-with-the-scope",
        "id-token-on-a-scoped-route",
        "access-token-without-the-scope",
        "any-app-client",
    ],
)
def test_a_rest_cognito_route_takes_an_id_token_or_an_access_token_with_its_scope(
    issuer, claims, scopes, allowed
):
    token = issuer.token(claims, audience=None, now=NOW)
    event = rest_event(Authorization=f"Bearer {token}")
    refusal = control(issuer, AuthorizerFunction(None), Clock()).authorize(
        RouteAccess(ORDERS_POOL, scopes), event
    )
    assert refusal == (None if allowed else Refusal(401, {"message": "Unauthorized"}))


def test_verified_claims_go_where_each_api_kind_puts_them_as_text(issuer):
    claims = {"sub": "alice", "scope": "a b", "groups": ["x", "y"], "n": 42, "aud": AUDIENCE}
    token = issuer.token(claims, audience=None, now=NOW)
    door = control(issuer, AuthorizerFunction(None), Clock())
    rest, http = rest_event(Authorization=token), http_event(Authorization=token)
    assert door.authorize(RouteAccess(ORDERS_POOL, ("a",)), rest) is None
    assert door.authorize(RouteAccess(ORDERS_JWT), http) is None
    expected = {"sub": "alice", "scope": "a b", "groups": "[x y]", "n": "42", "aud": AUDIENCE}
    rest_claims = rest["requestContext"]["authorizer"]["claims"]
    assert {name: rest_claims[name] for name in expected} == expected
    assert rest_claims["exp"] == str(NOW + 3600)
    jwt = http["requestContext"]["authorizer"]["jwt"]
    assert {name: jwt["claims"][name] for name in expected} == expected
    assert jwt["scopes"] == ["a", "b"]


@pytest.mark.parametrize(
    ("claims", "token_use"),
    [({"scope": "orders/read"}, "access"), ({"sub": "alice"}, "id"), ({"token_use": "x"}, "x")],
)
def test_a_token_is_cognitos_access_token_when_it_has_scopes_else_its_id_token(
    issuer, claims, token_use
):
    token = issuer.token(claims, audience=AUDIENCE, now=NOW)
    assert issuer.verify(token, [AUDIENCE], now=NOW)["token_use"] == token_use


def test_a_query_string_identity_source_keys_the_cache_too(issuer):
    by_query = LambdaAuthorizer("gate", "gate", (IdentitySource.parse("query.view"),), 300)
    function = AuthorizerFunction(allow(ARN))
    door = control(issuer, function, Clock())
    assert door.authorize(RouteAccess(by_query), rest_event()) is None
    assert door.authorize(RouteAccess(by_query), rest_event()) is None
    assert [event["queryStringParameters"] for event in function.events] == [{"view": "full"}]
