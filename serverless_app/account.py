"""The AWS provider's account settings of an environment: which account Terraform may touch
(`allowed_account_ids`, checked against STS GetCallerIdentity before any other call) and the
role it assumes there."""

from __future__ import annotations

from typing import Any

from cdktf_cdktf_provider_aws.provider import AwsProviderAssumeRole

from serverless_app.config import StackConfig


def provider_account(config: StackConfig) -> dict[str, Any]:
    """Keyword arguments of the stack's `AwsProvider`: none when the file names no account."""
    settings: dict[str, Any] = {}
    if config.account_id is not None:
        settings["allowed_account_ids"] = [config.account_id]
    role = config.assume_role
    if role is not None:
        settings["assume_role"] = [
            AwsProviderAssumeRole(
                role_arn=role.role_arn,
                session_name=role.session_name,
                external_id=role.external_id,
            )
        ]
    return settings
