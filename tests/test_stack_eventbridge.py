"""The schedule, bucket and rule triggers of a stack: what the shipped dev synthesizes for its
nightly schedule and its uploads trigger (names, settings, input, alarms), a rule trigger's
pattern as written, and the one name the configuration checks beyond the trigger's own (the
schedule's role)."""

from __future__ import annotations

import json
import re
import textwrap
import tomllib

import pytest

from serverless_app.config import load_config
from serverless_app.config.loading import ConfigError
from tests.support import (
    CONFIG_DIR,
    ENVIRONMENT_FILES,
    REPO_ROOT,
    file_values,
    load_function_module,
    name_prefix,
    only,
    ref,
    resources,
    run_main,
    synth_config,
)
from tests.test_config import dev_with, write_config


@pytest.fixture(scope="module")
def dev(stacks) -> dict:
    return stacks["dev"]


PREFIX = name_prefix(ENVIRONMENT_FILES["dev"])


def test_dev_schedule_is_the_nightly_job_in_berlin_time(dev):
    schedule = only(dev, "aws_scheduler_schedule")
    assert only(dev, "aws_scheduler_schedule_group")["name"] == PREFIX
    assert schedule["name"] == f"{PREFIX}-nightly"
    assert schedule["group_name"] == ref(dev, "aws_scheduler_schedule_group", "schedule", "name")
    assert schedule["schedule_expression"] == "cron(30 2 * * ? *)"
    assert schedule["schedule_expression_timezone"] == "Europe/Berlin"
    assert schedule["flexible_time_window"] == {"mode": "FLEXIBLE", "maximum_window_in_minutes": 15}
    target = schedule["target"]
    assert target["arn"] == ref(dev, "aws_lambda_alias", "housekeeping", "arn")
    assert target["retry_policy"] == {
        "maximum_retry_attempts": 3,
        "maximum_event_age_in_seconds": 3600,
    }
    # Scheduler's context attributes, which it replaces at each invocation.
    assert json.loads(target["input"]) == {
        "schedule_arn": "<aws.scheduler.schedule-arn>",
        "scheduled_time": "<aws.scheduler.scheduled-time>",
        "execution_id": "<aws.scheduler.execution-id>",
        "attempt_number": "<aws.scheduler.attempt-number>",
    }
    roles = {role["name"] for role in resources(dev, "aws_iam_role").values()}
    assert f"{PREFIX}-nightly-scheduler" in roles
    queues = {queue["name"] for queue in resources(dev, "aws_sqs_queue").values()}
    assert f"{PREFIX}-nightly-schedule-dlq" in queues


def test_dev_uploads_trigger_is_a_rule_on_the_uploads_prefix(dev):
    [rule] = resources(dev, "aws_cloudwatch_event_rule").values()
    assert rule["name"] == f"{PREFIX}-housekeeping-bucket-uploads"
    assert json.loads(rule["event_pattern"]) == {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {
            "bucket": {"name": [ref(dev, "aws_s3_bucket", "bucket-uploads_bucket", "bucket")]},
            "object": {"key": [{"prefix": "uploads/"}]},
        },
    }
    target = only(dev, "aws_cloudwatch_event_target")
    assert target["arn"] == ref(dev, "aws_lambda_alias", "housekeeping", "arn")
    # The entry leaves the retry policy out: EventBridge's own.
    assert target["retry_policy"] == {
        "maximum_retry_attempts": 185,
        "maximum_event_age_in_seconds": 86400,
    }


def test_dev_alarms_watch_the_group_the_schedule_and_the_rule(dev):
    names = {
        alarm["alarm_name"] for alarm in resources(dev, "aws_cloudwatch_metric_alarm").values()
    }
    assert {
        f"{PREFIX}-schedule-target-failures",
        f"{PREFIX}-schedule-dropped",
        f"{PREFIX}-nightly-dead-letter-queue",
        f"{PREFIX}-housekeeping-bucket-uploads-failed-invocations",
    } <= names
    window = file_values(ENVIRONMENT_FILES["dev"])["alarms"]
    dropped = next(
        alarm
        for alarm in resources(dev, "aws_cloudwatch_metric_alarm").values()
        if alarm["alarm_name"] == f"{PREFIX}-schedule-dropped"
    )
    assert (dropped["period"], dropped["evaluation_periods"], dropped["datapoints_to_alarm"]) == (
        window["period_s"],
        window["evaluation_periods"],
        window["datapoints_to_alarm"],
    )


def test_a_rule_trigger_sends_its_pattern_as_written(tmp_path):
    pattern = {"source": ["shop.orders"], "detail-type": ["Bestellung eingegangen"]}
    config = load_config(
        write_config(
            tmp_path,
            dev_with(
                {
                    "triggers": [
                        {"function": "housekeeping", "rule": pattern, "name": "orders"},
                    ]
                }
            ),
        )
    )
    synthesized = synth_config(config)
    rule = only(synthesized, "aws_cloudwatch_event_rule")
    assert rule["name"] == f"{PREFIX}-orders"
    assert rule["event_pattern"] == (
        '{"source":["shop.orders"],"detail-type":["Bestellung eingegangen"]}'
    )
    assert resources(synthesized, "aws_scheduler_schedule") == {}
    assert resources(synthesized, "aws_scheduler_schedule_group") == {}


# dev's prefix is `hello-dev` (9): `-` + name + `-scheduler` leaves IAM's 64 for 44 characters,
# more than a name may have (32). A prefix of 26 (the longest) leaves 27.
LONG_PREFIX = {
    "project": "p" * 20,
    "env": "e" * 5,
    "functions.housekeeping.name": "h",
    "load_balancer.name": "lb",
}
# The index of dev's nightly schedule among its triggers.
NIGHTLY = next(
    index
    for index, trigger in enumerate(file_values(ENVIRONMENT_FILES["dev"])["triggers"])
    if "schedule" in trigger
)


def test_a_schedule_whose_role_fits_iam_passes(tmp_path):
    changes = {**LONG_PREFIX, f"triggers.{NIGHTLY}.name": "n" * 27}
    config = load_config(write_config(tmp_path, dev_with(changes)))
    assert len(f"{config.name_prefix}-{'n' * 27}-scheduler") == 64


def test_a_schedule_whose_role_is_too_long_is_one_line(tmp_path):
    changes = {**LONG_PREFIX, f"triggers.{NIGHTLY}.name": "n" * 28}
    with pytest.raises(ConfigError) as raised:
        load_config(write_config(tmp_path, dev_with(changes)))
    role = f"{'p' * 20}-{'e' * 5}-{'n' * 28}-scheduler"
    assert str(raised.value).endswith(
        f"triggers[{NIGHTLY}].name: its role would be named {role!r}, 65 characters; IAM "
        f"allows 64: set a shorter `name` (given: {'n' * 28!r})"
    )


def test_a_schedule_with_on_failure_sends_its_failures_to_that_queue(tmp_path):
    changes = {f"triggers.{NIGHTLY}.on_failure": "orders"}
    synthesized = synth_config(load_config(write_config(tmp_path, dev_with(changes))))
    schedule = only(synthesized, "aws_scheduler_schedule")
    orders = ref(synthesized, "aws_sqs_queue", "queue-orders_queue_", "arn")
    assert schedule["target"]["dead_letter_config"] == {"arn": orders}
    # No queue of its own, and no alarm on one: the orders queue has its own alarms.
    queues = {queue["name"] for queue in resources(synthesized, "aws_sqs_queue").values()}
    assert f"{PREFIX}-nightly-schedule-dlq" not in queues
    names = {
        a["alarm_name"] for a in resources(synthesized, "aws_cloudwatch_metric_alarm").values()
    }
    assert f"{PREFIX}-nightly-dead-letter-queue" not in names
    [policy] = [
        document["statement"]
        for rid, document in resources_of_data(synthesized).items()
        if rid.startswith("trigger-nightly_policy-SendToDeadLetterQueue")
    ]
    assert policy[0]["resources"] == [orders]


def resources_of_data(synthesized: dict) -> dict[str, dict]:
    return synthesized["data"]["aws_iam_policy_document"]


# dev's bucket trigger, and a rule trigger added beside it.
BUCKET = next(
    index
    for index, trigger in enumerate(file_values(ENVIRONMENT_FILES["dev"])["triggers"])
    if "bucket" in trigger
)
A_RULE = {"function": "housekeeping", "rule": {"source": ["my.app"]}, "name": "app-events"}


def dev_with_failure_queues(on_failure: str, **queues: dict) -> dict:
    """dev with `on_failure` on its bucket trigger and on a rule trigger, and `queues` added."""
    triggers = file_values(ENVIRONMENT_FILES["dev"])["triggers"]
    triggers[BUCKET] = {**triggers[BUCKET], "on_failure": on_failure}
    changes: dict[str, object] = {"triggers": [*triggers, {**A_RULE, "on_failure": on_failure}]}
    changes |= {f"queues.{key}": settings for key, settings in queues.items()}
    return dev_with(changes)


def test_bucket_and_rule_triggers_send_undelivered_events_to_their_on_failure_queue(tmp_path):
    data = dev_with_failure_queues("failures", failures={})
    synthesized = synth_config(load_config(write_config(tmp_path, data)))
    failures = ref(synthesized, "aws_sqs_queue", "queue-failures_queue_", "arn")
    targets = resources(synthesized, "aws_cloudwatch_event_target")
    assert {rid.split("_")[0]: body["dead_letter_config"] for rid, body in targets.items()} == {
        "trigger-housekeeping-bucket-uploads": {"arn": failures},
        "trigger-app-events": {"arn": failures},
    }
    # The queue lets EventBridge send for these two rules only.
    policy = only(synthesized, "aws_sqs_queue_policy")
    assert policy["queue_url"] == ref(synthesized, "aws_sqs_queue", "queue-failures_queue_", "url")
    [statement] = json.loads(policy["policy"])["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Resource"] == failures
    assert sorted(statement["Condition"]["ArnEquals"]["aws:SourceArn"]) == sorted(
        ref(synthesized, "aws_cloudwatch_event_rule", name, "arn")
        for name in ("trigger-housekeeping-bucket-uploads_", "trigger-app-events_")
    )
    # SQS encrypts what EventBridge sends with the stack key: the key policy lets it.
    assert key_statements(synthesized)["EventBridgeSendsToEncryptedQueues"] == {
        "Sid": "EventBridgeSendsToEncryptedQueues",
        "Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"},
        "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
        "Resource": "*",
    }


def key_statements(synthesized: dict) -> dict[str, dict]:
    policy = json.loads(only(synthesized, "aws_kms_key")["policy"])
    return {statement["Sid"]: statement for statement in policy["Statement"]}


def test_without_on_failure_no_rule_has_a_dead_letter_queue_and_the_key_keeps_eventbridge_out(dev):
    assert all(
        "dead_letter_config" not in target
        for target in resources(dev, "aws_cloudwatch_event_target").values()
    )
    assert resources(dev, "aws_sqs_queue_policy") == {}
    assert "EventBridgeSendsToEncryptedQueues" not in key_statements(dev)


@pytest.mark.parametrize(
    ("queues", "on_failure", "message"),
    [
        ({}, "failures", "not a key of [queues] (orders)"),
        (
            {"jobs": {"fifo": True}},
            "jobs",
            "a FIFO queue cannot receive failures (Lambda and EventBridge send to standard "
            "queues) (given: 'jobs')",
        ),
    ],
)
def test_an_on_failure_queue_of_a_bucket_trigger_that_cannot_take_failures_is_one_line(
    tmp_path, queues, on_failure, message
):
    path = write_config(tmp_path, dev_with_failure_queues(on_failure, **queues))
    result = run_main("--check", "--config", str(path))
    assert result.returncode == 2
    [line, *others] = result.stderr.splitlines()
    assert line.startswith(f"{path}: triggers[{BUCKET}].on_failure: {message}")
    # The rule trigger's, one line of its own, the same problem.
    added = len(file_values(ENVIRONMENT_FILES["dev"])["triggers"])
    assert [other.split(": ", 2)[1] for other in others] == [f"triggers[{added}].on_failure"]


def recipe_blocks(language: str) -> list[str]:
    """The fenced blocks of one language in docs/schedules.md's recipe, as written."""
    text = (REPO_ROOT / "docs" / "schedules.md").read_text()
    section = text.split("\n## Add a nightly job\n")[1].split("\n## ")[0]
    return [
        textwrap.dedent(block) for block in re.findall(rf"```{language}\n(.*?)```", section, re.S)
    ]


def test_the_add_a_nightly_job_recipe_runs_as_written(tmp_path):
    [code] = recipe_blocks("python")
    [declared] = recipe_blocks("toml")
    folder = tmp_path / "functions" / "nightly"
    folder.mkdir(parents=True)
    (folder / "app.py").write_text(code)
    # The recipe's folder does not exist in this repository: the one just written.
    declared = declared.replace('"functions/nightly"', json.dumps(str(folder)))
    path = tmp_path / "dev.toml"
    path.write_text((CONFIG_DIR / "dev.toml").read_text() + "\n" + declared)
    synthesized = synth_config(load_config(path))
    [schedule] = [
        body
        for body in resources(synthesized, "aws_scheduler_schedule").values()
        if body["name"] == f"{PREFIX}-cleanup"
    ]
    assert schedule["schedule_expression"] == "cron(0 3 * * ? *)"
    assert schedule["schedule_expression_timezone"] == "Europe/Berlin"
    assert schedule["flexible_time_window"] == {"mode": "FLEXIBLE", "maximum_window_in_minutes": 30}
    assert schedule["target"]["retry_policy"] == {
        "maximum_retry_attempts": 2,
        "maximum_event_age_in_seconds": 3600,
    }
    assert schedule["target"]["arn"] == ref(synthesized, "aws_lambda_alias", "nightly", "arn")
    # The code answers the input every schedule gets, its placeholders as Scheduler fills them.
    module = load_function_module(folder / "app.py", "recipe_nightly")
    event = {
        "schedule_arn": f"arn:aws:scheduler:us-east-1:111122223333:schedule/{PREFIX}/cleanup",
        "scheduled_time": "2026-12-07T02:00:00Z",
        "execution_id": "abc",
        "attempt_number": "1",
    }
    assert json.loads(schedule["target"]["input"]).keys() == event.keys()
    assert module.handler(event, None) == {"job": "nightly", "schedule": event["schedule_arn"]}


def test_the_on_failure_example_of_schedules_md_sends_undelivered_events_to_its_queue(tmp_path):
    text = (REPO_ROOT / "docs" / "schedules.md").read_text()
    section = text.split("- **`on_failure` on a `bucket` or `rule` entry**")[1].split("\n- ")[0]
    [block] = re.findall(r"```toml\n(.*?)```", section, re.S)
    example = tomllib.loads(textwrap.dedent(block))
    triggers = file_values(ENVIRONMENT_FILES["dev"])["triggers"]
    [trigger] = example["triggers"]
    triggers[BUCKET] = trigger
    changes = {"triggers": triggers, **{f"queues.{k}": v for k, v in example["queues"].items()}}
    synthesized = synth_config(load_config(write_config(tmp_path, dev_with(changes))))
    [target] = resources(synthesized, "aws_cloudwatch_event_target").values()
    queue = ref(synthesized, "aws_sqs_queue", "queue-undelivered_queue_", "arn")
    assert target["dead_letter_config"] == {"arn": queue}
    assert target["retry_policy"] == {
        "maximum_retry_attempts": 2,
        "maximum_event_age_in_seconds": 600,
    }
    names = {body["name"] for body in resources(synthesized, "aws_sqs_queue").values()}
    assert f"{PREFIX}-undelivered" in names
