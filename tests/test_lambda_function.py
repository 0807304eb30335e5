import json

import pytest
from cdktf import TerraformStack
from cdktf_cdktf_provider_aws.s3_object import S3Object

from constructs_lib.dependencies import Target, install_dependencies
from constructs_lib.dynamodb import KeyAttribute, Table, TableProps
from constructs_lib.lambda_function import (
    FunctionProps,
    FunctionVpcPlacement,
    ServerlessFunction,
)
from constructs_lib.packaging import build_zip
from constructs_lib.s3 import SecureBucket, SecureBucketProps
from tests.support import (
    REPO_ROOT,
    TEST_KEY_ARN,
    data_sources,
    function_props,
    only,
    ref,
    resources,
    synth_construct,
)
from tests.wheels import make_wheel, use_only


def build(stack: TerraformStack) -> None:
    bucket = SecureBucket(stack, "code", SecureBucketProps(bucket_prefix="t-"))
    table = Table(stack, "table", TableProps("t-requests", KeyAttribute("pk", "S"), TEST_KEY_ARN))
    function = ServerlessFunction(
        stack,
        "fn",
        function_props(
            bucket,
            memory_mb=512,
            timeout_s=7,
            reserved_concurrency=3,
            log_retention_days=90,
            environment={"TABLE_NAME": table.table_name, "LOG_LEVEL": "INFO"},
            vpc=FunctionVpcPlacement(
                vpc_id="vpc-1",
                subnet_ids=["subnet-1", "subnet-2"],
                replacement_security_group_ids=["sg-default"],
            ),
        ),
    )
    table.grant_write_items(function)
    bucket.grant_read_objects(function, ["greeting.txt"])


@pytest.fixture(scope="module")
def synthesized() -> dict:
    return synth_construct(build)


def role_grants(synthesized: dict) -> dict[str, tuple[list[str], list[str]]]:
    """Every statement of the role's policies, by sid: identity policies name no principal,
    unlike the role's trust policy and the bucket's policy."""
    return {
        statement["sid"]: (statement["actions"], statement["resources"])
        for doc in data_sources(synthesized, "aws_iam_policy_document").values()
        for statement in doc["statement"]
        if "principals" not in statement
    }


def is_assume_role_policy(document: dict) -> bool:
    return [s["actions"] for s in document["statement"]] == [["sts:AssumeRole"]]


def test_role_is_assumable_by_lambda_only(synthesized):
    documents = data_sources(synthesized, "aws_iam_policy_document").items()
    [(assume_id, assume)] = [(rid, doc) for rid, doc in documents if is_assume_role_policy(doc)]
    [statement] = assume["statement"]
    assert statement["actions"] == ["sts:AssumeRole"]
    assert statement["principals"] == [{"type": "Service", "identifiers": ["lambda.amazonaws.com"]}]
    role = only(synthesized, "aws_iam_role")
    assert role["assume_role_policy"] == f"${{data.aws_iam_policy_document.{assume_id}.json}}"


def managed_policy_paths(synthesized: dict) -> set[str]:
    prefix = "arn:${data.aws_partition.aws-partition.partition}:iam::aws:policy/"
    arns = [
        a["policy_arn"] for a in resources(synthesized, "aws_iam_role_policy_attachment").values()
    ]
    assert all(arn.startswith(prefix) for arn in arns), arns
    return {arn.removeprefix(prefix) for arn in arns}


def test_managed_policies_basic_xray_and_vpc_access(synthesized):
    assert managed_policy_paths(synthesized) == {
        "service-role/AWSLambdaBasicExecutionRole",
        "AWSXRayDaemonWriteAccess",
        "service-role/AWSLambdaVPCAccessExecutionRole",
    }


def test_no_vpc_access_policy_outside_a_vpc():
    def build_outside(stack):
        bucket = SecureBucket(stack, "code", SecureBucketProps(bucket_prefix="t-"))
        ServerlessFunction(stack, "fn", function_props(bucket))

    synthesized = synth_construct(build_outside)
    assert "service-role/AWSLambdaVPCAccessExecutionRole" not in managed_policy_paths(synthesized)
    function = only(synthesized, "aws_lambda_function")
    assert "vpc_config" not in function
    assert "replace_security_groups_on_destroy" not in function
    assert function["reserved_concurrent_executions"] == -1  # opt-in: -1 is "unreserved"
    assert resources(synthesized, "aws_security_group") == {}


def test_grants_are_exact_actions_on_exact_resources(synthesized):
    table_arn = ref(synthesized, "aws_dynamodb_table", "table", "arn")
    bucket_arn = ref(synthesized, "aws_s3_bucket", "code", "arn")
    assert role_grants(synthesized) == {
        "WriteItemsTable": (["dynamodb:PutItem", "dynamodb:UpdateItem"], [table_arn]),
        "ReadObjectsCode": (["s3:GetObject"], [f"{bucket_arn}/greeting.txt"]),
        "SendToDeadLetterQueue": (
            ["sqs:SendMessage"],
            [ref(synthesized, "aws_sqs_queue", "dlq", "arn")],
        ),
    }
    policies = resources(synthesized, "aws_iam_role_policy").values()
    assert {p["role"] for p in policies} == {ref(synthesized, "aws_iam_role", "fn_role", "id")}


def test_wildcard_action_is_refused():
    def build_wildcard(stack):
        bucket = SecureBucket(stack, "code", SecureBucketProps(bucket_prefix="t-"))
        function = ServerlessFunction(stack, "fn", function_props(bucket))
        function.add_to_role_policy("Everything", ["s3:*"], ["arn:aws:s3:::x"])

    with pytest.raises(ValueError, match="wildcard"):
        synth_construct(build_wildcard)


def test_code_is_zipped_at_synth_time_and_uploaded_with_its_hash(synthesized, tmp_path):
    expected = build_zip(
        REPO_ROOT / "lambda", tmp_path / "expected.zip", bytecode_runtime="python3.13"
    )
    code = only(synthesized, "aws_s3_object")
    assert code["bucket"] == ref(synthesized, "aws_s3_bucket", "code", "id")
    assert code["key"] == "lambda/t-hello.zip"
    assert code["source"].startswith("assets/") and code["source"].endswith(".zip")
    assert code["source_hash"] == expected.base64_sha256
    assert only(synthesized, "aws_lambda_function")["source_code_hash"] == expected.base64_sha256
    # Nothing is left to build at plan time: no archive provider, no data source for it.
    assert set(synthesized["data"]) == {
        "aws_caller_identity",
        "aws_iam_policy_document",
        "aws_partition",
    }
    assert set(synthesized["terraform"]["required_providers"]) == {"aws"}


def test_function_is_created_from_the_s3_object(synthesized):
    function = only(synthesized, "aws_lambda_function")
    assert function["function_name"] == "t-hello"
    assert function["s3_bucket"] == ref(synthesized, "aws_s3_object", "code", "bucket")
    assert function["s3_key"] == ref(synthesized, "aws_s3_object", "code", "key")
    assert function["role"] == ref(synthesized, "aws_iam_role", "fn_role", "arn")
    assert (function["runtime"], function["handler"]) == ("python3.13", "app.handler")
    assert (function["memory_size"], function["timeout"]) == (512, 7)
    assert function["environment"]["variables"] == {
        "TABLE_NAME": ref(synthesized, "aws_dynamodb_table", "table", "name"),
        "LOG_LEVEL": "INFO",
    }
    assert function["tags"] == {"Name": "t-hello"}
    assert function["architectures"] == ["x86_64"]


def test_runs_in_private_subnets_with_egress_only_security_group(synthesized):
    function = only(synthesized, "aws_lambda_function")
    group = ref(synthesized, "aws_security_group", "fn_security-group", "id")
    assert function["vpc_config"] == {
        "subnet_ids": ["subnet-1", "subnet-2"],
        "security_group_ids": [group],
    }
    assert resources(synthesized, "aws_vpc_security_group_ingress_rule") == {}
    egress = only(synthesized, "aws_vpc_security_group_egress_rule")
    assert (egress["from_port"], egress["to_port"], egress["security_group_id"]) == (
        443,
        443,
        group,
    )


def test_tracing_concurrency_dlq_and_encrypted_environment(synthesized):
    function = only(synthesized, "aws_lambda_function")
    assert function["tracing_config"] == {"mode": "Active"}
    assert function["reserved_concurrent_executions"] == 3  # only because props set it
    assert function["kms_key_arn"] == TEST_KEY_ARN
    dlq = ref(synthesized, "aws_sqs_queue", "dlq", "arn")
    assert function["dead_letter_config"] == {"target_arn": dlq}
    queue = only(synthesized, "aws_sqs_queue")
    assert queue["kms_master_key_id"] == TEST_KEY_ARN


def test_log_group_and_every_role_policy_exist_before_the_function(synthesized):
    group = only(synthesized, "aws_cloudwatch_log_group")
    assert group["name"] == "/aws/lambda/t-hello"
    assert group["retention_in_days"] == 90
    assert group["kms_key_id"] == TEST_KEY_ARN
    function = only(synthesized, "aws_lambda_function")
    expected = {
        f"{resource_type}.{rid}"
        for resource_type in (
            "aws_cloudwatch_log_group",
            "aws_iam_role_policy",
            "aws_iam_role_policy_attachment",
        )
        for rid in resources(synthesized, resource_type)
    }
    # The log group, inline policies (two granted after construction) and managed policies.
    assert len(expected) == 1 + 3 + 3
    assert set(function["depends_on"]) == expected


def test_grants_at_construction_give_the_same_function_as_grants_after_it():
    """`grants` run before the function exists: same policies, same `depends_on` in the same
    order, without reading it back per grant; the function itself cannot be read yet."""

    def grant(function: ServerlessFunction) -> None:
        function.add_to_role_policy("ReadQueue", ["sqs:ReceiveMessage"], ["arn:aws:sqs:::q"])
        function.add_to_role_policy("WriteTopic", ["sns:Publish"], ["arn:aws:sns:::t"])

    def build_with(grants_at_construction: bool):
        def build(stack: TerraformStack) -> None:
            bucket = SecureBucket(stack, "code", SecureBucketProps(bucket_prefix="t-"))
            grants = [grant] if grants_at_construction else []
            function = ServerlessFunction(stack, "fn", function_props(bucket), grants=grants)
            if not grants_at_construction:
                grant(function)

        return synth_construct(build)

    assert build_with(grants_at_construction=True) == build_with(grants_at_construction=False)

    def read_the_function(function: ServerlessFunction) -> None:
        function.function_arn  # noqa: B018

    with pytest.raises(RuntimeError, match="not created yet"):
        synth_construct(
            lambda stack: ServerlessFunction(
                stack,
                "fn",
                function_props(SecureBucket(stack, "code", SecureBucketProps(bucket_prefix="t-"))),
                grants=[read_the_function],
            )
        )


def test_security_groups_are_swapped_out_before_destroy(synthesized):
    function = only(synthesized, "aws_lambda_function")
    assert function["replace_security_groups_on_destroy"] is True
    assert function["replacement_security_group_ids"] == ["sg-default"]
    group = only(synthesized, "aws_security_group")
    # Lambda can take 20-40 minutes to release its network interfaces after a function is gone.
    assert group["timeouts"] == {"delete": "45m"}


def test_packaged_source_excludes_bytecode_caches(tmp_path):
    source = tmp_path / "src"
    (source / "__pycache__").mkdir(parents=True)
    (source / "app.py").write_text("def handler(e, c): return {}\n")
    (source / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"junk")

    def build_cached(stack):
        bucket = SecureBucket(stack, "code", SecureBucketProps(bucket_prefix="t-"))
        ServerlessFunction(stack, "fn", function_props(bucket, source_dir=source))

    with_cache = synth_construct(build_cached)
    (source / "__pycache__" / "app.cpython-311.pyc").unlink()
    (source / "__pycache__").rmdir()
    without_cache = synth_construct(build_cached)
    # The same package, at the same asset path: the cache never reached it.
    assert json.dumps(only(with_cache, "aws_s3_object")) == json.dumps(
        only(without_cache, "aws_s3_object")
    )


def test_dependencies_are_packaged_for_the_functions_runtime_and_architecture(
    tmp_path, monkeypatch
):
    for machine in ("x86_64", "aarch64"):
        make_wheel(tmp_path / "wheels", "tinyplat", tag=f"cp312-cp312-manylinux2014_{machine}")
    use_only(monkeypatch, tmp_path / "wheels")
    monkeypatch.setenv("LAMBDA_DEPS_CACHE", str(tmp_path / "cache"))
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("tinyplat==1.0\n")

    def build_with_dependencies(stack):
        bucket = SecureBucket(stack, "code", SecureBucketProps(bucket_prefix="t-"))
        props = function_props(
            bucket, runtime="python3.12", architecture="arm64", dependencies=requirements
        )
        ServerlessFunction(stack, "fn", props)

    synthesized = synth_construct(build_with_dependencies)
    installed = install_dependencies(requirements, Target("python3.12", "arm64"))
    assert installed.parent == tmp_path / "cache"
    assert (
        (installed / "tinyplat-1.0.dist-info" / "WHEEL")
        .read_text()
        .endswith("Tag: cp312-cp312-manylinux2014_aarch64\n")
    )
    expected = build_zip(
        REPO_ROOT / "lambda",
        tmp_path / "p.zip",
        dependencies_dir=installed,
        bytecode_runtime="python3.12",
    )
    function = only(synthesized, "aws_lambda_function")
    assert function["architectures"] == ["arm64"]
    assert function["source_code_hash"] == expected.base64_sha256
    assert only(synthesized, "aws_s3_object")["source_hash"] == expected.base64_sha256


class PlainCodeStore:
    """A bucket-like that is no SecureBucket: the function takes any code store."""

    def __init__(self, scope: TerraformStack) -> None:
        self.scope = scope

    def add_object(self, id: str, *, key: str, source: str, source_hash: str) -> S3Object:
        return S3Object(
            self.scope, id, bucket="plain-code", key=key, source=source, source_hash=source_hash
        )


def test_the_required_props_alone_give_the_documented_defaults():
    def build(stack):
        props = FunctionProps(
            function_name="t-min",
            role_name="t-min-role",
            source_dir=REPO_ROOT / "lambda",
            code_bucket=PlainCodeStore(stack),
            kms_key_arn=TEST_KEY_ARN,
            handler="app.handler",
            runtime="python3.13",
        )
        ServerlessFunction(stack, "fn", props)

    synthesized = synth_construct(build)
    function = only(synthesized, "aws_lambda_function")
    assert (function["memory_size"], function["timeout"]) == (128, 3)
    # No block at all: AWS answers an empty environment with none (no perpetual diff), and
    # no key to encrypt it with (checkov CKV_AWS_173: a key alone is a state mismatch).
    assert "environment" not in function and "kms_key_arn" not in function
    assert function["reserved_concurrent_executions"] == -1  # unreserved
    assert function["architectures"] == ["x86_64"]
    assert "vpc_config" not in function and "publish" not in function
    assert function["s3_bucket"] == ref(synthesized, "aws_s3_object", "code-object", "bucket")
    assert only(synthesized, "aws_s3_object")["bucket"] == "plain-code"
    assert only(synthesized, "aws_cloudwatch_log_group")["retention_in_days"] == 365
