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


# Cognito API reference (CreateResourceServer, CreateUserPoolClient, CreateUserPoolDomain):
# a resource server's identifier and a scope's name are 1-256 characters of these (a scope's
# name without `/`, which joins the two in a token's `scope`); a description 1-256; a
# client's allowed scope `<identifier>/<name>` at most 256; 1-100 callback URLs of at most
# 1024, https (http only for localhost) and without a fragment; a domain prefix of lowercase
# letters, digits and hyphens. 100 custom scopes per resource server is Cognito's quota
# ("Quotas in Amazon Cognito", resource quotas).
RESOURCE_SERVER_IDENTIFIER = r"[\x21\x23-\x5B\x5D-\x7E]{1,256}"
SCOPE_NAME = r"[\x21\x23-\x2E\x30-\x5B\x5D-\x7E]{1,256}"
SCOPE_DESCRIPTION_MAX = 256
RESOURCE_SERVER_MAX_SCOPES = 100
OAUTH_SCOPE_MAX = 256
CALLBACK_URLS_MAX = 100
CALLBACK_URL = r"(?=.{1,1024}$)(?:https://[^\s/#]+|http://localhost(?::[0-9]{1,5})?)(?:/[^\s#]*)?"
DOMAIN_PREFIX = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
# Cognito refuses a prefix containing these words (developer guide, "Using the Amazon Cognito
# prefix domain").
DOMAIN_PREFIX_RESERVED = ("aws", "amazon", "cognito")
# What the hosted sign-in asks for besides the custom scopes: an ID token with the email
# address (the pool signs users in by email).
SIGN_IN_SCOPES = ("openid", "email")
# The scope of every access token Cognito issues through its own API (SRP sign-in).
USER_ADMIN_SCOPE = "aws.cognito.signin.user.admin"


def scope_name(identifier: str, name: str) -> str:
    """A resource server's scope as tokens carry it and routes require it."""
    return f"{identifier}/{name}"


def domain_prefix_problem(prefix: str) -> str | None:
    """Why Cognito would refuse `prefix` as the pool's domain, or None."""
    if re.fullmatch(DOMAIN_PREFIX, prefix) is None:
        return "1-63 lowercase letters, digits or hyphens, not starting or ending with one"
    reserved = [word for word in DOMAIN_PREFIX_RESERVED if word in prefix]
    if reserved:
        return f"Cognito refuses a domain prefix containing {reserved[0]!r}"
    return None
