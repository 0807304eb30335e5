"""`[s3]`: the artifacts bucket, which holds the Lambda packages."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import Field

from serverless_app.config.base import StrictModel, rule
from serverless_app.config.problems import Problem
from serverless_app.config.rules import LifecycleDays, S3BucketName, S3BucketPrefix


class S3Config(StrictModel):
    bucket_prefix: S3BucketPrefix | None = Field(
        default=None,
        description=(
            "1-37 characters (Terraform appends 26), lowercase letters, digits, `.` or `-`, "
            "starting with a letter or digit, no `..`, not starting with `xn--`, `sthree-`, "
            "`amzn-s3-demo-`; unique"
        ),
        json_schema_extra={
            "default_text": "`<project>-<env>-artifacts-` unless `bucket_name` is set"
        },
    )
    bucket_name: S3BucketName | None = Field(
        default=None,
        description=(
            "S3 bucket name: 3-63 lowercase letters, digits, `.` or `-`, starting and ending with "
            "a letter or digit, no `..`, not an IP address, none of the reserved prefixes above "
            "nor suffixes `-s3alias`, `--ol-s3`, `.mrap`, `--x-s3`, `--table-s3`, nor "
            "`-<account id>-<region>-an` (account regional namespace); not together with "
            "`bucket_prefix`; unique"
        ),
        json_schema_extra={"default_text": "unset"},
    )
    noncurrent_version_expiration_days: LifecycleDays = Field(default=30, description="")
    # `terraform destroy` empties the buckets (all versions) instead of failing: dev.
    force_destroy: bool = Field(
        default=False,
        description=(
            "`terraform destroy` empties the artifact and access-log buckets (every version) "
            "instead of failing with `BucketNotEmpty` (dev)"
        ),
    )
    # Terraform refuses any plan that destroys the artifact bucket: prod.
    prevent_destroy: bool = Field(
        default=False,
        description=(
            "Terraform refuses any plan that destroys the artifact bucket "
            "(`lifecycle.prevent_destroy`); not together with `force_destroy` (prod)"
        ),
    )

    @rule("bucket_prefix", "bucket_name")
    def _one_naming_mode(self) -> Iterator[Problem]:
        if self.bucket_prefix and self.bucket_name:
            message = "set bucket_prefix or bucket_name, not both"
            yield Problem(("bucket_name",), message, self.bucket_name)

    @rule("force_destroy", "prevent_destroy")
    def _one_destroy_mode(self) -> Iterator[Problem]:
        if self.force_destroy and self.prevent_destroy:
            message = "contradicts force_destroy = true; set one of them"
            yield Problem(("prevent_destroy",), message)
