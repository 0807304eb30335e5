import json

import pytest

from constructs_lib.apigw import (
    ACCESS_LOG_FORMAT,
    PUSH_TO_LOGS_POLICY_ARN,
    LambdaRestApi,
    RestApiProps,
)
from constructs_lib.lambda_function import FunctionProps, ServerlessFunction
from constructs_lib.s3 import SecureBucket, SecureBucketProps
from tests.support import REPO_ROOT, TEST_KEY_ARN, only, ref, resources, synth_construct


def api_json(**overrides) -> dict:
    def build(stack):
        bucket = SecureBucket(stack, "code", SecureBucketProps(bucket_prefix="t-"))
        function = ServerlessFunction(
            stack, "fn", FunctionProps("t-fn", REPO_ROOT / "lambda", bucket, TEST_KEY_ARN)
        )
        props = {
            "name": "t-api",
            "path_part": "greet",
            "stage_name": "beta",
            "function": function,
            "kms_key_arn": TEST_KEY_ARN,
            "throttling_rate_limit": 7,
            "throttling_burst_limit": 9,
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
    for part in (
        "aws_api_gateway_resource.",
        "aws_api_gateway_method.",
        "aws_api_gateway_integration.",
    ):
        assert part in trigger


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


def test_account_logging_role_is_set_before_the_stage(synthesized):
    account = only(synthesized, "aws_api_gateway_account")
    assert account["cloudwatch_role_arn"] == ref(
        synthesized, "aws_iam_role", "cloudwatch-role", "arn"
    )
    attachments = resources(synthesized, "aws_iam_role_policy_attachment").values()
    assert PUSH_TO_LOGS_POLICY_ARN in {a["policy_arn"] for a in attachments}
    account_id = next(iter(resources(synthesized, "aws_api_gateway_account")))
    assert only(synthesized, "aws_api_gateway_stage")["depends_on"] == [
        f"aws_api_gateway_account.{account_id}"
    ]
