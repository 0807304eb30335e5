"""The hello function behind API Gateway (REST proxy, payload 1.0; HTTP API, payload 2.0) and
the load balancer.

`GET /hello?name=Ada` (its route in `config/<env>.toml`) answers
`{"message": "Hello, Ada!", "visits": N, "request_id": ...}`.
The greeting template is read from S3 once per execution environment; every request is recorded
in DynamoDB together with its name's visit counter, in one transaction. Standard library and
boto3 only: exactly what the Lambda Python runtime provides.

AWS calls, and the IAM actions the stack grants for them (a test keeps the two in step):
`s3:GetObject` on the greeting object; DynamoDB `TransactWriteItems`, which IAM authorizes by the
writes it contains: `dynamodb:UpdateItem` (the counter) and `dynamodb:PutItem` (the record).

Every request gets a JSON answer and one log line in time: AWS calls are retried and time out
within what is left of the invocation (`context.get_remaining_time_in_millis()`). Every answer
is also counted in the request metric (`request_metrics`): an error turned into a 5XX answer
raises no Lambda error, and that metric is what lets a release with such errors roll back.

Behind a user pool authorizer (dev's `GET /me`), API Gateway has verified the caller's token
and hands over its claims (`requestContext.authorizer.claims`; an HTTP API's, payload 2.0,
`requestContext.authorizer.jwt.claims`): without `?name=`, the greeting
names the caller (`email`, else `cognito:username`). With `[api.cors]`, every answer carries
the CORS headers for the request's origin (`cors`, a link to constructs_lib/cors.py).

The event shapes and the answer's shape are in `proxy_events`, the AWS calls within the
invocation's time in `aws_calls`; this module is the greeting itself.
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
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

import cors
import request_metrics
from aws_calls import Deadline, RetryLater, aws_call, error_code, upstream_status
from botocore.exceptions import BotoCoreError, ClientError
from proxy_events import HttpError, Request, parse_request, render

# The table and bucket this function is granted in config/<env>.toml, by key: the stack sets
# TABLE_<KEY>_NAME and BUCKET_<KEY>_NAME for what a function is granted.
TABLE_VARIABLE = "TABLE_REQUESTS_NAME"
BUCKET_VARIABLE = "BUCKET_ASSETS_NAME"
# The schema `[tables.requests]` declares (tests/test_app.py checks the shipped files).
PARTITION_KEY = "pk"
# The table's TTL attribute: epoch seconds after which DynamoDB deletes a request record.
TTL_ATTRIBUTE = "expires_at"
DEFAULT_GREETING_KEY = "greeting.txt"
DEFAULT_TEMPLATE = "Hello, {name}!"
DEFAULT_NAME = "world"
DEFAULT_RETENTION_DAYS = 30
MAX_NAME_LENGTH = 64
# Control (Cc), format (Cf: bidi overrides, zero-width characters), lone surrogates (Cs, which
# no UTF-8 encoder accepts), line and paragraph separators (Zl, Zp): nothing a name should hold.
FORBIDDEN_NAME_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
ALLOWED_METHOD = "GET"
# Conditional counter writes lost to concurrent requests for the same name before giving up.
MAX_COUNT_TRIES = 5
# Last counter values this environment saw: the first guess of the next conditional write.
KNOWN_VISITS_LIMIT = 10_000
# The largest answer each caller passes on, measured as the JSON the runtime returns: the
# load balancer takes at most 1 MB of response JSON from a Lambda target (elasticloadbalancing/
# latest/application/lambda-functions.html, read as 10^6 bytes, the stricter reading); a
# synchronous invocation's response is at most 6 MB, 6,291,456 bytes (lambda/latest/dg/
# gettingstarted-limits.html), which binds the REST API too.
MAX_ANSWER_BYTES = {"alb": 1_000_000, "apigateway": 6 * 1024 * 1024}
CALLERS = {"alb": "the load balancer", "apigateway": "Lambda"}
# No greeting can be longer than the largest answer: a bigger template object is not read whole.
MAX_TEMPLATE_BYTES = max(MAX_ANSWER_BYTES.values())


@dataclass(frozen=True)
class Settings:
    table_name: str
    bucket_name: str
    greeting_key: str
    retention_seconds: int

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> Settings:
        missing = [name for name in (TABLE_VARIABLE, BUCKET_VARIABLE) if not environ.get(name)]
        if missing:
            raise RuntimeError(f"environment variables not set: {', '.join(missing)}")
        retention = environ.get("REQUEST_RETENTION_DAYS", str(DEFAULT_RETENTION_DAYS))
        if not retention.isdigit() or int(retention) < 1:
            raise RuntimeError(f"REQUEST_RETENTION_DAYS must be a whole number >= 1: {retention!r}")
        return cls(
            table_name=environ[TABLE_VARIABLE],
            bucket_name=environ[BUCKET_VARIABLE],
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
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
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
_greeting_templates: dict[str, str] = {}
_known_visits: dict[str, int] = {}


class CounterContention(RetryLater):
    pass


def handler(event: Any, context: Any) -> dict[str, Any]:
    started = time.perf_counter()
    request_id = _invocation_id(context)
    request: Request | None = None
    try:
        deadline = Deadline.from_context(context)
        request = parse_request(event, request_id)
        request_id = request.request_id
        require_method(request)
        status, body, headers = HTTPStatus.OK, greet(request, deadline), {}
    except HttpError as error:
        status, body, headers = error.status, {"error": error.message}, error.headers
    except Exception as error:
        # The last resort: the client still gets JSON, the details go to the log only.
        LOGGER.exception(
            "unexpected error",
            extra={"fields": {"request_id": request_id, "error_type": type(error).__name__}},
        )
        status, body, headers = HTTPStatus.INTERNAL_SERVER_ERROR, {"error": "internal error"}, {}
    body["request_id"] = request_id
    request_metrics.emit(int(status))
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
    return render(request, status, body, {**headers, **cors.answer_headers(event, os.environ)})


def _invocation_id(context: Any) -> str:
    invocation_id = getattr(context, "aws_request_id", None)
    return invocation_id if isinstance(invocation_id, str) else str(uuid.uuid4())


def requested_name(request: Request) -> str:
    name = request.query.get("name") or request.caller or DEFAULT_NAME
    if len(name) > MAX_NAME_LENGTH:
        raise HttpError(
            HTTPStatus.BAD_REQUEST, f"name must be at most {MAX_NAME_LENGTH} characters"
        )
    if any(unicodedata.category(character) in FORBIDDEN_NAME_CATEGORIES for character in name):
        raise HttpError(
            HTTPStatus.BAD_REQUEST, "name must not contain control or invisible characters"
        )
    return name


def require_method(request: Request) -> None:
    if request.method != ALLOWED_METHOD:
        raise HttpError(
            HTTPStatus.METHOD_NOT_ALLOWED,
            f"method {request.method} not allowed, use {ALLOWED_METHOD}",
            {"Allow": ALLOWED_METHOD},
        )


# --- the greeting ---------------------------------------------------------------------------


def greet(request: Request, deadline: Deadline) -> dict[str, Any]:
    name = requested_name(request)
    with upstream("s3", "read the greeting template"):
        template = greeting_template(deadline)
    message = template.replace("{name}", name)
    # Before the visit is counted: an answer the caller would drop must not count.
    require_answer_fits(request, message)
    with upstream("dynamodb", "count and record the visit"):
        visits = count_and_record(request, name, deadline)
    return {"message": message, "visits": visits}


def require_answer_fits(request: Request, message: str) -> None:
    """An answer over what the caller passes on would reach the client as a bare 502 from the
    load balancer or API Gateway: answer 500 with the reason instead."""
    largest = {"message": message, "visits": 2**63 - 1, "request_id": request.request_id}
    size = answer_bytes(render(request, HTTPStatus.OK, largest, {}))
    limit = MAX_ANSWER_BYTES[request.source]
    if size > limit:
        LOGGER.error(
            "answer too large: the greeting template is too long",
            extra={"fields": {"answer_bytes": size, "limit_bytes": limit}},
        )
        raise HttpError(
            HTTPStatus.INTERNAL_SERVER_ERROR,
            f"the answer would be {size:,} bytes, more than {CALLERS[request.source]} passes on "
            f"({limit:,}): the greeting template is too long",
        )


def answer_bytes(response: dict[str, Any]) -> int:
    """The size of a response as the Python runtime serializes it (json.dumps)."""
    return len(json.dumps(response).encode())


def greeting_template(deadline: Deadline) -> str:
    """The S3 template, or the built-in one when the object does not exist.

    Kept for the life of the execution environment, the fallback included; a failed read
    raises and is not kept, so the next request tries again.
    """
    if SETTINGS.greeting_key not in _greeting_templates:
        _greeting_templates[SETTINGS.greeting_key] = _read_greeting_template(deadline)
    return _greeting_templates[SETTINGS.greeting_key]


def _read_greeting_template(deadline: Deadline) -> str:
    try:
        response = aws_call(
            deadline, "s3", "get_object", Bucket=SETTINGS.bucket_name, Key=SETTINGS.greeting_key
        )
    except ClientError as error:
        if error_code(error) != "NoSuchKey":
            raise
        LOGGER.info(
            "greeting template not found, using the built-in one",
            extra={"fields": {"bucket": SETTINGS.bucket_name, "key": SETTINGS.greeting_key}},
        )
        return DEFAULT_TEMPLATE
    # Never more than could be answered: a larger object is refused per request anyway.
    template = response["Body"].read(MAX_TEMPLATE_BYTES + 1).decode("utf-8", errors="replace")
    template = template.strip()
    LOGGER.debug("greeting template loaded", extra={"fields": {"template": template}})
    return template or DEFAULT_TEMPLATE


# --- the counter and the record, written together -------------------------------------------


def count_and_record(request: Request, name: str, deadline: Deadline) -> int:
    """Add one to the name's counter and store the request record, both or neither: the new count.

    Transactions return no values, so the counter is set from the value it is expected to hold,
    under that condition. When another request got there first, the cancelled condition reports
    the current value and the write is tried again from it.
    """
    expected = _known_visits.get(name, 0)
    for _ in range(MAX_COUNT_TRIES):
        try:
            aws_call(
                deadline,
                "dynamodb",
                "transact_write_items",
                TransactItems=[
                    _counter_update(name, expected),
                    _record_put(request, name, expected + 1),
                ],
            )
        except ClientError as error:
            counter, record = _cancellation_reasons(error)
            if _condition_failed(record):
                # An earlier attempt of this very request was written, but its answer was lost.
                return _visits_in(record)
            if not _condition_failed(counter):
                raise
            expected = _visits_in(counter)
            continue
        _remember_visits(name, expected + 1)
        return expected + 1
    raise CounterContention(f"the counter changed under {MAX_COUNT_TRIES} conditional writes")


def _counter_update(name: str, expected: int) -> dict[str, Any]:
    values = {":next": {"N": str(expected + 1)}}
    if expected:
        values[":expected"] = {"N": str(expected)}
    return {
        "Update": {
            "TableName": SETTINGS.table_name,
            "Key": {PARTITION_KEY: {"S": f"VISITS#{name}"}},
            "UpdateExpression": "SET #visits = :next",
            "ConditionExpression": (
                "#visits = :expected" if expected else "attribute_not_exists(#visits)"
            ),
            "ExpressionAttributeNames": {"#visits": "visits"},
            "ExpressionAttributeValues": values,
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    }


def _record_put(request: Request, name: str, visits: int) -> dict[str, Any]:
    expires_at = int(request.received_at.timestamp()) + SETTINGS.retention_seconds
    return {
        "Put": {
            "TableName": SETTINGS.table_name,
            "Item": {
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
            # A request is recorded once, however often its transaction is sent.
            "ConditionExpression": "attribute_not_exists(#pk)",
            "ExpressionAttributeNames": {"#pk": PARTITION_KEY},
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    }


def _cancellation_reasons(error: ClientError) -> tuple[dict[str, Any], dict[str, Any]]:
    """Why the counter update and the record put were cancelled (empty when they were not)."""
    reasons = error.response.get("CancellationReasons") or []
    if error_code(error) != "TransactionCanceledException" or len(reasons) != 2:
        return {}, {}
    return reasons[0], reasons[1]


def _condition_failed(reason: dict[str, Any]) -> bool:
    return reason.get("Code") == "ConditionalCheckFailed"


def _visits_in(reason: dict[str, Any]) -> int:
    """The visits of the item a failed condition reports; 0 when there is no item yet."""
    return int(reason.get("Item", {}).get("visits", {}).get("N", "0"))


def _remember_visits(name: str, visits: int) -> None:
    # Names are unbounded: forget them all now and then rather than grow without end.
    if len(_known_visits) >= KNOWN_VISITS_LIMIT:
        _known_visits.clear()
    _known_visits[name] = visits


@contextmanager
def upstream(service: str, purpose: str) -> Iterator[None]:
    """Turn a failed AWS call into a 502/503 answer; the cause goes to the log, not the client."""
    try:
        yield
    except (BotoCoreError, ClientError, RetryLater) as error:
        status = upstream_status(error)
        LOGGER.error(
            f"could not {purpose}",
            extra={
                "fields": {
                    "service": service,
                    "error_type": type(error).__name__,
                    "error_code": error_code(error),
                    "error": str(error),
                    "status": int(status),
                }
            },
        )
        if status == HTTPStatus.SERVICE_UNAVAILABLE:
            raise HttpError(status, f"{service} is unavailable, try again later") from None
        raise HttpError(status, f"{service} request failed") from None
