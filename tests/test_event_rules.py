"""EventBridge rules invoking a live alias: the rule with its pattern as written, its target,
the permission for this rule of this account, the bucket's object-created pattern, and the
rule's alarm."""

import json

import pytest

from constructs_lib.delivery_alarms import EventRuleAlarms
from constructs_lib.event_rules import (
    EventRuleProps,
    FunctionEventRule,
    object_created_rule,
)
from constructs_lib.eventbridge import object_created_pattern, object_key_matcher
from constructs_lib.monitoring import Monitoring, MonitoringProps
from constructs_lib.queues import EventQueue, QueueProps
from constructs_lib.releases import InvokeTarget
from tests.support import TEST_KEY_ARN, data_sources, only, resources, synth_construct

ALIAS_ARN = "arn:aws:lambda:us-east-1:111122223333:function:t-worker:live"
TARGET = InvokeTarget("t-worker", ALIAS_ARN, "arn:aws:apigateway:invoke", "live")
# Written with keys in an unusual order and a non-ASCII value: both must reach AWS as written.
PATTERN = {"detail-type": ["Ärger"], "source": ["com.example.orders"]}


@pytest.fixture(scope="module")
def synthesized() -> dict:
    def build(stack):
        rule = FunctionEventRule(
            stack,
            "orders",
            TARGET,
            EventRuleProps(name="t-orders", event_pattern=PATTERN, description="orders"),
        )
        monitoring = Monitoring(
            stack,
            "monitoring",
            MonitoringProps(name="t", region="us-east-1", kms_key_arn=TEST_KEY_ARN),
        )
        EventRuleAlarms(monitoring, rule)

    return synth_construct(build)


def test_rule_carries_the_pattern_as_written(synthesized):
    assert only(synthesized, "aws_cloudwatch_event_rule") == {
        "name": "t-orders",
        "description": "orders",
        "event_pattern": '{"detail-type":["Ärger"],"source":["com.example.orders"]}',
    }


def test_target_is_the_alias_after_the_permission(synthesized):
    [(rule_id, _)] = resources(synthesized, "aws_cloudwatch_event_rule").items()
    [(permission_id, _)] = resources(synthesized, "aws_lambda_permission").items()
    assert only(synthesized, "aws_cloudwatch_event_target") == {
        "rule": f"${{aws_cloudwatch_event_rule.{rule_id}.name}}",
        "target_id": "function",
        "arn": ALIAS_ARN,
        "retry_policy": {"maximum_retry_attempts": 185, "maximum_event_age_in_seconds": 86400},
        "depends_on": [f"aws_lambda_permission.{permission_id}"],
    }


def test_permission_is_for_this_rule_of_this_account_on_the_alias(synthesized):
    [(rule_id, _)] = resources(synthesized, "aws_cloudwatch_event_rule").items()
    [account] = data_sources(synthesized, "aws_caller_identity")
    assert only(synthesized, "aws_lambda_permission") == {
        "statement_id": "AllowEventBridge-t-orders",
        "action": "lambda:InvokeFunction",
        "function_name": "t-worker",
        "qualifier": "live",
        "principal": "events.amazonaws.com",
        "source_arn": f"${{aws_cloudwatch_event_rule.{rule_id}.arn}}",
        "source_account": f"${{data.aws_caller_identity.{account}.account_id}}",
    }


def test_alarm_watches_failed_deliveries_of_the_rule(synthesized):
    alarm = only(synthesized, "aws_cloudwatch_metric_alarm")
    assert (
        alarm["alarm_name"],
        alarm["namespace"],
        alarm["metric_name"],
        alarm["statistic"],
        alarm["dimensions"],
        alarm["threshold"],
    ) == ("t-orders-failed-invocations", "AWS/Events", "FailedInvocations", "Sum",
          {"RuleName": "t-orders"}, 1)  # fmt: skip


@pytest.mark.parametrize(
    ("prefix", "suffix", "matcher"),
    [
        (None, None, None),
        ("uploads/", None, {"prefix": "uploads/"}),
        (None, ".csv", {"suffix": ".csv"}),
        ("uploads/", ".csv", {"wildcard": "uploads/*.csv"}),
        # A literal `*` or `\` in a key is escaped inside the wildcard.
        ("a*b/", "\\x", {"wildcard": "a\\*b/*\\\\x"}),
        ("", "", None),
    ],
)
def test_object_key_matcher(prefix, suffix, matcher):
    assert object_key_matcher(prefix, suffix) == matcher


def test_object_created_pattern_of_a_bucket_under_a_prefix():
    assert object_created_pattern("t-uploads-1", "uploads/") == {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {
            "bucket": {"name": ["t-uploads-1"]},
            "object": {"key": [{"prefix": "uploads/"}]},
        },
    }


def test_object_created_pattern_of_a_whole_bucket():
    assert object_created_pattern("t-uploads-1") == {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": ["t-uploads-1"]}},
    }


def test_object_created_rule_names_the_bucket_by_reference():
    def build(stack):
        from constructs_lib.s3 import SecureBucket, SecureBucketProps

        bucket = SecureBucket(stack, "uploads", SecureBucketProps(bucket_prefix="t-uploads-"))
        object_created_rule(
            stack,
            "uploads-rule",
            TARGET,
            name="t-worker-uploads",
            bucket_name=bucket.bucket_name,
            prefix="uploads/",
        )

    synthesized = synth_construct(build)
    [(bucket_id, _)] = resources(synthesized, "aws_s3_bucket").items()
    rule = only(synthesized, "aws_cloudwatch_event_rule")
    assert json.loads(rule["event_pattern"]) == object_created_pattern(
        f"${{aws_s3_bucket.{bucket_id}.bucket}}", "uploads/"
    )
    # The bucket sends its events to EventBridge, which the rule relies on.
    assert only(synthesized, "aws_s3_bucket_notification")["eventbridge"] is True


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"name": "t orders"}, "event rule name must be 1-64 letters"),
        ({"name": "r" * 65}, "event rule name must be 1-64 letters"),
        ({"event_pattern": {}}, "the event pattern is empty"),
        ({"retry_attempts": 186}, "retry_attempts must be between 0 and 185"),
        ({"maximum_event_age_s": 59}, "maximum_event_age_s must be between 60 and 86400"),
        (
            {"event_pattern": {"source": ["s" * 2040]}},
            "has 2055 characters, EventBridge takes at most 2048",
        ),
    ],
)
def test_rules_outside_eventbridges_limits_are_refused(props, message):
    with pytest.raises(ValueError, match=message):
        EventRuleProps(**{"name": "t-orders", "event_pattern": PATTERN, **props})


def test_a_pattern_of_2048_characters_is_taken():
    # {"source":["..."]} is 15 characters around the value.
    assert EventRuleProps(name="t-orders", event_pattern={"source": ["s" * 2033]})


def test_the_size_is_the_patterns_as_aws_gets_it_not_as_terraform_literals():
    """The stack hands constructs Terraform literals (`$${` for a `${` the user wrote):
    EventBridge gets the pattern as Terraform reads it, 2048 characters here, not 2448."""
    literal = {"source": ["$${a}" * 400 + "s" * 433]}
    assert EventRuleProps(name="t-orders", event_pattern=literal)
    with pytest.raises(ValueError, match="has 2049 characters"):
        EventRuleProps(name="t-orders", event_pattern={"source": ["$${a}" * 400 + "s" * 434]})


FAILURES = QueueProps("t-failures", "t-failures-dead-letters", TEST_KEY_ARN)


def rules_sharing_a_failure_queue(stack) -> None:
    """Two rules whose undelivered events go to one queue."""
    failures = EventQueue(stack, "queue-failures", FAILURES)
    for name in ("t-orders", "t-refunds"):
        FunctionEventRule(
            stack,
            name,
            TARGET,
            EventRuleProps(name=name, event_pattern=PATTERN, retry_attempts=2),
            failure_queue=failures,
        )


def test_undelivered_events_go_to_the_failure_queue_which_lets_only_these_rules_send():
    synthesized = synth_construct(rules_sharing_a_failure_queue)
    queue_id = next(
        rid
        for rid, body in resources(synthesized, "aws_sqs_queue").items()
        if body["name"] == "t-failures"
    )
    queue_arn = f"${{aws_sqs_queue.{queue_id}.arn}}"
    targets = resources(synthesized, "aws_cloudwatch_event_target").values()
    assert [target["dead_letter_config"] for target in targets] == [{"arn": queue_arn}] * 2
    assert [target["retry_policy"]["maximum_retry_attempts"] for target in targets] == [2, 2]
    rule_arns = sorted(
        f"${{aws_cloudwatch_event_rule.{rid}.arn}}"
        for rid in resources(synthesized, "aws_cloudwatch_event_rule")
    )
    # One policy per queue (SQS keeps one): EventBridge may send for these two rules only.
    policy = only(synthesized, "aws_sqs_queue_policy")
    assert policy["queue_url"] == f"${{aws_sqs_queue.{queue_id}.url}}"
    [statement] = json.loads(policy["policy"])["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert (statement["Effect"], statement["Action"], statement["Resource"]) == (
        "Allow",
        ["sqs:SendMessage"],
        queue_arn,
    )
    assert sorted(statement["Condition"]["ArnEquals"]["aws:SourceArn"]) == rule_arns


def test_a_rule_without_a_failure_queue_has_no_dead_letter_config_and_no_queue_policy(
    synthesized,
):
    assert "dead_letter_config" not in only(synthesized, "aws_cloudwatch_event_target")
    assert resources(synthesized, "aws_sqs_queue_policy") == {}


def test_a_fifo_failure_queue_is_refused():
    fifo = QueueProps("t-jobs.fifo", "t-jobs-dead-letters.fifo", TEST_KEY_ARN, fifo=True)

    def build(stack):
        FunctionEventRule(
            stack,
            "orders",
            TARGET,
            EventRuleProps(name="t-orders", event_pattern=PATTERN),
            failure_queue=EventQueue(stack, "queue-jobs", fifo),
        )

    with pytest.raises(ValueError, match="t-orders: EventBridge sends failures to a standard"):
        synth_construct(build)
