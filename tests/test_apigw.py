import pytest

from constructs_lib.apigw import LambdaRestApi, RestApiProps
from constructs_lib.lambda_function import FunctionProps, ServerlessFunction
from constructs_lib.s3 import ArtifactBucket, ArtifactBucketProps
from tests.support import REPO_ROOT, only, ref, synth_construct


def build(stack):
    bucket = ArtifactBucket(stack, "code", ArtifactBucketProps(bucket_prefix="t-"))
    function = ServerlessFunction(stack, "fn", FunctionProps("t-fn", REPO_ROOT / "lambda", bucket))
    return LambdaRestApi(
        stack,
        "api",
        RestApiProps(name="t-api", path_part="greet", stage_name="beta", function=function),
    )


@pytest.fixture(scope="module")
def synthesized() -> dict:
    return synth_construct(build)


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


def test_separate_stage_points_at_the_deployment(synthesized):
    stage = only(synthesized, "aws_api_gateway_stage")
    assert stage["stage_name"] == "beta"
    assert stage["deployment_id"] == ref(synthesized, "aws_api_gateway_deployment", "api", "id")
