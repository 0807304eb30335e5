"""`[api] type = "http"` with the front door's keys: what an HTTP API takes that a REST API
does not (jwt authorizers), and its own quotas (authorizers per API, audiences per
authorizer, scopes per route), each one line on its key path."""

from __future__ import annotations

from typing import Any

import pytest

from tests.test_config_rules import assert_one_problem, dev_with, loaded

JWT = {"type": "jwt", "issuer": "https://issuer.example.com", "audiences": ["api"]}


def on_http_api(changes: dict[str, Any], **route: Any) -> dict[str, Any]:
    """dev.toml on an HTTP API (without the REST-only logging_level) with `changes` and, given
    `route` keys, one more route `GET /partner`."""
    data = dev_with({"api.type": "http", **changes})
    del data["api"]["logging_level"]
    if route:
        data["routes"].append({"method": "GET", "path": "/partner", "function": "hello", **route})
    return data


BAD = {
    "51 audiences": (
        on_http_api({"authorizers.partner": {**JWT, "audiences": [f"a{n}" for n in range(51)]}}),
        "authorizers.partner.audiences",
        "at most 50 items",
    ),
    "11 scopes on a route": (
        on_http_api(
            {"authorizers.partner": JWT},
            authorization="partner",
            scopes=[f"s/{n}" for n in range(11)],
        ),
        "routes[5].scopes",
        "an HTTP API route takes at most 10 scopes",
    ),
    "11 authorizers": (
        # dev declares one (users): ten more.
        on_http_api({f"authorizers.p{n}": JWT for n in range(10)}),
        "authorizers",
        "an HTTP API takes at most 10 authorizers",
    ),
}


@pytest.mark.parametrize(("data", "key", "message"), BAD.values(), ids=list(BAD))
def test_what_an_http_api_refuses_is_one_line_on_its_key(tmp_path, data, key, message):
    assert_one_problem(tmp_path, data, key, message)


GOOD = {
    "a jwt authorizer with 50 audiences and a route with 10 scopes": on_http_api(
        {"authorizers.partner": {**JWT, "audiences": [f"a{n}" for n in range(50)]}},
        authorization="partner",
        scopes=[f"s/{n}" for n in range(10)],
    ),
    "10 authorizers": on_http_api({f"authorizers.p{n}": JWT for n in range(9)}),
}


@pytest.mark.parametrize("data", GOOD.values(), ids=list(GOOD))
def test_what_an_http_api_takes_passes(tmp_path, data):
    config = loaded(tmp_path, data)
    assert config.api.type == "http"
