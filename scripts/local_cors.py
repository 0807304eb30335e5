"""CORS for `make serve`, as API Gateway applies an API's CORS configuration.

A preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) is answered by the
gateway itself, never by a function: `204` with the allowed origin, methods, headers and max
age when the origin, the method and every requested header are allowed, and `204` without any
CORS header when not (the browser then refuses the real request). Every other answer to a
request from an allowed origin gets `Access-Control-Allow-Origin` (and the credentials and
exposed headers), whether a function or the gateway itself (403, 401, 502, ...) wrote it; the
gateway's values replace a function's own, as an HTTP API's CORS configuration does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# `*` in a list allows any origin, method or header.
ANY = "*"


@dataclass(frozen=True)
class CorsPolicy:
    """An API's CORS configuration (`[api.cors]`)."""

    allow_origins: tuple[str, ...]
    allow_methods: tuple[str, ...]
    allow_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    allow_credentials: bool = False
    max_age_seconds: int | None = None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    return next((value for key, value in headers.items() if key.lower() == name.lower()), None)


def is_preflight(method: str, headers: Mapping[str, str]) -> bool:
    """A browser's preflight: OPTIONS with an origin and the method it asks about."""
    return (
        method == "OPTIONS"
        and _header(headers, "Origin") is not None
        and _header(headers, "Access-Control-Request-Method") is not None
    )


def _allowed_origin(policy: CorsPolicy, origin: str | None) -> str | None:
    """The `Access-Control-Allow-Origin` value for `origin`, or None when it is not allowed.
    With credentials the origin is echoed: browsers refuse `*` on a credentialed answer."""
    if origin is None:
        return None
    if ANY in policy.allow_origins and not policy.allow_credentials:
        return ANY
    return origin if origin in policy.allow_origins or ANY in policy.allow_origins else None


def _credentials(policy: CorsPolicy) -> dict[str, str]:
    return {"Access-Control-Allow-Credentials": "true"} if policy.allow_credentials else {}


def preflight_headers(policy: CorsPolicy, headers: Mapping[str, str]) -> dict[str, str]:
    """The answer's CORS headers: empty when the origin, the method or a requested header is
    not allowed."""
    origin = _allowed_origin(policy, _header(headers, "Origin"))
    method = (_header(headers, "Access-Control-Request-Method") or "").strip().upper()
    requested = [
        name.strip().lower()
        for name in (_header(headers, "Access-Control-Request-Headers") or "").split(",")
        if name.strip()
    ]
    allowed_headers = {name.lower() for name in policy.allow_headers}
    if (
        origin is None
        or not (method in policy.allow_methods or ANY in policy.allow_methods)
        or not (ANY in allowed_headers or allowed_headers.issuperset(requested))
    ):
        return {}
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Methods": ",".join(policy.allow_methods),
        **(
            {"Access-Control-Allow-Headers": ",".join(policy.allow_headers)}
            if policy.allow_headers
            else {}
        ),
        **(
            {"Access-Control-Max-Age": str(policy.max_age_seconds)}
            if policy.max_age_seconds is not None
            else {}
        ),
        **_credentials(policy),
    }


def response_headers(policy: CorsPolicy, request_headers: Mapping[str, str]) -> dict[str, str]:
    """The CORS headers of any other answer: empty unless the request's origin is allowed."""
    origin = _allowed_origin(policy, _header(request_headers, "Origin"))
    if origin is None:
        return {}
    return {
        "Access-Control-Allow-Origin": origin,
        **(
            {"Access-Control-Expose-Headers": ",".join(policy.expose_headers)}
            if policy.expose_headers
            else {}
        ),
        **_credentials(policy),
    }


def with_cors(
    policy: CorsPolicy | None,
    request_headers: Mapping[str, str],
    answer_headers: Mapping[str, str],
) -> dict[str, str]:
    """`answer_headers` with the gateway's CORS headers replacing any of the same name."""
    if policy is None:
        return dict(answer_headers)
    cors = response_headers(policy, request_headers)
    replaced = {name.lower() for name in cors}
    kept = {name: value for name, value in answer_headers.items() if name.lower() not in replaced}
    return {**kept, **cors}
