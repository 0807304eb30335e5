"""A minimal function with one third-party dependency: MarkupSafe, whose wheels are built per
platform, so the package only works if it was built for Lambda's architecture and Python.

`GET /escape?name=<b>Ada</b>` or `GET /escape/<b>Ada</b>` answers an HTML greeting with the
name escaped. API Gateway hands over the path parameter `name` and query values already
percent-decoded; the load balancer sends neither decoded nor as parameters, only the path
and the raw query, so the name is read from the path after `/escape/` and decoded here.
WAF's Common rule set would block the markup this example exists to escape: the environment
lists its routes in `waf.markup_paths` (docs/functions.md).

Like every function of the stack it counts its answers in the request metric
(`request_metrics`, a link to lambda/request_metrics.py), and with `[api.cors]` adds the CORS
headers for the request's origin (`cors`, a link to constructs_lib/cors.py).
"""

from __future__ import annotations

import os
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote, unquote_plus

import cors
import request_metrics
from markupsafe import escape

# The route that carries the name in the path (config: `/escape/{name}`).
NAME_PATH_PREFIX = "/escape/"
DEFAULT_NAME = "world"


def greeting(name: str) -> str:
    return f"<p>Hello, {escape(name)}!</p>"


def from_load_balancer(event: dict[str, Any]) -> bool:
    return "elb" in (event.get("requestContext") or {})


def name_of(event: dict[str, Any]) -> str:
    """The name from the path parameter, the path (load balancer) or the query string."""
    if from_load_balancer(event):
        path = event.get("path") or ""
        if path.startswith(NAME_PATH_PREFIX) and path != NAME_PATH_PREFIX:
            # A path's `+` is a plus; only the query string uses it for a space.
            return unquote(path.removeprefix(NAME_PATH_PREFIX))
        return unquote_plus((event.get("queryStringParameters") or {}).get("name") or DEFAULT_NAME)
    parameters = event.get("pathParameters") or {}
    query = event.get("queryStringParameters") or {}
    return str(parameters.get("name") or query.get("name") or DEFAULT_NAME)


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    status = HTTPStatus.OK
    response: dict[str, Any] = {
        "statusCode": int(status),
        "isBase64Encoded": False,
        "headers": {
            "Content-Type": "text/html; charset=utf-8",
            **cors.answer_headers(event, os.environ),
        },
        "body": greeting(name_of(event)),
    }
    if from_load_balancer(event):
        response["statusDescription"] = f"{int(status)} {status.phrase}"
    request_metrics.emit(status)
    return response
