"""The REST API's authorizers and CORS, function URLs and user pools, as synthesized; the CORS
policy the functions apply to their own answers."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cdktf import TerraformOutput

from constructs_lib.apigw import FunctionAuthorizer, UserPoolAuthorizer
from constructs_lib.cors import CorsPolicy, answer_headers
from constructs_lib.function_url import FunctionUrl, FunctionUrlProps
from constructs_lib.user_pool import HostedSignIn, ResourceServer, UserPool, UserPoolProps
from tests.support import (
    api_document,
    api_operations,
    build_api,
    build_function,
    greet_route,
    only,
    operation_authorization,
    resources,
    synth_construct,
    unqualified_target,
)

ORIGINS = ("https://app.example.com", "http://localhost:3000")
POOL_ARN = "arn:aws:cognito-idp:us-east-1:111111111111:userpool/us-east-1_abc"


def api_with(cors: CorsPolicy | None = None, **route: Any) -> dict:
    """GET /greet with `route`'s keys, a user pool authorizer `users` and a function
    authorizer `gate` (the function itself)."""

    def build(stack):
        function = build_function(stack)
        authorizers = [
            UserPoolAuthorizer("users", [POOL_ARN]),
            FunctionAuthorizer(
                "gate", unqualified_target(function), ("header.Authorization", "query.t"), 60
            ),
        ]
        build_api(
            stack,
            function,
            routes=[greet_route(function, **route)],
            authorizers=authorizers,
            cors=cors,
        )

    return synth_construct(build)


def test_a_route_names_its_authorizer_and_scopes():
    synthesized = api_with(authorization="users", scopes=("orders/write", "orders/read"))
    document = api_document(synthesized)
    operation = api_operations(synthesized)["GET /greet"]
    assert operation_authorization(document, operation) == "users"
    assert operation["security"] == [{"users": ["orders/write", "orders/read"]}]
    schemes = document["components"]["securitySchemes"]
    assert schemes["users"]["x-amazon-apigateway-authorizer"] == {
        "type": "cognito_user_pools",
        "providerARNs": [POOL_ARN],
    }
    assert schemes["users"]["x-amazon-apigateway-authtype"] == "cognito_user_pools"


def test_a_function_authorizer_is_a_request_authorizer_with_its_own_permission():
    synthesized = api_with(authorization="gate")
    document = api_document(synthesized)
    authorizer = document["components"]["securitySchemes"]["gate"]
    assert authorizer["x-amazon-apigateway-authtype"] == "custom"
    settings = authorizer["x-amazon-apigateway-authorizer"]
    assert settings["type"] == "request"
    # The neutral spelling of the config, as a REST API names the request's parts.
    assert settings["identitySource"] == (
        "method.request.header.Authorization, method.request.querystring.t"
    )
    assert settings["authorizerResultTtlInSeconds"] == 60
    # The function the route would invoke too (here unqualified; the stack's is `live`).
    assert (
        settings["authorizerUri"]
        == (api_operations(synthesized)["GET /greet"]["x-amazon-apigateway-integration"]["uri"])
    )
    permissions = resources(synthesized, "aws_lambda_permission").values()
    [permission] = [p for p in permissions if p["statement_id"].startswith("AllowApiGatewayAuth")]
    assert permission["statement_id"] == "AllowApiGatewayAuthorizer-gate"
    assert permission["principal"] == "apigateway.amazonaws.com"
    # Only this API's authorizers, no route or other API.
    assert permission["source_arn"].endswith(".execution_arn}/authorizers/*")


@pytest.mark.parametrize(
    ("route", "message"),
    [
        ({"authorization": "nobody"}, "GET /greet: no authorizer 'nobody'"),
        ({"authorization": "COGNITO_USER_POOLS"}, "no authorizer 'COGNITO_USER_POOLS'"),
        ({"authorization": "gate", "scopes": ("a",)}, "scopes need a user pool authorizer"),
        ({"authorization": "AWS_IAM", "scopes": ("a",)}, "scopes need a user pool authorizer"),
    ],
)
def test_the_api_refuses_a_route_it_cannot_authorize(route, message):
    with pytest.raises(ValueError, match=message):
        api_with(**route)


def test_without_cors_there_is_no_preflight_and_no_gateway_response():
    synthesized = api_with(authorization="users")
    document = api_document(synthesized)
    assert list(api_operations(synthesized)) == ["GET /greet"]
    assert "x-amazon-apigateway-gateway-responses" not in document


def preflight(synthesized: dict) -> tuple[dict, dict]:
    operation = api_operations(synthesized)["OPTIONS /greet"]
    integration = operation["x-amazon-apigateway-integration"]
    return operation, integration


def test_a_preflight_is_answered_by_api_gateway_without_credentials():
    cors = CorsPolicy(
        allow_origins=(ORIGINS[0],),
        allow_headers=("authorization", "content-type"),
        expose_headers=("x-request-id",),
        allow_credentials=True,
        max_age_s=600,
    )
    synthesized = api_with(cors, authorization="users")
    operation, integration = preflight(synthesized)
    assert "security" not in operation  # browsers send no credentials with a preflight
    assert integration["type"] == "mock"
    assert integration["requestTemplates"] == {"application/json": '{"statusCode": 200}'}
    response = integration["responses"]["default"]
    assert response["statusCode"] == "200"
    assert response["responseParameters"] == {
        "method.response.header.Vary": "'Origin'",
        "method.response.header.Access-Control-Allow-Origin": "'https://app.example.com'",
        "method.response.header.Access-Control-Allow-Credentials": "'true'",
        "method.response.header.Access-Control-Expose-Headers": "'x-request-id'",
        # The path's routes' methods: only GET here.
        "method.response.header.Access-Control-Allow-Methods": "'GET'",
        "method.response.header.Access-Control-Allow-Headers": "'authorization,content-type'",
        "method.response.header.Access-Control-Max-Age": "'600'",
    }
    # Every header the integration sets is declared on the method's 200.
    declared = set(operation["responses"]["200"]["headers"])
    assert {name.rsplit(".", 1)[1] for name in response["responseParameters"]} <= declared
    assert "responseTemplates" not in response


def test_several_origins_are_chosen_by_the_request_in_the_preflight():
    synthesized = api_with(CorsPolicy(allow_origins=ORIGINS))
    _, integration = preflight(synthesized)
    response = integration["responses"]["default"]
    assert (
        "method.response.header.Access-Control-Allow-Origin" not in response["responseParameters"]
    )
    template = response["responseTemplates"]["application/json"]
    assert '#set($allowed = ["https://app.example.com", "http://localhost:3000"])' in template
    assert "$context.responseOverride.header.Access-Control-Allow-Origin = $origin" in template


@pytest.mark.parametrize(
    ("origins", "allow_origin"),
    [
        (("*",), "'*'"),
        ((ORIGINS[0],), "'https://app.example.com'"),
        (ORIGINS, "method.request.header.Origin"),
    ],
)
def test_api_gateways_own_errors_carry_the_cors_headers(origins, allow_origin):
    synthesized = api_with(CorsPolicy(allow_origins=origins), authorization="users")
    responses = api_document(synthesized)["x-amazon-apigateway-gateway-responses"]
    assert set(responses) == {
        "DEFAULT_4XX",
        "DEFAULT_5XX",
        "UNAUTHORIZED",
        "ACCESS_DENIED",
        "AUTHORIZER_FAILURE",
        "AUTHORIZER_CONFIGURATION_ERROR",
    }
    for response in responses.values():
        parameters = response["responseParameters"]
        assert parameters["gatewayresponse.header.Access-Control-Allow-Origin"] == allow_origin
        assert ("gatewayresponse.header.Vary" in parameters) == (origins != ("*",))


@pytest.mark.parametrize(
    ("origin", "expected"),
    [
        ("https://app.example.com", "https://app.example.com"),
        ("https://evil.example.com", None),
        (None, None),
    ],
)
def test_a_function_answers_with_the_policy_of_its_variable(origin, expected):
    policy = CorsPolicy(allow_origins=ORIGINS, expose_headers=("x-id",), allow_credentials=True)
    environ = {"CORS_POLICY": policy.as_json()}
    event = {"headers": {"origin": origin} if origin else {}}
    headers = answer_headers(event, environ)
    assert headers.get("Access-Control-Allow-Origin") == expected
    assert headers["Vary"] == "Origin"
    if expected:
        assert headers["Access-Control-Allow-Credentials"] == "true"
        assert headers["Access-Control-Expose-Headers"] == "x-id"
    assert answer_headers(event, {}) == {}


def test_a_wildcard_policy_refuses_credentials():
    with pytest.raises(ValueError, match="credentials cannot be allowed for every origin"):
        CorsPolicy(allow_origins=("*",), allow_credentials=True)


def url_json(**props: object) -> dict:
    def build(stack):
        values = {"function_name": "t-fn", "qualifier": "live", **props}
        FunctionUrl(stack, "url", FunctionUrlProps(**values))  # type: ignore[arg-type]

    return synth_construct(build)


def test_a_signed_function_url_needs_no_permission_of_the_stack():
    synthesized = url_json(cors=CorsPolicy(allow_origins=ORIGINS, max_age_s=60))
    url = only(synthesized, "aws_lambda_function_url")
    assert (url["function_name"], url["qualifier"]) == ("t-fn", "live")
    assert (url["authorization_type"], url["invoke_mode"]) == ("AWS_IAM", "BUFFERED")
    assert url["cors"] == {
        "allow_origins": list(ORIGINS),
        "allow_methods": ["*"],
        "allow_credentials": False,
        "max_age": 60,
    }
    assert resources(synthesized, "aws_lambda_permission") == {}


def test_an_open_function_url_lets_anyone_invoke_that_url_only():
    synthesized = url_json(auth="NONE")
    permission = only(synthesized, "aws_lambda_permission")
    assert permission["action"] == "lambda:InvokeFunctionUrl"
    assert (permission["principal"], permission["function_url_auth_type"]) == ("*", "NONE")
    assert permission["qualifier"] == "live"


def test_a_user_pool_signs_users_in_by_email_with_a_public_srp_client():
    def build(stack):
        pool = UserPool(stack, "users", UserPoolProps(name="t-users", deletion_protection=True))
        TerraformOutput(stack, "issuer", value=pool.issuer)

    synthesized = synth_construct(build)
    issuer = synthesized["output"]["issuer"]["value"]
    assert issuer.startswith("https://${aws_cognito_user_pool.") and issuer.endswith(".endpoint}")
    pool = only(synthesized, "aws_cognito_user_pool")
    assert pool["name"] == "t-users"
    assert pool["deletion_protection"] == "ACTIVE"
    assert pool["username_attributes"] == ["email"]
    assert pool["admin_create_user_config"] == {"allow_admin_create_user_only": True}
    client = only(synthesized, "aws_cognito_user_pool_client")
    assert client["generate_secret"] is False
    assert client["explicit_auth_flows"] == ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    assert json.dumps(client["user_pool_id"]).count("aws_cognito_user_pool.") == 1
    # Without a resource server: no OAuth flows, no domain, no resource server.
    assert "allowed_oauth_flows" not in client and "allowed_oauth_scopes" not in client
    assert resources(synthesized, "aws_cognito_resource_server") == {}
    assert resources(synthesized, "aws_cognito_user_pool_domain") == {}


ORDERS = ResourceServer("orders", {"read": "Read orders", "write": "Place orders"})
CALLBACKS = ("https://app.example.com/callback", "http://localhost:3000/callback")


def test_a_resource_server_gives_the_client_its_scopes_through_the_hosted_sign_in():
    def build(stack):
        sign_in = HostedSignIn(ORDERS, CALLBACKS, "t-login")
        pool = UserPool(stack, "users", UserPoolProps(name="t-users", hosted_sign_in=sign_in))
        TerraformOutput(stack, "sign-in", value=pool.sign_in_url("eu-west-1"))

    synthesized = synth_construct(build)
    server_id, server = next(iter(resources(synthesized, "aws_cognito_resource_server").items()))
    assert (server["identifier"], server["name"]) == ("orders", "t-users")
    assert server["scope"] == [
        {"scope_name": "read", "scope_description": "Read orders"},
        {"scope_name": "write", "scope_description": "Place orders"},
    ]
    client = only(synthesized, "aws_cognito_user_pool_client")
    assert client["allowed_oauth_flows_user_pool_client"] is True
    assert client["allowed_oauth_flows"] == ["code"]
    assert client["allowed_oauth_scopes"] == ["openid", "email", "orders/read", "orders/write"]
    assert client["callback_urls"] == list(CALLBACKS)
    assert client["supported_identity_providers"] == ["COGNITO"]
    # Cognito refuses a scope no resource server has yet: the client waits for it.
    assert client["depends_on"] == [f"aws_cognito_resource_server.{server_id}"]
    domain = only(synthesized, "aws_cognito_user_pool_domain")
    assert domain["domain"] == "t-login"
    url = synthesized["output"]["sign-in"]["value"]
    assert url.startswith("https://${aws_cognito_user_pool_domain.")
    assert url.endswith(".domain}.auth.eu-west-1.amazoncognito.com")


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: ResourceServer("orders", {}), "1-100 scopes"),
        (lambda: ResourceServer("orders", {"a/b": "x"}), "not a scope name"),
        (lambda: ResourceServer("has space", {"a": "x"}), "not a resource server identifier"),
        (lambda: ResourceServer("o" * 250, {"written": "x"}), "longer than 256"),
        (lambda: ResourceServer("orders", {"a": ""}), "a description of 1-256"),
        (lambda: HostedSignIn(ORDERS, (), "t-login"), "1-100 callback URLs"),
        (lambda: HostedSignIn(ORDERS, ("http://app.example.com",), "t"), "not a callback URL"),
        (lambda: HostedSignIn(ORDERS, CALLBACKS, "my-cognito"), "containing 'cognito'"),
        (lambda: HostedSignIn(ORDERS, CALLBACKS, "-login"), "1-63 lowercase letters"),
    ],
)
def test_the_props_refuse_what_cognito_refuses(build, message):
    with pytest.raises(ValueError, match=message):
        build()
