import json
import re

import pytest

from constructs_lib.apigw import ACCESS_LOG_FORMAT, LambdaRestApi, RestApiProps
from constructs_lib.releases import InvokeTarget
from constructs_lib.routes import Route
from tests.support import (
    TEST_KEY_ARN,
    build_api,
    build_function,
    build_two_targets,
    greet_route,
    only,
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


def test_rest_api_resource_and_get_method(synthesized):
    assert only(synthesized, "aws_api_gateway_rest_api")["name"] == "t-api"
    resource = only(synthesized, "aws_api_gateway_resource")
    assert resource["path_part"] == "greet"
    assert resource["parent_id"] == ref(
        synthesized, "aws_api_gateway_rest_api", "api", "root_resource_id"
    )
    method = only(synthesized, "aws_api_gateway_method")
    assert method["http_method"] == "GET"
    assert method["resource_id"] == ref(synthesized, "aws_api_gateway_resource", "api", "id")
    assert "request_parameters" not in method  # no path parameter
    validator = ref(synthesized, "aws_api_gateway_request_validator", "api", "id")
    assert method["request_validator_id"] == validator


def test_iam_authorization_by_default_and_none_only_when_asked(synthesized):
    assert only(synthesized, "aws_api_gateway_method")["authorization"] == "AWS_IAM"
    public = api_json(authorization="NONE")
    assert only(public, "aws_api_gateway_method")["authorization"] == "NONE"


def test_lambda_proxy_integration_posts_to_invoke_arn(synthesized):
    integration = only(synthesized, "aws_api_gateway_integration")
    assert integration["type"] == "AWS_PROXY"
    assert integration["integration_http_method"] == "POST"
    assert integration["uri"] == ref(synthesized, "aws_lambda_function", "fn", "invoke_arn")


def test_permission_source_arn_comes_from_execution_arn(synthesized):
    permission = only(synthesized, "aws_lambda_permission")
    assert permission["principal"] == "apigateway.amazonaws.com"
    assert permission["action"] == "lambda:InvokeFunction"
    execution_arn = ref(synthesized, "aws_api_gateway_rest_api", "api", "execution_arn")
    assert permission["source_arn"] == f"{execution_arn}/*/GET/greet"
    assert "qualifier" not in permission
    assert "arn:aws:execute-api" not in permission["source_arn"]


def test_deployment_is_replaced_when_the_api_changes(synthesized):
    deployment = only(synthesized, "aws_api_gateway_deployment")
    assert "stage_name" not in deployment
    assert deployment["lifecycle"] == {"create_before_destroy": True}
    trigger = deployment["triggers"]["redeployment"]
    assert trigger.startswith("${sha1(jsonencode([")
    hashed = set(trigger.removeprefix("${sha1(jsonencode([").removesuffix("]))}").split(", "))
    # In-place updates keep the ids: the attributes themselves must be hashed.
    expected = {
        ref(synthesized, resource_type, "api", attribute)[2:-1]
        for resource_type, attributes in (
            ("aws_api_gateway_resource", ("id", "path_part")),
            ("aws_api_gateway_method", ("id", "http_method", "authorization")),
            ("aws_api_gateway_method", ("request_validator_id", "api_key_required")),
            (
                "aws_api_gateway_request_validator",
                ("validate_request_parameters", "validate_request_body"),
            ),
            ("aws_api_gateway_integration", ("id", "type", "uri", "integration_http_method")),
        )
        for attribute in attributes
    }
    assert expected <= hashed


def test_stage_with_xray_and_json_access_logs(synthesized):
    stage = only(synthesized, "aws_api_gateway_stage")
    assert stage["stage_name"] == "beta"
    assert stage["deployment_id"] == ref(synthesized, "aws_api_gateway_deployment", "api", "id")
    assert stage["xray_tracing_enabled"] is True
    access_log = stage["access_log_settings"]
    assert access_log["destination_arn"] == ref(
        synthesized, "aws_cloudwatch_log_group", "access-logs", "arn"
    )
    assert json.loads(access_log["format"]) == json.loads(ACCESS_LOG_FORMAT)
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


def resource_paths(synthesized: dict) -> dict[str, str]:
    """`${...id}` of every resource (and the root) -> its full path, by walking the parents."""
    root = ref(synthesized, "aws_api_gateway_rest_api", "api", "root_resource_id")
    bodies = {
        f"${{aws_api_gateway_resource.{rid}.id}}": body
        for rid, body in resources(synthesized, "aws_api_gateway_resource").items()
    }

    def path(token: str) -> str:
        if token == root:
            return ""
        body = bodies[token]
        return f"{path(body['parent_id'])}/{body['path_part']}"

    return {root: "/", **{token: path(token) for token in bodies}}


def methods_by_route(synthesized: dict) -> dict[str, dict]:
    paths = resource_paths(synthesized)
    return {
        f"{m['http_method']} {paths[m['resource_id']]}": m
        for m in resources(synthesized, "aws_api_gateway_method").values()
    }


def test_one_resource_per_distinct_path_with_shared_parents(routed):
    assert sorted(resource_paths(routed).values()) == [
        "/",
        "/files",
        "/files/{proxy+}",
        "/hello",
        "/items",
        "/items/{id}",
    ]
    # `/items` serves POST and is the parent of `/items/{id}`: one resource, not two.
    items = [r for r in resources(routed, "aws_api_gateway_resource").values()
             if r["path_part"] == "items"]  # fmt: skip
    assert len(items) == 1


def test_each_route_has_its_method_on_its_resource(routed):
    methods = methods_by_route(routed)
    assert {name: m["authorization"] for name, m in methods.items()} == {
        "GET /hello": "AWS_IAM",
        "POST /items": "AWS_IAM",
        "GET /items/{id}": "AWS_IAM",
        "ANY /files/{proxy+}": "AWS_IAM",
        "GET /": "NONE",
    }
    root = ref(routed, "aws_api_gateway_rest_api", "api", "root_resource_id")
    assert methods["GET /"]["resource_id"] == root
    validator = ref(routed, "aws_api_gateway_request_validator", "api", "id")
    assert {m["request_validator_id"] for m in methods.values()} == {validator}


def test_path_parameters_are_declared_required(routed):
    parameters = {name: m.get("request_parameters") for name, m in methods_by_route(routed).items()}
    assert parameters == {
        "GET /hello": None,
        "POST /items": None,
        "GET /items/{id}": {"method.request.path.id": True},
        "ANY /files/{proxy+}": {"method.request.path.proxy": True},
        "GET /": None,
    }


def test_each_route_is_integrated_with_its_function(routed):
    paths = resource_paths(routed)
    methods = {
        f"${{aws_api_gateway_method.{rid}.http_method}}": m
        for rid, m in resources(routed, "aws_api_gateway_method").items()
    }
    uris = {}
    for integration in resources(routed, "aws_api_gateway_integration").values():
        method = methods[integration["http_method"]]
        assert integration["resource_id"] == method["resource_id"]
        assert (integration["type"], integration["integration_http_method"]) == (
            "AWS_PROXY",
            "POST",
        )
        uris[f"{method['http_method']} {paths[integration['resource_id']]}"] = integration["uri"]
    function = ref(routed, "aws_lambda_function", "fn_function", "invoke_arn")
    alias = ref(routed, "aws_lambda_alias", "live", "invoke_arn")
    assert uris == {
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


def hashed(synthesized: dict) -> set[str]:
    """The `type.name.attribute` references the deployment's redeployment trigger hashes."""
    trigger = only(synthesized, "aws_api_gateway_deployment")["triggers"]["redeployment"]
    assert trigger.startswith("${sha1(jsonencode([") and trigger.endswith("]))}")
    return set(trigger.removeprefix("${sha1(jsonencode([").removesuffix("]))}").split(", "))


def test_deployment_hashes_every_resource_method_and_integration(routed):
    expected = set()
    for resource_type, attributes in (
        ("aws_api_gateway_resource", ("id", "parent_id", "path_part")),
        ("aws_api_gateway_method", ("id", "http_method", "authorization")),
        ("aws_api_gateway_integration", ("id", "type", "uri", "integration_http_method")),
    ):
        for rid in resources(routed, resource_type):
            expected |= {f"{resource_type}.{rid}.{attribute}" for attribute in attributes}
    assert len(expected) == 5 * 3 + 5 * 3 + 5 * 4
    assert expected <= hashed(routed)
    # Declared parameters are hashed as given: the attribute reads back `{}` for none, which
    # would change the hash on every refresh (found by the apply cycle's re-plan).
    assert {'"method.request.path.id"', '"method.request.path.proxy"', '""'} <= hashed(routed)
    depends_on = set(only(routed, "aws_api_gateway_deployment")["depends_on"])
    assert depends_on == {
        f"{resource_type}.{rid}"
        for resource_type in ("aws_api_gateway_method", "aws_api_gateway_integration")
        for rid in resources(routed, resource_type)
    }


def one_route(method="GET", path="/greet", authorization="AWS_IAM", target="fn") -> dict:
    return synth_construct(
        lambda stack: build_routed(stack, [(method, path, target, authorization)])
    )


@pytest.fixture(scope="module")
def base_variant() -> dict:
    return one_route()


@pytest.mark.parametrize(
    "change, changed_type",
    [
        ({"method": "POST"}, "aws_api_gateway_method"),
        ({"path": "/hello"}, "aws_api_gateway_resource"),
    ],
)
def test_a_new_method_or_path_changes_what_the_deployment_hashes(
    base_variant, change, changed_type
):
    variant = one_route(**change)
    assert hashed(variant) != hashed(base_variant)
    assert set(resources(variant, changed_type)).isdisjoint(resources(base_variant, changed_type))


@pytest.mark.parametrize(
    "change, resource_type, attribute",
    [
        ({"authorization": "NONE"}, "aws_api_gateway_method", "authorization"),
        ({"target": "other"}, "aws_api_gateway_integration", "uri"),
    ],
)
def test_a_new_authorization_or_target_changes_a_hashed_value(
    base_variant, change, resource_type, attribute
):
    """Same addresses, so the same expression: Terraform hashes the changed value."""
    variant = one_route(**change)
    [(rid, before)] = resources(base_variant, resource_type).items()
    [(same_rid, after)] = resources(variant, resource_type).items()
    assert rid == same_rid
    assert before[attribute] != after[attribute]
    assert f"{resource_type}.{rid}.{attribute}" in hashed(variant)


def test_routes_whose_ids_would_read_alike_get_their_own_resources():
    """`/a/b` and `/a-b` once collided on construct ids (`/` became `-`)."""
    routes = [("GET", "/a/b", "fn", "AWS_IAM"), ("GET", "/a-b", "fn", "AWS_IAM")]
    synthesized = synth_construct(lambda stack: build_routed(stack, routes))
    assert sorted(resource_paths(synthesized).values()) == ["/", "/a", "/a-b", "/a/b"]
    assert sorted(methods_by_route(synthesized)) == ["GET /a-b", "GET /a/b"]
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
    props = {
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
