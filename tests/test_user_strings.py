"""Each user string of the event, authorization and CORS keys reaches AWS exactly as written.

Table-driven, key by key: where the user writes a value, a valid value hostile to everything
between the file and AWS (Terraform's template syntax `${...}` and `%{...}`, the escapes `$${`
and `%%{` the user means literally, a trailing `$`, quotes, backslashes, characters beyond the
Basic Multilingual Plane, EventBridge's wildcard characters), and the place in the synthesized
Terraform JSON it must arrive at, read as Terraform reads it (`terraform_read`, checked against
`terraform console` below), character for character. Inside a JSON document the stack writes
(an event pattern, a filter policy, the REST API's OpenAPI body) the place is a path in the
parsed document: AWS parses it too. Where AWS refuses a value (a `$` in a queue name, template
syntax in a schedule expression), the check refuses it: one line naming the key, status 2.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

import main
from serverless_app.config import StackConfig
from tests.support import CONFIG_DIR, REPO_ROOT, resources, synth_config, with_test_account
from tests.test_config_fuzz import toml_document
from tests.test_terraform_literals import read_by_terraform_console, terraform_read

# Free text: template syntax of every kind, quotes, a backslash, a right-to-left override, an
# emoji and EventBridge's wildcard characters.
TEXT = 'a${var.x}%{ if true }b$${c}%%{d}$ é😀\u202e"q" \\ \'s *?'
# What an issuer URL and an OAuth scope take (no whitespace; a scope no quote or backslash).
ISSUER = 'https://login.example.com/${tenant}/%{v}/$${x}é"\\'
SCOPE = "orders/${x}%{y}$${z}"
# An object key prefix and suffix, and the one EventBridge `wildcard` matcher of both, where
# `*` and `\` are escaped with `\` (EventBridge's wildcard syntax).
PREFIX = "in/${d}*\\"
SUFFIX = "%{e}.csv"
WILDCARD = "in/${d}\\*\\\\*%{e}.csv"
# An event pattern of EventBridge's maximum size, 2048 characters as JSON, full of template
# syntax: the stack writes each `${` as `$${`, and AWS still gets 2048 characters.
LONG_PATTERN = {"source": ["${a}" * 500, "x" * 26]}

# Steps of a place: a JSON document is parsed there; the keys of the table there.
JSON = "<parse JSON>"
KEYS = "<keys>"
# What an interpolation (a reference the stack writes) becomes when a document is parsed.
REFERENCE = "<reference>"


@dataclass(frozen=True)
class Arrival:
    key: str  # where the user writes the value (the test's id)
    resource: str  # the resource type AWS gets it through
    address: str  # a part of the resource's Terraform address that picks it
    place: tuple[str | int, ...]  # the path inside the resource
    expected: Any  # what AWS gets there

    def __str__(self) -> str:
        return self.key


# The REST API stack: dev with the keys below set (`rest_file`).
REST_ARRIVALS = [
    Arrival(
        "triggers[].prefix",
        "aws_cloudwatch_event_rule",
        "trigger-prefixed_",
        ("event_pattern", JSON, "detail", "object", "key", 0, "prefix"),
        TEXT,
    ),
    Arrival(
        "triggers[].suffix",
        "aws_cloudwatch_event_rule",
        "trigger-suffixed_",
        ("event_pattern", JSON, "detail", "object", "key", 0, "suffix"),
        TEXT,
    ),
    Arrival(
        "triggers[].prefix + suffix",
        "aws_cloudwatch_event_rule",
        "trigger-both_",
        ("event_pattern", JSON, "detail", "object", "key", 0, "wildcard"),
        WILDCARD,
    ),
    Arrival(
        "triggers[].rule value",
        "aws_cloudwatch_event_rule",
        "trigger-custom_",
        ("event_pattern", JSON, "source", 1),
        TEXT,
    ),
    Arrival(
        "triggers[].rule key",
        "aws_cloudwatch_event_rule",
        "trigger-custom_",
        ("event_pattern", JSON, "detail", KEYS),
        [TEXT],
    ),
    Arrival(
        "triggers[].rule matcher",
        "aws_cloudwatch_event_rule",
        "trigger-custom_",
        ("event_pattern", JSON, "detail", TEXT, 0, "anything-but", "prefix"),
        TEXT,
    ),
    Arrival(
        "triggers[].rule at EventBridge's size limit",
        "aws_cloudwatch_event_rule",
        "trigger-long_",
        ("event_pattern", JSON),
        LONG_PATTERN,
    ),
    Arrival(
        "triggers[].filter_policy value",
        "aws_sns_topic_subscription",
        "trigger-worker-topic-alerts_",
        ("filter_policy", JSON, TEXT, 0),
        TEXT,
    ),
    Arrival(
        "triggers[].filter_policy key",
        "aws_sns_topic_subscription",
        "trigger-worker-topic-alerts_",
        ("filter_policy", JSON, KEYS),
        [TEXT],
    ),
    Arrival(
        "triggers[].schedule",
        "aws_scheduler_schedule",
        "trigger-weekdays_",
        ("schedule_expression",),
        "cron(0/15 8-17 ? * MON-FRI *)",
    ),
    Arrival(
        "triggers[].timezone",
        "aws_scheduler_schedule",
        "trigger-weekdays_",
        ("schedule_expression_timezone",),
        "America/Argentina/Buenos_Aires",
    ),
    Arrival(
        "queues.<key>",
        "aws_sqs_queue",
        "queue-backlog-v2_queue_",
        ("name",),
        "hello-dev-backlog-v2",
    ),
    Arrival("topics.<key>", "aws_sns_topic", "topic-alerts-v2_", ("name",), "hello-dev-alerts-v2"),
    Arrival(
        "authorizers.<key>.identity_sources (REST)",
        "aws_api_gateway_rest_api",
        "",
        ("body", JSON, "components", "securitySchemes", "gate", "x-amazon-apigateway-authorizer"),
        {
            "type": "request",
            "identitySource": (
                "method.request.header.X_Key-2, method.request.querystring.tok_en.x~"
            ),
            "authorizerUri": REFERENCE,
            "authorizerResultTtlInSeconds": 300,
        },
    ),
    Arrival(
        "functions.<key>.url.cors",
        "aws_lambda_function_url",
        "function-escape_",
        ("cors",),
        {
            "allow_credentials": False,
            "allow_methods": ["*"],
            "allow_origins": ["https://a-b.example.com:8443", "http://localhost:3000"],
            "allow_headers": ["X_Custom-Header"],
            "expose_headers": ["x-amz-request-id"],
            "max_age": 86400,
        },
    ),
]

# The HTTP API stack: tests/config/http_api.toml with the keys below set (`http_file`).
HTTP_ARRIVALS = [
    Arrival(
        "authorizers.<key>.audiences",
        "aws_apigatewayv2_authorizer",
        "authorizer-partners_",
        ("jwt_configuration", "audience"),
        [TEXT, "partner-api"],
    ),
    Arrival(
        "authorizers.<key>.issuer",
        "aws_apigatewayv2_authorizer",
        "authorizer-partners_",
        ("jwt_configuration", "issuer"),
        ISSUER,
    ),
    Arrival(
        "authorizers.<key>.identity_sources (HTTP)",
        "aws_apigatewayv2_authorizer",
        "authorizer-gate_",
        ("identity_sources",),
        ["$request.header.X_Key-2", "$request.querystring.tok_en.x~"],
    ),
    Arrival(
        "routes[].scopes",
        "aws_apigatewayv2_route",
        "route-post-orders-",
        ("authorization_scopes",),
        [SCOPE],
    ),
    Arrival(
        "api.cors",
        "aws_apigatewayv2_api",
        "",
        ("cors_configuration",),
        {
            "allow_credentials": False,
            "allow_headers": ["X_Custom-Header"],
            "allow_methods": ["GET", "POST"],
            "allow_origins": ["https://a-b.example.com:8443"],
            "expose_headers": ["x-amz-request-id"],
            "max_age": 600,
        },
    ),
]


def shipped(path) -> dict[str, Any]:
    return tomllib.loads(with_test_account(path.read_text()))


LAMBDA_AUTHORIZER = {
    "type": "lambda",
    "function": "hello",
    "identity_sources": ["header.X_Key-2", "query.tok_en.x~"],
}
GATE_ROUTE = {"method": "GET", "path": "/gate", "function": "hello", "authorization": "gate"}
CORS = {
    "allow_origins": ["https://a-b.example.com:8443"],
    "allow_headers": ["X_Custom-Header"],
    "expose_headers": ["x-amz-request-id"],
}


def rest_file() -> dict[str, Any]:
    """dev with one entry of each key of the REST table."""
    data = shipped(CONFIG_DIR / "dev.toml")
    data["queues"]["backlog-v2"] = {}
    data["topics"] = {"alerts": {}, "alerts-v2": {}}
    data["triggers"] += [
        {"function": "housekeeping", "bucket": "uploads", "name": "prefixed", "prefix": TEXT},
        {"function": "housekeeping", "bucket": "uploads", "name": "suffixed", "suffix": TEXT},
        {
            "function": "housekeeping",
            "bucket": "assets",
            "name": "both",
            "prefix": PREFIX,
            "suffix": SUFFIX,
        },
        {
            "function": "housekeeping",
            "name": "custom",
            "rule": {
                "source": ["my.app", TEXT],
                "detail": {TEXT: [{"anything-but": {"prefix": TEXT}}]},
            },
        },
        {"function": "housekeeping", "name": "long", "rule": LONG_PATTERN},
        {"function": "worker", "topic": "alerts", "filter_policy": {TEXT: [TEXT]}},
        {
            "function": "housekeeping",
            "name": "weekdays",
            "schedule": "cron(0/15 8-17 ? * MON-FRI *)",
            "timezone": "America/Argentina/Buenos_Aires",
        },
    ]
    url_cors = {**CORS, "allow_origins": [*CORS["allow_origins"], "http://localhost:3000"]}
    data["functions"]["escape"]["url"]["cors"] = url_cors | {"max_age_seconds": 86400}
    data["authorizers"]["gate"] = LAMBDA_AUTHORIZER
    data["routes"].append(GATE_ROUTE)
    return data


def http_file() -> dict[str, Any]:
    """The HTTP API test file with one entry of each key of the HTTP table."""
    data = shipped(REPO_ROOT / "tests" / "config" / "http_api.toml")
    data["authorizers"]["partners"] |= {"issuer": ISSUER, "audiences": [TEXT, "partner-api"]}
    data["authorizers"]["gate"] = LAMBDA_AUTHORIZER
    data["routes"].append(GATE_ROUTE)
    [orders] = [route for route in data["routes"] if route["path"] == "/orders"]
    orders["scopes"] = [SCOPE]
    data["api"]["cors"] = CORS | {"max_age_seconds": 600}
    return data


@pytest.fixture(scope="module")
def hostile_stacks() -> dict[str, dict]:
    return {
        "rest": synth_config(StackConfig.model_validate(rest_file())),
        "http": synth_config(StackConfig.model_validate(http_file())),
    }


def the_resource(stack: dict, arrival: Arrival) -> dict:
    [resource] = [
        body
        for address, body in resources(stack, arrival.resource).items()
        if arrival.address in address
    ]
    return resource


def as_read(text: str) -> str:
    """A JSON string as Terraform gives it to AWS; each interpolation as REFERENCE."""
    return "".join(REFERENCE if part is None else part for part in terraform_read(text))


def arrived(resource: dict, place: tuple[str | int, ...]) -> Any:
    """What AWS gets at `place`: strings as Terraform reads them, documents parsed."""
    value: Any = resource
    read = False  # inside a parsed document every string is already read
    for step in place:
        if step == JSON:
            value, read = json.loads(as_read(value)), True
        elif step == KEYS:
            value = list(value)
        else:
            value = value[step]
    return value if read else _read_all(value)


def _read_all(value: Any) -> Any:
    if isinstance(value, str):
        return as_read(value)
    if isinstance(value, list):
        return [_read_all(item) for item in value]
    if isinstance(value, dict):
        return {as_read(key): _read_all(item) for key, item in value.items()}
    return value


@pytest.mark.parametrize(
    ("stack", "arrival"),
    [*(("rest", row) for row in REST_ARRIVALS), *(("http", row) for row in HTTP_ARRIVALS)],
    ids=lambda value: str(value),
)
def test_the_value_reaches_aws_as_written(hostile_stacks, stack, arrival):
    resource = the_resource(hostile_stacks[stack], arrival)
    assert arrived(resource, arrival.place) == arrival.expected


def test_terraform_reads_these_strings_as_this_test_does(hostile_stacks, tmp_path):
    """`terraform_read` against Terraform itself on the strings of the table that hold no
    interpolation."""
    raw: list[str] = []
    for stack, rows in (("rest", REST_ARRIVALS), ("http", HTTP_ARRIVALS)):
        for arrival in rows:
            value = the_resource(hostile_stacks[stack], arrival)[arrival.place[0]]
            raw += [text for text in _strings(value) if None not in terraform_read(text)]
    assert any("$${" in text for text in raw) and any("%%{" in text for text in raw)
    assert read_by_terraform_console(raw, tmp_path) == [as_read(text) for text in raw]


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    return []


# --- what AWS refuses, the check refuses ------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    place: str  # the key path the one line names; `<new>` is the index of an added trigger
    change: Callable[[dict], None]

    def __str__(self) -> str:
        return self.place


def with_trigger(**trigger: Any) -> Callable[[dict], None]:
    """A change adding a trigger of housekeeping (at index `<new>`)."""
    return lambda data: data["triggers"].append({"function": "housekeeping", **trigger})


def with_cors(owner: Callable[[dict], dict], **cors: list[str]) -> Callable[[dict], None]:
    return lambda data: owner(data).setdefault("cors", {"allow_origins": ["*"]}).update(cors)


def _api(data: dict) -> dict:
    return data.setdefault("api", {})


def _escape_url(data: dict) -> dict:
    return data["functions"]["escape"].setdefault("url", {})


NIGHTLY = {"name": "weekdays", "schedule": "cron(0 2 * * ? *)"}
REFUSALS = [
    # SQS and SNS names: letters, digits, `-` and `_` (a key is stricter: it names variables).
    Refusal("queues.or$ders", lambda data: data.setdefault("queues", {}).update({"or$ders": {}})),
    Refusal("topics.a${x}", lambda data: data.setdefault("topics", {}).update({"a${x}": {}})),
    Refusal(
        "triggers[<new>].schedule", with_trigger(**NIGHTLY | {"schedule": "cron(${x} 2 * * ? *)"})
    ),
    Refusal("triggers[<new>].timezone", with_trigger(**NIGHTLY, timezone="Europe/${x}")),
    Refusal("triggers[<new>].name", with_trigger(**NIGHTLY | {"name": "a$b"})),
    Refusal(
        "api.cors.allow_origins[0]", with_cors(_api, allow_origins=["https://${x}.example.com"])
    ),
    Refusal("api.cors.allow_headers[0]", with_cors(_api, allow_headers=["x-${y}"])),
    Refusal(
        "functions.escape.url.cors.expose_headers[0]",
        with_cors(_escape_url, expose_headers=['x"y']),
    ),
    Refusal(
        "authorizers.gate.identity_sources[0]",
        lambda data: data.setdefault("authorizers", {}).update(
            gate={**LAMBDA_AUTHORIZER, "identity_sources": ["header.${x}"]}
        ),
    ),
    # Each fits S3's 1024 bytes; together, escaped as one wildcard beside the bucket's name,
    # they make an event pattern past EventBridge's 2048 characters.
    Refusal(
        "triggers[<new>].prefix",
        with_trigger(bucket="uploads", name="both", prefix="a*" * 500, suffix="b" * 1000),
    ),
    Refusal("triggers[<new>].rule", with_trigger(name="custom", rule={"source": ["x" * 2100]})),
]


@pytest.mark.parametrize("refusal", REFUSALS, ids=str)
def test_a_value_aws_refuses_is_one_line_naming_the_key(tmp_path, capsys, refusal):
    data = shipped(CONFIG_DIR / "dev.toml")
    new = len(data.get("triggers", []))
    refusal.change(data)
    path = tmp_path / "dev.toml"
    path.write_text(toml_document(data), encoding="utf-8")
    assert main.main(["--check", "--config", str(path)]) == 2
    [line] = capsys.readouterr().err.splitlines()
    place = refusal.place.replace("<new>", str(new))
    assert line.startswith(f"{path}: {place}: "), line
