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
# What only an HTTP API verifies (a REST API refuses a jwt authorizer): left out of the
# comparison, which needs a file valid for both kinds.
JWT_ONLY = (
    '[authorizers.partners]\ntype = "jwt"\nissuer = "https://issuer.example.com/"\n'
    'audiences = ["partner-api"]\n',
    '[[routes]]\nmethod = "POST"\npath = "/orders"\nfunction = "hello"\n'
    'authorization = "partners"\nscopes = ["orders/write"]         # the token must carry '
    "this scope\n",
)
DOMAIN = '\n[domain]\nname = "api.example.com"\nhosted_zone_id = "Z0123456789ABCDEFGHIJ"\n'


def synth_text(tmp_path: Path, text: str) -> dict:
    tmp_path.mkdir(exist_ok=True)
    path = tmp_path / "env.toml"
    path.write_text(text)
    return synth_config(load_config(path))


@pytest.fixture(scope="module")
def http_stack() -> dict:
    return synth_config(load_config(HTTP_API_FILE))


def without_jwt(text: str) -> str:
    for block in JWT_ONLY:
        assert block in text
        text = text.replace(block, "")
    return text


@pytest.fixture(scope="module")
def both_kinds(tmp_path_factory) -> tuple[dict, dict]:
    """The file without its jwt authorizer, as an HTTP API and as a REST API."""
    text = without_jwt(HTTP_TEXT)
    rest = text.replace('type = "http"', 'type = "rest"')
    assert rest != text
    folder = tmp_path_factory.mktemp("kinds")
    return synth_text(folder / "http", text), synth_text(folder / "rest", rest)


def types(stack: dict) -> Counter[str]:
    return Counter({kind: len(items) for kind, items in stack["resource"].items()})


def test_one_key_swaps_the_rest_api_for_an_http_api_and_nothing_else(both_kinds):
    http_stack, rest_stack = both_kinds
    http, rest = types(http_stack), types(rest_stack)
    assert http - rest == Counter(
        {
            "aws_apigatewayv2_api": 1,
            # One integration per function a route reaches (hello), one route per [[routes]]
            # entry; the user pool's tokens checked by a JWT authorizer and the gate function's
            # REQUEST authorizer (REST: both in the OpenAPI document).
            "aws_apigatewayv2_integration": 1,
            "aws_apigatewayv2_route": 5,
            "aws_apigatewayv2_stage": 1,
            "aws_apigatewayv2_authorizer": 2,
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


def test_the_http_api_is_named_as_the_rest_api_would_be(both_kinds):
    http_stack, rest_stack = both_kinds
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
        {"ApiId": api_id, "Stage": stage, "Resource": "/me", "Method": "GET"},
        {"ApiId": api_id, "Stage": stage, "Resource": "/orders", "Method": "GET"},
        {"ApiId": api_id, "Stage": stage, "Resource": "/orders", "Method": "POST"},
        {"ApiId": api_id, "Stage": stage, "Resource": "/reports", "Method": "GET"},
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


def test_cognito_and_jwt_authorizers_guard_their_routes_with_cors_on_the_api(http_stack):
    authorizers = {
        a["name"]: a for a in resources(http_stack, "aws_apigatewayv2_authorizer").values()
    }
    assert set(authorizers) == {"users", "partners", "gate"}
    pool = ref(http_stack, "aws_cognito_user_pool", "users", "endpoint")
    client = ref(http_stack, "aws_cognito_user_pool_client", "users", "id")
    assert authorizers["users"]["jwt_configuration"] == {
        "issuer": f"https://{pool}",
        "audience": [client],
    }
    assert authorizers["partners"]["jwt_configuration"] == {
        "issuer": "https://issuer.example.com/",
        "audience": ["partner-api"],
    }
    assert {authorizers[key]["authorizer_type"] for key in ("users", "partners")} == {"JWT"}
    routes = {r["route_key"]: r for r in resources(http_stack, "aws_apigatewayv2_route").values()}
    assert routes["GET /me"]["authorization_type"] == "JWT"
    assert routes["GET /me"]["authorizer_id"] == ref(
        http_stack, "aws_apigatewayv2_authorizer", "users", "id"
    )
    assert "authorization_scopes" not in routes["GET /me"]
    assert routes["POST /orders"]["authorization_scopes"] == ["orders/write"]
    # A scope of the user pool's resource server.
    assert routes["GET /orders"]["authorization_scopes"] == ["orders/read"]
    assert routes["GET /hello"]["authorization_type"] == "AWS_IAM"
    assert routes["GET /hello/{who}"]["authorization_type"] == "NONE"
    assert only(http_stack, "aws_apigatewayv2_api")["cors_configuration"] == {
        "allow_origins": ["https://app.example.com", "http://localhost:3000"],
        # No methods in the file: those the routes serve.
        "allow_methods": ["GET", "POST"],
        "allow_headers": ["authorization", "content-type"],
        "allow_credentials": False,
        "max_age": 600,
    }
    # The HTTP API sets the headers itself and ignores the functions': no CORS_POLICY for them.
    for function in resources(http_stack, "aws_lambda_function").values():
        assert "CORS_POLICY" not in function["environment"]["variables"]


def test_a_lambda_authorizer_invokes_its_functions_live_alias(http_stack):
    """The file's `gate` (functions/gate on X-Api-Key, decisions cached 120 s)."""
    (gate,) = [
        a
        for a in resources(http_stack, "aws_apigatewayv2_authorizer").values()
        if a["name"] == "gate"
    ]
    assert gate["authorizer_type"] == "REQUEST"
    assert gate["authorizer_uri"] == ref(http_stack, "aws_lambda_alias", "gate", "invoke_arn")
    assert gate["identity_sources"] == ["$request.header.X-Api-Key"]
    assert gate["authorizer_result_ttl_in_seconds"] == 120
    assert gate["enable_simple_responses"] is True
    routes = {r["route_key"]: r for r in resources(http_stack, "aws_apigatewayv2_route").values()}
    assert routes["GET /reports"]["authorization_type"] == "CUSTOM"
    assert routes["GET /reports"]["authorizer_id"] == ref(
        http_stack, "aws_apigatewayv2_authorizer", "gate", "id"
    )


def test_jwt_authorizers_are_refused_on_a_rest_api_only(tmp_path):
    from serverless_app.config import ConfigError

    path = tmp_path / "env.toml"
    path.write_text(HTTP_TEXT.replace('type = "http"', 'type = "rest"'))
    with pytest.raises(ConfigError) as error:
        load_config(path)
    (problem,) = error.value.problems
    assert problem.startswith(f"{path}: authorizers.partners.type: a REST API verifies only")
