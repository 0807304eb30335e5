"""CloudWatch log groups created by the stack itself (never left for AWS to create)."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from constructs import Construct


def encrypted_log_group(
    scope: Construct, id: str, *, name: str, retention_days: int, kms_key_arn: str
) -> CloudwatchLogGroup:
    """A log group with a retention period, encrypted with the stack's KMS key."""
    return CloudwatchLogGroup(
        scope, id, name=name, retention_in_days=retention_days, kms_key_id=kms_key_arn
    )


def access_log_group(
    scope: Construct,
    *,
    api_name: str,
    stage_name: str | None,
    retention_days: int,
    kms_key_arn: str,
) -> CloudwatchLogGroup:
    """The log group of an API stage's access logs, `/aws/apigateway/<api>/<stage>/access`;
    `stage_name` None for an HTTP API's `$default` stage ("$" is not allowed in log group
    names), `/aws/apigateway/<api>/access`."""
    stage_part = f"/{stage_name}" if stage_name is not None else ""
    return encrypted_log_group(
        scope,
        "access-logs",
        name=f"/aws/apigateway/{api_name}{stage_part}/access",
        retention_days=retention_days,
        kms_key_arn=kms_key_arn,
    )
