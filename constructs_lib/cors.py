"""CORS: what an API or a function URL answers a browser on another origin, and the limits AWS
puts on it. Standard library only: the configuration checks, the constructs, `make serve` and
the functions' own answers (`lambda/cors.py` reads `CorsPolicy.as_json`) share it."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

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
    """One CORS policy. `allow_methods` None: a preflight allows the methods of its path's
    routes."""

    allow_origins: tuple[str, ...]
    allow_methods: tuple[str, ...] | None = None
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

    def vary_headers(self) -> dict[str, str]:
        """What caches must know: an answer naming one origin differs by origin."""
        return {} if self.any_origin else {"Vary": "Origin"}

    def grant_headers(self) -> dict[str, str]:
        """What an answer to an allowed origin carries besides the origin itself."""
        headers = {}
        if self.allow_credentials:
            headers["Access-Control-Allow-Credentials"] = "true"
        if self.expose_headers:
            headers["Access-Control-Expose-Headers"] = ",".join(self.expose_headers)
        return headers

    def preflight_only_headers(self, route_methods: Sequence[str]) -> dict[str, str]:
        """What a preflight's answer carries beyond `grant_headers`, on a path served by
        `route_methods`."""
        headers = {"Access-Control-Allow-Methods": ",".join(self.preflight_methods(route_methods))}
        if self.allow_headers:
            headers["Access-Control-Allow-Headers"] = ",".join(self.allow_headers)
        if self.max_age_s is not None:
            headers["Access-Control-Max-Age"] = str(self.max_age_s)
        return headers

    def preflight_methods(self, route_methods: Sequence[str]) -> tuple[str, ...]:
        """What a preflight of a path served by `route_methods` allows."""
        return self.allow_methods or methods_of(route_methods)

    def response_headers(self, origin: str | None) -> dict[str, str]:
        """The headers of an actual (not preflight) answer to a request from `origin`."""
        allowed = self.allowed_origin(origin)
        if allowed is None:
            return self.vary_headers()
        return {
            **self.vary_headers(),
            "Access-Control-Allow-Origin": allowed,
            **self.grant_headers(),
        }

    def preflight_headers(self, origin: str | None, route_methods: Sequence[str]) -> dict[str, str]:
        """The headers of the answer to a preflight (OPTIONS) from `origin` on a path served by
        `route_methods`."""
        headers = self.response_headers(origin)
        if "Access-Control-Allow-Origin" in headers:
            headers.update(self.preflight_only_headers(route_methods))
        return headers

    def as_json(self) -> str:
        """What a function needs of the policy for its own answers (`response_headers`), for
        its `CORS_POLICY` variable, compact."""
        return json.dumps(
            {
                "allow_origins": list(self.allow_origins),
                "expose_headers": list(self.expose_headers),
                "allow_credentials": self.allow_credentials,
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> CorsPolicy:
        """The policy `as_json` wrote (in a function, from its `CORS_POLICY` variable)."""
        values = json.loads(text)
        return cls(
            allow_origins=tuple(values["allow_origins"]),
            expose_headers=tuple(values["expose_headers"]),
            allow_credentials=values["allow_credentials"],
        )


def methods_of(route_methods: Sequence[str]) -> tuple[str, ...]:
    """The methods a preflight allows for routes with `route_methods` (`ANY` is all of them)."""
    if "ANY" in route_methods:
        return CORS_METHODS
    return tuple(method for method in CORS_METHODS if method in route_methods)


def answer_headers(event: Mapping[str, Any], environ: Mapping[str, str]) -> dict[str, str]:
    """What a function adds to its answer to an API Gateway or function URL `event`: the
    headers of the policy in its `CORS_POLICY` variable for the request's `Origin` (REST proxy
    integrations add none themselves); nothing without the variable. The function's own
    module (`lambda/cors.py` links to this file)."""
    text = environ.get(CORS_POLICY_VARIABLE)
    if not text:
        return {}
    headers = event.get("headers") or {}
    origin = next((value for name, value in headers.items() if str(name).lower() == "origin"), None)
    return CorsPolicy.from_json(text).response_headers(origin)
