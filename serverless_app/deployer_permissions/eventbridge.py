"""What calls the functions besides HTTP, on a schedule or on events: EventBridge Scheduler and
EventBridge rules."""

from __future__ import annotations

from serverless_app.deployer_permissions.grants import (
    EVENT_RULES,
    KEYS,
    SCHEDULE_GROUPS,
    SCHEDULES,
    Grant,
    grant,
)

PERMISSIONS: dict[str, tuple[Grant, ...]] = {
    "aws_scheduler_schedule_group": (
        grant(
            "scheduler:CreateScheduleGroup scheduler:GetScheduleGroup "
            "scheduler:DeleteScheduleGroup scheduler:TagResource scheduler:UntagResource "
            "scheduler:ListTagsForResource",
            *SCHEDULE_GROUPS,
        ),
    ),
    "aws_scheduler_schedule": (
        grant(
            "scheduler:CreateSchedule scheduler:GetSchedule scheduler:UpdateSchedule "
            "scheduler:DeleteSchedule",
            *SCHEDULES,
        ),
        # The schedule's data is encrypted with the stack's key, on the caller's behalf.
        grant("kms:DescribeKey kms:Encrypt kms:Decrypt kms:GenerateDataKey", *KEYS),
    ),
    "aws_cloudwatch_event_rule": (
        grant(
            "events:PutRule events:DescribeRule events:DeleteRule events:TagResource "
            "events:UntagResource events:ListTagsForResource",
            *EVENT_RULES,
        ),
    ),
    "aws_cloudwatch_event_target": (
        grant("events:PutTargets events:RemoveTargets events:ListTargetsByRule", *EVENT_RULES),
    ),
}
