"""Authorizers: who may call a route besides IAM, and the limits AWS puts on them. Standard
library only: the configuration checks and the constructs share it."""

from __future__ import annotations

import re
from typing import Literal

# The built-in authorizations of a route; anything else names an authorizer.
AWS_IAM = "AWS_IAM"
NO_AUTHORIZATION = "NONE"
BUILT_IN_AUTHORIZATIONS = (NO_AUTHORIZATION, AWS_IAM)
AuthorizerType = Literal["cognito", "jwt", "lambda"]
# The authorizers whose tokens carry OAuth scopes a route may require.
SCOPED_AUTHORIZER_TYPES = ("cognito", "jwt")
# API Gateway (REST `authorizerResultTtlInSeconds`, HTTP API `AuthorizerResultTtlInSeconds`):
# 0-3600 s; 300 is both APIs' default.
AUTHORIZER_RESULT_TTL_MAX_S = 3600
AUTHORIZER_RESULT_TTL_DEFAULT_S = 300
# Where a Lambda authorizer finds what it decides on, in a spelling of no API kind:
# `header.<name>` or `query.<name>`; each API kind translates it (`identity_source`).
IDENTITY_SOURCE = re.compile(r"(header)\.([A-Za-z0-9_-]{1,256})|(query)\.([A-Za-z0-9._~-]{1,256})")
DEFAULT_IDENTITY_SOURCE = "header.Authorization"
# REST API and HTTP API selection expressions of the request's parts.
_REST_REQUEST_PARTS = {"header": "method.request.header", "query": "method.request.querystring"}
_HTTP_REQUEST_PARTS = {"header": "$request.header", "query": "$request.querystring"}


def _identity_source(source: str, parts: dict[str, str]) -> str:
    match = IDENTITY_SOURCE.fullmatch(source)
    if match is None:
        raise ValueError(f"not an identity source (header.<name> or query.<name>): {source!r}")
    part, name = (match[1], match[2]) if match[1] else (match[3], match[4])
    return f"{parts[part]}.{name}"


def rest_identity_source(source: str) -> str:
    """`header.Authorization` as a REST API names it: `method.request.header.Authorization`."""
    return _identity_source(source, _REST_REQUEST_PARTS)


def http_identity_source(source: str) -> str:
    """`header.Authorization` as an HTTP API names it: `$request.header.Authorization`."""
    return _identity_source(source, _HTTP_REQUEST_PARTS)
