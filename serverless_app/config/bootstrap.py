"""The bootstrap file (`config/bootstrap/state.toml`): the remote-state bucket and the API
Gateway logging role per region."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, ConfigDict, Field

from constructs_lib.storage import S3_MAX_LIFECYCLE_DAYS
from serverless_app.config.base import DEFAULT_REGION, StrictModel
from serverless_app.config.rules import (
    S3BucketName,
    StackRegion,
    TagKey,
    TagValue,
    not_the_placeholder,
)


class BootstrapRegions(StrictModel):
    """What environments need of the bootstrap file: the regions whose API Gateway logging role
    it sets. Other keys are read (and checked) by `BootstrapConfig` only."""

    model_config = ConfigDict(extra="ignore")

    region: StackRegion = Field(
        default=DEFAULT_REGION, description="a region of the `aws` partition"
    )
    # API Gateway's CloudWatch role is an account setting per region: set here, once, for
    # every region an environment runs in (default: this stack's region).
    api_logging_regions: list[StackRegion] = Field(
        default_factory=list,
        description=(
            "regions (of the `aws` partition) whose API Gateway account setting points at the "
            "logging role: every region an environment runs in (`make check` compares, when "
            "this file is next to the environment files)"
        ),
        json_schema_extra={"default_text": "`[region]`"},
    )

    @property
    def logging_regions(self) -> list[str]:
        return sorted(set(self.api_logging_regions)) or [self.region]


class BootstrapConfig(BootstrapRegions):
    """The `bootstrap` stack: the S3 bucket for remote state (`python main.py --bootstrap`)."""

    model_config = ConfigDict(extra="forbid")

    bucket_name: Annotated[S3BucketName, AfterValidator(not_the_placeholder)] = Field(
        description=(
            "the state bucket; S3 bucket name rules (globally unique); the shipped placeholder "
            "`example-org-terraform-state` is refused (exit 2)"
        )
    )
    tags: dict[TagKey, TagValue] = Field(default_factory=dict, description="tag rules as above")
    noncurrent_version_expiration_days: Annotated[int, Field(ge=1, le=S3_MAX_LIFECYCLE_DAYS)] = (
        Field(default=90, description="old state versions are kept this long")
    )
    # A region's setting names one role for every API there: replacing a role another team
    # set moves all of their logging to this stack's role. Refused at plan time unless asked.
    api_logging_take_over: bool = Field(
        default=False,
        description=(
            "replace a CloudWatch role set outside this stack in `api_logging_regions`; without "
            "it, `terraform plan` fails in such a region and names the role"
        ),
    )
