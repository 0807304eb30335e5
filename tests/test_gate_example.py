"""functions/gate/app.py, the API key authorizer the apply cycle attaches to an HTTP API
(tests/config/http_api.toml) and to a REST API (prod's variant): each API kind gets the answer
it understands, and only the key whose hash the function holds gets through."""

import pytest

from tests.support import REPO_ROOT, load_function_module

SOURCE = REPO_ROOT / "functions" / "gate" / "app.py"
KEY = "example-api-key-for-tests"
# sha256(KEY), computed outside the code under test (`printf %s KEY | sha256sum`), as the
# configs write it.
KEY_SHA256 = "926985ca46ede7a17391c116f49ad63bbf0a551c8f6c520b89569a7cbe4ccda0"
METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/reports"
STAGE_METHODS = "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/*"


@pytest.fixture(scope="module")
def gate():
    return load_function_module(SOURCE, "gate_app")


@pytest.fixture(autouse=True)
def key_hash(monkeypatch):
    monkeypatch.setenv("API_KEY_SHA256", KEY_SHA256)


def http_event(headers: dict[str, str]) -> dict:
    """An HTTP API's payload 2.0 authorizer event: headers in lowercase."""
    return {"version": "2.0", "type": "REQUEST", "routeKey": "GET /reports", "headers": headers}


def rest_event(headers: dict[str, str]) -> dict:
    """A REST API's REQUEST authorizer event: headers as the client spelled them."""
    return {"type": "REQUEST", "methodArn": METHOD_ARN, "headers": headers}


@pytest.mark.parametrize(
    ("headers", "allowed"),
    [
        ({"x-api-key": KEY}, True),
        ({"x-api-key": KEY + "x"}, False),
        ({"x-api-key": ""}, False),
        ({"x-api-key": KEY_SHA256}, False),  # the hash itself is no key
        ({}, False),
    ],
)
def test_an_http_api_gets_a_simple_response(gate, headers, allowed):
    answer = gate.handler(http_event(headers), None)
    expected_context = {"caller": "api-key"} if allowed else {}
    assert answer == {"isAuthorized": allowed, "context": expected_context}


@pytest.mark.parametrize(
    ("headers", "effect", "principal"),
    [
        ({"X-Api-Key": KEY}, "Allow", "api-key"),
        ({"x-api-key": KEY}, "Allow", "api-key"),
        ({"X-API-KEY": "wrong"}, "Deny", "anonymous"),
    ],
)
def test_a_rest_api_gets_a_policy_for_every_method_of_the_stage(gate, headers, effect, principal):
    """The stage's every method: API Gateway caches the policy per key and applies it to the
    caller's next request on any route the authorizer guards."""
    answer = gate.handler(rest_event(headers), None)
    assert answer["principalId"] == principal
    assert answer["policyDocument"] == {
        "Version": "2012-10-17",
        "Statement": [
            {"Action": "execute-api:Invoke", "Effect": effect, "Resource": STAGE_METHODS}
        ],
    }


def test_an_uppercase_hash_in_the_environment_still_matches(gate, monkeypatch):
    monkeypatch.setenv("API_KEY_SHA256", KEY_SHA256.upper())
    assert gate.handler(http_event({"x-api-key": KEY}), None)["isAuthorized"] is True
