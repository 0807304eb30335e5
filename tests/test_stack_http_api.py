"""`[api] type = "http"`: the same file deploys its routes on an HTTP API instead of the REST
API. tests/config/http_api.toml is synthesized as it is and with `type = "rest"`, and the two
stacks compared: only the API's resources differ; the HTTP API's alarms read its metrics; its
custom domain is an API Gateway v2 domain with an API mapping."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from serverless_app.config import load_config
from tests.support import REPO_ROOT, only, ref, resources, synth_config

HTTP_API_FILE = REPO_ROOT / "tests" / "config" / "http_api.toml"
HTTP_TEXT = HTTP_API_FILE.read_text()
DOMAIN = '\n[domain]\nname = "api.example.com"\nhosted_zone_id = "Z0123456789ABCDEFGHIJ"\n'


def synth_text(tmp_path: Path, text: str) -> dict:
    path = tmp_path / "env.toml"
    path.write_text(text)
    return synth_config(load_config(path))


@pytest.fixture(scope="module")
def http_stack() -> dict:
    return synth_config(load_config(HTTP_API_FILE))


@pytest.fixture(scope="module")
def rest_stack(tmp_path_factory) -> dict:
    text = HTTP_TEXT.replace('type = "http"', 'type = "rest"')
    assert text != HTTP_TEXT
    return synth_text(tmp_path_factory.mktemp("rest"), text)


def types(stack: dict) -> Counter[str]:
    return Counter({kind: len(items) for kind, items in stack["resource"].items()})


def test_one_key_swaps_the_rest_api_for_an_http_api_and_nothing_else(http_stack, rest_stack):
    http, rest = types(http_stack), types(rest_stack)
    assert http - rest == Counter(
        {
            "aws_apigatewayv2_api": 1,
            # One integration per function (hello), one route per [[routes]] entry.
            "aws_apigatewayv2_integration": 1,
            "aws_apigatewayv2_route": 2,
            "aws_apigatewayv2_stage": 1,
        }
    )
    assert rest - http == Counter(
        {
            "aws_api_gateway_rest_api": 1,
            "aws_api_gateway_deployment": 1,
            "aws_api_gateway_stage": 1,
            "aws_api_gateway_method_settings": 1,
            # The REST stage's execution-log group; WAF on the REST stage.
            "aws_cloudwatch_log_group": 1,
            "aws_wafv2_web_acl_association": 1,
        }
    )
    # The account's logging role (the bootstrap's marker) is checked at plan time for the REST
    # stage only: an HTTP API delivers its access log without it.
    assert "aws_ssm_parameters_by_path" in rest_stack["data"]
    assert "aws_ssm_parameters_by_path" not in http_stack["data"]
    # Same functions, permissions per route, outputs.
    assert set(http_stack["output"]) == set(rest_stack["output"])


def test_the_http_api_is_named_as_the_rest_api_would_be(http_stack, rest_stack):
    assert only(http_stack, "aws_apigatewayv2_api")["name"] == "hello-httpapi"
    assert only(rest_stack, "aws_api_gateway_rest_api")["name"] == "hello-httpapi"


def test_waf_guards_only_the_load_balancer_of_an_http_api(http_stack):
    (association,) = resources(http_stack, "aws_wafv2_web_acl_association").values()
    assert association["resource_arn"] == ref(http_stack, "aws_lb", "alb", "arn")


def test_the_http_apis_alarms_read_its_id_stage_and_routes(http_stack):
    alarms = resources(http_stack, "aws_cloudwatch_metric_alarm")
    api_id = ref(http_stack, "aws_apigatewayv2_api", "http-api", "id")
    stage = ref(http_stack, "aws_apigatewayv2_stage", "stage", "name")
    latency = next(a for a in alarms.values() if a["alarm_name"] == "hello-httpapi-latency-p99")
    assert latency["namespace"] == "AWS/ApiGateway"
    assert latency["metric_name"] == "Latency"
    assert latency["dimensions"] == {"ApiId": api_id, "Stage": stage}
    routes = next(a for a in alarms.values() if a["alarm_name"] == "hello-httpapi-hello-api-5xx")
    metrics = [query["metric"] for query in routes["metric_query"] if "metric" in query]
    assert {(m["metric_name"], m["stat"]) for m in metrics} == {("5xx", "Average")}
    assert [m["dimensions"] for m in metrics] == [
        {"ApiId": api_id, "Stage": stage, "Resource": "/hello", "Method": "GET"},
        {"ApiId": api_id, "Stage": stage, "Resource": "/hello/{who}", "Method": "GET"},
    ]


def test_the_http_apis_custom_domain_maps_its_stage(tmp_path):
    stack = synth_text(tmp_path, HTTP_TEXT + DOMAIN)
    domain = only(stack, "aws_apigatewayv2_domain_name")
    assert domain["domain_name"] == "api.example.com"
    assert domain["domain_name_configuration"] == {
        "certificate_arn": ref(
            stack, "aws_acm_certificate_validation", "validation", "certificate_arn"
        ),
        "endpoint_type": "REGIONAL",
        "security_policy": "TLS_1_2",
    }
    mapping = only(stack, "aws_apigatewayv2_api_mapping")
    assert mapping["api_id"] == ref(stack, "aws_apigatewayv2_api", "http-api", "id")
    assert mapping["stage"] == ref(stack, "aws_apigatewayv2_stage", "stage", "name")
    assert "aws_api_gateway_domain_name" not in stack["resource"]
    record = next(
        r
        for r in resources(stack, "aws_route53_record").values()
        if r.get("alias", {}).get("name", "").startswith("${aws_apigatewayv2_domain_name")
    )
    address = next(iter(resources(stack, "aws_apigatewayv2_domain_name")))
    configuration = f"aws_apigatewayv2_domain_name.{address}.domain_name_configuration[0]"
    assert record["alias"]["name"] == f"${{{configuration}.target_domain_name}}"
    assert record["alias"]["zone_id"] == f"${{{configuration}.hosted_zone_id}}"
    assert stack["output"]["api_url"]["value"] == "https://api.example.com"
