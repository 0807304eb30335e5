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
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
import sys
import time
import unicodedata
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote_plus

import boto3
import cors
import request_metrics
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as EndpointConnectionFailure

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
JSON_HEADERS = {"Content-Type": "application/json"}
# Error codes that mean "try again later" although AWS answers them with a 4xx status.
RETRY_LATER_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "ThrottlingException",
        "Throttling",
        "SlowDown",
        "TransactionConflictException",
        "TransactionInProgressException",
    }
)
# Why a transaction was cancelled, when trying it again later may succeed.
RETRY_LATER_CANCELLATIONS = frozenset(
    {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}
)
# Full per-attempt timeouts; an attempt gets less when the invocation has less time left.
CONNECT_TIMEOUT_S = 2.0
READ_TIMEOUT_S = 3.0
# Budgets round down to twentieths of the full timeouts: an execution environment creates at
# most this many clients per service, and an attempt needs at least one twentieth (0.25 s).
TIMEOUT_STEPS = 20
MAX_ATTEMPTS = 3
BACKOFF_BASE_S = 0.05
BACKOFF_MAX_S = 1.0
# Kept back from the invocation's remaining time to log and return the answer.
REPLY_RESERVE_S = 0.3
# Without a Lambda context (a direct call), the stack's default function timeout.
DEFAULT_BUDGET_S = 10.0
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


class RetryLater(Exception):
    """An AWS call not made or given up for a reason that may pass: an answer of 503."""


class OutOfTime(RetryLater):
    pass


class CounterContention(RetryLater):
    pass


@dataclass(frozen=True)
class Deadline:
    """What is left of the invocation for AWS calls: the runtime's own countdown
    (`context.get_remaining_time_in_millis()`) less the time kept to reply; `sleep` waits
    between attempts. Tests pass a simulated countdown and sleep: no test of the timing
    depends on how busy the machine is."""

    remaining_ms: Callable[[], float]
    sleep: Callable[[float], None] = time.sleep

    @classmethod
    def from_context(cls, context: Any, sleep: Callable[[float], None] = time.sleep) -> Deadline:
        remaining_ms = getattr(context, "get_remaining_time_in_millis", None)
        return cls(remaining_ms if callable(remaining_ms) else _countdown(DEFAULT_BUDGET_S), sleep)

    def remaining(self) -> float:
        return self.remaining_ms() / 1000 - REPLY_RESERVE_S


def _countdown(seconds: float) -> Callable[[], float]:
    """Milliseconds left of `seconds` from now, as the runtime's context counts them."""
    ends_at = time.monotonic() + seconds
    return lambda: (ends_at - time.monotonic()) * 1000


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


# --- the event ------------------------------------------------------------------------------


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
        if _error_code(error) != "NoSuchKey":
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
    if _error_code(error) != "TransactionCanceledException" or len(reasons) != 2:
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


# --- AWS calls within the invocation's time -------------------------------------------------


def aws_call(deadline: Deadline, service: str, operation: str, **params: Any) -> dict[str, Any]:
    """One AWS operation, tried again after a transient failure while the deadline allows.

    botocore's own retries are off: they know nothing of the deadline.
    """
    attempt = 1
    while True:
        step = _timeout_step(deadline.remaining())
        if step < 1:
            raise OutOfTime(f"{deadline.remaining():.2f} s left, too little for {operation}")
        try:
            answer: dict[str, Any] = getattr(_client(service, step), operation)(**params)
            return answer
        except (BotoCoreError, ClientError) as error:
            pause = _backoff(attempt)
            if (
                attempt >= MAX_ATTEMPTS
                or upstream_status(error) != HTTPStatus.SERVICE_UNAVAILABLE
                or _timeout_step(deadline.remaining() - pause) < 1
            ):
                raise
        deadline.sleep(pause)
        attempt += 1


def _timeout_step(budget_s: float) -> int:
    """How many twentieths of the full timeouts fit into the budget, at most all of them."""
    full_s = CONNECT_TIMEOUT_S + READ_TIMEOUT_S
    return max(0, min(TIMEOUT_STEPS, math.floor(budget_s / full_s * TIMEOUT_STEPS)))


def _backoff(attempt: int) -> float:
    # Full jitter: clients failing together do not retry together.
    return random.uniform(0, min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2**attempt))


@cache
def _client(service: str, timeout_step: int) -> BaseClient:
    """One client per service and timeout step for the life of the execution environment.

    boto3 honours AWS_ENDPOINT_URL(_<SERVICE>). Timeouts are fixed when a client is made,
    hence a client per step; in the common case, plenty of time left, that is one per service.
    """
    scale = timeout_step / TIMEOUT_STEPS
    config = Config(
        connect_timeout=CONNECT_TIMEOUT_S * scale,
        read_timeout=READ_TIMEOUT_S * scale,
        retries={"mode": "standard", "total_max_attempts": 1},
    )
    return boto3.client(service, config=config)


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
                    "error_code": _error_code(error),
                    "error": str(error),
                    "status": int(status),
                }
            },
        )
        if status == HTTPStatus.SERVICE_UNAVAILABLE:
            raise HttpError(status, f"{service} is unavailable, try again later") from None
        raise HttpError(status, f"{service} request failed") from None


def upstream_status(error: BotoCoreError | ClientError | RetryLater) -> HTTPStatus:
    """503 for what may pass by itself (unreachable, throttled, 5xx, no time), 502 for the rest."""
    if isinstance(error, EndpointConnectionFailure | HTTPClientError | RetryLater):
        return HTTPStatus.SERVICE_UNAVAILABLE
    if isinstance(error, ClientError):
        http_status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if http_status >= 500 or _error_code(error) in RETRY_LATER_CODES:
            return HTTPStatus.SERVICE_UNAVAILABLE
        if _cancelled_for_a_while(error):
            return HTTPStatus.SERVICE_UNAVAILABLE
    return HTTPStatus.BAD_GATEWAY


def _cancelled_for_a_while(error: ClientError) -> bool:
    reasons = error.response.get("CancellationReasons") or []
    return any(reason.get("Code") in RETRY_LATER_CANCELLATIONS for reason in reasons)


def _error_code(error: BaseException) -> str | None:
    if isinstance(error, ClientError):
        code: str | None = error.response.get("Error", {}).get("Code")
        return code
    return None


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
