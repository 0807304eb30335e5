"""The three event shapes a function behind an API or the load balancer receives, read into
one `Request`, and the proxy response each caller expects back.

- API Gateway's REST proxy event (payload 1.0), with the claims of a user pool authorizer;
- an HTTP API's event (payload format 2.0);
- the load balancer's event, with or without multi-value headers (its query still
  percent-encoded).

An event that is none of them, or holds a value of the wrong type, is an `HttpError` of 400.
Standard library only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote_plus

JSON_HEADERS = {"Content-Type": "application/json"}


class HttpError(Exception):
    def __init__(
        self, status: HTTPStatus, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


class MalformedEvent(HttpError):
    def __init__(self, what: str) -> None:
        super().__init__(HTTPStatus.BAD_REQUEST, f"malformed event: {what}")


@dataclass(frozen=True)
class Request:
    """What the function needs from either event shape."""

    source: str  # "apigateway" or "alb"
    request_id: str
    method: str
    path: str
    query: dict[str, str]
    source_ip: str
    user_agent: str
    # Who the authorizer verified the caller to be; "" without an authorizer.
    caller: str = ""
    # An ALB target group with multi-value headers on expects `multiValueHeaders` back.
    multi_value_headers: bool = False
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def parse_request(event: Any, invocation_id: str) -> Request:
    if _is_http_api_event(event):
        return _http_api_request(event)
    if not _is_proxy_event(event):
        raise HttpError(
            HTTPStatus.BAD_REQUEST,
            "expected an API Gateway REST proxy event, an HTTP API event (payload 2.0) or an "
            "ALB event",
        )
    if "elb" in event["requestContext"]:
        return _alb_request(event, invocation_id)
    return _rest_request(event)


def _is_proxy_event(event: Any) -> bool:
    if not isinstance(event, dict):
        return False
    context = event.get("requestContext")
    if not isinstance(event.get("httpMethod"), str) or not isinstance(event.get("path"), str):
        return False
    if not isinstance(context, dict):
        return False
    return isinstance(context.get("elb"), dict) or isinstance(context.get("requestId"), str)


def _is_http_api_event(event: Any) -> bool:
    """An HTTP API's Lambda proxy event, payload format 2.0."""
    if not isinstance(event, dict) or event.get("version") != "2.0":
        return False
    context = event.get("requestContext")
    return isinstance(context, dict) and isinstance(context.get("http"), dict)


def _http_api_request(event: dict[str, Any]) -> Request:
    context = event["requestContext"]
    http = context["http"]
    return Request(
        source="apigateway",
        request_id=_text(context.get("requestId"), "requestContext.requestId"),
        method=_text(http.get("method"), "requestContext.http.method"),
        path=_text(event.get("rawPath"), "rawPath"),
        # Decoded by API Gateway; repeated keys arrive joined with commas.
        query=_string_map(event.get("queryStringParameters"), "queryStringParameters"),
        source_ip=_text(http.get("sourceIp"), "requestContext.http.sourceIp"),
        user_agent=_optional_text(http.get("userAgent"), "requestContext.http.userAgent"),
        caller=_caller(context, "jwt", "claims"),
    )


def _rest_request(event: dict[str, Any]) -> Request:
    context = event["requestContext"]
    identity = _object(context.get("identity"), "requestContext.identity")
    return Request(
        source="apigateway",
        request_id=_text(context["requestId"], "requestContext.requestId"),
        method=_text(event["httpMethod"], "httpMethod"),
        path=_text(event["path"], "path"),
        # API Gateway has already percent-decoded the values; the last of repeated keys wins.
        query=_string_map(event.get("queryStringParameters"), "queryStringParameters"),
        source_ip=_optional_text(identity.get("sourceIp"), "requestContext.identity.sourceIp"),
        user_agent=_optional_text(identity.get("userAgent"), "requestContext.identity.userAgent"),
        caller=_caller(context, "claims"),
    )


# The claims naming the caller, in order of preference: the user's address, else their name.
CALLER_CLAIMS = ("email", "cognito:username")


def _caller(context: dict[str, Any], *claims_at: str) -> str:
    """The caller a token authorizer verified: its token's claims are in the event, under
    `requestContext.authorizer` at `claims_at` (REST: `claims`; HTTP API: `jwt.claims`)."""
    where = "requestContext.authorizer"
    claims = _object(context.get("authorizer"), where)
    for key in claims_at:
        where = f"{where}.{key}"
        claims = _object(claims.get(key), where)
    return next((_text(claims[name], name) for name in CALLER_CLAIMS if claims.get(name)), "")


def _alb_request(event: dict[str, Any], invocation_id: str) -> Request:
    multi_value = "multiValueHeaders" in event
    if multi_value:
        headers = _last_values(event["multiValueHeaders"], "multiValueHeaders")
        raw_query = _last_values(
            event.get("multiValueQueryStringParameters"), "multiValueQueryStringParameters"
        )
    else:
        headers = _string_map(event.get("headers"), "headers")
        raw_query = _string_map(event.get("queryStringParameters"), "queryStringParameters")
    headers = {name.lower(): value for name, value in headers.items()}
    forwarded_for = [ip.strip() for ip in headers.get("x-forwarded-for", "").split(",")]
    return Request(
        source="alb",
        # The ALB event carries no request id of its own; the invocation id is unique per request.
        request_id=invocation_id,
        method=_text(event["httpMethod"], "httpMethod"),
        path=_text(event["path"], "path"),
        # The load balancer passes the query string through still percent-encoded.
        query={unquote_plus(k): unquote_plus(v) for k, v in raw_query.items()},
        # The ALB appends the address it saw: the rightmost entry is the one a client cannot forge.
        source_ip=_text(forwarded_for[-1], "x-forwarded-for"),
        user_agent=_optional_text(headers.get("user-agent"), "user-agent"),
        multi_value_headers=multi_value,
    )


def _object(value: Any, name: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MalformedEvent(f"{name} is not an object")
    return value


def _text(value: Any, name: str) -> str:
    """A string that can be stored: lone surrogates (from JSON escapes) cannot be encoded."""
    if not isinstance(value, str):
        raise MalformedEvent(f"{name} is not a string")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise MalformedEvent(f"{name} is not valid Unicode") from None
    return value


def _optional_text(value: Any, name: str) -> str:
    return "" if value is None else _text(value, name)


def _string_map(value: Any, name: str) -> dict[str, str]:
    mapping = _object(value, name)
    if not all(isinstance(item, str) for item in mapping.values()):
        raise MalformedEvent(f"{name} has a value that is not a string")
    return mapping


def _last_values(value: Any, name: str) -> dict[str, str]:
    """The last value of each key of a multi-value map (`{"key": ["value", ...]}`)."""
    mapping = _object(value, name)
    for values in mapping.values():
        if not isinstance(values, list) or not all(isinstance(item, str) for item in values):
            raise MalformedEvent(f"{name} has a value that is not a list of strings")
    return {key: values[-1] for key, values in mapping.items() if values}


def render(
    request: Request | None, status: HTTPStatus, body: dict[str, Any], headers: Mapping[str, str]
) -> dict[str, Any]:
    """The proxy response: API Gateway's shape, or the ALB's with its status description."""
    all_headers = {**JSON_HEADERS, **headers}
    response: dict[str, Any] = {
        "statusCode": int(status),
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }
    if request is not None and request.source == "alb":
        response["statusDescription"] = f"{int(status)} {status.phrase}"
    if request is not None and request.multi_value_headers:
        response["multiValueHeaders"] = {name: [value] for name, value in all_headers.items()}
    else:
        response["headers"] = all_headers
    return response
