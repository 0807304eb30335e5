"""The event constructs on their own: a queue with its dead-letter queue, a topic, the mappings
of a queue and a stream onto a function's alias, a subscription, the role statements each needs
and the alarms. Expected values are written out, never read from the code under test."""

from __future__ import annotations

import json
from typing import Any

import pytest
from constructs import Construct

from constructs_lib.event_alarms import watch_queue, watch_stream_consumer
from constructs_lib.event_sources import (
    QueueMappingProps,
    StreamMappingProps,
    map_queue,
    map_stream,
)
from constructs_lib.monitoring import Monitoring, MonitoringProps
from constructs_lib.queues import EventQueue, QueueProps
from constructs_lib.releases import LiveAlias, LiveAliasProps
from constructs_lib.topics import EventTopic, SubscriptionProps, TopicProps
from tests.support import TEST_KEY_ARN, build_function, only, resources, synth_construct
from tests.test_lambda_function import role_grants

STANDARD = QueueProps("t-orders", "t-orders-dlq", TEST_KEY_ARN, visibility_timeout_seconds=60)
FIFO = QueueProps("t-jobs.fifo", "t-jobs-dlq.fifo", TEST_KEY_ARN, fifo=True, max_receive_count=3)


def queue_json(props: QueueProps) -> dict[str, dict]:
    synthesized = synth_construct(lambda stack: EventQueue(stack, "queue-orders", props))
    return {body["name"]: body for body in resources(synthesized, "aws_sqs_queue").values()}


def test_a_queue_and_its_dead_letter_queue_encrypted_with_the_key():
    queues = queue_json(STANDARD)
    assert sorted(queues) == ["t-orders", "t-orders-dlq"]
    queue, dead = queues["t-orders"], queues["t-orders-dlq"]
    assert queue["kms_master_key_id"] == dead["kms_master_key_id"] == TEST_KEY_ARN
    assert queue["message_retention_seconds"] == 345_600
    assert queue["visibility_timeout_seconds"] == 60
    # The dead-letter queue keeps what failed for SQS's longest: 14 days.
    assert dead["message_retention_seconds"] == 1_209_600
    [dead_id] = [rid for rid, body in resources(
        synth_construct(lambda stack: EventQueue(stack, "queue-orders", STANDARD)), "aws_sqs_queue"
    ).items() if body["name"] == "t-orders-dlq"]  # fmt: skip
    assert json.loads(queue["redrive_policy"]) == {
        "deadLetterTargetArn": f"${{aws_sqs_queue.{dead_id}.arn}}",
        "maxReceiveCount": 5,
    }
    assert "fifo_queue" not in queue and "fifo_queue" not in dead


def test_a_fifo_queue_has_a_fifo_dead_letter_queue():
    queues = queue_json(FIFO)
    assert queues["t-jobs.fifo"]["fifo_queue"] is True
    assert queues["t-jobs-dlq.fifo"]["fifo_queue"] is True
    assert json.loads(queues["t-jobs.fifo"]["redrive_policy"])["maxReceiveCount"] == 3


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"name": "t-jobs.fifo"}, ".fifo if and only if fifo"),
        ({"fifo": True}, ".fifo if and only if fifo"),
        ({"name": "t" * 81}, "at most 80"),
        ({"name": "t orders"}, "letters, digits"),
        ({"max_receive_count": 0}, "max_receive_count must be 1-1000"),
        ({"max_receive_count": 1001}, "max_receive_count must be 1-1000"),
        ({"retention_seconds": 59}, "retention_seconds must be 60-1209600"),
        ({"visibility_timeout_seconds": 43_201}, "visibility_timeout_seconds must be 0-43200"),
    ],
)
def test_queue_props_refuse_what_sqs_refuses(changes, fragment):
    values: dict[str, Any] = {
        "name": "t-orders",
        "dead_letter_name": "t-orders-dlq",
        "kms_key_arn": TEST_KEY_ARN,
        **changes,
    }
    with pytest.raises(ValueError, match=fragment):
        QueueProps(**values)


def consumer(stack, queue_props=STANDARD, mapping=None):
    """A function, its live alias and a queue it consumes."""
    function = build_function(stack, publish_versions=True)
    alias = LiveAlias(stack, "live", function, LiveAliasProps())
    queue = EventQueue(stack, "queue-orders", queue_props)
    map_queue(stack, "mapping", queue, alias.target, function, mapping)


def test_a_queue_mapping_on_the_live_alias_with_partial_batch_failures():
    synthesized = synth_construct(lambda stack: consumer(stack))
    mapping = only(synthesized, "aws_lambda_event_source_mapping")
    [alias_id] = resources(synthesized, "aws_lambda_alias")
    [queue_id] = [
        rid for rid in resources(synthesized, "aws_sqs_queue") if "queue-orders_queue" in rid
    ]
    assert mapping == {
        "batch_size": 10,
        "event_source_arn": f"${{aws_sqs_queue.{queue_id}.arn}}",
        "function_name": f"${{aws_lambda_alias.{alias_id}.arn}}",
        "function_response_types": ["ReportBatchItemFailures"],
        "maximum_batching_window_in_seconds": 0,
    }
    # The role may consume that queue and no other.
    assert role_grants(synthesized)["ConsumeMessagesQueueOrders"] == (
        ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility",
         "sqs:GetQueueAttributes"],
        [f"${{aws_sqs_queue.{queue_id}.arn}}"],
    )  # fmt: skip


def test_queue_mapping_settings_reach_the_mapping():
    props = QueueMappingProps(
        batch_size=100,
        batching_window_seconds=5,
        maximum_concurrency=2,
        report_batch_item_failures=False,
    )
    mapping = only(
        synth_construct(lambda stack: consumer(stack, mapping=props)),
        "aws_lambda_event_source_mapping",
    )
    assert (mapping["batch_size"], mapping["maximum_batching_window_in_seconds"]) == (100, 5)
    assert mapping["scaling_config"] == {"maximum_concurrency": 2}
    assert "function_response_types" not in mapping


@pytest.mark.parametrize(
    ("queue_props", "mapping", "fragment"),
    [
        (FIFO, QueueMappingProps(batch_size=11), "at most 10"),
        (FIFO, QueueMappingProps(batching_window_seconds=1), "no batching window"),
        (STANDARD, QueueMappingProps(batch_size=11), "batching_window_seconds >= 1"),
    ],
)
def test_queue_mappings_refuse_what_lambda_refuses(queue_props, mapping, fragment):
    with pytest.raises(ValueError, match=fragment):
        synth_construct(lambda stack: consumer(stack, queue_props, mapping))


@pytest.mark.parametrize(
    ("props", "fragment"),
    [
        ({"batch_size": 0}, "batch_size must be 1-10000"),
        ({"batching_window_seconds": 301}, "batching_window_seconds must be 0-300"),
        ({"maximum_concurrency": 1}, "maximum_concurrency must be 2-1000"),
        ({"maximum_concurrency": 1001}, "maximum_concurrency must be 2-1000"),
    ],
)
def test_queue_mapping_props_are_bounded(props, fragment):
    with pytest.raises(ValueError, match=fragment):
        QueueMappingProps(**props)


STREAM = "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2026-12-06T00:00:00.000"


def stream_reader(stack, props=None, on_failure=STANDARD):
    function = build_function(stack, publish_versions=True)
    alias = LiveAlias(stack, "live", function, LiveAliasProps())
    failures = EventQueue(stack, "queue-failed", on_failure) if on_failure else None
    scope = Construct(stack, "trigger-t-table-orders")
    map_stream(scope, "mapping", STREAM, alias.target, function, props, failures)


def test_a_stream_mapping_reads_from_the_start_position_and_sets_failures_aside():
    synthesized = synth_construct(lambda stack: stream_reader(stack))
    mapping = only(synthesized, "aws_lambda_event_source_mapping")
    [alias_id] = resources(synthesized, "aws_lambda_alias")
    [queue_id] = [
        rid for rid in resources(synthesized, "aws_sqs_queue") if "queue-failed_queue" in rid
    ]
    assert mapping == {
        "batch_size": 100,
        "bisect_batch_on_function_error": False,
        "destination_config": {
            "on_failure": {"destination_arn": f"${{aws_sqs_queue.{queue_id}.arn}}"}
        },
        "event_source_arn": STREAM,
        "function_name": f"${{aws_lambda_alias.{alias_id}.arn}}",
        "function_response_types": ["ReportBatchItemFailures"],
        "maximum_batching_window_in_seconds": 0,
        "maximum_record_age_in_seconds": -1,
        "maximum_retry_attempts": -1,
        "starting_position": "LATEST",
    }
    grants = role_grants(synthesized)
    assert grants["ReadStreamTriggerTTableOrders"] == (
        ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator",
         "dynamodb:ListStreams"],
        [STREAM],
    )  # fmt: skip
    assert grants["SendFailuresTriggerTTableOrders"] == (
        ["sqs:SendMessage"],
        [f"${{aws_sqs_queue.{queue_id}.arn}}"],
    )


def test_stream_settings_reach_the_mapping():
    props = StreamMappingProps(
        batch_size=7,
        starting_position="TRIM_HORIZON",
        bisect_on_error=True,
        retry_attempts=3,
        maximum_record_age_seconds=600,
    )
    mapping = only(
        synth_construct(lambda stack: stream_reader(stack, props, on_failure=None)),
        "aws_lambda_event_source_mapping",
    )
    assert {
        key: mapping[key]
        for key in (
            "batch_size",
            "starting_position",
            "bisect_batch_on_function_error",
            "maximum_retry_attempts",
            "maximum_record_age_in_seconds",
        )
    } == {
        "batch_size": 7,
        "starting_position": "TRIM_HORIZON",
        "bisect_batch_on_function_error": True,
        "maximum_retry_attempts": 3,
        "maximum_record_age_in_seconds": 600,
    }
    assert "destination_config" not in mapping


def test_a_stream_refuses_a_fifo_failure_queue():
    with pytest.raises(ValueError, match="standard queue"):
        synth_construct(lambda stack: stream_reader(stack, on_failure=FIFO))


@pytest.mark.parametrize(
    ("props", "fragment"),
    [
        ({"retry_attempts": 10_001}, "retry_attempts must be 0-10000"),
        ({"maximum_record_age_seconds": 59}, "maximum_record_age_seconds must be 60-604800"),
        ({"batch_size": 10_001}, "batch_size must be 1-10000"),
    ],
)
def test_stream_mapping_props_are_bounded(props, fragment):
    with pytest.raises(ValueError, match=fragment):
        StreamMappingProps(**props)


def subscriber(stack, props=None):
    function = build_function(stack, publish_versions=True)
    alias = LiveAlias(stack, "live", function, LiveAliasProps())
    topic = EventTopic(stack, "topic-alerts", TopicProps("t-alerts", TEST_KEY_ARN))
    topic.grant_publish(function)
    topic.subscribe(Construct(stack, "trigger-t-topic-alerts"), alias.target, props)


def test_a_topic_encrypted_with_the_key_and_the_alias_subscribed_for_that_topic_only():
    synthesized = synth_construct(lambda stack: subscriber(stack))
    topic_id, topic = next(iter(resources(synthesized, "aws_sns_topic").items()))
    assert topic == {"name": "t-alerts", "kms_master_key_id": TEST_KEY_ARN}
    [alias_id] = resources(synthesized, "aws_lambda_alias")
    [function_id] = resources(synthesized, "aws_lambda_function")
    subscription = only(synthesized, "aws_sns_topic_subscription")
    assert subscription == {
        "endpoint": f"${{aws_lambda_alias.{alias_id}.arn}}",
        "protocol": "lambda",
        "topic_arn": f"${{aws_sns_topic.{topic_id}.arn}}",
    }
    permission = only(synthesized, "aws_lambda_permission")
    assert permission == {
        "action": "lambda:InvokeFunction",
        "function_name": f"${{aws_lambda_function.{function_id}.function_name}}",
        "principal": "sns.amazonaws.com",
        "qualifier": f"${{aws_lambda_alias.{alias_id}.name}}",
        "source_arn": f"${{aws_sns_topic.{topic_id}.arn}}",
        "statement_id": "AllowSnsTriggerTTopicAlerts",
    }
    assert role_grants(synthesized)["PublishMessagesTopicAlerts"] == (
        ["sns:Publish"],
        [f"${{aws_sns_topic.{topic_id}.arn}}"],
    )


def test_a_filter_policy_reaches_sns_as_written():
    policy = {"kind": ["order"], "detail-type": [{"prefix": "Ö"}]}
    props = SubscriptionProps(policy, "MessageBody")
    subscription = only(
        synth_construct(lambda stack: subscriber(stack, props)), "aws_sns_topic_subscription"
    )
    assert subscription["filter_policy"] == '{"kind":["order"],"detail-type":[{"prefix":"Ö"}]}'
    assert subscription["filter_policy_scope"] == "MessageBody"


def test_a_scope_without_a_policy_is_refused():
    with pytest.raises(ValueError, match="needs a filter_policy"):
        SubscriptionProps(filter_policy_scope="MessageBody")


def watched(stack):
    monitoring = Monitoring(stack, "monitoring", MonitoringProps("t", "us-east-1", TEST_KEY_ARN))
    queue = EventQueue(stack, "queue-orders", STANDARD)
    watch_queue(monitoring, queue)
    watch_stream_consumer(monitoring, "t-fn", "live")


def test_queue_and_stream_alarms_page_the_topic_with_their_runbook_line():
    synthesized = synth_construct(watched)
    alarms = {
        body["alarm_name"]: body
        for body in resources(synthesized, "aws_cloudwatch_metric_alarm").values()
    }
    assert sorted(alarms) == [
        "t-fn-iterator-age",
        "t-orders-dlq-messages",
        "t-orders-oldest-message",
    ]
    [topic_id] = resources(synthesized, "aws_sns_topic")
    expected = {
        "t-orders-oldest-message": ("AWS/SQS", "ApproximateAgeOfOldestMessage",
                                    {"QueueName": "t-orders"}, 300),
        "t-orders-dlq-messages": ("AWS/SQS", "ApproximateNumberOfMessagesVisible",
                                  {"QueueName": "t-orders-dlq"}, 1),
        "t-fn-iterator-age": ("AWS/Lambda", "IteratorAge",
                              {"FunctionName": "t-fn", "Resource": "t-fn:live"}, 300_000),
    }  # fmt: skip
    for name, (namespace, metric, dimensions, threshold) in expected.items():
        alarm = alarms[name]
        assert (alarm["namespace"], alarm["metric_name"], alarm["dimensions"]) == (
            namespace,
            metric,
            dimensions,
        )
        assert (alarm["statistic"], alarm["threshold"]) == ("Maximum", threshold)
        assert (
            alarm["alarm_actions"] == alarm["ok_actions"] == [f"${{aws_sns_topic.{topic_id}.arn}}"]
        )
        assert alarm["treat_missing_data"] == "notBreaching"
        assert " Fires when " in alarm["alarm_description"]
        assert " Do: " in alarm["alarm_description"]


def test_a_filter_policy_is_measured_as_sns_gets_it():
    """256 KB of UTF-8 JSON as the subscription sends it (`{"k":["..."]}` is 10 bytes around
    the value, each 日 3 bytes), however long its `\\u` escapes or a `$${` literal would be."""
    largest = 87_378
    assert SubscriptionProps({"k": ["日" * largest]})
    assert SubscriptionProps({"k": ["$${" + "日" * (largest - 1)]})
    with pytest.raises(ValueError, match="got 262147"):
        SubscriptionProps({"k": ["日" * (largest + 1)]})
