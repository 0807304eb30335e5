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
