"""Logs, alarms and dashboards: CloudWatch."""

from __future__ import annotations

from serverless_app.deployer_permissions.grants import (
    ALARMS,
    ANY,
    DASHBOARDS,
    LOG_GROUPS,
    Grant,
    grant,
)

PERMISSIONS: dict[str, tuple[Grant, ...]] = {
    # --- CloudWatch ---------------------------------------------------------------------
    "aws_cloudwatch_log_group": (
        grant("logs:DescribeLogGroups", ANY),
        grant(
            "logs:CreateLogGroup logs:DeleteLogGroup logs:PutRetentionPolicy "
            "logs:DeleteRetentionPolicy logs:AssociateKmsKey logs:DisassociateKmsKey "
            "logs:TagResource logs:UntagResource logs:ListTagsForResource logs:TagLogGroup "
            "logs:UntagLogGroup logs:ListTagsLogGroup",
            *LOG_GROUPS,
        ),
    ),
    "aws_cloudwatch_metric_alarm": (
        grant("cloudwatch:DescribeAlarms", ANY),
        grant(
            "cloudwatch:PutMetricAlarm cloudwatch:DeleteAlarms cloudwatch:TagResource "
            "cloudwatch:UntagResource cloudwatch:ListTagsForResource",
            *ALARMS,
        ),
    ),
    "aws_cloudwatch_dashboard": (
        grant(
            "cloudwatch:PutDashboard cloudwatch:GetDashboard cloudwatch:DeleteDashboards",
            *DASHBOARDS,
        ),
    ),
}
