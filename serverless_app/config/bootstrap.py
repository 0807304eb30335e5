"""The bootstrap file (`config/bootstrap/state.toml`): the remote-state bucket, the API
Gateway logging role per region, and optionally the deployer role of each environment."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from pydantic import AfterValidator, ConfigDict, Field

from serverless_app.config.aws_facts import (
    GITHUB_BRANCH_PATTERN,
    GITHUB_OIDC_PROVIDER_ARN_PATTERN,
    GITHUB_REPOSITORY_PATTERN,
    IAM_PRINCIPAL_ARN_PATTERN,
)
from serverless_app.config.base import DEFAULT_REGION, StrictModel, rule
from serverless_app.config.problems import Problem
from serverless_app.config.rules import (
    LifecycleDays,
    S3BucketName,
    StackRegion,
    TagKey,
    TagValue,
    not_the_placeholder,
    pattern,
)


class GitHubTrust(StrictModel):
    """Who may assume a deployer role: GitHub Actions' OIDC tokens of one repository and branch."""

    repository: Annotated[
        str, pattern(GITHUB_REPOSITORY_PATTERN, "`owner/name`, GitHub's rules for both")
    ] = Field(description="`owner/name` of the repository whose workflows deploy")
    branch: Annotated[
        str, pattern(GITHUB_BRANCH_PATTERN, "a git branch name (no space or ~^:?*[\\)")
    ] = Field(description="the branch whose workflow runs may assume the role")
    oidc_provider_arn: (
        Annotated[
            str,
            pattern(
                GITHUB_OIDC_PROVIDER_ARN_PATTERN,
                "arn:aws:iam::<12-digit account>:oidc-provider/token.actions.githubusercontent.com",
            ),
        ]
        | None
    ) = Field(
        default=None,
        description=(
            "the account's existing GitHub OIDC provider (IAM allows one per URL); unset: "
            "this stack creates it"
        ),
        json_schema_extra={"default_text": "unset: created"},
    )


class DeployerRoles(StrictModel):
    """A role per environment holding its generated deployer policy (docs/deploying.md)."""

    environments: list[str] = Field(
        min_length=1,
        description=(
            "`env` of each environment file beside the bootstrap folder; each needs its "
            "`account_id`; role `deployer-<project>-<env>`"
        ),
    )
    github: GitHubTrust | None = Field(
        default=None,
        description="trust GitHub Actions (OIDC); or set `trusted_principal_arn`",
        json_schema_extra={"type_text": "table", "default_text": "unset"},
    )
    trusted_principal_arn: (
        Annotated[
            str,
            pattern(
                IAM_PRINCIPAL_ARN_PATTERN,
                "arn:aws:iam::<12-digit account>:root, :user/<name> or :role/<name>",
            ),
        ]
        | None
    ) = Field(
        default=None,
        description="the IAM principal that may assume the roles (sts:AssumeRole); or `github`",
    )

    @rule("github", "trusted_principal_arn")
    def _one_trust(self) -> Iterator[Problem]:
        if self.github is None and self.trusted_principal_arn is None:
            yield Problem((), "set `github` or `trusted_principal_arn`: who may assume the roles")
        if self.github is not None and self.trusted_principal_arn is not None:
            yield Problem(
                ("trusted_principal_arn",),
                "set either `github` or `trusted_principal_arn`, not both",
                self.trusted_principal_arn,
            )

    @rule("environments")
    def _each_environment_once(self) -> Iterator[Problem]:
        for index, env in enumerate(self.environments):
            if env in self.environments[:index]:
                yield Problem(("environments", index), "listed twice", env)


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
    noncurrent_version_expiration_days: LifecycleDays = Field(
        default=90, description="old state versions are kept this long"
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
    deployer: DeployerRoles | None = Field(
        default=None,
        description="a deployer role per environment (docs/deploying.md)",
        json_schema_extra={"type_text": "table", "default_text": "unset: none"},
    )
