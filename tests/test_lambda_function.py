import json

import pytest
from cdktf import TerraformStack

from constructs_lib.dynamodb import RequestTable, RequestTableProps
from constructs_lib.lambda_function import (
    BASIC_EXECUTION_POLICY_ARN,
    FunctionProps,
    ServerlessFunction,
)
from constructs_lib.s3 import ArtifactBucket, ArtifactBucketProps
from tests.support import REPO_ROOT, data_sources, only, ref, resources, synth_construct


def build(stack: TerraformStack) -> None:
    bucket = ArtifactBucket(stack, "code", ArtifactBucketProps(bucket_prefix="t-"))
    table = RequestTable(stack, "table", RequestTableProps(table_name="t-requests"))
    function = ServerlessFunction(
        stack,
        "fn",
        FunctionProps(
            function_name="t-hello",
            source_dir=REPO_ROOT / "lambda",
            code_bucket=bucket,
            memory_mb=512,
            timeout_s=7,
            environment={"TABLE_NAME": table.table_name, "LOG_LEVEL": "INFO"},
        ),
    )
    table.grant_write_items(function)
    bucket.grant_read_object(function, "greeting.txt")


@pytest.fixture(scope="module")
def synthesized() -> dict:
    return synth_construct(build)


def test_role_is_assumable_by_lambda_only(synthesized):
    documents = data_sources(synthesized, "aws_iam_policy_document")
    assume = next(d for rid, d in documents.items() if "assume-role" in rid)
    [statement] = assume["statement"]
    assert statement["actions"] == ["sts:AssumeRole"]
    assert statement["principals"] == [{"type": "Service", "identifiers": ["lambda.amazonaws.com"]}]
    role = only(synthesized, "aws_iam_role")
    assert role["assume_role_policy"].startswith("${data.aws_iam_policy_document.")
    assert "assume-role" in role["assume_role_policy"]


def test_basic_execution_role_attached(synthesized):
    attachment = only(synthesized, "aws_iam_role_policy_attachment")
    assert attachment["policy_arn"] == BASIC_EXECUTION_POLICY_ARN
    assert attachment["role"] == ref(synthesized, "aws_iam_role", "fn_role", "name")


def test_grants_are_exact_actions_on_exact_resources(synthesized):
    documents = data_sources(synthesized, "aws_iam_policy_document")
    granted = {
        statement["sid"]: (statement["actions"], statement["resources"])
        for rid, doc in documents.items()
        if "assume-role" not in rid
        for statement in doc["statement"]
    }
    table_arn = ref(synthesized, "aws_dynamodb_table", "table", "arn")
    bucket_arn = ref(synthesized, "aws_s3_bucket", "code", "arn")
    assert granted == {
        "WriteItems": (["dynamodb:PutItem", "dynamodb:UpdateItem"], [table_arn]),
        "ReadObject": (["s3:GetObject"], [f"{bucket_arn}/greeting.txt"]),
    }
    policies = resources(synthesized, "aws_iam_role_policy").values()
    assert {p["role"] for p in policies} == {ref(synthesized, "aws_iam_role", "fn_role", "id")}


def test_wildcard_action_is_refused():
    def build_wildcard(stack):
        bucket = ArtifactBucket(stack, "code", ArtifactBucketProps(bucket_prefix="t-"))
        function = ServerlessFunction(
            stack,
            "fn",
            FunctionProps("t", REPO_ROOT / "lambda", bucket),
        )
        function.add_to_role_policy("Everything", ["s3:*"], ["arn:aws:s3:::x"])

    with pytest.raises(ValueError, match="wildcard"):
        synth_construct(build_wildcard)


def test_code_is_zipped_outside_its_source_and_uploaded_with_hash(synthesized):
    archive = only_data(synthesized, "archive_file")
    assert archive["type"] == "zip"
    assert archive["source_dir"].startswith("assets/")
    assert archive["output_path"] == "${path.module}/build/t-hello.zip"
    package = "${data.archive_file." + next(iter(data_sources(synthesized, "archive_file")))
    code = only(synthesized, "aws_s3_object")
    assert code["bucket"] == ref(synthesized, "aws_s3_bucket", "code", "id")
    assert code["source"] == f"{package}.output_path}}"
    assert code["source_hash"] == f"{package}.output_base64sha256}}"


def only_data(synthesized: dict, data_type: str) -> dict:
    found = data_sources(synthesized, data_type)
    assert len(found) == 1
    return next(iter(found.values()))


def test_function_is_created_from_the_s3_object(synthesized):
    function = only(synthesized, "aws_lambda_function")
    assert function["function_name"] == "t-hello"
    assert function["s3_bucket"] == ref(synthesized, "aws_s3_object", "code", "bucket")
    assert function["s3_key"] == ref(synthesized, "aws_s3_object", "code", "key")
    assert function["source_code_hash"].endswith(".output_base64sha256}")
    assert function["role"] == ref(synthesized, "aws_iam_role", "fn_role", "arn")
    assert (function["runtime"], function["handler"]) == ("python3.13", "app.handler")
    assert (function["memory_size"], function["timeout"]) == (512, 7)
    assert function["environment"]["variables"] == {
        "TABLE_NAME": ref(synthesized, "aws_dynamodb_table", "table", "name"),
        "LOG_LEVEL": "INFO",
    }
    assert function["tags"] == {"Name": "t-hello"}


def test_packaged_source_excludes_bytecode_caches(tmp_path):
    source = tmp_path / "src"
    (source / "__pycache__").mkdir(parents=True)
    (source / "app.py").write_text("def handler(e, c): return {}\n")
    (source / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"junk")

    def build_cached(stack):
        bucket = ArtifactBucket(stack, "code", ArtifactBucketProps(bucket_prefix="t-"))
        ServerlessFunction(stack, "fn", FunctionProps("t", source, bucket))

    with_cache = synth_construct(build_cached)
    (source / "__pycache__" / "app.cpython-311.pyc").unlink()
    (source / "__pycache__").rmdir()
    without_cache = synth_construct(build_cached)
    # Same asset hash in the path: the cache never reached the package.
    assert json.dumps(only_data(with_cache, "archive_file")) == json.dumps(
        only_data(without_cache, "archive_file")
    )
