"""CORS for `make serve`, as the stack's REST API or HTTP API applies `[api.cors]`.

A preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) to a path some route
takes is answered by the gateway itself, never by a function, as the stack's MOCK `OPTIONS`
methods answer it: `200`, no body, the policy's headers for the request's origin
(`constructs_lib.cors`, which the stack uses too), the methods being the configured ones or,
by default, those of the path's routes. The gateway's own answers (403, 401, 502, ...) get the
policy's headers, as the stack's gateway responses do; a function's answer goes out as the
function wrote it: on a REST API the function adds the headers itself, from the policy in its
`CORS_POLICY` variable, which serve sets as the stack does.

An HTTP API answers every preflight itself (`204`, on any path: its one CORS configuration
allows the methods of all its routes) and, as AWS documents, ignores the CORS headers a function
returns and adds its own to every answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus

from constructs_lib.cors import CorsPolicy
from scripts.local_events import HeaderValue

# What the stack's MOCK OPTIONS method answers a preflight with.
PREFLIGHT_STATUS = HTTPStatus.OK
# What an HTTP API answers a preflight with.
HTTP_API_PREFLIGHT_STATUS = HTTPStatus.NO_CONTENT
CORS_HEADER_PREFIX = "access-control-"


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
    answer_headers: Mapping[str, HeaderValue],
) -> dict[str, HeaderValue]:
    """A gateway answer's headers with the policy's for the request's origin."""
    return {**answer_headers, **policy.response_headers(request_origin(request_headers))}


def without_cors(answer_headers: Mapping[str, HeaderValue]) -> dict[str, HeaderValue]:
    """A function's answer headers without its own CORS headers, which an HTTP API with CORS
    ignores."""
    return {
        name: value
        for name, value in answer_headers.items()
        if not name.lower().startswith(CORS_HEADER_PREFIX)
    }
