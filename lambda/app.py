"""The hello function behind API Gateway (REST proxy, payload 1.0) and the load balancer.

`GET /<path_part>?name=Ada` answers `{"message": "Hello, Ada!", "visits": N, "request_id": ...}`.
The greeting template is read from S3 once per execution environment; every request is recorded
in DynamoDB next to an atomic per-name visit counter. Standard library and boto3 only: exactly
what the Lambda Python runtime provides.

AWS calls, and the IAM actions the stack grants for them (a test keeps the two in step):
`s3:GetObject` on the greeting object, `dynamodb:UpdateItem` and `dynamodb:PutItem` on the table.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
import unicodedata
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote_plus

import boto3
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as EndpointConnectionFailure

# Must equal constructs_lib.dynamodb.PARTITION_KEY (this package cannot import the constructs).
PARTITION_KEY = "pk"
# The table's TTL attribute: epoch seconds after which DynamoDB deletes a request record.
TTL_ATTRIBUTE = "expires_at"
DEFAULT_GREETING_KEY = "greeting.txt"
DEFAULT_TEMPLATE = "Hello, {name}!"
DEFAULT_NAME = "world"
DEFAULT_RETENTION_DAYS = 30
MAX_NAME_LENGTH = 64
ALLOWED_METHOD = "GET"
JSON_HEADERS = {"Content-Type": "application/json"}
# Error codes that mean "try again later" although AWS answers them with a 4xx status.
THROTTLING_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "ThrottlingException",
        "Throttling",
        "SlowDown",
    }
)
# Short timeouts and the standard retry mode keep a failing dependency well inside the
# function timeout; AWS_MAX_ATTEMPTS in the environment still overrides the attempt count.
CLIENT_CONFIG = Config(connect_timeout=2, read_timeout=3, retries={"mode": "standard"})


@dataclass(frozen=True)
class Settings:
    table_name: str
    bucket_name: str
    greeting_key: str
    retention_seconds: int

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> Settings:
        missing = [name for name in ("TABLE_NAME", "BUCKET_NAME") if not environ.get(name)]
        if missing:
            raise RuntimeError(f"environment variables not set: {', '.join(missing)}")
        retention = environ.get("REQUEST_RETENTION_DAYS", str(DEFAULT_RETENTION_DAYS))
        if not retention.isdigit() or int(retention) < 1:
            raise RuntimeError(f"REQUEST_RETENTION_DAYS must be a whole number >= 1: {retention!r}")
        return cls(
            table_name=environ["TABLE_NAME"],
            bucket_name=environ["BUCKET_NAME"],
            greeting_key=environ.get("GREETING_KEY") or DEFAULT_GREETING_KEY,
            retention_seconds=int(retention) * 86_400,
        )


class JsonFormatter(logging.Formatter):
    """One JSON object per line, so CloudWatch Logs Insights can filter on every field."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "message": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        return json.dumps(entry, default=str)


def _configure_logger(level_name: str) -> logging.Logger:
    logger = logging.getLogger("app")
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    # Replace rather than add: loading the module again must not double every line.
    logger.handlers = [handler]
    # The Lambda runtime's root handler would print each record a second time, as text.
    logger.propagate = False
    level = logging.getLevelNamesMapping().get(level_name.upper())
    logger.setLevel(level or logging.INFO)
    if level is None:
        logger.warning("unknown LOG_LEVEL, using INFO", extra={"fields": {"given": level_name}})
    return logger


SETTINGS = Settings.from_environment(os.environ)
LOGGER = _configure_logger(os.environ.get("LOG_LEVEL", "INFO"))


@cache
def _dynamodb() -> BaseClient:
    """One client per execution environment; boto3 honours AWS_ENDPOINT_URL(_DYNAMODB)."""
    return boto3.client("dynamodb", config=CLIENT_CONFIG)


@cache
def _s3() -> BaseClient:
    return boto3.client("s3", config=CLIENT_CONFIG)


class HttpError(Exception):
    def __init__(
        self, status: HTTPStatus, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


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
    # An ALB target group with multi-value headers on expects `multiValueHeaders` back.
    multi_value_headers: bool = False
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def handler(event: Any, context: Any) -> dict[str, Any]:
    started = time.perf_counter()
    request_id = getattr(context, "aws_request_id", None) or str(uuid.uuid4())
    request: Request | None = None
    try:
        request = parse_request(event, request_id)
        request_id = request.request_id
        require_method(request)
        status, body, headers = HTTPStatus.OK, greet(request), {}
    except HttpError as error:
        status, body, headers = error.status, {"error": error.message}, error.headers
    body["request_id"] = request_id
    LOGGER.info(
        "request",
        extra={
            "fields": {
                "request_id": request_id,
                "source": request.source if request else None,
                "method": request.method if request else None,
                "path": request.path if request else None,
                "status": int(status),
                "latency_ms": round((time.perf_counter() - started) * 1000, 1),
            }
        },
    )
    return render(request, status, body, headers)


def parse_request(event: Any, invocation_id: str) -> Request:
    if not _is_proxy_event(event):
        raise HttpError(
            HTTPStatus.BAD_REQUEST, "expected an API Gateway REST proxy event or an ALB event"
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


def _rest_request(event: dict) -> Request:
    context = event["requestContext"]
    identity = context.get("identity") or {}
    return Request(
        source="apigateway",
        request_id=context["requestId"],
        method=event["httpMethod"],
        path=event["path"],
        # API Gateway has already percent-decoded the values; the last of repeated keys wins.
        query=_string_values(event.get("queryStringParameters")),
        source_ip=identity.get("sourceIp") or "",
        user_agent=identity.get("userAgent") or "",
    )


def _alb_request(event: dict, invocation_id: str) -> Request:
    multi_value = "multiValueHeaders" in event
    if multi_value:
        headers = {k.lower(): v[-1] for k, v in (event["multiValueHeaders"] or {}).items() if v}
        raw_query = {
            k: v[-1] for k, v in (event.get("multiValueQueryStringParameters") or {}).items() if v
        }
    else:
        headers = {k.lower(): v for k, v in _string_values(event.get("headers")).items()}
        raw_query = _string_values(event.get("queryStringParameters"))
    forwarded_for = [ip.strip() for ip in headers.get("x-forwarded-for", "").split(",")]
    return Request(
        source="alb",
        # The ALB event carries no request id of its own; the invocation id is unique per request.
        request_id=invocation_id,
        method=event["httpMethod"],
        path=event["path"],
        # The load balancer passes the query string through still percent-encoded.
        query={unquote_plus(k): unquote_plus(v) for k, v in raw_query.items()},
        # The ALB appends the address it saw: the rightmost entry is the one a client cannot forge.
        source_ip=forwarded_for[-1],
        user_agent=headers.get("user-agent", ""),
        multi_value_headers=multi_value,
    )


def _string_values(mapping: Any) -> dict[str, str]:
    if not isinstance(mapping, dict):
        return {}
    return {key: value for key, value in mapping.items() if isinstance(value, str)}


def requested_name(request: Request) -> str:
    name = request.query.get("name") or DEFAULT_NAME
    if len(name) > MAX_NAME_LENGTH:
        raise HttpError(
            HTTPStatus.BAD_REQUEST, f"name must be at most {MAX_NAME_LENGTH} characters"
        )
    if any(unicodedata.category(character) == "Cc" for character in name):
        raise HttpError(HTTPStatus.BAD_REQUEST, "name must not contain control characters")
    return name


def require_method(request: Request) -> None:
    if request.method != ALLOWED_METHOD:
        raise HttpError(
            HTTPStatus.METHOD_NOT_ALLOWED,
            f"method {request.method} not allowed, use {ALLOWED_METHOD}",
            {"Allow": ALLOWED_METHOD},
        )


def greet(request: Request) -> dict[str, Any]:
    name = requested_name(request)
    with upstream("s3", "read the greeting template"):
        template = greeting_template()
    with upstream("dynamodb", "count the visit"):
        visits = count_visit(name)
    with upstream("dynamodb", "record the request"):
        record_request(request, name, visits)
    return {"message": template.replace("{name}", name), "visits": visits}


@cache
def greeting_template() -> str:
    """The S3 template, or the built-in one when the object does not exist.

    Cached for the life of the execution environment, the fallback included; a failed read
    raises and is not cached, so the next request tries again.
    """
    try:
        response = _s3().get_object(Bucket=SETTINGS.bucket_name, Key=SETTINGS.greeting_key)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "NoSuchKey":
            raise
        LOGGER.info(
            "greeting template not found, using the built-in one",
            extra={"fields": {"bucket": SETTINGS.bucket_name, "key": SETTINGS.greeting_key}},
        )
        return DEFAULT_TEMPLATE
    template = response["Body"].read().decode("utf-8", errors="replace").strip()
    LOGGER.debug("greeting template loaded", extra={"fields": {"template": template}})
    return template or DEFAULT_TEMPLATE


def count_visit(name: str) -> int:
    """Atomically add one to the name's counter (creating it at 1) and return the new value."""
    response = _dynamodb().update_item(
        TableName=SETTINGS.table_name,
        Key={PARTITION_KEY: {"S": f"VISITS#{name}"}},
        UpdateExpression="ADD #visits :one",
        ExpressionAttributeNames={"#visits": "visits"},
        ExpressionAttributeValues={":one": {"N": "1"}},
        ReturnValues="UPDATED_NEW",
    )
    return int(response["Attributes"]["visits"]["N"])


def record_request(request: Request, name: str, visits: int) -> None:
    expires_at = int(request.received_at.timestamp()) + SETTINGS.retention_seconds
    _dynamodb().put_item(
        TableName=SETTINGS.table_name,
        Item={
            PARTITION_KEY: {"S": f"REQUEST#{request.request_id}"},
            "request_id": {"S": request.request_id},
            "source": {"S": request.source},
            "path": {"S": request.path},
            "method": {"S": request.method},
            "source_ip": {"S": request.source_ip},
            "user_agent": {"S": request.user_agent},
            "requested_at": {"S": request.received_at.isoformat(timespec="milliseconds")},
            "name": {"S": name},
            "visits": {"N": str(visits)},
            TTL_ATTRIBUTE: {"N": str(expires_at)},
        },
    )


@contextmanager
def upstream(service: str, purpose: str) -> Iterator[None]:
    """Turn a failed AWS call into a 502/503 answer; the cause goes to the log, not the client."""
    try:
        yield
    except (BotoCoreError, ClientError) as error:
        status = upstream_status(error)
        LOGGER.error(
            f"could not {purpose}",
            extra={
                "fields": {
                    "service": service,
                    "error_type": type(error).__name__,
                    "error_code": _error_code(error),
                    "error": str(error),
                    "status": int(status),
                }
            },
        )
        if status == HTTPStatus.SERVICE_UNAVAILABLE:
            raise HttpError(status, f"{service} is unavailable, try again later") from None
        raise HttpError(status, f"{service} request failed") from None


def upstream_status(error: BotoCoreError | ClientError) -> HTTPStatus:
    """503 for what may pass by itself (unreachable, throttled, 5xx), 502 for the rest."""
    if isinstance(error, EndpointConnectionFailure | HTTPClientError):
        return HTTPStatus.SERVICE_UNAVAILABLE
    if isinstance(error, ClientError):
        http_status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if http_status >= 500 or _error_code(error) in THROTTLING_CODES:
            return HTTPStatus.SERVICE_UNAVAILABLE
    return HTTPStatus.BAD_GATEWAY


def _error_code(error: BotoCoreError | ClientError) -> str | None:
    if isinstance(error, ClientError):
        return error.response.get("Error", {}).get("Code")
    return None


def render(
    request: Request | None, status: HTTPStatus, body: dict, headers: Mapping[str, str]
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
