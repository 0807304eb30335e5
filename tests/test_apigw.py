import json
import re
from typing import Any

import pytest

from constructs_lib.apigw import LambdaRestApi, RestApiProps
from constructs_lib.releases import InvokeTarget
from constructs_lib.routes import Route
from tests.support import (
    ANY_METHOD,
    SIGV4_SCHEME,
    TEST_KEY_ARN,
    api_document,
    api_operations,
    build_api,
    build_function,
    build_two_targets,
    greet_route,
    only,
    operation_authorization,
    ref,
    resources,
    rest_api_props,
    synth_construct,
)


def api_json(**overrides) -> dict:
    """One function at GET /greet; `overrides` replace API props, `authorization` the route's."""
    authorization = overrides.pop("authorization", "AWS_IAM")

    def build(stack):
        function = build_function(stack)
        route = greet_route(function, authorization=authorization)
        props = {
            "routes": [route],
            "throttling_rate_limit": 7,
            "throttling_burst_limit": 9,
            "logging_level": "INFO",
            "log_retention_days": 30,
            **overrides,
        }
        build_api(stack, function, **props)

    return synth_construct(build)


@pytest.fixture(scope="module")
def synthesized() -> dict:
    return api_json()


# The resources of the API the OpenAPI document replaces: none may come back, or a removed
# route would again outlive its deployment (see test_a_removed_route_leaves_nothing_behind).
PER_ROUTE_TYPES = (
    "aws_api_gateway_resource",
    "aws_api_gateway_method",
    "aws_api_gateway_integration",
    "aws_api_gateway_request_validator",
)


def validator(definition: dict, operation: dict) -> dict:
    """The settings of the request validator that applies to an operation."""
    name = operation.get(
        "x-amazon-apigateway-request-validator",
        definition.get("x-amazon-apigateway-request-validator"),
    )
    assert name is not None, "no request validator applies"
    return definition["x-amazon-apigateway-request-validators"][name]


def test_the_rest_api_is_one_openapi_document(synthesized):
    api = only(synthesized, "aws_api_gateway_rest_api")
    assert api["name"] == "t-api"
    definition = api_document(synthesized)
    assert definition["openapi"].startswith("3.")
    assert definition["info"]["title"] == "t-api"
    assert list(api_operations(synthesized)) == ["GET /greet"]
    for resource_type in PER_ROUTE_TYPES:
        assert resources(synthesized, resource_type) == {}, resource_type


def test_declared_parameters_are_validated_and_bodies_are_not(synthesized):
    definition = api_document(synthesized)
    [operation] = api_operations(synthesized).values()
    assert "parameters" not in operation  # no path parameter
    assert validator(definition, operation) == {
        "validateRequestParameters": True,
        "validateRequestBody": False,
    }


def test_iam_authorization_by_default_and_none_only_when_asked(synthesized):
    [operation] = api_operations(synthesized).values()
    assert operation["security"] == [{name: []} for name in operation_schemes(synthesized)]
    assert operation_authorization(api_document(synthesized), operation) == "AWS_IAM"
    public = api_json(authorization="NONE")
    [operation] = api_operations(public).values()
    assert "security" not in operation
    assert operation_authorization(api_document(public), operation) == "NONE"


def operation_schemes(synthesized: dict) -> list[str]:
    """The names of the document's SigV4 security schemes."""
    schemes = api_document(synthesized)["components"]["securitySchemes"]
    return [name for name, scheme in schemes.items() if scheme == SIGV4_SCHEME]


def test_lambda_proxy_integration_posts_to_invoke_arn(synthesized):
    [operation] = api_operations(synthesized).values()
    integration = operation["x-amazon-apigateway-integration"]
    # Lambda is always invoked with POST, whatever the client's method.
    assert (integration["type"], integration["httpMethod"]) == ("aws_proxy", "POST")
    assert integration["uri"] == ref(synthesized, "aws_lambda_function", "fn", "invoke_arn")


def test_permission_source_arn_comes_from_execution_arn(synthesized):
    permission = only(synthesized, "aws_lambda_permission")
    assert permission["principal"] == "apigateway.amazonaws.com"
    assert permission["action"] == "lambda:InvokeFunction"
    execution_arn = ref(synthesized, "aws_api_gateway_rest_api", "api", "execution_arn")
    assert permission["source_arn"] == f"{execution_arn}/*/GET/greet"
    assert "qualifier" not in permission
    assert "arn:aws:execute-api" not in permission["source_arn"]


def test_deployment_is_replaced_when_the_document_changes(synthesized):
    deployment = only(synthesized, "aws_api_gateway_deployment")
    assert "stage_name" not in deployment
    assert deployment["lifecycle"] == {"create_before_destroy": True}
    # Made after the document is applied: it names the API, whose body is the document.
    assert deployment["rest_api_id"] == ref(synthesized, "aws_api_gateway_rest_api", "api", "id")
    body = ref(synthesized, "aws_api_gateway_rest_api", "api", "body")[2:-1]
    assert deployment["triggers"] == {"redeployment": f"${{sha1({body})}}"}


def test_stage_with_xray_and_json_access_logs(synthesized):
    stage = only(synthesized, "aws_api_gateway_stage")
    assert stage["stage_name"] == "beta"
    assert stage["deployment_id"] == ref(synthesized, "aws_api_gateway_deployment", "api", "id")
    assert stage["xray_tracing_enabled"] is True
    access_log = stage["access_log_settings"]
    assert access_log["destination_arn"] == ref(
        synthesized, "aws_cloudwatch_log_group", "access-logs", "arn"
    )
    # One JSON object per request, built from API Gateway's $context variables.
    assert json.loads(access_log["format"]) == {
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "caller": "$context.identity.caller",
        "requestTime": "$context.requestTime",
        "httpMethod": "$context.httpMethod",
        "resourcePath": "$context.resourcePath",
        "status": "$context.status",
        "responseLength": "$context.responseLength",
        "integrationLatency": "$context.integrationLatency",
    }
    [group] = [
        g
        for rid, g in resources(synthesized, "aws_cloudwatch_log_group").items()
        if "access-logs" in rid
    ]
    assert (group["retention_in_days"], group["kms_key_id"]) == (30, TEST_KEY_ARN)


def test_method_settings_throttle_and_log_from_props(synthesized):
    settings = only(synthesized, "aws_api_gateway_method_settings")
    assert settings["method_path"] == "*/*"
    assert settings["settings"]["throttling_rate_limit"] == 7
    assert settings["settings"]["throttling_burst_limit"] == 9
    assert settings["settings"]["logging_level"] == "INFO"
    assert settings["settings"]["metrics_enabled"] is True
    assert settings["settings"]["data_trace_enabled"] is False


def test_the_account_logging_role_is_left_to_the_bootstrap_stack(synthesized):
    assert resources(synthesized, "aws_api_gateway_account") == {}
    roles = resources(synthesized, "aws_iam_role")
    assert all("fn_role" in rid for rid in roles), sorted(roles)


def test_execution_log_group_exists_before_the_stage(synthesized):
    groups = resources(synthesized, "aws_cloudwatch_log_group")
    [(group_id, group)] = [(rid, g) for rid, g in groups.items() if "execution-logs" in rid]
    api_id = ref(synthesized, "aws_api_gateway_rest_api", "api", "id")
    # The name API Gateway writes to; created by the stack, it gets retention and the key.
    assert group["name"] == f"API-Gateway-Execution-Logs_{api_id}/beta"
    assert (group["retention_in_days"], group["kms_key_id"]) == (30, TEST_KEY_ARN)
    assert only(synthesized, "aws_api_gateway_stage")["depends_on"] == [
        f"aws_cloudwatch_log_group.{group_id}"
    ]


def test_no_execution_log_group_when_execution_logging_is_off():
    quiet = api_json(logging_level="OFF")
    groups = resources(quiet, "aws_cloudwatch_log_group")
    assert not [rid for rid in groups if "execution-logs" in rid]
    assert "depends_on" not in only(quiet, "aws_api_gateway_stage")


# Several routes to two functions: `fn` unqualified, `other` through its live alias.
ROUTES = [
    ("GET", "/hello", "fn", "AWS_IAM"),
    ("POST", "/items", "other", "AWS_IAM"),
    ("GET", "/items/{id}", "other", "AWS_IAM"),
    ("ANY", "/files/{proxy+}", "fn", "AWS_IAM"),
    ("GET", "/", "fn", "NONE"),
]


def build_routed(stack, routes=ROUTES) -> LambdaRestApi:
    fn, targets = build_two_targets(stack)
    return LambdaRestApi(
        stack,
        "api",
        rest_api_props(
            fn,
            routes=[
                Route(method, path, targets[target], authorization)
                for method, path, target, authorization in routes
            ],
        ),
    )


@pytest.fixture(scope="module")
def routed() -> dict:
    return synth_construct(build_routed)


def test_each_path_holds_its_methods_with_any_as_the_any_method_key(routed):
    paths = api_document(routed)["paths"]
    assert {path: sorted(methods) for path, methods in paths.items()} == {
        "/hello": ["get"],
        "/items": ["post"],
        "/items/{id}": ["get"],
        "/files/{proxy+}": [ANY_METHOD],
        "/": ["get"],
    }


def test_each_route_has_its_authorization(routed):
    definition = api_document(routed)
    assert {
        name: operation_authorization(definition, operation)
        for name, operation in api_operations(routed).items()
    } == {
        "GET /hello": "AWS_IAM",
        "POST /items": "AWS_IAM",
        "GET /items/{id}": "AWS_IAM",
        "ANY /files/{proxy+}": "AWS_IAM",
        "GET /": "NONE",
    }


def test_path_parameters_are_declared_required_and_validated(routed):
    definition = api_document(routed)
    parameters = {
        name: operation.get("parameters") for name, operation in api_operations(routed).items()
    }
    string = {"type": "string"}
    assert parameters == {
        "GET /hello": None,
        "POST /items": None,
        "GET /items/{id}": [{"name": "id", "in": "path", "required": True, "schema": string}],
        # A greedy parameter is named without its `+`.
        "ANY /files/{proxy+}": [
            {"name": "proxy", "in": "path", "required": True, "schema": string}
        ],
        "GET /": None,
    }
    for operation in api_operations(routed).values():
        assert validator(definition, operation)["validateRequestParameters"] is True


def test_each_route_is_integrated_with_its_function(routed):
    integrations = {
        name: operation["x-amazon-apigateway-integration"]
        for name, operation in api_operations(routed).items()
    }
    assert {(i["type"], i["httpMethod"]) for i in integrations.values()} == {("aws_proxy", "POST")}
    function = ref(routed, "aws_lambda_function", "fn_function", "invoke_arn")
    alias = ref(routed, "aws_lambda_alias", "live", "invoke_arn")
    assert {name: i["uri"] for name, i in integrations.items()} == {
        "GET /hello": function,
        "POST /items": alias,
        "GET /items/{id}": alias,
        "ANY /files/{proxy+}": function,
        "GET /": function,
    }


def test_one_permission_per_route_for_its_method_and_path(routed):
    execution_arn = ref(routed, "aws_api_gateway_rest_api", "api", "execution_arn")
    fn = ref(routed, "aws_lambda_function", "fn_function", "function_name")
    other = ref(routed, "aws_lambda_function", "other_function", "function_name")
    live = ref(routed, "aws_lambda_alias", "live", "name")
    permissions = resources(routed, "aws_lambda_permission").values()
    assert {p["principal"] for p in permissions} == {"apigateway.amazonaws.com"}
    assert {p["action"] for p in permissions} == {"lambda:InvokeFunction"}
    granted = {
        p["source_arn"].removeprefix(execution_arn): (p["function_name"], p.get("qualifier"))
        for p in permissions
    }
    assert len(granted) == len(permissions)
    assert granted == {
        "/*/GET/hello": (fn, None),
        "/*/POST/items": (other, live),
        "/*/GET/items/*": (other, live),
        "/*/*/files/*": (fn, None),
        "/*/GET/": (fn, None),
    }


def test_permission_statement_ids_are_valid_and_unique(routed):
    ids = [p["statement_id"] for p in resources(routed, "aws_lambda_permission").values()]
    assert len(set(ids)) == len(ids) == len(ROUTES)
    for statement_id in ids:
        # Lambda: 1-100 characters of letters, digits, `-` and `_`.
        assert re.fullmatch(r"[A-Za-z0-9_-]{1,100}", statement_id), statement_id


def without(routes: list, name: str) -> list:
    return [route for route in routes if f"{route[0]} {route[1]}" != name]


def test_a_removed_route_leaves_nothing_behind(routed):
    """Removing a route edits the document (applied in one overwrite, before the new
    deployment is made) and drops its permission; nothing else of the API is touched."""
    removed = "GET /items/{id}"
    fewer = synth_construct(lambda stack: build_routed(stack, without(ROUTES, removed)))
    assert set(api_operations(fewer)) == set(api_operations(routed)) - {removed}
    assert "/items/{id}" not in api_document(fewer)["paths"]
    kept = resources(fewer, "aws_lambda_permission")
    assert set(kept) < set(resources(routed, "aws_lambda_permission"))
    assert [p for p in kept.values() if p["source_arn"].endswith("/GET/items/*")] == []
    # The API, its deployment and stage keep their addresses: updated, not replaced.
    for resource_type in (
        "aws_api_gateway_rest_api",
        "aws_api_gateway_deployment",
        "aws_api_gateway_stage",
    ):
        assert set(resources(fewer, resource_type)) == set(resources(routed, resource_type))
    for resource_type in PER_ROUTE_TYPES:
        assert resources(fewer, resource_type) == {}, resource_type


def one_route(method="GET", path="/greet", authorization="AWS_IAM", target="fn") -> dict:
    return synth_construct(
        lambda stack: build_routed(stack, [(method, path, target, authorization)])
    )


@pytest.fixture(scope="module")
def base_variant() -> dict:
    return one_route()


@pytest.mark.parametrize(
    "change",
    [{"method": "POST"}, {"path": "/hello"}, {"authorization": "NONE"}, {"target": "other"}],
    ids=["method", "path", "authorization", "target"],
)
def test_every_change_to_a_route_changes_the_document_the_deployment_hashes(base_variant, change):
    """The trigger is `sha1(<api>.body)` at the same address in both: Terraform hashes the
    changed document, so the stage gets a new deployment."""
    variant = one_route(**change)
    assert api_document(variant) != api_document(base_variant)
    for synthesized in (base_variant, variant):
        body = ref(synthesized, "aws_api_gateway_rest_api", "api", "body")[2:-1]
        deployment = only(synthesized, "aws_api_gateway_deployment")
        assert deployment["triggers"]["redeployment"] == f"${{sha1({body})}}"
    assert set(resources(variant, "aws_api_gateway_rest_api")) == set(
        resources(base_variant, "aws_api_gateway_rest_api")
    )


def test_the_same_routes_give_the_same_document(base_variant):
    """No per-synth noise in the body: an unchanged API plans no new deployment."""
    assert (
        only(one_route(), "aws_api_gateway_rest_api")["body"]
        == only(base_variant, "aws_api_gateway_rest_api")["body"]
    )


def test_routes_whose_ids_would_read_alike_stay_apart():
    """`/a/b` and `/a-b` once collided on construct ids (`/` became `-`)."""
    routes = [("GET", "/a/b", "fn", "AWS_IAM"), ("GET", "/a-b", "fn", "AWS_IAM")]
    synthesized = synth_construct(lambda stack: build_routed(stack, routes))
    assert sorted(api_operations(synthesized)) == ["GET /a-b", "GET /a/b"]
    assert len(resources(synthesized, "aws_lambda_permission")) == 2


def test_stage_url_and_route_urls():
    from cdktf import TerraformOutput

    def build(stack):
        api = build_routed(stack)
        TerraformOutput(stack, "stage-url", value=api.invoke_url)
        TerraformOutput(stack, "item-url", value=api.url_of(api.props.routes[2]))

    synthesized = synth_construct(build)
    stage = ref(synthesized, "aws_api_gateway_stage", "api", "invoke_url")
    outputs = {name: output["value"] for name, output in synthesized["output"].items()}
    assert outputs == {"stage-url": stage, "item-url": f"{stage}/items/{{id}}"}


def test_routes_are_required_and_unique():
    fn_route = Route("GET", "/a", InvokeTarget("t-fn", "arn:fn", "arn:invoke"))
    props: dict[str, Any] = {
        "name": "t-api",
        "stage_name": "beta",
        "kms_key_arn": TEST_KEY_ARN,
        "throttling_rate_limit": 1,
        "throttling_burst_limit": 1,
        "logging_level": "OFF",
        "log_retention_days": 1,
    }
    with pytest.raises(ValueError, match="at least one route"):
        RestApiProps(routes=[], **props)
    with pytest.raises(ValueError, match="repeat a method and path"):
        RestApiProps(routes=[fn_route, Route("GET", "/a", fn_route.target, "NONE")], **props)
    # ANY and GET on one path are two routes: API Gateway prefers GET for GET requests.
    both = [fn_route, Route("ANY", "/a", fn_route.target)]
    assert RestApiProps(routes=both, **props).routes == both
