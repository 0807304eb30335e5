"""The AWS account an environment deploys to (`account_id`) and the role Terraform assumes
there (`[assume_role]`): Terraform refuses to plan or apply under credentials of any other
account, before it changes anything."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from serverless_app.config.aws_facts import (
    IAM_EXTERNAL_ID_PATTERN,
    IAM_ROLE_ARN_PATTERN,
    IAM_ROLE_SESSION_NAME_PATTERN,
)
from serverless_app.config.base import StrictModel
from serverless_app.config.problems import Problem
from serverless_app.config.rules import pattern

AccountId = Annotated[str, pattern(r"\d{12}", "an AWS account id: 12 digits, as a string")]
RoleArn = Annotated[
    str,
    pattern(
        IAM_ROLE_ARN_PATTERN,
        "an IAM role ARN, arn:aws:iam::<12-digit account>:role/<path and name>",
    ),
]
RoleSessionName = Annotated[
    str,
    pattern(
        IAM_ROLE_SESSION_NAME_PATTERN,
        "2-64 letters, digits or + = , . @ _ - (STS's RoleSessionName)",
    ),
]
ExternalId = Annotated[
    str,
    pattern(
        IAM_EXTERNAL_ID_PATTERN,
        "2-1224 letters, digits or + = , . @ : / _ - (STS's ExternalId)",
    ),
]


class AssumeRoleConfig(StrictModel):
    """The role Terraform's AWS provider assumes before every call (STS AssumeRole)."""

    role_arn: RoleArn = Field(
        description=(
            "the role's ARN (e.g. the bootstrap's deployer role); in `account_id` when that is set"
        )
    )
    session_name: RoleSessionName | None = Field(
        default=None,
        description="2-64 letters, digits or `+=,.@_-`; shown in CloudTrail",
        json_schema_extra={"default_text": "unset: the provider picks one"},
    )
    external_id: ExternalId | None = Field(
        default=None,
        description="2-1224 letters, digits or `+=,.@:/_-`; when the role's trust asks for one",
        json_schema_extra={"default_text": "unset"},
    )


def role_account(role_arn: str) -> str:
    return role_arn.split(":")[4]


def account_problems(account_id: str | None, assume_role: AssumeRoleConfig | None) -> list[Problem]:
    """A role in another account than `account_id` would make every plan fail: Terraform
    checks the account of the assumed role."""
    if account_id is None or assume_role is None:
        return []
    if role_account(assume_role.role_arn) == account_id:
        return []
    message = (
        f"the role is in account {role_account(assume_role.role_arn)}, not in account_id "
        f"{account_id}: Terraform would refuse every plan"
    )
    return [Problem(("assume_role", "role_arn"), message, assume_role.role_arn)]
