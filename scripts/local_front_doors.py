"""`make serve`'s front doors: an HTTP server that plays API Gateway (a REST API's stage, or an
HTTP API's `$default` stage, as the file's `api.type` says) and one that plays the load
balancer's listener, each sending a request to its function's sandbox as the event that front
door would send, and the function's answer back to the client."""

from __future__ import annotations

import traceback
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Generic, TypeVar
from urllib.parse import unquote, urlsplit

from constructs_lib.paths import LISTENER_NOT_FOUND_BODY
from scripts.local_api_guard import ApiGuard, refusal_answer
from scripts.local_cors import HTTP_API_PREFLIGHT_STATUS, PREFLIGHT_STATUS
from scripts.local_events import (
    ACCOUNT_ID,
    HOST,
    HeaderValue,
    ListenerRule,
    ReceivedRequest,
    RouteMatch,
    alb_event,
    alb_response,
    http_api_event,
    http_api_response,
    json_message,
    listener_rules,
    match_http_route,
    match_listener_rule,
    match_route,
    proxy_response,
    rest_proxy_event,
)
from scripts.sandbox import FunctionError, Sandbox
from serverless_app.config import RouteConfig, StackConfig, target_group_name

# Connections waiting to be accepted: bursts of clients queue here instead of being dropped.
LISTEN_BACKLOG = 128
# A client that sends nothing for this long loses its connection (and its thread).
CONNECTION_TIMEOUT_S = 10
# API Gateway's payload limit.
MAX_BODY_BYTES = 10 * 1024 * 1024
# What the load balancer answers when the function fails or its answer is not one a Lambda
# target may give (ELB's own page).
ALB_BAD_GATEWAY = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n"
)

Answer = tuple[int, Mapping[str, HeaderValue], bytes]
JSON_TYPE = {"Content-Type": "application/json"}
# What a front door found for a request: API Gateway's route, the listener's rule.
Matched = TypeVar("Matched")


class FrontDoor(ThreadingHTTPServer):
    """A thread per connection, so a slow or idle client holds up no one else; each function
    runs one request at a time in its own sandbox, which both front doors share."""

    request_queue_size = LISTEN_BACKLOG
    daemon_threads = True
    sandboxes: dict[str, Sandbox]


class LocalApi(FrontDoor):
    """API Gateway, either kind: the routes, what guards them (CORS, authorizers) and the
    functions' sandboxes."""

    def __init__(
        self,
        port: int,
        routes: list[RouteConfig],
        guard: ApiGuard | None,
        handler: type[BaseHTTPRequestHandler],
    ) -> None:
        super().__init__((HOST, port), handler)
        self.routes = routes
        self.guard = guard or ApiGuard()
        self.sandboxes = {}

    @property
    def path_prefix(self) -> str:
        """What comes before a route's path in a URL: the stage, if the API has it there."""
        raise NotImplementedError

    def invoke_authorizer(self, key: str, event: dict[str, Any]) -> Any:
        """An authorizer's invocation is one of its own, with its own request id."""
        return self.sandboxes[key].invoke(event, str(uuid.uuid4()))

    def stop_functions(self) -> None:
        for sandbox in self.sandboxes.values():
            sandbox.stop()


class LocalGateway(LocalApi):
    """API Gateway's REST API stage: every route, matched as API Gateway matches them."""

    def __init__(
        self, port: int, stage: str, routes: list[RouteConfig], guard: ApiGuard | None = None
    ) -> None:
        super().__init__(port, routes, guard, GatewayRequestHandler)
        self.stage = stage

    @property
    def path_prefix(self) -> str:
        return f"/{self.stage}"

    def methods_on(self, path: str) -> list[str]:
        """The methods of the routes that take the path (a preflight asks about them)."""
        return [
            route.method
            for route in self.routes
            if isinstance(match_route(route.method, path, self.stage, [route]), RouteMatch)
        ]


class LocalHttpApi(LocalApi):
    """An HTTP API's `$default` stage, at the root: every route, matched as an HTTP API matches
    them, each function sent the payload 2.0 event."""

    def __init__(self, port: int, routes: list[RouteConfig], guard: ApiGuard | None = None) -> None:
        super().__init__(port, routes, guard, HttpApiRequestHandler)
        # One CORS configuration for the whole API: a preflight allows every route's method.
        self.methods = [route.method for route in routes]

    @property
    def path_prefix(self) -> str:
        return ""


def local_api(port: int, config: StackConfig, guard: ApiGuard) -> LocalApi:
    """The API the file declares (`api.type`), on `port`."""
    if config.api.type == "http":
        return LocalHttpApi(port, config.routes, guard)
    return LocalGateway(port, config.api.stage_name, config.routes, guard)


class LocalLoadBalancer(FrontDoor):
    """The application load balancer's listener: the routes with `load_balancer`, as its
    rules match them, each to its function's sandbox (the API's), with the ALB's event."""

    def __init__(self, port: int, config: StackConfig, sandboxes: dict[str, Sandbox]) -> None:
        super().__init__((HOST, port), LoadBalancerRequestHandler)
        self.rules = listener_rules(config.routes)
        self.sandboxes = sandboxes
        self.target_group_arns = {
            key: f"arn:aws:elasticloadbalancing:{config.region}:{ACCOUNT_ID}:targetgroup/"
            f"{target_group_name(config, key)}/local"
            for key in config.functions
        }


@dataclass(frozen=True)
class Delivery:
    """A request on its way to a function: the event, and what every answer to it carries."""

    function: str
    event: dict[str, Any]
    invocation_id: str
    answer_headers: dict[str, str]


class FrontDoorHandler(BaseHTTPRequestHandler, Generic[Matched]):
    """A request's way through a front door: matched, read, delivered, answered. Each front
    door says how it matches, what event it sends, how it reads the function's answer, and
    what it answers when the function fails."""

    server: FrontDoor
    timeout = CONNECTION_TIMEOUT_S
    failure: Answer

    def do_GET(self) -> None:
        self._answer()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def _match(self) -> Matched | None:
        """What the request reaches, or None once the front door has answered that nothing."""
        raise NotImplementedError

    def _delivery(self, matched: Matched, received: ReceivedRequest) -> Delivery:
        """The event for what the request reached."""
        raise NotImplementedError

    def _translate(self, response: Any) -> Answer:
        """The function's answer as HTTP; an exception when the front door would not take it."""
        raise NotImplementedError

    def _refusal(self, matched: Matched, event: dict[str, Any]) -> Answer | None:
        """The front door's own answer in place of the function's (an authorizer said no), or
        None; may add to the event what the function learns of its caller."""
        return None

    def _own_headers(self, headers: Mapping[str, HeaderValue]) -> Mapping[str, HeaderValue]:
        """The headers of an answer of the front door itself, not of a function."""
        return headers

    def _answer(self) -> None:
        matched = self._match()
        if matched is None:
            return
        length = self._content_length()
        if length is None:
            return
        received = ReceivedRequest(
            method=self.command,
            target=self.path,
            headers=list(self.headers.items()),
            body=self.rfile.read(length),
            client_ip=self.client_address[0],
            server_port=self.server.server_address[1],
        )
        delivery = self._delivery(matched, received)
        refusal = self._refusal(matched, delivery.event)
        if refusal is not None:
            status, headers, body = refusal
            self._send(status, self._own_headers({**headers, **delivery.answer_headers}), body)
            return
        try:
            sandbox = self.server.sandboxes[delivery.function]
            answer = self._translate(sandbox.invoke(delivery.event, delivery.invocation_id))
        except Exception as error:
            # The function failed (its sandbox logged Lambda's error) or answered something
            # the front door does not take: a program error here gets its traceback.
            if not isinstance(error, FunctionError):
                traceback.print_exc()
            status, headers, body = self.failure
            self._send(status, self._own_headers({**headers, **delivery.answer_headers}), body)
            return
        status, headers, body = answer
        self._send(status, {**headers, **delivery.answer_headers}, body)

    def _content_length(self) -> int | None:
        """The body's length, or None once a malformed or oversized one has been answered."""
        given = self.headers.get("Content-Length", "0").strip()
        if not (given.isascii() and given.isdigit()):
            self.send_error(HTTPStatus.BAD_REQUEST, f"invalid Content-Length: {given[:32]!r}")
            return None
        if int(given) > MAX_BODY_BYTES:
            self.send_error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "Request Too Long")
            return None
        return int(given)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Malformed requests get JSON like every other answer, not the default HTML page."""
        status = HTTPStatus(code)
        self.log_error("code %d, message %s", code, message)
        self.close_connection = True
        # A request line that did not parse leaves HTTP/0.9, which would send the body bare.
        if not self.request_version.startswith("HTTP/1."):
            self.request_version = "HTTP/1.0"
        self._send(
            status,
            self._own_headers({"Content-Type": "application/json", "Connection": "close"}),
            json_message(message or status.phrase),
        )

    def _send(self, status: int, headers: Mapping[str, HeaderValue], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            for line in [value] if isinstance(value, str) else value:
                self.send_header(name, line)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        # A request line too broken to parse leaves no command.
        if getattr(self, "command", None) != "HEAD":
            self.wfile.write(body)


class ApiRequestHandler(FrontDoorHandler[RouteMatch]):
    """What both API kinds do around a function: its route's authorizer, and the API's CORS
    headers on the API's own answers, as the stack's gateway responses carry them."""

    server: LocalApi

    def _refusal(self, matched: RouteMatch, event: dict[str, Any]) -> Answer | None:
        refusal = self.server.guard.authorize(matched.route, event)
        return refusal_answer(refusal) if refusal is not None else None

    def _request_headers(self) -> dict[str, str]:
        # A request line too broken to parse leaves no headers.
        request = getattr(self, "headers", None)
        return dict(request.items()) if request is not None else {}

    def _own_headers(self, headers: Mapping[str, HeaderValue]) -> Mapping[str, HeaderValue]:
        return self.server.guard.gateway_headers(self._request_headers(), headers)


class GatewayRequestHandler(ApiRequestHandler):
    server: LocalGateway
    # What API Gateway answers when the function fails or its answer is no proxy response.
    failure = (HTTPStatus.BAD_GATEWAY, JSON_TYPE, json_message("Internal server error"))

    def _match(self) -> RouteMatch | None:
        gateway = self.server
        path = unquote(urlsplit(self.path).path)
        methods = gateway.methods_on(path)
        request_headers = dict(self.headers.items())
        if methods and gateway.guard.answers_preflight(self.command, request_headers):
            self._send(PREFLIGHT_STATUS, gateway.guard.preflight(request_headers, methods), b"")
            return None
        match = match_route(self.command, path, gateway.stage, gateway.routes)
        if isinstance(match, str):
            forbidden = json_message(match)
            self._send(HTTPStatus.FORBIDDEN, self._own_headers(JSON_TYPE), forbidden)
            return None
        return match

    def _delivery(self, matched: RouteMatch, received: ReceivedRequest) -> Delivery:
        event = rest_proxy_event(
            received,
            stage=self.server.stage,
            resource=matched.route.path,
            path_parameters=matched.path_parameters,
        )
        request_id = event["requestContext"]["requestId"]
        return Delivery(matched.route.function, event, request_id, {"x-amzn-RequestId": request_id})

    def _translate(self, response: Any) -> Answer:
        return proxy_response(response)


class HttpApiRequestHandler(ApiRequestHandler):
    server: LocalHttpApi
    # What an HTTP API answers when the function fails or its answer is not one it reads.
    failure = (
        HTTPStatus.INTERNAL_SERVER_ERROR,
        JSON_TYPE,
        json_message("Internal Server Error"),
    )

    def _match(self) -> RouteMatch | None:
        api = self.server
        request_headers = dict(self.headers.items())
        # With CORS, the API answers every preflight itself, whatever the path.
        if api.guard.answers_preflight(self.command, request_headers):
            headers = api.guard.preflight(request_headers, api.methods)
            self._send(HTTP_API_PREFLIGHT_STATUS, headers, b"")
            return None
        match = match_http_route(self.command, unquote(urlsplit(self.path).path), api.routes)
        if match is None:
            self._send(
                HTTPStatus.NOT_FOUND, self._own_headers(JSON_TYPE), json_message("Not Found")
            )
        return match

    def _delivery(self, matched: RouteMatch, received: ReceivedRequest) -> Delivery:
        event = http_api_event(
            received, route=matched.route, path_parameters=matched.path_parameters
        )
        request_id = event["requestContext"]["requestId"]
        # The function's invocation has an id of its own, unlike on a REST API.
        return Delivery(
            matched.route.function, event, str(uuid.uuid4()), {"apigw-requestid": request_id}
        )

    def _translate(self, response: Any) -> Answer:
        status, headers, body = http_api_response(response)
        return status, self.server.guard.http_api_headers(self._request_headers(), headers), body


class LoadBalancerRequestHandler(FrontDoorHandler[ListenerRule]):
    server: LocalLoadBalancer
    failure = (HTTPStatus.BAD_GATEWAY, {"Content-Type": "text/html"}, ALB_BAD_GATEWAY)

    def _match(self) -> ListenerRule | None:
        rule = match_listener_rule(self.command, urlsplit(self.path).path, self.server.rules)
        if rule is None:  # the listener's default action
            not_found = LISTENER_NOT_FOUND_BODY.encode()
            self._send(HTTPStatus.NOT_FOUND, {"Content-Type": "application/json"}, not_found)
        return rule

    def _delivery(self, matched: ListenerRule, received: ReceivedRequest) -> Delivery:
        target_group_arn = self.server.target_group_arns[matched.function]
        event = alb_event(received, target_group_arn=target_group_arn)
        return Delivery(matched.function, event, str(uuid.uuid4()), {})

    def _translate(self, response: Any) -> Answer:
        return alb_response(response)
