import json

import pytest

from constructs_lib.apigw import ACCESS_LOG_FORMAT, LambdaRestApi, RestApiProps
from constructs_lib.lambda_function import ServerlessFunction
from constructs_lib.s3 import SecureBucket, SecureBucketProps
from tests.support import TEST_KEY_ARN, function_props, only, ref, resources, synth_construct


def api_json(**overrides) -> dict:
    def build(stack):
        bucket = SecureBucket(stack, "code", SecureBucketProps(bucket_prefix="t-"))
        function = ServerlessFunction(stack, "fn", function_props(bucket, function_name="t-fn"))
        props = {
            "name": "t-api",
            "path_part": "greet",
            "stage_name": "beta",
            "function": function,
            "kms_key_arn": TEST_KEY_ARN,
            "throttling_rate_limit": 7,
            "throttling_burst_limit": 9,
            "authorization": "AWS_IAM",
            "logging_level": "INFO",
            "log_retention_days": 30,
            **overrides,
        }
        LambdaRestApi(stack, "api", RestApiProps(**props))

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
    resource_path = ref(synthesized, "aws_api_gateway_resource", "api", "path")
    assert permission["source_arn"] == f"{execution_arn}/*/GET{resource_path}"
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
            (
                "aws_api_gateway_method",
                ("id", "http_method", "authorization", "request_parameters"),
            ),
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
