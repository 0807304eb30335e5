import pytest

from constructs_lib.lambda_function import ServerlessFunction
from constructs_lib.s3 import SecureBucket, SecureBucketProps
from constructs_lib.secrets import FunctionSecrets, FunctionSecretsProps
from tests.support import (
    TEST_KEY_ARN,
    data_sources,
    function_props,
    only,
    ref,
    synth_construct,
)

PARAMETERS = {"db_password": "/t/db/password", "api_token": "t-api-token"}


def build(stack, kms_key_arn=None) -> None:
    secrets = FunctionSecrets(
        stack,
        "secrets",
        FunctionSecretsProps(region="eu-west-1", parameters=PARAMETERS, kms_key_arn=kms_key_arn),
    )
    bucket = SecureBucket(stack, "code", SecureBucketProps(bucket_prefix="t-"))
    function = ServerlessFunction(
        stack,
        "fn",
        function_props(
            bucket,
            function_name="t-fn",
            role_name="t-fn-role",
            environment={"LOG_LEVEL": "INFO", **secrets.environment},
        ),
    )
    secrets.grant_read(function)


@pytest.fixture(scope="module")
def synthesized() -> dict:
    return synth_construct(build)


def statements(synthesized: dict) -> dict[str, dict]:
    [document] = [d for rid, d in data_sources(synthesized, "aws_iam_policy_document").items()
                  if rid.startswith("secrets_read-policy")]  # fmt: skip
    return {s["sid"]: s for s in document["statement"]}


def arn_prefix(synthesized: dict) -> str:
    partition = "${data.aws_partition.aws-partition.partition}"
    [account_id] = data_sources(synthesized, "aws_caller_identity")
    account = f"${{data.aws_caller_identity.{account_id}.account_id}}"
    return f"arn:{partition}:ssm:eu-west-1:{account}:parameter/"


def test_function_gets_the_parameter_names_not_values(synthesized):
    variables = only(synthesized, "aws_lambda_function")["environment"]["variables"]
    assert variables == {
        "LOG_LEVEL": "INFO",
        "SECRET_DB_PASSWORD": "/t/db/password",
        "SECRET_API_TOKEN": "t-api-token",
    }
    assert "aws_ssm_parameter" not in synthesized.get("data", {})
    assert "aws_ssm_parameter" not in synthesized.get("resource", {})


def test_get_parameter_on_exactly_those_parameters(synthesized):
    read = statements(synthesized)["ReadSecretParameters"]
    assert read["actions"] == ["ssm:GetParameter", "ssm:GetParameters"]
    prefix = arn_prefix(synthesized)
    assert read["resources"] == [f"{prefix}t-api-token", f"{prefix}t/db/password"]


def test_aws_managed_key_is_used_only_through_ssm(synthesized):
    decrypt = statements(synthesized)["DecryptSecretParametersViaSsm"]
    assert decrypt["actions"] == ["kms:Decrypt"]
    [resource] = decrypt["resources"]
    assert resource.endswith(":key/*") and ":kms:eu-west-1:" in resource
    assert decrypt["condition"] == [
        {
            "test": "StringEquals",
            "variable": "kms:ViaService",
            "values": ["ssm.eu-west-1.amazonaws.com"],
        }
    ]


def test_customer_key_is_granted_by_arn():
    synthesized = synth_construct(lambda stack: build(stack, kms_key_arn=TEST_KEY_ARN))
    decrypt = statements(synthesized)["DecryptSecretParameters"]
    assert decrypt["resources"] == [TEST_KEY_ARN]
    assert "condition" not in decrypt


def test_policy_is_on_the_functions_role_and_in_place_before_it(synthesized):
    [policy] = [p for rid, p in synthesized["resource"]["aws_iam_role_policy"].items()
                if rid.startswith("secrets_")]  # fmt: skip
    assert policy["role"] == ref(synthesized, "aws_iam_role", "fn", "id")
    rid = next(
        r for r in synthesized["resource"]["aws_iam_role_policy"] if r.startswith("secrets_")
    )
    assert f"aws_iam_role_policy.{rid}" in only(synthesized, "aws_lambda_function")["depends_on"]


@pytest.mark.parametrize(
    "parameters, message",
    [
        ({}, "at least one"),
        ({"DbPassword": "/x"}, "lower_snake_case"),
        ({"db": "/has space"}, "parameter name"),
        ({"db": "/aws/reserved"}, "reserved"),
        ({"db": "/" + "/".join("abcdefghijklmnopq")}, "hierarchy"),
        ({f"s{i}": f"/p{i}" for i in range(21)}, "at most"),
    ],
)
def test_props_are_checked(parameters, message):
    with pytest.raises(ValueError, match=message):
        FunctionSecretsProps(region="eu-west-1", parameters=parameters)
