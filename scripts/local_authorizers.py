"""Each route's authorizer in `make serve`, as API Gateway runs it before the function.

- A token authorizer (`jwt`, `cognito`) reads the token from the `Authorization` header (with
  or without `Bearer `) and verifies it against the local issuer (scripts/local_issuer.py:
  signature, issuer, exp/nbf/iat; a `jwt` authorizer's audiences, while a `cognito` one takes
  any app client of its pool), then the route's scopes. An HTTP API wants one of them in the
  token's `scope` or `scp` (`403` without). A REST API's Cognito authorizer wants an ID token
  (`token_use = "id"`) on a route without scopes and an access token carrying one of them on a
  route with scopes, and answers `401` to anything else. The verified claims reach the function
  in `requestContext.authorizer`.
- A Lambda authorizer runs its function (in its sandbox, like any function) with the REQUEST
  authorizer event, after checking that every identity source is present (`401` when one is
  not, without calling it). A REST API reads its IAM policy (an explicit Deny wins, an Allow
  must name the request's method ARN), an HTTP API its simple response (`isAuthorized`); the
  `context` reaches the function. Answers are cached per identity source values for
  `result_ttl_seconds` (a REST policy is checked against each request's method ARN again).

Which API kind answers is told by the event: payload 2.0 (`version = "2.0"`) is an HTTP API.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Literal

from constructs_lib.authorizers import IDENTITY_SOURCE
from constructs_lib.limits import HTTP_API_PAYLOAD_FORMAT
from scripts.local_events import wildcard_pattern
from scripts.local_issuer import Clock, LocalIssuer, TokenRejected, token_scopes
from scripts.sandbox import FunctionError

BEARER = "bearer "


@dataclass(frozen=True)
class IdentitySource:
    """`header.<name>` or `query.<name>` of the configuration."""

    location: Literal["header", "query"]
    name: str

    @classmethod
    def parse(cls, text: str) -> IdentitySource:
        found = IDENTITY_SOURCE.fullmatch(text)
        if found is None:
            raise ValueError(f"not an identity source: {text!r}")
        if found[1]:
            return cls("header", found[2])
        return cls("query", found[4])


AUTHORIZATION_HEADER = IdentitySource("header", "Authorization")


@dataclass(frozen=True)
class TokenAuthorizer:
    """A `jwt` authorizer (the audiences it accepts: `aud`, else `client_id`) or a `cognito`
    one (its own user pool's tokens, for any of its app clients)."""

    key: str
    kind: Literal["jwt", "cognito"]
    audiences: tuple[str, ...] = ()


@dataclass(frozen=True)
class LambdaAuthorizer:
    key: str
    function: str
    identity_sources: tuple[IdentitySource, ...]
    result_ttl_seconds: int


@dataclass(frozen=True)
class RouteAccess:
    """What a route asks of a request before its function runs."""

    authorizer: TokenAuthorizer | LambdaAuthorizer | None = None
    scopes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Refusal:
    """API Gateway's own answer in place of the function's."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


# Runs a function of the file with an event: its result, or FunctionError.
Invoke = Callable[[str, dict[str, Any]], Any]


def _is_http_api(event: Mapping[str, Any]) -> bool:
    return event.get("version") == HTTP_API_PAYLOAD_FORMAT


def _unauthorized(**headers: str) -> Refusal:
    return Refusal(HTTPStatus.UNAUTHORIZED, {"message": "Unauthorized"}, dict(headers))


def _forbidden(event: Mapping[str, Any], rest_message: str) -> Refusal:
    if _is_http_api(event):
        return Refusal(HTTPStatus.FORBIDDEN, {"message": "Forbidden"})
    return Refusal(HTTPStatus.FORBIDDEN, {"Message": rest_message})


def _authorizer_failed(event: Mapping[str, Any]) -> Refusal:
    """The answer when the authorizer itself fails or answers nonsense."""
    message = "Internal Server Error" if _is_http_api(event) else None
    return Refusal(HTTPStatus.INTERNAL_SERVER_ERROR, {"message": message})


def identity_value(event: Mapping[str, Any], source: IdentitySource) -> str | None:
    """The source's value in the request the event describes, or None when it is absent or
    empty."""
    if source.location == "header":
        headers = event.get("headers") or {}
        value = next((v for k, v in headers.items() if k.lower() == source.name.lower()), None)
    else:
        value = (event.get("queryStringParameters") or {}).get(source.name)
    return value or None


def method_arn(region: str, account: str, event: Mapping[str, Any]) -> str:
    """The ARN API Gateway gives the request: `.../<stage>/<METHOD>/<path>`."""
    context = event["requestContext"]
    if _is_http_api(event):
        method, path = context["http"]["method"], context["http"]["path"]
    else:
        method, path = event["httpMethod"], event["path"]
    return (
        f"arn:aws:execute-api:{region}:{account}:{context['apiId']}/{context['stage']}/"
        f"{method}/{path.lstrip('/')}"
    )


class AccessControl:
    """Runs a route's authorizer for a request; puts what it learned into the event."""

    def __init__(
        self,
        issuer: LocalIssuer | None,
        invoke: Invoke,
        clock: Clock,
        region: str,
        account: str,
    ) -> None:
        """`issuer` is needed only when a route has a token authorizer."""
        self.issuer = issuer
        self._invoke = invoke
        self._clock = clock
        self._region = region
        self._account = account
        self._cache: dict[tuple[str, tuple[str, ...]], tuple[float, Any]] = {}
        self._cache_lock = threading.Lock()

    def authorize(self, access: RouteAccess, event: dict[str, Any]) -> Refusal | None:
        """None when the request may go on (the event then holds the authorizer's part), or
        the answer API Gateway gives instead."""
        authorizer = access.authorizer
        if isinstance(authorizer, TokenAuthorizer):
            return self._check_token(authorizer, access.scopes, event)
        if isinstance(authorizer, LambdaAuthorizer):
            return self._run_lambda(authorizer, event)
        return None

    def _check_token(
        self, authorizer: TokenAuthorizer, scopes: Sequence[str], event: dict[str, Any]
    ) -> Refusal | None:
        given = identity_value(event, AUTHORIZATION_HEADER)
        if given is None:
            return _unauthorized()
        token = given[len(BEARER) :] if given.lower().startswith(BEARER) else given
        assert self.issuer is not None, "serve starts the issuer when a route checks tokens"
        audiences = authorizer.audiences if authorizer.kind == "jwt" else None
        try:
            claims = self.issuer.verify(token, audiences, self._clock())
        except TokenRejected as rejected:
            return _unauthorized(
                **{
                    "www-authenticate": 'Bearer scope="" error="invalid_token" '
                    f'error_description="{rejected.description}"'
                }
            )
        granted = token_scopes(claims)
        if authorizer.kind == "cognito" and not _is_http_api(event):
            if not _cognito_accepts(claims, scopes, granted):
                return _unauthorized()
        elif scopes and not set(scopes) & set(granted):
            challenge = (
                f'Bearer scope="{" ".join(scopes)}" error="insufficient_scope" '
                f'error_description="expected scopes: [{" ".join(scopes)}]"'
            )
            return Refusal(
                HTTPStatus.FORBIDDEN, {"message": "Forbidden"}, {"www-authenticate": challenge}
            )
        event["requestContext"]["authorizer"] = token_context(event, claims, granted)
        return None

    def _run_lambda(self, authorizer: LambdaAuthorizer, event: dict[str, Any]) -> Refusal | None:
        values = [identity_value(event, source) for source in authorizer.identity_sources]
        present = [value for value in values if value is not None]
        if len(present) != len(values):
            return _unauthorized()
        arn = method_arn(self._region, self._account, event)
        cache_key = (authorizer.key, tuple(present))
        answer = self._cached(cache_key) if present else None
        if answer is None:
            try:
                answer = self._invoke(authorizer.function, authorizer_event(event, arn, present))
            except FunctionError as error:  # logged by its sandbox
                # An authorizer refuses a token by failing with exactly this message.
                if error.error.get("errorMessage") == "Unauthorized":
                    return _unauthorized()
                return _authorizer_failed(event)
            if present and authorizer.result_ttl_seconds > 0:
                self._remember(cache_key, answer, authorizer.result_ttl_seconds)
        decision = lambda_decision(event, answer, arn)
        if isinstance(decision, Refusal):
            return decision
        event["requestContext"]["authorizer"] = decision
        return None

    def _cached(self, key: tuple[str, tuple[str, ...]]) -> Any:
        with self._cache_lock:
            found = self._cache.get(key)
            if found is None or self._clock() >= found[0]:
                return None
            return found[1]

    def _remember(self, key: tuple[str, tuple[str, ...]], answer: Any, ttl_s: int) -> None:
        with self._cache_lock:
            self._cache[key] = (self._clock() + ttl_s, answer)


def _cognito_accepts(
    claims: Mapping[str, Any], scopes: Sequence[str], granted: Sequence[str]
) -> bool:
    """A REST API's Cognito authorizer: an ID token where the route names no scopes, else an
    access token with one of them."""
    if not scopes:
        return claims.get("token_use") == "id"
    return claims.get("token_use") == "access" and bool(set(scopes) & set(granted))


def token_context(
    event: Mapping[str, Any], claims: Mapping[str, Any], scopes: Sequence[str]
) -> dict[str, Any]:
    """Where API Gateway puts a verified token's claims, as text (arrays as `[a b]`): a REST
    API's Cognito authorizer in `claims`, an HTTP API's JWT authorizer in `jwt.claims`, with
    the token's `scopes`."""
    texts = {name: _claim_text(value) for name, value in claims.items()}
    if not _is_http_api(event):
        return {"claims": texts}
    return {
        "jwt": {
            "claims": texts,
            "scopes": list(scopes) or None,
        }
    }


def _claim_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "[" + " ".join(_claim_text(item) for item in value) + "]"
    return json.dumps(value)


def authorizer_event(event: Mapping[str, Any], arn: str, identity: Sequence[str]) -> dict[str, Any]:
    """The REQUEST authorizer event for the request the proxy event describes."""
    if _is_http_api(event):
        kept = (
            "version",
            "routeKey",
            "rawPath",
            "rawQueryString",
            "cookies",
            "headers",
            "queryStringParameters",
            "requestContext",
            "pathParameters",
            "stageVariables",
        )
        return {
            "type": "REQUEST",
            "routeArn": arn,
            "identitySource": list(identity),
            **{key: event[key] for key in kept if key in event},
        }
    kept = (
        "resource",
        "path",
        "httpMethod",
        "headers",
        "multiValueHeaders",
        "queryStringParameters",
        "multiValueQueryStringParameters",
        "pathParameters",
        "stageVariables",
        "requestContext",
    )
    return {"type": "REQUEST", "methodArn": arn, **{key: event[key] for key in kept}}


def lambda_decision(event: Mapping[str, Any], answer: Any, arn: str) -> dict[str, Any] | Refusal:
    """The event's `requestContext.authorizer` when the answer allows the request."""
    if _is_http_api(event):
        if not isinstance(answer, dict) or not isinstance(answer.get("isAuthorized"), bool):
            return _authorizer_failed(event)
        if not answer["isAuthorized"]:
            return _forbidden(event, "")
        return {"lambda": answer.get("context") or None}
    return _policy_decision(event, answer, arn)


def _policy_decision(event: Mapping[str, Any], answer: Any, arn: str) -> dict[str, Any] | Refusal:
    """A REST API's Lambda authorizer answer: principalId and an IAM policy for the ARN."""
    try:
        principal = answer["principalId"]
        statements = answer["policyDocument"]["Statement"]
        context = answer.get("context") or {}
        if not isinstance(statements, list):
            statements = [statements]
        effects = {statement["Effect"] for statement in statements if _applies(statement, arn)}
    except (TypeError, KeyError, AttributeError):
        return _authorizer_failed(event)
    if not isinstance(context, dict) or not all(
        isinstance(value, str | int | float | bool) for value in context.values()
    ):
        return _authorizer_failed(event)  # REST takes only flat context values
    if "Deny" in effects:
        return _forbidden(
            event, "User is not authorized to access this resource with an explicit deny"
        )
    if "Allow" not in effects:
        return _forbidden(event, "User is not authorized to access this resource")
    return {"principalId": principal, "integrationLatency": 0, **context}


def _applies(statement: Mapping[str, Any], arn: str) -> bool:
    """An execute-api:Invoke statement whose resource (wildcards `*`, `?`) names the ARN."""
    actions = statement.get("Action", [])
    resources = statement.get("Resource", [])
    actions = [actions] if isinstance(actions, str) else actions
    resources = [resources] if isinstance(resources, str) else resources
    invokes = any(action in ("execute-api:Invoke", "execute-api:*", "*") for action in actions)
    return invokes and any(wildcard_pattern(resource).fullmatch(arn) for resource in resources)
