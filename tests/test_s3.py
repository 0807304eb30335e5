import json

import pytest

from constructs_lib.s3 import ExpirationRule, SecureBucket, SecureBucketProps, ServiceWrite
from tests.support import (
    ENVIRONMENT_FILES,
    TEST_KEY_ARN,
    build_function,
    data_sources,
    file_values,
    only,
    ref,
    synth_construct,
)
from tests.test_lambda_function import role_grants


def bucket_json(**props) -> dict:
    return synth_construct(
        lambda stack: SecureBucket(
            stack, "b", SecureBucketProps(**{"bucket_prefix": "t-", **props})
        )
    )


@pytest.fixture(scope="module")
def kms_bucket() -> dict:
    return bucket_json(kms_key_arn=TEST_KEY_ARN, noncurrent_version_expiration_days=45)


def test_bucket_prefix_or_fixed_name():
    assert only(bucket_json(), "aws_s3_bucket")["bucket_prefix"] == "t-"
    named = bucket_json(bucket_prefix=None, bucket_name="my-art")
    assert only(named, "aws_s3_bucket")["bucket"] == "my-art"


@pytest.mark.parametrize(("name", "prefix"), [(None, None), ("x", "y")])
def test_exactly_one_naming_mode(name, prefix):
    with pytest.raises(ValueError, match="exactly one"):
        bucket_json(bucket_name=name, bucket_prefix=prefix)


def test_versioning_enabled(kms_bucket):
    versioning = only(kms_bucket, "aws_s3_bucket_versioning")
    assert versioning["versioning_configuration"]["status"] == "Enabled"


def test_versioning_off_suspends_it():
    versioning = only(bucket_json(versioning=False), "aws_s3_bucket_versioning")
    assert versioning["versioning_configuration"]["status"] == "Suspended"


def test_default_encryption_with_the_stack_key(kms_bucket):
    [rule] = only(kms_bucket, "aws_s3_bucket_server_side_encryption_configuration")["rule"]
    default = rule["apply_server_side_encryption_by_default"]
    assert default == {"sse_algorithm": "aws:kms", "kms_master_key_id": TEST_KEY_ARN}
    assert rule["bucket_key_enabled"] is True


def test_sse_s3_when_no_key_is_given():
    [rule] = only(bucket_json(), "aws_s3_bucket_server_side_encryption_configuration")["rule"]
    assert rule["apply_server_side_encryption_by_default"]["sse_algorithm"] == "AES256"


def test_all_four_public_access_blocks(kms_bucket):
    block = only(kms_bucket, "aws_s3_bucket_public_access_block")
    for flag in (
        "block_public_acls",
        "block_public_policy",
        "ignore_public_acls",
        "restrict_public_buckets",
    ):
        assert block[flag] is True, flag


def test_bucket_owner_enforced(kms_bucket):
    ownership = only(kms_bucket, "aws_s3_bucket_ownership_controls")
    assert ownership["rule"]["object_ownership"] == "BucketOwnerEnforced"


def test_policy_denies_requests_without_tls(kms_bucket):
    policy = only(kms_bucket, "aws_s3_bucket_policy")
    assert policy["bucket"] == ref(kms_bucket, "aws_s3_bucket", "b_bucket", "id")
    [document] = data_sources(kms_bucket, "aws_iam_policy_document").values()
    [deny] = document["statement"]
    assert deny["effect"] == "Deny"
    assert deny["condition"] == [
        {"test": "Bool", "variable": "aws:SecureTransport", "values": ["false"]}
    ]
    bucket_arn = ref(kms_bucket, "aws_s3_bucket", "b_bucket", "arn")
    assert deny["resources"] == [bucket_arn, f"{bucket_arn}/*"]


def test_noncurrent_versions_expire(kms_bucket):
    [rule] = only(kms_bucket, "aws_s3_bucket_lifecycle_configuration")["rule"]
    assert rule["status"] == "Enabled"
    assert rule["noncurrent_version_expiration"] == [{"noncurrent_days": 45}]
    assert rule["abort_incomplete_multipart_upload"] == [{"days_after_initiation": 7}]


def test_object_events_go_to_eventbridge(kms_bucket):
    assert only(kms_bucket, "aws_s3_bucket_notification")["eventbridge"] is True


def test_service_write_is_limited_to_its_key_pattern():
    synthesized = bucket_json(
        service_writes=[ServiceWrite("Service", "logs.example.com", "logs/*")]
    )
    [document] = data_sources(synthesized, "aws_iam_policy_document").values()
    allow = document["statement"][1]
    assert allow["actions"] == ["s3:PutObject"]
    bucket_arn = ref(synthesized, "aws_s3_bucket", "b_bucket", "arn")
    assert allow["resources"] == [f"{bucket_arn}/logs/*"]
    assert json.dumps(allow["principals"]) == json.dumps(
        [{"identifiers": ["logs.example.com"], "type": "Service"}]
    )


def test_text_object_keeps_edits_made_in_s3():
    synthesized = synth_construct(
        lambda stack: SecureBucket(
            stack, "b", SecureBucketProps(bucket_prefix="t-")
        ).add_text_object("note", key="note.txt", content="hi")
    )
    note = only(synthesized, "aws_s3_object")
    assert (note["key"], note["content"]) == ("note.txt", "hi")
    assert note["lifecycle"] == {"ignore_changes": ["content", "etag"]}


def address_of(synthesized: dict, resource_type: str) -> str:
    [rid] = synthesized["resource"][resource_type]
    return f"{resource_type}.{rid}"


def test_objects_wait_for_default_encryption_and_lifecycle_for_versioning():
    def build(stack):
        bucket = SecureBucket(stack, "b", SecureBucketProps(bucket_prefix="t-"))
        bucket.add_text_object("text", key="a.txt", content="a")
        bucket.add_object("file", key="b.zip", source="b.zip", source_hash="h")

    synthesized = synth_construct(build)
    encryption = address_of(synthesized, "aws_s3_bucket_server_side_encryption_configuration")
    objects = synthesized["resource"]["aws_s3_object"].values()
    assert [o["depends_on"] for o in objects] == [[encryption], [encryption]]
    lifecycle = only(synthesized, "aws_s3_bucket_lifecycle_configuration")
    assert lifecycle["depends_on"] == [address_of(synthesized, "aws_s3_bucket_versioning")]


def test_current_objects_expire_only_when_asked(kms_bucket):
    [rule] = only(kms_bucket, "aws_s3_bucket_lifecycle_configuration")["rule"]
    assert "expiration" not in rule
    [rule] = only(bucket_json(expiration_days=90), "aws_s3_bucket_lifecycle_configuration")["rule"]
    assert rule["expiration"] == [{"days": 90}]


def test_expiration_rules_follow_the_bucket_own_rule_one_per_prefix():
    rules = [ExpirationRule("tmp/", 1), ExpirationRule("exports/", 30)]
    lifecycle = only(bucket_json(expiration_rules=rules), "aws_s3_bucket_lifecycle_configuration")
    assert lifecycle["rule"][0]["id"] == "expire-noncurrent-versions"
    assert lifecycle["rule"][1:] == [
        {
            "id": "expire-0",
            "status": "Enabled",
            "filter": [{"prefix": "tmp/"}],
            "expiration": [{"days": 1}],
        },
        {
            "id": "expire-1",
            "status": "Enabled",
            "filter": [{"prefix": "exports/"}],
            "expiration": [{"days": 30}],
        },
    ]


@pytest.mark.parametrize(
    ("env", "force_destroy", "lifecycle"),
    [("dev", True, None), ("prod", False, {"prevent_destroy": True})],
)
def test_dev_buckets_destroy_cleanly_prod_artifacts_are_kept(stacks, env, force_destroy, lifecycle):
    buckets = stacks[env]["resource"]["aws_s3_bucket"]
    # artifacts, the file's [buckets], load balancer access logs
    assert len(buckets) == 2 + len(file_values(ENVIRONMENT_FILES[env]).get("buckets", {}))
    assert {b["force_destroy"] for b in buckets.values()} == {force_destroy}
    [artifacts] = [b for rid, b in buckets.items() if rid.startswith("artifacts")]
    assert artifacts.get("lifecycle") == lifecycle


def object_grants(grant) -> tuple[dict, dict]:
    """The function role's statements by sid after `grant(bucket, function)`."""

    def build(stack):
        bucket = SecureBucket(stack, "data", SecureBucketProps(bucket_prefix="d-"))
        grant(bucket, build_function(stack))

    synthesized = synth_construct(build)
    grants = role_grants(synthesized)
    del grants["SendToDeadLetterQueue"]  # every function's own
    return synthesized, grants


def test_object_grants_name_keys_and_prefixes_and_nothing_else():
    def grant(bucket, function):
        bucket.grant_read_objects(function, ["greeting.txt", "templates/*"])
        bucket.grant_write_objects(function, ["uploads/*"])

    synthesized, grants = object_grants(grant)
    arn = ref(synthesized, "aws_s3_bucket", "data", "arn")
    assert grants == {
        "ReadObjectsData": (["s3:GetObject"], [f"{arn}/greeting.txt", f"{arn}/templates/*"]),
        "WriteObjectsData": (["s3:PutObject"], [f"{arn}/uploads/*"]),
    }


@pytest.mark.parametrize("method", ["grant_read_objects", "grant_write_objects"])
def test_object_grants_need_a_key(method):
    with pytest.raises(ValueError, match="at least one key"):
        object_grants(lambda bucket, function: getattr(bucket, method)(function, []))
