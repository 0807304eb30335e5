"""A Lambda authorizer (`[authorizers.<key>] type = "lambda"`): lets a request through when its
`X-Api-Key` header is the key whose SHA-256 (hex) is the function's `API_KEY_SHA256`.

The function holds only the key's hash, never the key. It answers either API kind, telling them
apart by the event:

- HTTP API (payload format 2.0, `event["version"] == "2.0"`): a simple response,
  `{"isAuthorized": bool, "context": {...}}`; headers arrive in lowercase.
- REST API (REQUEST authorizer): an IAM policy allowing or denying `execute-api:Invoke`. The
  policy names every method of the stage, not only the one asked for: API Gateway caches it per
  identity-source value (`result_ttl_seconds`) and applies the cached policy to the caller's
  next request on any route this authorizer guards.

A request without the header never reaches the function: API Gateway refuses it (401) because
the header is the authorizer's identity source. Standard library only.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from typing import Any

API_KEY_HEADER = "x-api-key"
# What the routes' functions see of the caller (requestContext.authorizer...).
CALLER = "api-key"


def key_matches(presented: str | None, expected_sha256: str) -> bool:
    """Compares digests in constant time, so the answer's timing says nothing about the key."""
    if not presented:
        return False
    digest = hashlib.sha256(presented.encode()).hexdigest()
    return hmac.compare_digest(digest, expected_sha256.lower())


def _header(headers: dict[str, str] | None, name: str) -> str | None:
    """REST passes headers as the client spelled them; an HTTP API lowercases them."""
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return value
    return None


def _stage_methods(method_arn: str) -> str:
    """`arn:...:<api>/<stage>/GET/orders` -> `arn:...:<api>/<stage>/*`: every method of the
    stage, since the decision is cached for the caller, not for the route."""
    api, stage = method_arn.split("/")[:2]
    return f"{api}/{stage}/*"


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    allowed = key_matches(
        _header(event.get("headers"), API_KEY_HEADER), os.environ["API_KEY_SHA256"]
    )
    if event.get("version") == "2.0":
        return {"isAuthorized": allowed, "context": {"caller": CALLER} if allowed else {}}
    return {
        "principalId": CALLER if allowed else "anonymous",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Allow" if allowed else "Deny",
                    "Resource": _stage_methods(event["methodArn"]),
                }
            ],
        },
        "context": {"caller": CALLER} if allowed else {},
    }
