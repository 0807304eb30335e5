"""The HTTP API construct (API Gateway v2): routes and their integrations on the function's
target, permissions scoped to each route, the `$default` stage, authorizers and CORS, as
Terraform JSON; and the props' refusals."""

import json
from typing import Any

import pytest

from constructs_lib.cors import CorsPolicy
from constructs_lib.http_api import (
    HttpApiProps,
    JwtAuthorizer,
    LambdaAuthorizer,
    LambdaHttpApi,
    cognito_issuer,
)
from constructs_lib.releases import InvokeTarget
from constructs_lib.routes import Route
from tests.support import (
    TEST_KEY_ARN,
    build_two_targets,
    greet_route,
    only,
    ref,
    resources,
    synth_construct,
)

ISSUER = "https://issuer.example.com/"
TARGET = InvokeTarget("f", "arn:aws:lambda:us-east-1:1:function:f", "invoke-arn", "live")


def http_api_json(
    items: tuple[str, tuple[str, ...]] = ("AWS_IAM", ()),
    public: str = "NONE",
    **overrides: Any,
) -> dict:
    """`GET /greet` (IAM) to t-fn, `POST /items/{id}` (`public`) and `GET /items` (`items`:
    authorization and scopes) to t-other's live alias; `overrides` replace the API's props;
    an authorizer given as a dict is a Lambda authorizer on t-other's alias."""

    def build(stack):
        fn, targets = build_two_targets(stack)
        routes = [
            greet_route(fn),
            Route("POST", "/items/{id}", targets["other"], public),
            Route("GET", "/items", targets["other"], items[0], scopes=items[1]),
        ]
        authorizers = overrides.pop("authorizers", {})
        values: dict[str, Any] = {
            "name": "t-http",
            "routes": routes,
            "kms_key_arn": TEST_KEY_ARN,
            "throttling_rate_limit": 7.5,
            "throttling_burst_limit": 9,
            "log_retention_days": 30,
            "authorizers": {
                key: LambdaAuthorizer(targets["other"], **value)
                if isinstance(value, dict)
                else value
                for key, value in authorizers.items()
            },
            **overrides,
        }
        LambdaHttpApi(stack, "http", HttpApiProps(**values))

    return synth_construct(build)


@pytest.fixture(scope="module")
def plain() -> dict:
    return http_api_json()


def by_route_key(synthesized: dict) -> dict[str, dict]:
    return {
        route["route_key"]: route
        for route in resources(synthesized, "aws_apigatewayv2_route").values()
    }


def test_the_api_is_an_http_api_without_cors_unless_asked(plain):
    api = only(plain, "aws_apigatewayv2_api")
    assert api["name"] == "t-http"
    assert api["protocol_type"] == "HTTP"
    assert "cors_configuration" not in api


def test_each_route_is_its_method_and_path_with_its_authorization(plain):
    routes = by_route_key(plain)
    assert {key: route["authorization_type"] for key, route in routes.items()} == {
        "GET /greet": "AWS_IAM",
        "POST /items/{id}": "NONE",
        "GET /items": "AWS_IAM",
    }
    assert not any("authorizer_id" in route for route in routes.values())


def test_one_proxy_integration_per_target_with_payload_2(plain):
    integrations = resources(plain, "aws_apigatewayv2_integration")
    assert len(integrations) == 2  # t-fn and t-other's alias; two routes share the second
    alias_invoke_arn = ref(plain, "aws_lambda_alias", "live", "invoke_arn")
    function_invoke_arn = ref(plain, "aws_lambda_function", "fn", "invoke_arn")
    assert {i["integration_uri"] for i in integrations.values()} == {
        alias_invoke_arn,
        function_invoke_arn,
    }
    for integration in integrations.values():
        assert integration["integration_type"] == "AWS_PROXY"
        assert integration["payload_format_version"] == "2.0"
        assert integration["integration_method"] == "POST"
    routes = by_route_key(plain)
    targets = {
        key: next(
            i["integration_uri"]
            for address, i in integrations.items()
            if route["target"] == f"integrations/${{aws_apigatewayv2_integration.{address}.id}}"
        )
        for key, route in routes.items()
    }
    assert targets == {
        "GET /greet": function_invoke_arn,
        "POST /items/{id}": alias_invoke_arn,
        "GET /items": alias_invoke_arn,
    }


def test_each_route_may_invoke_its_target_from_its_method_and_path_only(plain):
    execution_arn = ref(plain, "aws_apigatewayv2_api", "http", "execution_arn")
    permissions = resources(plain, "aws_lambda_permission")
    sources = {p["source_arn"]: p for p in permissions.values()}
    assert set(sources) == {
        f"{execution_arn}/*/GET/greet",
        f"{execution_arn}/*/POST/items/*",
        f"{execution_arn}/*/GET/items",
    }
    alias = sources[f"{execution_arn}/*/GET/items"]
    assert alias["principal"] == "apigateway.amazonaws.com"
    assert alias["qualifier"] == ref(plain, "aws_lambda_alias", "live", "name")
    assert "qualifier" not in sources[f"{execution_arn}/*/GET/greet"]


def test_the_default_stage_deploys_itself_throttled_with_access_logs_and_route_metrics(plain):
    stage = only(plain, "aws_apigatewayv2_stage")
    assert stage["name"] == "$default"
    assert stage["auto_deploy"] is True
    assert stage["default_route_settings"] == {
        "throttling_rate_limit": 7.5,
        "throttling_burst_limit": 9,
        "detailed_metrics_enabled": True,
    }
    log_group = next(
        group
        for address, group in resources(plain, "aws_cloudwatch_log_group").items()
        if "access" in address
    )
    assert log_group["name"] == "/aws/apigateway/t-http/access"
    assert log_group["kms_key_id"] == TEST_KEY_ARN
    assert log_group["retention_in_days"] == 30
    settings = stage["access_log_settings"]
    assert settings["destination_arn"] == ref(plain, "aws_cloudwatch_log_group", "access", "arn")
    line = json.loads(settings["format"])
    assert line["requestId"] == "$context.requestId"
    assert line["routeKey"] == "$context.routeKey"
    assert line["status"] == "$context.status"


def test_a_jwt_authorizer_guards_its_routes_with_their_scopes():
    synthesized = http_api_json(
        items=("users", ("items/read",)),
        authorizers={"users": JwtAuthorizer(ISSUER, ["app-client", "other-client"])},
    )
    authorizer = only(synthesized, "aws_apigatewayv2_authorizer")
    assert authorizer["authorizer_type"] == "JWT"
    assert authorizer["name"] == "users"
    assert authorizer["identity_sources"] == ["$request.header.Authorization"]
    assert authorizer["jwt_configuration"] == {
        "issuer": ISSUER,
        "audience": ["app-client", "other-client"],
    }
    route = by_route_key(synthesized)["GET /items"]
    assert route["authorization_type"] == "JWT"
    assert route["authorizer_id"] == ref(synthesized, "aws_apigatewayv2_authorizer", "users", "id")
    assert route["authorization_scopes"] == ["items/read"]
    # The routes it does not guard keep their own authorization.
    assert by_route_key(synthesized)["GET /greet"]["authorization_type"] == "AWS_IAM"


def test_a_lambda_authorizer_is_a_cached_request_authorizer_with_simple_responses():
    synthesized = http_api_json(
        public="gate",
        authorizers={
            "gate": {"identity_sources": ["header.X-Key", "query.key"], "result_ttl_seconds": 60}
        },
    )
    authorizer = only(synthesized, "aws_apigatewayv2_authorizer")
    assert authorizer == {
        **authorizer,
        "authorizer_type": "REQUEST",
        "authorizer_uri": ref(synthesized, "aws_lambda_alias", "live", "invoke_arn"),
        "authorizer_payload_format_version": "2.0",
        "enable_simple_responses": True,
        "identity_sources": ["$request.header.X-Key", "$request.querystring.key"],
        "authorizer_result_ttl_in_seconds": 60,
    }
    route = by_route_key(synthesized)["POST /items/{id}"]
    assert route["authorization_type"] == "CUSTOM"
    # API Gateway may invoke the authorizer's function as this authorizer of this API only.
    execution_arn = ref(synthesized, "aws_apigatewayv2_api", "http", "execution_arn")
    authorizer_id = ref(synthesized, "aws_apigatewayv2_authorizer", "gate", "id")
    permission = next(
        p
        for p in resources(synthesized, "aws_lambda_permission").values()
        if "/authorizers/" in p["source_arn"]
    )
    assert permission["source_arn"] == f"{execution_arn}/authorizers/{authorizer_id}"
    assert permission["qualifier"] == ref(synthesized, "aws_lambda_alias", "live", "name")


def test_cors_is_the_apis_own_configuration():
    cors = CorsPolicy(
        allow_origins=("https://app.example.com",),
        allow_methods=("GET", "PUT"),
        allow_headers=("authorization", "content-type"),
        expose_headers=("x-request-id",),
        allow_credentials=True,
        max_age_s=600,
    )
    api = only(http_api_json(cors=cors), "aws_apigatewayv2_api")
    assert api["cors_configuration"] == {
        "allow_origins": ["https://app.example.com"],
        "allow_methods": ["GET", "PUT"],
        "allow_headers": ["authorization", "content-type"],
        "expose_headers": ["x-request-id"],
        "allow_credentials": True,
        "max_age": 600,
    }


def test_cors_without_methods_allows_every_method_a_route_serves():
    # One configuration for the whole API: the routes' methods together (GET and POST here).
    cors = CorsPolicy(allow_origins=("*",))
    api = only(http_api_json(cors=cors), "aws_apigatewayv2_api")
    assert api["cors_configuration"] == {
        "allow_origins": ["*"],
        "allow_methods": ["GET", "POST"],
        "allow_credentials": False,
    }


def test_the_cognito_issuer_is_the_user_pools_url():
    assert (
        cognito_issuer("eu-west-1", "eu-west-1_AbC123")
        == "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123"
    )


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: JwtAuthorizer("http://issuer.example.com", ["a"]), "https://"),
        (lambda: JwtAuthorizer(ISSUER, []), "1-50 audiences"),
        (lambda: JwtAuthorizer(ISSUER, [f"a{i}" for i in range(51)]), "1-50 audiences"),
        (lambda: LambdaAuthorizer(TARGET, result_ttl_seconds=3601), "0-3600"),
        (lambda: LambdaAuthorizer(TARGET, identity_sources=[]), "needs identity sources"),
        (lambda: LambdaAuthorizer(TARGET, identity_sources=["cookie.x"]), "identity source"),
    ],
)
def test_the_props_refuse_what_api_gateway_refuses(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_props_refuse_unknown_authorizers_scopes_without_jwt_and_too_many_authorizers():
    def props(routes_of=lambda route: [route], **overrides: Any) -> None:
        def build(stack):
            fn, targets = build_two_targets(stack)
            authorizers = {
                key: LambdaAuthorizer(targets["other"]) if value == "lambda" else value
                for key, value in overrides.pop("authorizers", {}).items()
            }
            HttpApiProps(
                name="t",
                routes=routes_of(greet_route(fn, **overrides)),
                kms_key_arn=TEST_KEY_ARN,
                throttling_rate_limit=1,
                throttling_burst_limit=1,
                log_retention_days=1,
                authorizers=authorizers,
            )

        synth_construct(build)

    with pytest.raises(ValueError, match="no authorizer 'nobody'"):
        props(authorization="nobody")
    with pytest.raises(ValueError, match="scopes need a JWT authorizer"):
        props(authorization="gate", scopes=("s",), authorizers={"gate": "lambda"})
    with pytest.raises(ValueError, match="scopes need a JWT authorizer"):
        props(authorization="AWS_IAM", scopes=("s",))
    with pytest.raises(ValueError, match="at most 10 scopes"):
        jwt = {"users": JwtAuthorizer(ISSUER, ["x"])}
        props(authorization="users", scopes=tuple(f"s{i}" for i in range(11)), authorizers=jwt)
    with pytest.raises(ValueError, match="at most 10 authorizers"):
        props(authorizers={f"a{i}": JwtAuthorizer(ISSUER, ["x"]) for i in range(11)})
    with pytest.raises(ValueError, match="repeat a method and path"):
        props(routes_of=lambda route: [route, route])
