"""How `make serve`'s front doors translate: which route a request reaches (as API Gateway's
REST and HTTP APIs and the load balancer's listener rules match), the event the function gets
(REST: payload 1.0; HTTP API: payload 2.0; the load balancer's), and its answer back as HTTP."""

from __future__ import annotations

import base64
import json
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from constructs_lib.limits import HTTP_API_DEFAULT_STAGE, HTTP_API_PAYLOAD_FORMAT
from constructs_lib.paths import rule_priority, segments, wildcard_path
from serverless_app.config import RouteConfig

HOST = "127.0.0.1"
# moto's default account; the ids below only make the events look like API Gateway's.
ACCOUNT_ID = "123456789012"
LOCAL_API_ID = "local"


# An answer's header: a list is one header line per value (`Set-Cookie`).
HeaderValue = str | list[str]


@dataclass(frozen=True)
class ReceivedRequest:
    """An HTTP request as a front door received it: what each event builder starts from."""

    method: str
    target: str  # the request target: path and query, as sent
    headers: list[tuple[str, str]]
    body: bytes
    client_ip: str
    server_port: int


@dataclass(frozen=True)
class RouteMatch:
    route: RouteConfig
    path_parameters: dict[str, str]


# How specific a path segment is: API Gateway prefers a literal to a parameter to a greedy one.
_LITERAL, _PARAMETER, _GREEDY = 2, 1, 0


def _match_path(template: str, path: str) -> tuple[list[int], dict[str, str]] | None:
    """The specificity of each segment and the parameters, when `path` fits `template`."""
    wanted = segments(template)
    given = path[1:].split("/") if path != "/" else []
    ranks: list[int] = []
    parameters: dict[str, str] = {}
    for position, segment in enumerate(wanted):
        if segment.parameter and segment.greedy:  # one segment or more: the rest of the path
            if position >= len(given):
                return None
            parameters[segment.parameter] = "/".join(given[position:])
            return [*ranks, _GREEDY], parameters
        if position >= len(given) or not given[position]:
            return None
        if segment.parameter:
            parameters[segment.parameter] = given[position]
            ranks.append(_PARAMETER)
        elif segment.text == given[position]:
            ranks.append(_LITERAL)
        else:
            return None
    return (ranks, parameters) if len(wanted) == len(given) else None


def _routes_taking(
    path: str, routes: list[RouteConfig]
) -> list[tuple[list[int], dict[str, str], RouteConfig]]:
    """Each route whose path fits `path`: its specificity, its parameters, the route."""
    return [
        (*found, route) for route in routes if (found := _match_path(route.path, path)) is not None
    ]


def match_route(method: str, path: str, stage: str, routes: list[RouteConfig]) -> RouteMatch | str:
    """The route a REST API request reaches and its path parameters, or API Gateway's own 403
    message for requests that never reach a function. The most specific path wins, then its
    route for the method (an exact method before ANY)."""
    if path.split("/")[1:2] != [stage]:
        return "Forbidden"
    matches = _routes_taking(path.removeprefix(f"/{stage}") or "/", routes)
    if not matches:
        return "Missing Authentication Token"
    best = max(ranks for ranks, _, _ in matches)
    on_best = [(parameters, route) for ranks, parameters, route in matches if ranks == best]
    for wanted in (method, "ANY"):
        for parameters, route in on_best:
            if route.method == wanted:
                return RouteMatch(route, parameters)
    return "Missing Authentication Token"


def match_http_route(method: str, path: str, routes: list[RouteConfig]) -> RouteMatch | None:
    """The route an HTTP API (`$default` stage: no stage in the path) sends a request to: among
    the routes for its method or ANY, the most specific path, then the exact method before
    ANY; None when no route takes it (the API's 404). Unlike a REST API, a path whose routes
    lack the method leaves the request to a less specific route that has it."""
    candidates = [
        (ranks, route.method == method, parameters, route)
        for ranks, parameters, route in _routes_taking(path, routes)
        if route.method in (method, "ANY")
    ]
    if not candidates:
        return None
    _, _, parameters, route = max(candidates, key=lambda found: (found[0], found[1]))
    return RouteMatch(route, parameters)


def http_route_key(route: RouteConfig) -> str:
    """An HTTP API route's key, as its event's `routeKey` names it."""
    return f"{route.method} {route.path}"


def rest_proxy_event(
    request: ReceivedRequest,
    *,
    stage: str,
    resource: str | None = None,
    path_parameters: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The REST API proxy event (payload 1.0) API Gateway sends for this request to the route
    whose path is `resource` (default: the request's path)."""
    url = urlsplit(request.target)
    stage_path = unquote(url.path)
    request_path = stage_path.removeprefix(f"/{stage}") or "/"
    resource_path = resource or request_path
    now = datetime.now(UTC)
    request_id = str(uuid.uuid4())
    forwarded = [
        ("X-Amzn-Trace-Id", f"Root=1-{int(now.timestamp()):08x}-{secrets.token_hex(12)}"),
        ("X-Forwarded-For", request.client_ip),
        ("X-Forwarded-Port", str(request.server_port)),
        ("X-Forwarded-Proto", "http"),
    ]
    all_headers = request.headers + forwarded
    query = parse_qsl(url.query, keep_blank_values=True)
    user_agent = next((v for k, v in all_headers if k.lower() == "user-agent"), None)
    host = next((v for k, v in all_headers if k.lower() == "host"), f"{HOST}:{request.server_port}")
    body_text, is_base64 = _event_body(request.body)
    return {
        "resource": resource_path,
        "path": request_path,
        "httpMethod": request.method,
        "headers": dict(all_headers) or None,
        "multiValueHeaders": _multi_value(all_headers),
        "queryStringParameters": dict(query) or None,
        "multiValueQueryStringParameters": _multi_value(query),
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": {
            "resourceId": secrets.token_hex(3),
            "resourcePath": resource_path,
            "httpMethod": request.method,
            "extendedRequestId": base64.b64encode(secrets.token_bytes(11)).decode(),
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "path": stage_path,
            "accountId": ACCOUNT_ID,
            "protocol": "HTTP/1.1",
            "stage": stage,
            "domainPrefix": LOCAL_API_ID,
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "requestId": request_id,
            "identity": {
                "cognitoIdentityPoolId": None,
                "accountId": None,
                "cognitoIdentityId": None,
                "caller": None,
                "sourceIp": request.client_ip,
                "principalOrgId": None,
                "accessKey": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                "userArn": None,
                "userAgent": user_agent,
                "user": None,
            },
            "domainName": host,
            "deploymentId": LOCAL_API_ID,
            "apiId": LOCAL_API_ID,
        },
        "body": body_text,
        "isBase64Encoded": is_base64,
    }


# The keys of a payload 2.0 event API Gateway leaves out rather than send empty.
OMITTED_WHEN_EMPTY = frozenset({"cookies", "queryStringParameters", "pathParameters", "body"})


def http_api_event(
    request: ReceivedRequest,
    *,
    route: RouteConfig,
    path_parameters: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The HTTP API's Lambda proxy event, payload format 2.0, for this request to `route` on the
    `$default` stage. As AWS documents it: header names in lower case, a repeated header or
    query key's values joined with commas, the `Cookie` headers' cookies in `cookies` (and not
    in `headers`), the path and the query values decoded (`rawPath` is decoded too, as API
    Gateway delivers it; `rawQueryString` is as sent); keys without a value are left out."""
    url = urlsplit(request.target)
    path = unquote(url.path)
    now = datetime.now(UTC)
    received, cookies = _headers_and_cookies(request.headers)
    forwarded_for = ", ".join(filter(None, [received.get("x-forwarded-for"), request.client_ip]))
    received.update(
        {
            "x-amzn-trace-id": f"Root=1-{int(now.timestamp()):08x}-{secrets.token_hex(12)}",
            "x-forwarded-for": forwarded_for,
            "x-forwarded-port": str(request.server_port),
            "x-forwarded-proto": "http",
        }
    )
    body_text, is_base64 = _event_body(request.body)
    event: dict[str, Any] = {
        "version": HTTP_API_PAYLOAD_FORMAT,
        "routeKey": http_route_key(route),
        "rawPath": path,
        "rawQueryString": url.query,
        "cookies": cookies,
        "headers": received,
        "queryStringParameters": _joined(parse_qsl(url.query, keep_blank_values=True)),
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": LOCAL_API_ID,
            "domainName": received.get("host", f"{HOST}:{request.server_port}"),
            "domainPrefix": LOCAL_API_ID,
            "http": {
                "method": request.method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": request.client_ip,
                "userAgent": received.get("user-agent", ""),
            },
            # API Gateway's HTTP API request ids: 11 random bytes in base64 ("Hq4a1iBJoAMEbfQ=").
            "requestId": base64.b64encode(secrets.token_bytes(11)).decode(),
            "routeKey": http_route_key(route),
            "stage": HTTP_API_DEFAULT_STAGE,
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "pathParameters": path_parameters,
        "body": body_text,
        "isBase64Encoded": is_base64,
    }
    return {key: value for key, value in event.items() if value or key not in OMITTED_WHEN_EMPTY}


def _headers_and_cookies(headers: list[tuple[str, str]]) -> tuple[dict[str, str], list[str]]:
    """Payload 2.0's `headers` (lower-case names, joined values) and `cookies` (each cookie of
    the `Cookie` headers)."""
    cookies = [
        cookie.strip()
        for name, value in headers
        if name.lower() == "cookie"
        for cookie in value.split(";")
        if cookie.strip()
    ]
    others = [(name.lower(), value) for name, value in headers if name.lower() != "cookie"]
    return _joined(others), cookies


def _joined(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """Payload 2.0's repeated keys: one entry, the values joined with commas."""
    joined: dict[str, str] = {}
    for key, value in pairs:
        joined[key] = f"{joined[key]},{value}" if key in joined else value
    return joined


def _multi_value(pairs: list[tuple[str, str]]) -> dict[str, list[str]] | None:
    grouped: dict[str, list[str]] = {}
    for key, value in pairs:
        grouped.setdefault(key, []).append(value)
    return grouped or None


def _event_body(body: bytes) -> tuple[str | None, bool]:
    if not body:
        return None, False
    try:
        return body.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(body).decode(), True


@dataclass(frozen=True)
class ListenerRule:
    """A route's rule on the load balancer's listener, as the stack writes it."""

    priority: int
    method: str  # "ANY": no method condition
    path_pattern: re.Pattern[str]
    function: str


def listener_rules(routes: list[RouteConfig]) -> list[ListenerRule]:
    """The rules of the routes on the load balancer, in the order it tests them."""
    return sorted(
        (
            ListenerRule(
                rule_priority(route.method, route.path, route.priority),
                route.method,
                wildcard_pattern(wildcard_path(route.path)),
                route.function,
            )
            for route in routes
            if route.load_balancer
        ),
        key=lambda rule: rule.priority,
    )


def wildcard_pattern(pattern: str) -> re.Pattern[str]:
    """A pattern of `*` (any characters, `/` too) and `?` (one), the rest literal: ELB's path
    patterns, and the resources of an execute-api policy."""
    wildcards = {"*": ".*", "?": "."}
    return re.compile("".join(wildcards.get(char) or re.escape(char) for char in pattern))


def match_listener_rule(method: str, path: str, rules: list[ListenerRule]) -> ListenerRule | None:
    """The first rule, by priority, whose conditions the request meets; its path as sent."""
    return next(
        (
            rule
            for rule in rules
            if rule.method in (method, "ANY") and rule.path_pattern.fullmatch(path)
        ),
        None,
    )


def alb_event(request: ReceivedRequest, *, target_group_arn: str) -> dict[str, Any]:
    """The event an application load balancer sends a Lambda target (multi-value headers off,
    the stack's setting): the path and query as the client sent them, still percent-encoded;
    header names in lower case; the last value of a repeated header or query key."""
    url = urlsplit(request.target)
    query = dict(part.partition("=")[::2] for part in url.query.split("&") if part)
    received = {name.lower(): value for name, value in request.headers}
    forwarded_for = ", ".join(filter(None, [received.get("x-forwarded-for"), request.client_ip]))
    now = datetime.now(UTC)
    body_text, is_base64 = _event_body(request.body)
    return {
        "requestContext": {"elb": {"targetGroupArn": target_group_arn}},
        "httpMethod": request.method,
        "path": url.path,
        "queryStringParameters": query,
        "headers": {
            **received,
            "x-amzn-trace-id": f"Root=1-{int(now.timestamp()):08x}-{secrets.token_hex(12)}",
            "x-forwarded-for": forwarded_for,
            "x-forwarded-port": str(request.server_port),
            "x-forwarded-proto": "http",
        },
        "body": body_text or "",
        "isBase64Encoded": is_base64,
    }


def alb_response(response: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    """A Lambda target's answer needs `isBase64Encoded`, or the load balancer answers 502."""
    if not isinstance(response.get("isBase64Encoded"), bool):
        raise ValueError("the answer has no boolean isBase64Encoded: the load balancer's 502")
    return proxy_response(response)


def proxy_response(response: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    headers = {k: ",".join(v) for k, v in (response.get("multiValueHeaders") or {}).items()}
    headers.update(response.get("headers") or {})
    body = response.get("body") or ""
    payload = base64.b64decode(body) if response.get("isBase64Encoded") else body.encode()
    return int(response["statusCode"]), headers, payload


def http_api_response(response: Any) -> tuple[int, dict[str, HeaderValue], bytes]:
    """A function's answer as an HTTP API reads it (payload 2.0): a dict with `statusCode` is a
    response (`headers`, `cookies`, each a `Set-Cookie`, `body`, `isBase64Encoded`); any other
    JSON value is `200`, `content-type: application/json`, with that value as the body (a
    string as it is, anything else as JSON), as AWS documents. An exception when the answer is
    neither: the API's 500."""
    if not (isinstance(response, dict) and "statusCode" in response):
        body = response if isinstance(response, str) else json.dumps(response)
        return HTTPStatus.OK, {"Content-Type": "application/json"}, body.encode()
    status = response["statusCode"]
    headers = response.get("headers") or {}
    cookies = response.get("cookies") or []
    body = response.get("body") or ""
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise ValueError(f"statusCode is not an HTTP status: {status!r}")
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise ValueError("headers is not an object of strings")
    if not isinstance(cookies, list) or not all(isinstance(cookie, str) for cookie in cookies):
        raise ValueError("cookies is not a list of strings")
    if not isinstance(body, str):
        raise ValueError("body is not a string")
    answer_headers: dict[str, HeaderValue] = dict(headers)
    if cookies:
        answer_headers["Set-Cookie"] = cookies
    payload = base64.b64decode(body) if response.get("isBase64Encoded") else body.encode()
    return status, answer_headers, payload


def json_message(text: str) -> bytes:
    return json.dumps({"message": text}).encode()
