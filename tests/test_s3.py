import pytest

from constructs_lib.s3 import ArtifactBucket, ArtifactBucketProps
from tests.support import only, synth_construct


def test_bucket_prefix_is_passed_through():
    synthesized = synth_construct(
        lambda stack: ArtifactBucket(stack, "b", ArtifactBucketProps(bucket_prefix="dev-art-"))
    )
    bucket = only(synthesized, "aws_s3_bucket")
    assert bucket["bucket_prefix"] == "dev-art-"
    assert "bucket" not in bucket


def test_fixed_bucket_name():
    synthesized = synth_construct(
        lambda stack: ArtifactBucket(stack, "b", ArtifactBucketProps(bucket_name="my-art"))
    )
    assert only(synthesized, "aws_s3_bucket")["bucket"] == "my-art"


@pytest.mark.parametrize(
    "props", [ArtifactBucketProps(), ArtifactBucketProps(bucket_name="x", bucket_prefix="y")]
)
def test_exactly_one_naming_mode(props):
    with pytest.raises(ValueError, match="exactly one"):
        synth_construct(lambda stack: ArtifactBucket(stack, "b", props))
