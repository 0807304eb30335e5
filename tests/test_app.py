"""The function in lambda/app.py against a real HTTP AWS endpoint: moto in server mode.

Each test loads the module afresh (a new execution environment) with boto3 pointed at moto
through AWS_ENDPOINT_URL; nothing in boto3 is patched.
"""

from __future__ import annotations

import json
import re
import socket
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import boto3
import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

from scripts.local_aws import (
    UNSET_AWS_VARIABLES,
    create_resources,
    local_aws_environment,
    local_bucket_name,
)
from tests.moto_server import enforce_iam, moto_server, reset
from tests.support import (
    REPO_ROOT,
    data_sources,
    env_config,
    file_values,
    load_function_module,
    name_prefix,
    only_of_function,
    resources,
)

APP_SOURCE = REPO_ROOT / "lambda" / "app.py"
# The function of the stack whose code is APP_SOURCE.
HELLO = "hello"
EVENTS = Path(__file__).parent / "events"
DEV = env_config("dev")
REGION = DEV.region
# The table and bucket the function is granted in the shipped files, and their schema.
TABLE_KEY, BUCKET_KEY = "requests", "assets"
# Named after project, env and key, as the file leaves the name out.
TABLE = f"{name_prefix(REPO_ROOT / 'config' / 'dev.toml')}-{TABLE_KEY}"
BUCKET = local_bucket_name(DEV, BUCKET_KEY)
SHIPPED = file_values(REPO_ROOT / "config" / "dev.toml")
PARTITION_KEY = SHIPPED["tables"][TABLE_KEY]["partition_key"]["name"]
TTL_ATTRIBUTE = SHIPPED["tables"][TABLE_KEY]["ttl_attribute"]
# The variables the stack sets for those grants (the documented names).
TABLE_VARIABLE, BUCKET_VARIABLE = "TABLE_REQUESTS_NAME", "BUCKET_ASSETS_NAME"
# Variables that would let the developer's own AWS setup leak into a test.
FUNCTION_VARIABLES = ("GREETING_KEY", "REQUEST_RETENTION_DAYS", "AWS_MAX_ATTEMPTS")


def load_event(name: str) -> dict:
    return json.loads((EVENTS / f"{name}.json").read_text())


def rest_event(name: str | None = "Ada") -> dict:
    event = load_event("apigw-rest-get")
    # API Gateway gives every request an id of its own; the function records each id once.
    event["requestContext"]["requestId"] = str(uuid.uuid4())
    query = None if name is None else {"name": name}
    event["queryStringParameters"] = query
    event["multiValueQueryStringParameters"] = None if name is None else {"name": [name]}
    return event


def body_of(response: dict) -> dict:
    return json.loads(response["body"])


def point_boto3_at(monkeypatch: pytest.MonkeyPatch, endpoint_url: str) -> None:
    for name in (*UNSET_AWS_VARIABLES, *FUNCTION_VARIABLES):
        monkeypatch.delenv(name, raising=False)
    for name, value in local_aws_environment(endpoint_url, REGION).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv(TABLE_VARIABLE, TABLE)
    monkeypatch.setenv(BUCKET_VARIABLE, BUCKET)
    monkeypatch.setenv("LOG_LEVEL", "INFO")


def provision(endpoint_url: str) -> None:
    """dev's tables and buckets, the bucket without its greeting object: each test puts the
    template it needs, or none."""
    bucket = DEV.buckets[BUCKET_KEY].model_copy(update={"objects": {}})
    create_resources(endpoint_url, DEV.model_copy(update={"buckets": {BUCKET_KEY: bucket}}))


def new_execution_environment() -> ModuleType:
    """lambda/app.py imported afresh (`lambda` is a keyword, so by path), with a new boto3
    default session: module state, clients and cached credentials all start over."""
    boto3.setup_default_session()
    return load_function_module(APP_SOURCE, "hello_app")


def calls_module(app: ModuleType) -> ModuleType:
    """The module of the function's package that makes its AWS calls, as `app` imported it."""
    return sys.modules[app.aws_call.__module__]


def json_records(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def json_lines(text: str) -> list[dict]:
    """The log lines in `text` (not the request metric's records)."""
    return [record for record in json_records(text) if "_aws" not in record]


def metric_records(text: str) -> list[dict]:
    """The request metric's embedded-metric-format records in `text`."""
    return [record for record in json_records(text) if "_aws" in record]


@dataclass
class LocalAws:
    """The test's own view of moto, with the resources the stack defines."""

    endpoint_url: str

    @property
    def dynamodb(self) -> BaseClient:
        return boto3.client("dynamodb", endpoint_url=self.endpoint_url, region_name=REGION)

    @property
    def s3(self) -> BaseClient:
        return boto3.client("s3", endpoint_url=self.endpoint_url, region_name=REGION)

    def item(self, key: str) -> dict | None:
        return self.dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": key}}).get("Item")

    def item_count(self) -> int:
        return self.dynamodb.scan(TableName=TABLE, Select="COUNT")["Count"]

    def put_greeting(self, template: str) -> None:
        self.s3.put_object(Bucket=BUCKET, Key="greeting.txt", Body=template.encode())


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with moto_server() as endpoint_url:
        yield endpoint_url


@pytest.fixture
def aws(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> LocalAws:
    reset(endpoint)
    point_boto3_at(monkeypatch, endpoint)
    provision(endpoint)
    return LocalAws(endpoint)


@pytest.fixture
def app(aws: LocalAws) -> ModuleType:
    return new_execution_environment()


# --- greeting and counter -------------------------------------------------------------------


def test_greets_by_name_with_built_in_template_when_object_is_missing(app):
    event = rest_event("Ada")
    response = app.handler(event, STANDING_CONTEXT)
    assert response["statusCode"] == 200
    assert response["headers"] == {"Content-Type": "application/json"}
    assert response["isBase64Encoded"] is False
    assert body_of(response) == {
        "message": "Hello, Ada!",
        "visits": 1,
        "request_id": event["requestContext"]["requestId"],
    }


def test_greets_through_an_http_api_with_payload_2(app):
    # `[api] type = "http"`: the HTTP API sends the 2.0 event shape.
    event = load_event("apigw-http-v2-get")
    event["requestContext"]["requestId"] = str(uuid.uuid4())
    response = app.handler(event, STANDING_CONTEXT)
    assert response["statusCode"] == 200
    assert body_of(response) == {
        "message": "Hello, Ada!",
        "visits": 1,
        "request_id": event["requestContext"]["requestId"],
    }


def test_name_defaults_to_world(app):
    assert body_of(app.handler(rest_event(None), STANDING_CONTEXT))["message"] == "Hello, world!"
    assert body_of(app.handler(rest_event(""), STANDING_CONTEXT))["message"] == "Hello, world!"


# A caller's verified claims, and whom the greeting names.
CALLERS = [
    ({"sub": "1", "email": "ada@example.com", "cognito:username": "ada"}, "ada@example.com"),
    ({"sub": "1", "cognito:username": "ada"}, "ada"),
    ({"sub": "1"}, "world"),
]


@pytest.mark.parametrize(("claims", "greeted"), CALLERS)
def test_a_signed_in_caller_is_greeted_by_the_claims_the_authorizer_verified(app, claims, greeted):
    event = rest_event(None)
    event["requestContext"]["authorizer"] = {"claims": claims}
    assert body_of(app.handler(event, STANDING_CONTEXT))["message"] == f"Hello, {greeted}!"
    # A name in the query still wins.
    event = {**rest_event("Bob"), "requestContext": event["requestContext"]}
    assert body_of(app.handler(event, STANDING_CONTEXT))["message"] == "Hello, Bob!"


@pytest.mark.parametrize(("claims", "greeted"), CALLERS)
def test_an_http_api_caller_is_greeted_by_its_jwt_authorizers_claims(app, claims, greeted):
    # AWS's payload 2.0 sample, whose JWT authorizer's claims are in authorizer.jwt.claims.
    event = load_event("apigw-http-v2-aws-docs")
    event["requestContext"]["requestId"] = str(uuid.uuid4())
    event["requestContext"]["http"]["method"] = "GET"
    del event["queryStringParameters"]
    event["requestContext"]["authorizer"]["jwt"]["claims"] = claims
    assert body_of(app.handler(event, STANDING_CONTEXT))["message"] == f"Hello, {greeted}!"


def test_with_the_apis_cors_policy_every_answer_names_a_listed_origin(app, monkeypatch):
    policy = (
        '{"allow_origins":["https://app.example.com"],"expose_headers":[],"allow_credentials":true}'
    )
    monkeypatch.setenv("CORS_POLICY", policy)
    event = rest_event("Ada")
    event["headers"] = {"origin": "https://app.example.com"}
    headers = app.handler(event, STANDING_CONTEXT)["headers"]
    assert headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert headers["Access-Control-Allow-Credentials"] == "true"
    assert headers["Vary"] == "Origin"
    # An error answer too, and another origin gets no grant.
    event = {**rest_event("x" * 10_000), "headers": {"Origin": "https://evil.example.com"}}
    answer = app.handler(event, STANDING_CONTEXT)
    assert answer["statusCode"] == 400
    assert "Access-Control-Allow-Origin" not in answer["headers"]
    assert answer["headers"]["Vary"] == "Origin"


def test_greeting_template_comes_from_s3(aws):
    aws.put_greeting("Howdy, {name}! Good to see you.\n")
    app = new_execution_environment()
    assert body_of(app.handler(rest_event("Ada"), STANDING_CONTEXT))["message"] == (
        "Howdy, Ada! Good to see you."
    )


def test_template_is_read_once_per_execution_environment(aws):
    aws.put_greeting("Hi {name}.")
    warm = new_execution_environment()
    assert body_of(warm.handler(rest_event("Ada"), STANDING_CONTEXT))["message"] == "Hi Ada."
    aws.put_greeting("Bye {name}.")
    assert body_of(warm.handler(rest_event("Ada"), STANDING_CONTEXT))["message"] == "Hi Ada."
    cold = new_execution_environment()
    assert body_of(cold.handler(rest_event("Ada"), STANDING_CONTEXT))["message"] == "Bye Ada."


def test_clients_are_created_once_per_execution_environment(aws):
    app = new_execution_environment()
    created: Counter[str] = Counter()
    boto3.DEFAULT_SESSION.events.register(
        "creating-client-class", lambda event_name, **_: created.update([event_name])
    )
    for name in ("Ada", "Grace", "Ada"):
        assert app.handler(rest_event(name), STANDING_CONTEXT)["statusCode"] == 200
    assert created == {"creating-client-class.dynamodb": 1, "creating-client-class.s3": 1}


def test_visits_count_per_name_across_calls(app, aws):
    visits = [
        body_of(app.handler(rest_event(n), STANDING_CONTEXT))["visits"]
        for n in ["Ada", "Ada", "Grace", "Ada"]
    ]
    assert visits == [1, 2, 1, 3]
    assert aws.item("VISITS#Ada")["visits"] == {"N": "3"}
    assert aws.item("VISITS#Grace")["visits"] == {"N": "1"}


def test_execution_environments_taking_turns_count_every_visit(aws):
    first, second = new_execution_environment(), new_execution_environment()
    visits = [
        body_of(environment.handler(rest_event("Ada"), STANDING_CONTEXT))["visits"]
        for environment in (first, second, first, second, first)
    ]
    assert visits == [1, 2, 3, 4, 5]
    assert aws.item("VISITS#Ada")["visits"] == {"N": "5"}
    assert aws.item_count() == 1 + 5


def test_a_request_already_recorded_is_not_counted_again(aws):
    # What a retried transaction meets when its first attempt was written but the answer lost.
    event = rest_event("Ada")
    first = new_execution_environment().handler(event, STANDING_CONTEXT)
    again = new_execution_environment().handler(event, STANDING_CONTEXT)
    assert body_of(first)["visits"] == body_of(again)["visits"] == 1
    assert aws.item("VISITS#Ada")["visits"] == {"N": "1"}
    assert aws.item_count() == 2


@pytest.mark.parametrize(("retention", "days"), [(None, 30), ("7", 7)])
def test_request_item_is_written_with_all_fields(aws, monkeypatch, retention, days):
    if retention is not None:
        monkeypatch.setenv("REQUEST_RETENTION_DAYS", retention)
    app = new_execution_environment()
    event = rest_event("Ada")
    request_id = event["requestContext"]["requestId"]
    before = time.time()
    app.handler(event, STANDING_CONTEXT)
    item = aws.item(f"REQUEST#{request_id}")
    assert item is not None
    requested_at = datetime.fromisoformat(item.pop("requested_at")["S"])
    expires_at = int(item.pop("expires_at")["N"])
    assert item == {
        "pk": {"S": f"REQUEST#{request_id}"},
        "request_id": {"S": request_id},
        "source": {"S": "apigateway"},
        "path": {"S": "/hello"},
        "method": {"S": "GET"},
        "source_ip": {"S": "203.0.113.10"},
        "user_agent": {"S": "curl/8.5.0"},
        "name": {"S": "Ada"},
        "visits": {"N": "1"},
    }
    assert requested_at.utcoffset() == timedelta(0)
    assert abs(requested_at.timestamp() - before) < 5
    assert expires_at - int(requested_at.timestamp()) == days * 86_400


@pytest.mark.parametrize("retention", ["0", "thirty", "-1"])
def test_invalid_retention_fails_at_init(aws, monkeypatch, retention):
    monkeypatch.setenv("REQUEST_RETENTION_DAYS", retention)
    with pytest.raises(RuntimeError, match="REQUEST_RETENTION_DAYS"):
        new_execution_environment()


def test_missing_table_variable_fails_at_init(aws, monkeypatch):
    monkeypatch.delenv(TABLE_VARIABLE)
    with pytest.raises(RuntimeError, match=TABLE_VARIABLE):
        new_execution_environment()


# --- the load balancer ----------------------------------------------------------------------


class LambdaContext(SimpleNamespace):
    """The attributes of the runtime's context object that the function reads."""


# Contexts whose countdown stands still at the stack's default timeout (10 s): however slow
# the machine, the function never runs out of time in a test that is not about time.
STANDING_CONTEXT = LambdaContext(get_remaining_time_in_millis=lambda: 10_000)
ALB_CONTEXT = LambdaContext(
    aws_request_id="6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f",
    get_remaining_time_in_millis=lambda: 10_000,
)


def test_alb_event_gets_alb_response_with_decoded_name(app, aws):
    response = app.handler(load_event("alb-get"), ALB_CONTEXT)
    assert response["statusCode"] == 200
    assert response["statusDescription"] == "200 OK"
    assert response["headers"] == {"Content-Type": "application/json"}
    assert body_of(response) == {
        "message": "Hello, Ada Lovelace!",
        "visits": 1,
        "request_id": ALB_CONTEXT.aws_request_id,
    }
    item = aws.item(f"REQUEST#{ALB_CONTEXT.aws_request_id}")
    assert (item["source"], item["source_ip"]) == ({"S": "alb"}, {"S": "198.51.100.7"})


def test_alb_with_multi_value_headers_gets_them_back(app, aws):
    response = app.handler(load_event("alb-get-multi-value"), ALB_CONTEXT)
    assert response["statusDescription"] == "200 OK"
    assert "headers" not in response
    assert response["multiValueHeaders"] == {"Content-Type": ["application/json"]}
    assert body_of(response)["message"] == "Hello, Grace Hopper!"
    item = aws.item(f"REQUEST#{ALB_CONTEXT.aws_request_id}")
    # The entry the load balancer appended, not the one the client sent.
    assert item["source_ip"] == {"S": "198.51.100.7"}
    assert item["user_agent"]["S"].startswith("Mozilla/5.0")


# --- bad input ------------------------------------------------------------------------------


# The callers' limits, in bytes of the response JSON: the load balancer's 1 MB for a Lambda
# target (taken as 10^6) and Lambda's 6 MB (6 MiB) for a synchronous invocation.
ALB_ANSWER_LIMIT = 1_000_000
LAMBDA_ANSWER_LIMIT = 6 * 1024 * 1024
LONGEST_NAME = "n" * 64
# (template, event, whether it fits): the template makes the message, `{name}` the name.
ANSWER_SIZES = {
    "1 MB through the load balancer": ("x" * ALB_ANSWER_LIMIT, "alb-get", False),
    "0.9 MB through the load balancer": ("x" * 900_000, "alb-get", True),
    "2 MB through API Gateway": ("x" * 2_000_000, "apigw-rest-get", True),
    # 0.7 MB of template, 6.6 MB once the names are in.
    "{name} x 100,000 through API Gateway": ("{name}" * 100_000, "apigw-rest-get", False),
}


@pytest.mark.parametrize(
    ("template", "event_name", "fits"), ANSWER_SIZES.values(), ids=list(ANSWER_SIZES)
)
def test_an_answer_too_large_for_the_caller_is_a_500_saying_why(
    aws, capsys, template, event_name, fits
):
    aws.put_greeting(template)
    app = new_execution_environment()
    if event_name == "alb-get":
        event = load_event(event_name)
        event["queryStringParameters"] = {"name": LONGEST_NAME}
    else:
        event = rest_event(LONGEST_NAME)
    response = app.handler(event, ALB_CONTEXT if event_name == "alb-get" else STANDING_CONTEXT)
    size = len(json.dumps(response).encode())
    limit = ALB_ANSWER_LIMIT if event_name == "alb-get" else LAMBDA_ANSWER_LIMIT
    assert size <= limit
    if fits:
        assert response["statusCode"] == 200
        assert aws.item_count() == 2  # the visit counter and the request record
        return
    caller = "the load balancer" if event_name == "alb-get" else "Lambda"
    assert_error(response, 500, rf"more than {caller} passes on \({limit:,}\)")
    assert "the greeting template is too long" in body_of(response)["error"]
    # Refused before the visit was counted: a dropped answer counts nothing.
    assert aws.item_count() == 0
    errors = [line for line in json_lines(capsys.readouterr().out) if line["level"] == "ERROR"]
    assert [line["message"] for line in errors] == [
        "answer too large: the greeting template is too long"
    ]
    assert errors[0]["answer_bytes"] > limit == errors[0]["limit_bytes"]


def assert_error(response: dict, status: int, message: str) -> None:
    assert response["statusCode"] == status
    assert response["headers"]["Content-Type"] == "application/json"
    body = body_of(response)
    assert set(body) == {"error", "request_id"}
    assert re.search(message, body["error"]), body["error"]


@pytest.mark.parametrize(
    ("event_name", "context"), [("apigw-rest-post", STANDING_CONTEXT), ("alb-post", ALB_CONTEXT)]
)
def test_methods_other_than_get_are_405(app, aws, event_name, context):
    response = app.handler(load_event(event_name), context)
    assert_error(response, 405, "POST not allowed")
    assert response["headers"]["Allow"] == "GET"
    assert aws.item_count() == 0


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("x" * 65, "at most 64 characters"),
        ("Ada\nLovelace", "control or invisible characters"),
        ("\x07", "control or invisible characters"),
        ("Ada\x7f", "control or invisible characters"),
        ("Ada\x85", "control or invisible characters"),
        ("Ada\ud800", "control or invisible characters"),  # a lone surrogate
        ("\u202eadA", "control or invisible characters"),  # right-to-left override
        ("A\u200bda", "control or invisible characters"),  # zero-width space
        ("Ada\u2028", "control or invisible characters"),  # line separator
        ("Ada\u2029", "control or invisible characters"),  # paragraph separator
    ],
    ids=[
        "too-long",
        "newline",
        "bell",
        "delete",
        "next-line",
        "surrogate",
        "rlo",
        "zwsp",
        "ls",
        "ps",
    ],
)
def test_bad_names_are_400(app, aws, name, message):
    assert_error(app.handler(rest_event(name), STANDING_CONTEXT), 400, message)
    assert aws.item_count() == 0


def test_longest_allowed_name_and_unicode_are_fine(app):
    assert (
        body_of(app.handler(rest_event("x" * 64), STANDING_CONTEXT))["message"]
        == f"Hello, {'x' * 64}!"
    )
    assert (
        body_of(app.handler(rest_event("Zoë 🚀"), STANDING_CONTEXT))["message"] == "Hello, Zoë 🚀!"
    )


def test_control_characters_arriving_percent_encoded_through_the_alb_are_400(app):
    event = load_event("alb-get")
    event["queryStringParameters"] = {"name": "Ada%0D%0ASet-Cookie"}
    assert_error(app.handler(event, ALB_CONTEXT), 400, "control or invisible characters")


@pytest.mark.parametrize(
    "event",
    [
        load_event("s3-object-created"),
        {**load_event("apigw-http-v2-get"), "version": "1.0"},
        {},
        [],
        None,
        "GET /hello",
        {"httpMethod": "GET", "path": "/hello"},
    ],
    ids=["s3", "http-api-1.0", "empty", "list", "none", "string", "no-request-context"],
)
def test_events_that_are_not_proxy_events_are_400(app, event):
    assert_error(app.handler(event, ALB_CONTEXT), 400, "expected an API Gateway REST proxy")


def set_in(event: dict, keys: tuple[str, ...], value: object) -> None:
    *parents, last = keys
    for key in parents:
        event = event[key]
    event[last] = value


@pytest.mark.parametrize(
    ("event_name", "keys", "value"),
    [
        ("apigw-rest-get", ("requestContext", "identity"), "203.0.113.10"),
        ("apigw-rest-get", ("requestContext", "identity", "userAgent"), 42),
        ("apigw-rest-get", ("requestContext", "identity", "userAgent"), "curl\ud800"),
        ("apigw-rest-get", ("queryStringParameters",), ["name", "Ada"]),
        ("apigw-rest-get", ("queryStringParameters", "name"), 7),
        ("alb-get-multi-value", ("multiValueHeaders",), ["user-agent"]),
        ("alb-get-multi-value", ("multiValueHeaders", "user-agent"), "curl/8.5.0"),
        ("alb-get-multi-value", ("multiValueHeaders", "accept"), None),
        ("alb-get-multi-value", ("multiValueQueryStringParameters", "name"), [7]),
        ("alb-get-multi-value", ("multiValueQueryStringParameters", "name"), "Ada"),
        ("alb-get", ("headers", "x-forwarded-for"), ["198.51.100.7"]),
    ],
    ids=[
        "identity-string",
        "user-agent-number",
        "user-agent-surrogate",
        "query-list",
        "query-number",
        "multi-value-headers-list",
        "multi-value-header-string",
        "multi-value-header-null",
        "multi-value-name-number",
        "multi-value-name-string",
        "header-list",
    ],
)
def test_malformed_events_are_400_with_a_log_line(aws, capsys, event_name, keys, value):
    event = load_event(event_name)
    set_in(event, keys, value)
    response = new_execution_environment().handler(event, ALB_CONTEXT)
    assert_error(response, 400, "^malformed event: ")
    [summary] = [
        line for line in json_lines(capsys.readouterr().out) if line["message"] == "request"
    ]
    assert summary["status"] == 400
    assert aws.item_count() == 0


def test_an_unexpected_error_is_a_500_without_details(aws, monkeypatch, capsys):
    app = new_execution_environment()

    def broken(*args: object) -> int:
        raise RuntimeError("internal detail")

    monkeypatch.setattr(app, "count_and_record", broken)
    response = app.handler(rest_event("Ada"), STANDING_CONTEXT)
    assert_error(response, 500, "^internal error$")
    assert "detail" not in response["body"]
    lines = json_lines(capsys.readouterr().out)
    [failure] = [line for line in lines if line["level"] == "ERROR"]
    assert (failure["message"], failure["error_type"]) == ("unexpected error", "RuntimeError")
    assert "RuntimeError: internal detail" in failure["traceback"]
    assert (lines[-1]["message"], lines[-1]["status"]) == ("request", 500)


# --- failing AWS calls ----------------------------------------------------------------------


@pytest.fixture
def unreachable_port() -> Iterator[int]:
    """A bound port nobody listens on: connecting is refused, as with a dead endpoint."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def test_dynamodb_unreachable_is_503_with_cause_logged(aws, monkeypatch, capsys, unreachable_port):
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", f"http://127.0.0.1:{unreachable_port}")
    app = new_execution_environment()
    response = app.handler(rest_event("Ada"), STANDING_CONTEXT)
    assert_error(response, 503, "dynamodb is unavailable")
    assert "Traceback" not in response["body"]
    [failure] = [line for line in json_lines(capsys.readouterr().out) if line["level"] == "ERROR"]
    assert failure["message"] == "could not count and record the visit"
    assert failure["error_type"] == "EndpointConnectionError"
    assert str(unreachable_port) in failure["error"]


@pytest.fixture
def silent_endpoint() -> Iterator[str]:
    """An endpoint on 127.0.0.1 that takes connections and never answers: the kernel completes
    every handshake into the listen queue, and nothing ever reads a request."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def standing_context(remaining_s: float) -> LambdaContext:
    """A context whose countdown stands still at remaining_s: whatever the machine's load,
    the function sees the same time left before every attempt."""
    return LambdaContext(
        aws_request_id=str(uuid.uuid4()),
        get_remaining_time_in_millis=lambda: remaining_s * 1000,
    )


@pytest.mark.parametrize("service", ["dynamodb", "s3"])
def test_a_silent_service_is_503_with_the_timeout_logged(
    aws, monkeypatch, capsys, silent_endpoint, service
):
    monkeypatch.setenv(f"AWS_ENDPOINT_URL_{service.upper()}", silent_endpoint)
    app = new_execution_environment()
    # Three attempts of 0.4 s + 0.6 s timeouts; how the attempts fit the time left is
    # test_calls_to_a_silent_service_are_over_before_the_invocation's.
    response = app.handler(rest_event("Ada"), standing_context(1.3))
    assert_error(response, 503, f"{service} is unavailable")
    lines = json_lines(capsys.readouterr().out)
    [failure] = [line for line in lines if line["level"] == "ERROR"]
    assert (failure["service"], failure["error_type"]) == (service, "ReadTimeoutError")
    assert (lines[-1]["message"], lines[-1]["status"]) == ("request", 503)
    assert aws.item_count() == 0


class SimulatedTime:
    """A clock that moves only when something takes time on it, never with machine load."""

    def __init__(self) -> None:
        self.now = 1000.0

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class SilentService:
    """In place of the function's client factory: every call to the service takes its client's
    whole connect and read timeouts (the worst a service that never answers costs) and fails
    with the read timeout. The clients are the function's own, with the timeouts it chose."""

    def __init__(self, calls: ModuleType, time_: SimulatedTime) -> None:
        self.make_client = calls._client
        self.time = time_
        self.attempts: list[tuple[float, float]] = []

    def client(self, service: str, timeout_step: int) -> SimpleNamespace:
        config = self.make_client(service, timeout_step).meta.config
        return SimpleNamespace(get_item=lambda **_: self._time_out(config))

    def _time_out(self, config: Any) -> None:
        self.attempts.append((config.connect_timeout, config.read_timeout))
        self.time.sleep(config.connect_timeout + config.read_timeout)
        raise ReadTimeoutError(endpoint_url="http://silent")


@pytest.mark.parametrize(
    ("remaining_s", "attempts"),
    [
        # 0.1 s once 0.3 s are kept to reply: less than the shortest attempt (a twentieth of
        # 2 s + 3 s), so no call starts.
        (0.4, []),
        (2, [(0.6, 0.9)]),  # six twentieths of 1.7 s; then 0.2 s left, too little to retry
        (6, [(2.0, 3.0), (0.2, 0.3)]),
        (30, [(2.0, 3.0)] * 3),  # at most three attempts
    ],
)
def test_calls_to_a_silent_service_are_over_before_the_invocation(
    aws, monkeypatch, remaining_s, attempts
):
    """Each attempt gets the largest timeouts that still fit in what is left of the invocation
    less 0.3 s to reply, and another attempt starts only while one still fits."""
    calls = calls_module(new_execution_environment())
    time_ = SimulatedTime()
    silent = SilentService(calls, time_)
    monkeypatch.setattr(calls, "_client", silent.client)
    ends_at = time_.now + remaining_s
    context = LambdaContext(get_remaining_time_in_millis=lambda: (ends_at - time_.now) * 1000)
    deadline = calls.Deadline.from_context(context, time_.sleep)
    with pytest.raises(ReadTimeoutError if attempts else calls.OutOfTime):
        calls.aws_call(deadline, "dynamodb", "get_item", TableName=TABLE, Key={})
    assert silent.attempts == [pytest.approx(attempt) for attempt in attempts]
    assert time_.now <= ends_at - 0.3


def test_a_direct_call_gets_the_default_timeout_less_the_reply_reserve(app):
    """Without a Lambda context (a direct call), the stack's default 10 s count down from now."""
    assert 0 < app.Deadline.from_context(None).remaining() <= 10 - 0.3


def test_no_call_is_started_without_time_for_it(aws, capsys):
    app = new_execution_environment()
    response = app.handler(rest_event("Ada"), standing_context(0.4))
    assert_error(response, 503, "s3 is unavailable")
    [failure] = [line for line in json_lines(capsys.readouterr().out) if line["level"] == "ERROR"]
    assert failure["error_type"] == "OutOfTime"


def test_missing_table_is_502(aws, monkeypatch, capsys):
    monkeypatch.setenv(TABLE_VARIABLE, "no-such-table")
    app = new_execution_environment()
    assert_error(app.handler(rest_event("Ada"), STANDING_CONTEXT), 502, "dynamodb request failed")
    [failure] = [line for line in json_lines(capsys.readouterr().out) if line["level"] == "ERROR"]
    assert failure["error_code"] == "ResourceNotFoundException"


def test_missing_bucket_is_502_and_nothing_is_written(aws, monkeypatch, capsys):
    monkeypatch.setenv(BUCKET_VARIABLE, "no-such-bucket")
    app = new_execution_environment()
    assert_error(app.handler(rest_event("Ada"), STANDING_CONTEXT), 502, "s3 request failed")
    [failure] = [line for line in json_lines(capsys.readouterr().out) if line["level"] == "ERROR"]
    assert (failure["service"], failure["error_code"]) == ("s3", "NoSuchBucket")
    assert aws.item_count() == 0


@pytest.mark.parametrize(
    ("code", "http_status", "expected"),
    [
        ("ProvisionedThroughputExceededException", 400, 503),
        ("ThrottlingException", 400, 503),
        ("InternalServerError", 500, 503),
        ("ServiceUnavailable", 503, 503),
        ("AccessDeniedException", 400, 502),
        ("ValidationException", 400, 502),
    ],
)
def test_aws_errors_map_to_502_or_503(app, code, http_status, expected):
    error = ClientError(
        {
            "Error": {"Code": code, "Message": "x"},
            "ResponseMetadata": {"HTTPStatusCode": http_status},
        },
        "UpdateItem",
    )
    calls = calls_module(app)
    assert calls.upstream_status(error) == expected
    assert calls.upstream_status(EndpointConnectionError(endpoint_url="http://x")) == 503


# --- logs -----------------------------------------------------------------------------------


def test_one_json_log_line_per_request(aws, capsys):
    app = new_execution_environment()
    capsys.readouterr()
    events = [rest_event("Ada"), rest_event("x" * 65), load_event("s3-object-created")]
    for event in events:
        app.handler(event, STANDING_CONTEXT)
    summaries = [
        line for line in json_lines(capsys.readouterr().out) if line["message"] == "request"
    ]
    assert [line["status"] for line in summaries] == [200, 400, 400]
    first = summaries[0]
    assert first["request_id"] == events[0]["requestContext"]["requestId"]
    assert first["level"] == "INFO"
    assert isinstance(first["latency_ms"], float) and first["latency_ms"] >= 0
    assert datetime.fromisoformat(first["timestamp"]).utcoffset() == timedelta(0)


def test_every_answer_is_counted_in_the_request_metric(aws, monkeypatch, capsys):
    """1 for a 5XX answer, 0 for any other, whatever LOG_LEVEL says: an error the function
    turns into an answer is no Lambda error, and this count is what can stop its release."""
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "dev-hello")
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_VERSION", "7")
    monkeypatch.setenv("LOG_LEVEL", "ERROR")
    app = new_execution_environment()
    capsys.readouterr()
    app.handler(rest_event("Ada"), STANDING_CONTEXT)
    app.handler(rest_event("x" * 65), STANDING_CONTEXT)
    monkeypatch.setattr(app, "count_and_record", lambda *_: 1 / 0)
    assert app.handler(rest_event("Ada"), STANDING_CONTEXT)["statusCode"] == 500
    records = metric_records(capsys.readouterr().out)
    assert [record["ServerError"] for record in records] == [0, 0, 1]
    assert {(r["FunctionName"], r["ExecutedVersion"]) for r in records} == {("dev-hello", "7")}


@pytest.mark.parametrize(("level", "expected"), [("DEBUG", True), ("WARNING", False)])
def test_log_level_comes_from_the_environment(aws, monkeypatch, capsys, level, expected):
    monkeypatch.setenv("LOG_LEVEL", level)
    aws.put_greeting("Hi {name}.")
    app = new_execution_environment()
    app.handler(rest_event("Ada"), STANDING_CONTEXT)
    messages = {line["message"] for line in json_lines(capsys.readouterr().out)}
    assert ("greeting template loaded" in messages) is expected
    assert ("request" in messages) is expected


def test_unknown_log_level_falls_back_to_info(aws, monkeypatch, capsys):
    monkeypatch.setenv("LOG_LEVEL", "CHATTY")
    app = new_execution_environment()
    app.handler(rest_event("Ada"), STANDING_CONTEXT)
    lines = json_lines(capsys.readouterr().out)
    assert lines[0]["message"] == "unknown LOG_LEVEL, using INFO"
    assert lines[-1]["message"] == "request"


# --- the function and the stack stay in step ------------------------------------------------


_TOKEN = re.compile(r"\$\{(?:data\.)?([a-z0-9_]+)\.([\w-]+)\.(\w+)\}")
# What the function's code talks to; the role's other grants serve the Lambda service
# (dead-letter queue) and KMS (encrypted variables and objects), never a call in app.py.
CODE_RESOURCE_TYPES = ("aws_dynamodb_table", "aws_s3_bucket")


def token(reference: str) -> tuple[str, str, str]:
    """`${type.id.attribute}` (or `${data.type.id.attribute}`) -> (type, id, attribute)."""
    match = _TOKEN.match(reference)
    assert match, f"not a Terraform reference: {reference}"
    return match.group(1), match.group(2), match.group(3)


def function_role_statements(synthesized: dict) -> list[dict]:
    """Every statement of the inline policies attached to the hello function's role (the one
    whose code is lambda/app.py)."""
    _, role_id, _ = token(only_of_function(synthesized, "aws_lambda_function", HELLO)["role"])
    documents = data_sources(synthesized, "aws_iam_policy_document")
    return [
        statement
        for policy in resources(synthesized, "aws_iam_role_policy").values()
        if token(policy["role"])[:2] == ("aws_iam_role", role_id)
        for statement in documents[token(policy["policy"])[1]]["statement"]
    ]


def code_statements(synthesized: dict) -> list[dict]:
    return [
        statement
        for statement in function_role_statements(synthesized)
        if all(token(r)[0] in CODE_RESOURCE_TYPES for r in statement["resources"])
    ]


# The IAM action of each write a DynamoDB transaction may contain: AWS has no action for the
# transaction itself and authorizes it write by write.
TRANSACTION_WRITE_ACTIONS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
}


def iam_actions(model: Any, params: dict) -> set[str]:
    """The IAM actions AWS checks for one call of an operation with these parameters."""
    if model.name == "TransactWriteItems":
        return {
            TRANSACTION_WRITE_ACTIONS[kind] for item in params["TransactItems"] for kind in item
        }
    # Every other operation this function calls has an action named like the operation.
    return {f"{model.service_model.signing_name}:{model.name}"}


def test_function_calls_exactly_the_actions_the_stack_grants(aws, stacks):
    aws.put_greeting("Hi {name}.")
    app = new_execution_environment()
    called: set[str] = set()
    boto3.DEFAULT_SESSION.events.register(
        "before-parameter-build",
        lambda model, params, **_: called.update(iam_actions(model, params)),
    )
    assert app.handler(rest_event("Ada"), STANDING_CONTEXT)["statusCode"] == 200
    granted = {action for s in code_statements(stacks["dev"]) for action in s["actions"]}
    assert called == granted == {"s3:GetObject", "dynamodb:UpdateItem", "dynamodb:PutItem"}


def test_stack_gives_the_function_the_names_it_uses(stacks):
    # The function these tests take the policy of is the one running this code.
    assert DEV.functions[HELLO].source_path == APP_SOURCE.parent
    app_constants = new_module_without_aws()
    variables = only_of_function(stacks["dev"], "aws_lambda_function", HELLO)["environment"][
        "variables"
    ]
    assert set(variables) >= {TABLE_VARIABLE, BUCKET_VARIABLE}
    assert (app_constants.TABLE_VARIABLE, app_constants.BUCKET_VARIABLE) == (
        TABLE_VARIABLE,
        BUCKET_VARIABLE,
    )
    [s3_statement] = [s for s in code_statements(stacks["dev"]) if s["actions"] == ["s3:GetObject"]]
    assert s3_statement["resources"][0].endswith(f".arn}}/{app_constants.DEFAULT_GREETING_KEY}")
    # The schema the code writes is the one the file declares, and so is the seeded template.
    assert app_constants.PARTITION_KEY == PARTITION_KEY
    assert app_constants.TTL_ATTRIBUTE == TTL_ATTRIBUTE
    objects = SHIPPED["buckets"][BUCKET_KEY]["objects"]
    assert objects[app_constants.DEFAULT_GREETING_KEY] == app_constants.DEFAULT_TEMPLATE


def new_module_without_aws() -> ModuleType:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(TABLE_VARIABLE, TABLE)
        patch.setenv(BUCKET_VARIABLE, BUCKET)
        return new_execution_environment()


# --- IAM enforced: the role's policy is enough, and every action the code needs is in it --

GRANTED_ACTIONS = ("dynamodb:PutItem", "dynamodb:UpdateItem", "s3:GetObject")
# moto, unlike AWS, authorizes a transaction as one action of its own: the test policies grant it
# exactly when the synthesized policy grants every write the function's transaction contains.
MOTO_TRANSACTION_ACTION = "dynamodb:TransactWriteItems"
FUNCTION_TRANSACTION_WRITES = {"dynamodb:PutItem", "dynamodb:UpdateItem"}
# The operation moto refuses when the policy lacks the action.
REFUSED_OPERATION = {
    "dynamodb:PutItem": "TransactWriteItems",
    "dynamodb:UpdateItem": "TransactWriteItems",
    "s3:GetObject": "GetObject",
}


def policy_document(statements: list[dict], without: str | None) -> str:
    """The synthesized statements as an IAM policy moto can evaluate, minus one action."""
    policy_statements = [
        {
            "Sid": statement["sid"],
            "Effect": statement["effect"],
            "Action": moto_actions(
                [action for action in statement["actions"] if action != without]
            ),
            "Resource": [moto_resource(resource) for resource in statement["resources"]],
        }
        for statement in statements
        if statement["actions"] != [without]
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": policy_statements})


def moto_actions(actions: list[str]) -> list[str]:
    if set(actions) >= FUNCTION_TRANSACTION_WRITES:
        return [*actions, MOTO_TRANSACTION_ACTION]
    return actions


def moto_resource(resource: str) -> str:
    """A synthesized resource (`${type.id.arn}` plus a suffix) as moto can evaluate it.

    S3 requests are checked against bucket and object ARNs: the token becomes the test bucket's.
    Requests to every other service are checked against the resource "*" only, so a table ARN
    would never match: the table's statement gets "*" and moto checks its actions alone (which
    table it names is checked by test_stack_gives_the_function_the_names_it_uses). Other
    resources get an ARN of their service that no request of the function touches.
    """
    resource_type, resource_id, _ = token(resource)
    if resource_type == "aws_s3_bucket":
        return _TOKEN.sub(f"arn:aws:s3:::{BUCKET}", resource)
    if resource_type == "aws_dynamodb_table":
        return "*"
    return f"arn:aws:{resource_type.split('_')[1]}:{REGION}:123456789012:{resource_id}"


@pytest.fixture(scope="module")
def iam_users(stacks) -> Iterator[tuple[str, dict[str | None, dict[str, str]]]]:
    """A moto server with IAM enforced and one user per policy variant: the synthesized
    role policy whole (key None) and without each action the code needs."""
    statements = function_role_statements(stacks["dev"])
    code_actions = sorted(a for s in code_statements(stacks["dev"]) for a in s["actions"])
    assert code_actions == list(GRANTED_ACTIONS)
    with moto_server() as endpoint_url, pytest.MonkeyPatch.context() as patch:
        point_boto3_at(patch, endpoint_url)
        boto3.setup_default_session()
        provision(endpoint_url)
        LocalAws(endpoint_url).put_greeting("Welcome, {name}.")
        iam = boto3.client("iam", endpoint_url=endpoint_url, region_name=REGION)
        keys: dict[str | None, dict[str, str]] = {}
        for without in (None, *GRANTED_ACTIONS):
            user = (
                "function" if without is None else f"function-without-{without.replace(':', '-')}"
            )
            iam.create_user(UserName=user)
            iam.put_user_policy(
                UserName=user,
                PolicyName="function",
                PolicyDocument=policy_document(statements, without),
            )
            key = iam.create_access_key(UserName=user)["AccessKey"]
            keys[without] = {
                "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
                "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
            }
        enforce_iam(endpoint_url)
        yield endpoint_url, keys


@pytest.fixture
def run_as(iam_users, monkeypatch) -> Callable[[str | None], dict]:
    endpoint_url, keys = iam_users

    def run(without: str | None) -> dict:
        point_boto3_at(monkeypatch, endpoint_url)
        for name, value in keys[without].items():
            monkeypatch.setenv(name, value)
        return new_execution_environment().handler(rest_event("Ada"), STANDING_CONTEXT)

    return run


def test_function_policy_is_enough_to_serve_a_request(run_as):
    response = run_as(None)
    assert response["statusCode"] == 200
    assert body_of(response)["message"] == "Welcome, Ada."


@pytest.mark.parametrize("action", GRANTED_ACTIONS)
def test_every_granted_action_is_needed(run_as, capsys, action):
    response = run_as(action)
    assert_error(response, 502, "request failed")
    [failure] = [line for line in json_lines(capsys.readouterr().out) if line["level"] == "ERROR"]
    assert failure["service"] == action.split(":")[0]
    # moto answers DynamoDB's denial in S3's XML error format, so botocore sees code "403".
    assert "AccessDenied" in failure["error"]
    assert f"calling the {REFUSED_OPERATION[action]} operation" in failure["error"]


@pytest.mark.parametrize("action", GRANTED_ACTIONS)
def test_a_refused_request_is_not_counted(run_as, action):
    """Each write refused (the record's included) leaves the counter where it was."""
    before = body_of(run_as(None))["visits"]
    assert run_as(action)["statusCode"] == 502
    assert body_of(run_as(None))["visits"] == before + 1
