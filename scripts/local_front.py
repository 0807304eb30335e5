"""What `make serve` does at the API's door before and after a function: CORS
(scripts/local_cors.py) and each route's authorizer (scripts/local_authorizers.py), read from
the environment file."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from scripts.local_authorizers import AccessControl, Refusal, RouteAccess, TokenAuthorizer
from scripts.local_cors import CorsPolicy, is_preflight, preflight_headers, with_cors
from serverless_app.config import RouteConfig, StackConfig


def route_key(route: RouteConfig) -> tuple[str, str]:
    return route.method, route.path


@dataclass
class FrontDoor:
    """The API's CORS policy and each route's access, by (method, path)."""

    cors: CorsPolicy | None = None
    access: Mapping[tuple[str, str], RouteAccess] = field(default_factory=dict)
    control: AccessControl | None = None

    def uses_tokens(self) -> bool:
        """Whether a route checks tokens: the local issuer is needed."""
        return any(isinstance(a.authorizer, TokenAuthorizer) for a in self.access.values())

    def answers_preflight(self, method: str, headers: Mapping[str, str]) -> bool:
        return self.cors is not None and is_preflight(method, headers)

    def preflight(self, headers: Mapping[str, str]) -> dict[str, str]:
        assert self.cors is not None
        return preflight_headers(self.cors, headers)

    def answer_headers(
        self, request_headers: Mapping[str, str], answer_headers: Mapping[str, str]
    ) -> dict[str, str]:
        return with_cors(self.cors, request_headers, answer_headers)

    def authorize(self, route: RouteConfig, event: dict[str, Any]) -> Refusal | None:
        access = self.access.get(route_key(route))
        if access is None or access.authorizer is None:
            return None
        assert self.control is not None, "a route has an authorizer, so serve made the control"
        return self.control.authorize(access, event)


def refusal_answer(refusal: Refusal) -> tuple[int, dict[str, str], bytes]:
    return (
        refusal.status,
        {"Content-Type": "application/json", **refusal.headers},
        json.dumps(refusal.body).encode(),
    )


PREFLIGHT_STATUS = HTTPStatus.NO_CONTENT


def front_door(config: StackConfig) -> FrontDoor:
    """The file's CORS configuration and its routes' authorizers."""
    return FrontDoor()
