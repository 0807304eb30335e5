"""`[backend]`: where Terraform keeps the state."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from serverless_app.config.base import StrictModel
from serverless_app.config.rules import (
    AwsRegion,
    Problem,
    S3BucketName,
    StateKey,
    fail,
    raise_problems,
)

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

    @model_validator(mode="after")
    def _keys_match_type(self) -> BackendConfig:
        if self.type == "s3" and not self.bucket:
            fail(("bucket",), 'required with type = "s3"')
        if self.type == "local":
            raise_problems(
                Problem((key,), 'only used with type = "s3"', getattr(self, key))
                for key in S3_BACKEND_KEYS
                if key in self.model_fields_set
            )
        return self
