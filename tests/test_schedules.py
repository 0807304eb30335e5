"""EventBridge Scheduler: the schedule group, a schedule invoking a live alias with its own
role and dead-letter queue, and the alarms on both."""

import pytest

from constructs_lib.alarm_props import EventDeliveryAlarmProps
from constructs_lib.delivery_alarms import ScheduleAlarms, ScheduleGroupAlarms
from constructs_lib.monitoring import Monitoring, MonitoringProps
from constructs_lib.releases import InvokeTarget
from constructs_lib.schedules import (
    FunctionSchedule,
    ScheduleGroup,
    ScheduleGroupProps,
    ScheduleProps,
)
from tests.support import TEST_KEY_ARN, data_sources, only, resources, synth_construct

ALIAS_ARN = "arn:aws:lambda:us-east-1:111122223333:function:t-worker:live"
TARGET = InvokeTarget("t-worker", ALIAS_ARN, "arn:aws:apigateway:invoke", "live")


def schedule_props(**overrides) -> ScheduleProps:
    values = {
        "name": "t-nightly",
        "role_name": "t-nightly-scheduler",
        "expression": "cron(30 2 * * ? *)",
        "kms_key_arn": TEST_KEY_ARN,
    }
    return ScheduleProps(**{**values, **overrides})


def build(stack, *, watch: bool = False, **overrides) -> None:
    group = ScheduleGroup(stack, "group", ScheduleGroupProps(name="t-dev", region="eu-central-1"))
    schedule = FunctionSchedule(stack, "nightly", group, TARGET, schedule_props(**overrides))
    if watch:
        monitoring = Monitoring(
            stack,
            "monitoring",
            MonitoringProps(name="t", region="eu-central-1", kms_key_arn=TEST_KEY_ARN),
        )
        ScheduleGroupAlarms(monitoring, group)
        ScheduleAlarms(monitoring, schedule, EventDeliveryAlarmProps(period_s=300))


@pytest.fixture(scope="module")
def synthesized() -> dict:
    return synth_construct(
        lambda stack: build(
            stack,
            timezone="Europe/Berlin",
            flexible_window_minutes=15,
            retry_attempts=3,
            maximum_event_age_s=3600,
            watch=True,
        )
    )


def test_the_group_is_named_as_given(synthesized):
    assert only(synthesized, "aws_scheduler_schedule_group") == {"name": "t-dev"}


def test_schedule_invokes_the_alias_as_its_role_with_its_settings(synthesized):
    [(group_id, _)] = resources(synthesized, "aws_scheduler_schedule_group").items()
    [(queue_id, _)] = resources(synthesized, "aws_sqs_queue").items()
    [(role_id, _)] = resources(synthesized, "aws_iam_role").items()
    schedule = only(synthesized, "aws_scheduler_schedule")
    assert {key: value for key, value in schedule.items() if key != "depends_on"} == {
        "name": "t-nightly",
        "group_name": f"${{aws_scheduler_schedule_group.{group_id}.name}}",
        "schedule_expression": "cron(30 2 * * ? *)",
        "schedule_expression_timezone": "Europe/Berlin",
        "flexible_time_window": {"mode": "FLEXIBLE", "maximum_window_in_minutes": 15},
        "kms_key_arn": TEST_KEY_ARN,
        "target": {
            "arn": ALIAS_ARN,
            "role_arn": f"${{aws_iam_role.{role_id}.arn}}",
            "retry_policy": {"maximum_retry_attempts": 3, "maximum_event_age_in_seconds": 3600},
            "dead_letter_config": {"arn": f"${{aws_sqs_queue.{queue_id}.arn}}"},
        },
    }


def test_defaults_are_schedulers_own_and_no_window():
    schedule = only(synth_construct(build), "aws_scheduler_schedule")
    assert schedule["schedule_expression_timezone"] == "UTC"
    assert schedule["flexible_time_window"] == {"mode": "OFF"}
    assert schedule["target"]["retry_policy"] == {
        "maximum_retry_attempts": 185,
        "maximum_event_age_in_seconds": 86400,
    }
    assert "input" not in schedule["target"]


def test_input_reaches_the_target_as_written():
    text = '{"job": "nächtlich"}'
    schedule = only(
        synth_construct(lambda stack: build(stack, input=text)), "aws_scheduler_schedule"
    )
    assert schedule["target"]["input"] == text


def test_dead_letter_queue_is_encrypted_and_kept_two_weeks(synthesized):
    assert only(synthesized, "aws_sqs_queue") == {
        "name": "t-nightly-dlq",
        "kms_master_key_id": TEST_KEY_ARN,
        "message_retention_seconds": 1209600,
    }


def test_role_trusts_scheduler_for_this_accounts_group_only(synthesized):
    [account] = data_sources(synthesized, "aws_caller_identity")
    [partition] = data_sources(synthesized, "aws_partition")
    trust = [
        document
        for rid, document in data_sources(synthesized, "aws_iam_policy_document").items()
        if "assume-role" in rid
    ]
    assert [document["statement"] for document in trust] == [
        [
            {
                "effect": "Allow",
                "actions": ["sts:AssumeRole"],
                "principals": [{"type": "Service", "identifiers": ["scheduler.amazonaws.com"]}],
                "condition": [
                    {
                        "test": "StringEquals",
                        "variable": "aws:SourceAccount",
                        "values": [f"${{data.aws_caller_identity.{account}.account_id}}"],
                    },
                    {
                        "test": "ArnLike",
                        "variable": "aws:SourceArn",
                        "values": [
                            f"arn:${{data.aws_partition.{partition}.partition}}:scheduler:"
                            f"eu-central-1:${{data.aws_caller_identity.{account}.account_id}}"
                            ":schedule-group/t-dev"
                        ],
                    },
                ],
            }
        ]
    ]
    assert only(synthesized, "aws_iam_role")["name"] == "t-nightly-scheduler"


def test_role_may_invoke_the_alias_write_its_queue_and_use_the_key_only(synthesized):
    [(queue_id, _)] = resources(synthesized, "aws_sqs_queue").items()
    statements = sorted(
        (
            statement
            for rid, document in data_sources(synthesized, "aws_iam_policy_document").items()
            if "assume-role" not in rid
            for statement in document["statement"]
        ),
        key=lambda statement: statement["sid"],
    )
    assert statements == [
        {
            "sid": "InvokeTarget",
            "effect": "Allow",
            "actions": ["lambda:InvokeFunction"],
            "resources": [ALIAS_ARN],
        },
        {
            "sid": "SendToDeadLetterQueue",
            "effect": "Allow",
            "actions": ["sqs:SendMessage"],
            "resources": [f"${{aws_sqs_queue.{queue_id}.arn}}"],
        },
        {
            "sid": "UseKey",
            "effect": "Allow",
            "actions": ["kms:Decrypt", "kms:GenerateDataKey"],
            "resources": [TEST_KEY_ARN],
        },
    ]


def test_schedule_is_created_after_its_role_policies(synthesized):
    schedule = only(synthesized, "aws_scheduler_schedule")
    policies = {
        f"aws_iam_role_policy.{rid}" for rid in resources(synthesized, "aws_iam_role_policy")
    }
    assert len(policies) == 3
    assert set(schedule["depends_on"]) == policies


def test_group_alarms_watch_refused_and_given_up_invocations(synthesized):
    alarms = {
        alarm["alarm_name"]: alarm
        for alarm in resources(synthesized, "aws_cloudwatch_metric_alarm").values()
    }
    for name, metric in (
        ("t-dev-schedule-target-failures", "TargetErrorCount"),
        ("t-dev-schedule-dropped", "InvocationDroppedCount"),
    ):
        alarm = alarms[name]
        assert (alarm["namespace"], alarm["metric_name"], alarm["statistic"]) == (
            "AWS/Scheduler",
            metric,
            "Sum",
        )
        assert alarm["dimensions"] == {"ScheduleGroup": "t-dev"}
        assert alarm["threshold"] == 1
    queue = alarms["t-nightly-dead-letter-queue"]
    [(queue_id, _)] = resources(synthesized, "aws_sqs_queue").items()
    assert (queue["namespace"], queue["metric_name"], queue["statistic"]) == (
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        "Maximum",
    )
    assert queue["dimensions"] == {"QueueName": f"${{aws_sqs_queue.{queue_id}.name}}"}
    assert queue["period"] == 300
    assert len(alarms) == 3


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": "t nightly"}, "name must be 1-64 letters"),
        ({"name": "n" * 65}, "name must be 1-64 letters"),
        ({"flexible_window_minutes": -1}, "between 0 and 1440 minutes"),
        ({"flexible_window_minutes": 1441}, "between 0 and 1440 minutes"),
        ({"retry_attempts": -1}, "between 0 and 185"),
        ({"retry_attempts": 186}, "between 0 and 185"),
        ({"maximum_event_age_s": 59}, "between 60 and 86400 seconds"),
        ({"maximum_event_age_s": 86401}, "between 60 and 86400 seconds"),
    ],
)
def test_settings_outside_schedulers_limits_are_refused(overrides, message):
    with pytest.raises(ValueError, match=message):
        schedule_props(**overrides)


@pytest.mark.parametrize(
    "overrides",
    [
        {"name": "n" * 64},
        {"flexible_window_minutes": 0},
        {"flexible_window_minutes": 1},
        {"flexible_window_minutes": 1440},
        {"retry_attempts": 0},
        {"maximum_event_age_s": 60},
    ],
)
def test_settings_at_schedulers_limits_are_taken(overrides):
    assert schedule_props(**overrides)


def test_group_name_is_checked():
    with pytest.raises(ValueError, match="schedule group name must be 1-64"):
        ScheduleGroupProps(name="a/b", region="eu-central-1")


def test_alarm_thresholds_must_be_positive():
    with pytest.raises(ValueError, match="failures_threshold must be at least 1"):
        EventDeliveryAlarmProps(failures_threshold=0)


def test_alarm_descriptions_carry_the_runbook_line(synthesized):
    alarm = next(
        alarm
        for alarm in resources(synthesized, "aws_cloudwatch_metric_alarm").values()
        if alarm["alarm_name"] == "t-dev-schedule-dropped"
    )
    assert alarm["alarm_description"].startswith(
        "t-dev: schedule invocations given up at or above 1 in 2 of 3 periods of 60 s. "
        "Fires when EventBridge Scheduler stopped retrying"
    )
