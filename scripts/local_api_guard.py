"""What `make serve` does at the API's door around a function: CORS (scripts/local_cors.py)
and each route's authorizer (scripts/local_authorizers.py), read from the environment file."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from constructs_lib.authorizers import BUILT_IN_AUTHORIZATIONS
from scripts.local_authorizers import (
    AccessControl,
    IdentitySource,
    LambdaAuthorizer,
    Refusal,
    RouteAccess,
    TokenAuthorizer,
)
from scripts.local_cors import is_preflight, request_origin, with_gateway_cors, without_cors
from scripts.local_events import HeaderValue
from serverless_app.config import RouteConfig, StackConfig
from serverless_app.config.access import AuthorizerConfig, CorsConfig, cors_policy


def route_key(route: RouteConfig) -> tuple[str, str]:
    return route.method, route.path


@dataclass
class ApiGuard:
    """The API's CORS configuration and each route's access, by (method, path); `control`
    runs the authorizers once the functions' sandboxes exist."""

    cors: CorsConfig | None = None
    access: Mapping[tuple[str, str], RouteAccess] = field(default_factory=dict)
    control: AccessControl | None = None

    def uses_tokens(self) -> bool:
        """Whether a route checks tokens: the local issuer is needed."""
        return any(isinstance(a.authorizer, TokenAuthorizer) for a in self.access.values())

    def answers_preflight(self, method: str, headers: Mapping[str, str]) -> bool:
        return self.cors is not None and is_preflight(method, headers)

    def preflight(self, headers: Mapping[str, str], route_methods: Sequence[str]) -> dict[str, str]:
        assert self.cors is not None, "answers_preflight said so"
        origin = request_origin(headers)
        return cors_policy(self.cors).preflight_headers(origin, route_methods)

    def gateway_headers(
        self, request_headers: Mapping[str, str], answer_headers: Mapping[str, HeaderValue]
    ) -> dict[str, HeaderValue]:
        if self.cors is None:
            return dict(answer_headers)
        return with_gateway_cors(cors_policy(self.cors), request_headers, answer_headers)

    def http_api_headers(
        self, request_headers: Mapping[str, str], answer_headers: Mapping[str, HeaderValue]
    ) -> dict[str, HeaderValue]:
        """A function's answer through an HTTP API: with CORS configured, the API's CORS headers
        in place of the function's."""
        if self.cors is None:
            return dict(answer_headers)
        return self.gateway_headers(request_headers, without_cors(answer_headers))

    def authorize(self, route: RouteConfig, event: dict[str, Any]) -> Refusal | None:
        access = self.access.get(route_key(route))
        if access is None:
            return None
        assert self.control is not None, "serve made the control before serving"
        return self.control.authorize(access, event)


def refusal_answer(refusal: Refusal) -> tuple[int, dict[str, str], bytes]:
    return (
        refusal.status,
        {"Content-Type": "application/json", **refusal.headers},
        json.dumps(refusal.body).encode(),
    )


def local_authorizer(key: str, authorizer: AuthorizerConfig) -> TokenAuthorizer | LambdaAuthorizer:
    """The authorizer as serve runs it: a token authorizer trusts the local issuer."""
    if authorizer.type == "lambda":
        assert authorizer.function is not None, "the configuration requires it"
        return LambdaAuthorizer(
            key,
            authorizer.function,
            tuple(IdentitySource.parse(source) for source in authorizer.identity_sources),
            authorizer.result_ttl_seconds,
        )
    return TokenAuthorizer(key, authorizer.type, tuple(authorizer.audiences or ()))


def api_guard(config: StackConfig) -> ApiGuard:
    """The file's CORS configuration and the routes that name an authorizer."""
    return ApiGuard(
        cors=config.api.cors,
        access={
            route_key(route): RouteAccess(
                local_authorizer(route.authorization, config.authorizers[route.authorization]),
                tuple(route.scopes),
            )
            for route in config.routes
            if route.authorization not in BUILT_IN_AUTHORIZATIONS
        },
    )
