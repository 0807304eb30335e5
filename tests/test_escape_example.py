"""functions/hello_deps/app.py, the `escape` example, served by API Gateway and by the load
balancer: the name from the path or the query, decoded the way each of them needs."""

import json
import os

import pytest

from scripts.local_events import ReceivedRequest, http_api_event, http_api_response
from serverless_app.config import RouteConfig
from tests.support import REPO_ROOT, load_function_module

SOURCE = REPO_ROOT / "functions" / "hello_deps" / "app.py"
TARGET_GROUP = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/hello-dev-escape/1"


@pytest.fixture(scope="module")
def app():
    return load_function_module(SOURCE, "escape_app")


def api_event(path: str, parameters: dict | None = None, query: dict | None = None) -> dict:
    """API Gateway's REST proxy event: parameters and query values arrive decoded."""
    return {
        "httpMethod": "GET",
        "resource": "/escape/{name}" if parameters else "/escape",
        "path": path,
        "pathParameters": parameters,
        "queryStringParameters": query,
        "requestContext": {"requestId": "r-1", "identity": {"sourceIp": "198.51.100.7"}},
        "isBase64Encoded": False,
    }


def alb_event(path: str, query: dict | None = None) -> dict:
    """The load balancer's event: the path and the query as the client sent them."""
    return {
        "requestContext": {"elb": {"targetGroupArn": TARGET_GROUP}},
        "httpMethod": "GET",
        "path": path,
        "queryStringParameters": query or {},
        "headers": {"host": "alb.example.com"},
        "body": "",
        "isBase64Encoded": False,
    }


ESCAPED_ADA = "<p>Hello, &lt;b&gt;Ada&lt;/b&gt;!</p>"


@pytest.mark.parametrize(
    ("event", "body"),
    [
        (api_event("/escape/x", parameters={"name": "<b>Ada</b>"}), ESCAPED_ADA),
        (api_event("/escape", query={"name": "<b>Ada</b>"}), ESCAPED_ADA),
        (api_event("/escape"), "<p>Hello, world!</p>"),
        # Behind the load balancer: the path after /escape/, percent-decoded ...
        (alb_event("/escape/%3Cb%3EAda%3C%2Fb%3E"), ESCAPED_ADA),
        (alb_event("/escape/Ada%20Lovelace"), "<p>Hello, Ada Lovelace!</p>"),
        # ... where a + is a plus, unlike in a query string.
        (alb_event("/escape/a+b"), "<p>Hello, a+b!</p>"),
        (alb_event("/escape", {"name": "%3Cb%3EAda+Lovelace%3C%2Fb%3E"}),
         "<p>Hello, &lt;b&gt;Ada Lovelace&lt;/b&gt;!</p>"),
        (alb_event("/escape"), "<p>Hello, world!</p>"),
        (alb_event("/escape/"), "<p>Hello, world!</p>"),
    ],
)  # fmt: skip
def test_the_name_is_read_and_escaped_on_both_paths(app, event, body):
    response = app.handler(event, None)
    assert (response["statusCode"], response["body"]) == (200, body)
    assert response["headers"] == {"Content-Type": "text/html; charset=utf-8"}


def http_api_answer(app, target: str, path: str, parameters: dict | None = None) -> tuple:
    """The example's answer to an HTTP API's event (payload 2.0), as the HTTP API reads it."""
    route = RouteConfig(method="GET", path=path, function="escape", authorization="NONE")
    event = http_api_event(
        ReceivedRequest(
            method="GET",
            target=target,
            headers=[("Host", "api.example.com"), ("Origin", "https://app.example.com")],
            body=b"",
            client_ip="198.51.100.7",
            server_port=443,
        ),
        route=route,
        path_parameters=parameters,
    )
    return http_api_response(app.handler(event, None))


@pytest.mark.parametrize(
    ("target", "path", "parameters", "body"),
    [
        ("/escape/%3Cb%3EAda%3C%2Fb%3E", "/escape/{name}", {"name": "<b>Ada</b>"}, ESCAPED_ADA),
        ("/escape?name=%3Cb%3EAda%3C%2Fb%3E", "/escape", None, ESCAPED_ADA),
        ("/escape", "/escape", None, "<p>Hello, world!</p>"),
    ],
    ids=["path-parameter", "query", "default"],
)
def test_an_http_api_gets_the_escaped_greeting(app, target, path, parameters, body):
    status, headers, payload = http_api_answer(app, target, path, parameters)
    assert (status, headers, payload.decode()) == (
        200,
        {"Content-Type": "text/html; charset=utf-8"},
        body,
    )


def test_the_load_balancer_gets_the_fields_it_requires(app):
    """Without isBase64Encoded the load balancer answers 502 (LambdaInvalidResponse)."""
    response = app.handler(alb_event("/escape/Ada"), None)
    assert response["isBase64Encoded"] is False
    assert response["statusDescription"] == "200 OK"
    # API Gateway's proxy response has no status description.
    assert "statusDescription" not in app.handler(api_event("/escape"), None)


def test_every_answer_is_counted_in_the_request_metric(app, capsys, monkeypatch):
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "dev-escape")
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_VERSION", "3")
    capsys.readouterr()
    app.handler(alb_event("/escape/Ada"), None)
    [line] = capsys.readouterr().out.splitlines()
    record = json.loads(line)
    assert (record["FunctionName"], record["ExecutedVersion"], record["ServerError"]) == (
        "dev-escape",
        "3",
        0,
    )
    assert record["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "ServerlessApp/Requests"


def test_the_request_metric_module_is_the_one_lambda_ships():
    """One source: the example links to lambda/request_metrics.py."""
    link = SOURCE.parent / "request_metrics.py"
    assert link.is_symlink()
    assert link.resolve() == (REPO_ROOT / "lambda" / "request_metrics.py").resolve()
    assert os.readlink(link) == "../../lambda/request_metrics.py"
