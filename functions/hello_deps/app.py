"""A minimal function with one third-party dependency: MarkupSafe, whose wheels are built per
platform, so the package only works if it was built for Lambda's architecture and Python.

`GET /html?name=<b>Ada</b>` or `GET /html/<b>Ada</b>` answers an HTML greeting with the name
escaped. API Gateway passes the path parameter `name`; the load balancer passes only the path,
whose last segment is then the name.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from markupsafe import escape


def greeting(name: str) -> str:
    return f"<p>Hello, {escape(name)}!</p>"


def name_of(event: dict[str, Any]) -> str:
    parameters = event.get("pathParameters") or {}
    if parameters.get("name"):
        return str(parameters["name"])
    path = str(event.get("path") or "")
    prefix, _, last = path.rstrip("/").rpartition("/")
    if prefix.endswith("/html") and last:  # ALB: /html/<name>, percent-encoded
        return unquote(last)
    query = event.get("queryStringParameters") or {}
    return str(query.get("name") or "world")


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "text/html; charset=utf-8"},
        "body": greeting(name_of(event)),
    }
