"""The S3 bucket that holds the Lambda deployment package (and the greeting template)."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_object import S3Object
from constructs import Construct

from constructs_lib.iam import Grantable


@dataclass(frozen=True)
class ArtifactBucketProps:
    # Exactly one of the two: a fixed name, or a prefix Terraform completes uniquely.
    bucket_name: str | None = None
    bucket_prefix: str | None = None
    # Lets `terraform destroy` remove a bucket that still holds objects (dev convenience).
    force_destroy: bool = False


class ArtifactBucket(Construct):
    def __init__(self, scope: Construct, id: str, props: ArtifactBucketProps) -> None:
        super().__init__(scope, id)
        if (props.bucket_name is None) == (props.bucket_prefix is None):
            raise ValueError("ArtifactBucket needs exactly one of bucket_name, bucket_prefix")
        self.bucket = S3Bucket(
            self,
            "bucket",
            bucket=props.bucket_name,
            bucket_prefix=props.bucket_prefix,
            force_destroy=props.force_destroy,
        )

    @property
    def bucket_name(self) -> str:
        return self.bucket.bucket

    @property
    def bucket_arn(self) -> str:
        return self.bucket.arn

    def add_object(self, id: str, *, key: str, source: str, source_hash: str) -> S3Object:
        """Upload a local file; `source_hash` makes Terraform re-upload when it changes."""
        return S3Object(
            self, id, bucket=self.bucket.id, key=key, source=source, source_hash=source_hash
        )

    def grant_read_object(self, grantee: Grantable, key: str) -> None:
        """Allow `s3:GetObject` on one object key, nothing else in the bucket."""
        grantee.add_to_role_policy("ReadObject", ["s3:GetObject"], [f"{self.bucket.arn}/{key}"])
