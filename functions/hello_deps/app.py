"""A minimal function with one third-party dependency: MarkupSafe, whose wheels are built per
platform, so the package only works if it was built for Lambda's architecture and Python.

`GET ?name=<b>Ada</b>` answers an HTML greeting with the name escaped.
"""

from __future__ import annotations

from typing import Any

from markupsafe import escape


def greeting(name: str) -> str:
    return f"<p>Hello, {escape(name)}!</p>"


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    query = event.get("queryStringParameters") or {}
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "text/html; charset=utf-8"},
        "body": greeting(query.get("name") or "world"),
    }
