"""`[backend]`: where Terraform keeps the state."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from pydantic import Field

from serverless_app.config.base import StrictModel, rule
from serverless_app.config.problems import Problem
from serverless_app.config.rules import AwsRegion, S3BucketName, StateKey

BackendType = Literal["local", "s3"]
S3_BACKEND_KEYS = ("bucket", "key", "region", "use_lockfile", "encrypt")


class BackendConfig(StrictModel):
    """Where Terraform keeps state. "local": `terraform.<env>.tfstate` in the stack folder."""

    type: BackendType = Field(
        default="local", description="`local`: `terraform.<env>.tfstate` in the stack folder"
    )
    # The keys below apply to type = "s3" only.
    bucket: S3BucketName | None = Field(
        default=None,
        description='required with `type = "s3"`; S3 bucket name rules',
        json_schema_extra={"default_text": "—"},
    )
    key: StateKey | None = Field(
        default=None,
        description=(
            "not empty, not starting or ending with `/`, no `//`; at most 1017 bytes (S3 keys "
            "stop at 1024, the lock file adds `.tflock`); bucket + key unique"
        ),
        json_schema_extra={"default_text": "`<project>/<env>/terraform.tfstate`"},
    )
    region: AwsRegion | None = Field(
        default=None, description="an AWS region", json_schema_extra={"default_text": "`region`"}
    )
    use_lockfile: bool = Field(default=True, description="S3-native locking (Terraform >= 1.10)")
    encrypt: bool = Field(default=True, description="")

    @rule("type", "bucket")
    def _bucket_with_s3(self) -> Iterator[Problem]:
        if self.type == "s3" and not self.bucket:
            yield Problem(("bucket",), 'required with type = "s3"')

    @rule("type", *S3_BACKEND_KEYS)
    def _s3_keys_with_s3(self) -> Iterator[Problem]:
        if self.type == "local":
            for key in S3_BACKEND_KEYS:
                if key in self.model_fields_set:
                    yield Problem((key,), 'only used with type = "s3"', getattr(self, key))

    def s3_state(self) -> S3State | None:
        """Where the state lives with `type = "s3"`; None for the local backend."""
        if self.type == "local":
            return None
        # With type = "s3" a bucket is required and the key is derived when left out.
        if self.bucket is None or self.key is None:
            raise ValueError("the configuration model left the S3 backend without bucket or key")
        return S3State(self.bucket, self.key, self.region, self.encrypt, self.use_lockfile)


@dataclass(frozen=True)
class S3State:
    bucket: str
    key: str
    # None: the region of the stack's provider.
    region: str | None
    encrypt: bool
    use_lockfile: bool
