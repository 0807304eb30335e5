"""CORS: what an API or a function URL answers a browser on another origin, and the limits AWS
puts on it. Standard library only: the configuration checks, the constructs, `make serve` and
the functions' own answers (`lambda/cors.py` reads `CorsPolicy.as_json`) share it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

# HTTP API (`CorsConfiguration.MaxAge`) and Lambda function URLs (`Cors.MaxAge`): 0-86400 s.
CORS_MAX_AGE_MAX_S = 86_400
# Lambda function URLs (`Cors`): at most 100 origins, allowed and exposed headers each; an
# origin at most 253 characters, a header name at most 1,024.
CORS_MAX_ITEMS = 100
CORS_ORIGIN_MAX = 253
CORS_HEADER_MAX = 1024
# The methods a CORS policy may name (function URLs allow at most these six and `*`; OPTIONS
# is the preflight itself and never needs to be allowed).
CORS_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")
WILDCARD = "*"
# The variable holding the API's policy in every function a route reaches (JSON).
CORS_POLICY_VARIABLE = "CORS_POLICY"


@dataclass(frozen=True)
class CorsPolicy:
    """One CORS policy. `allow_methods` is what the preflight of one path answers."""

    allow_origins: tuple[str, ...]
    allow_methods: tuple[str, ...]
    allow_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    allow_credentials: bool = False
    max_age_s: int | None = None

    def __post_init__(self) -> None:
        if not self.allow_origins:
            raise ValueError("a CORS policy needs at least one origin")
        if self.allow_credentials and WILDCARD in self.allow_origins:
            raise ValueError("credentials cannot be allowed for every origin (*)")
        if self.max_age_s is not None and not 0 <= self.max_age_s <= CORS_MAX_AGE_MAX_S:
            raise ValueError(f"max age must be 0-{CORS_MAX_AGE_MAX_S} s, got {self.max_age_s}")

    @property
    def any_origin(self) -> bool:
        return WILDCARD in self.allow_origins

    def allowed_origin(self, origin: str | None) -> str | None:
        """What `Access-Control-Allow-Origin` says to a request from `origin`: `*`, the origin
        itself when the policy lists it, else nothing (the browser then hides the answer)."""
        if self.any_origin:
            return WILDCARD
        return origin if origin in self.allow_origins else None

    def response_headers(self, origin: str | None) -> dict[str, str]:
        """The headers of an actual (not preflight) answer to a request from `origin`."""
        allowed = self.allowed_origin(origin)
        headers = {} if self.any_origin else {"Vary": "Origin"}
        if allowed is None:
            return headers
        headers["Access-Control-Allow-Origin"] = allowed
        if self.allow_credentials:
            headers["Access-Control-Allow-Credentials"] = "true"
        if self.expose_headers:
            headers["Access-Control-Expose-Headers"] = ",".join(self.expose_headers)
        return headers

    def preflight_headers(self, origin: str | None) -> dict[str, str]:
        """The headers of the answer to a preflight (OPTIONS) from `origin`."""
        headers = self.response_headers(origin)
        if "Access-Control-Allow-Origin" not in headers:
            return headers
        headers["Access-Control-Allow-Methods"] = ",".join(self.allow_methods)
        if self.allow_headers:
            headers["Access-Control-Allow-Headers"] = ",".join(self.allow_headers)
        if self.max_age_s is not None:
            headers["Access-Control-Max-Age"] = str(self.max_age_s)
        return headers

    def as_json(self) -> str:
        """The policy for a function's environment (`CORS_POLICY`), compact."""
        return json.dumps(
            {
                "allow_origins": list(self.allow_origins),
                "allow_headers": list(self.allow_headers),
                "expose_headers": list(self.expose_headers),
                "allow_credentials": self.allow_credentials,
            },
            separators=(",", ":"),
        )


def methods_of(route_methods: Sequence[str]) -> tuple[str, ...]:
    """The methods a preflight allows for routes with `route_methods` (`ANY` is all of them)."""
    if "ANY" in route_methods:
        return CORS_METHODS
    return tuple(method for method in CORS_METHODS if method in route_methods)
