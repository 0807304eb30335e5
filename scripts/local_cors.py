"""CORS for `make serve`, as the stack's REST API applies `[api.cors]`.

A preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) to a path some route
takes is answered by the gateway itself, never by a function, with the policy's headers for the
request's origin (`constructs_lib.cors`, which the stack uses too): the methods are the
configured ones or, by default, those of the path's routes. The gateway's own answers (403,
401, 502, ...) get the policy's headers, as the stack's gateway responses do; a function's
answer goes out as the function wrote it: on a REST API the function adds the headers itself,
from the policy in its `CORS_POLICY` variable, which serve sets as the stack does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from constructs_lib.cors import CORS_POLICY_VARIABLE, CorsPolicy, methods_of
from serverless_app.config.access import CorsConfig


def cors_policy(config: CorsConfig, route_methods: Sequence[str]) -> CorsPolicy:
    """The policy for a path whose routes have `route_methods`."""
    return CorsPolicy(
        allow_origins=tuple(config.allow_origins),
        allow_methods=tuple(config.allow_methods or methods_of(route_methods)),
        allow_headers=tuple(config.allow_headers),
        expose_headers=tuple(config.expose_headers),
        allow_credentials=config.allow_credentials,
        max_age_s=config.max_age_seconds,
    )


def cors_variables(config: CorsConfig | None) -> dict[str, str]:
    """What a routed function gets to answer CORS itself: `CORS_POLICY`, when there is one."""
    if config is None:
        return {}
    return {CORS_POLICY_VARIABLE: cors_policy(config, ()).as_json()}


def _header(headers: Mapping[str, str], name: str) -> str | None:
    return next((value for key, value in headers.items() if key.lower() == name.lower()), None)


def is_preflight(method: str, headers: Mapping[str, str]) -> bool:
    """A browser's preflight: OPTIONS with an origin and the method it asks about."""
    return (
        method == "OPTIONS"
        and _header(headers, "Origin") is not None
        and _header(headers, "Access-Control-Request-Method") is not None
    )


def request_origin(headers: Mapping[str, str]) -> str | None:
    return _header(headers, "Origin")


def with_gateway_cors(
    policy: CorsPolicy,
    request_headers: Mapping[str, str],
    answer_headers: Mapping[str, str],
) -> dict[str, str]:
    """A gateway answer's headers with the policy's for the request's origin."""
    return {**answer_headers, **policy.response_headers(request_origin(request_headers))}
