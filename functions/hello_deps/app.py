"""A minimal function with one third-party dependency: MarkupSafe, whose wheels are built per
platform, so the package only works if it was built for Lambda's architecture and Python.

`GET /escape?name=<b>Ada</b>` or `GET /escape/<b>Ada</b>` answers an HTML greeting with the
name escaped. The name comes from the path parameter `name` (API Gateway sets
`pathParameters`; the load balancer sends only the path, so there use the query string).
"""

from __future__ import annotations

from typing import Any

from markupsafe import escape


def greeting(name: str) -> str:
    return f"<p>Hello, {escape(name)}!</p>"


def name_of(event: dict[str, Any]) -> str:
    parameters = event.get("pathParameters") or {}
    if parameters.get("name"):
        return str(parameters["name"])
    query = event.get("queryStringParameters") or {}
    return str(query.get("name") or "world")


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "text/html; charset=utf-8"},
        "body": greeting(name_of(event)),
    }
