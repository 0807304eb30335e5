"""Alarms on the event sources: a queue's oldest message and its dead-letter queue, a stream
consumer's iterator age. Each kind has its runbook line (the alarm's description and the row of
docs/operating.md's alarm table); they page and never roll a release back (the consumer's
failures stop its releases through its own alarms: errors, and the per-record answers it
reports as its request metric)."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm

from constructs_lib.alarm_kinds import AlarmKind
from constructs_lib.alarm_props import AlarmWindow
from constructs_lib.alarm_signals import Metric, one_metric
from constructs_lib.event_limits import SQS_MAX_RETENTION_S
from constructs_lib.monitoring import Monitoring
from constructs_lib.queues import EventQueue

OLDEST_MESSAGE = AlarmKind(
    "-oldest-message",
    "age of the oldest message",
    "a message has waited longer than the threshold: the consumer is failing on it (it is "
    "received again after each visibility timeout until max_receive_count), throttled, "
    "disabled, or slower than the producers (AWS/SQS ApproximateAgeOfOldestMessage)",
    "look at the consumer's errors and throttles; a message failing every time lands in the "
    "dead-letter queue after max_receive_count receives; raise maximum_concurrency or "
    "reserved_concurrency if it only falls behind",
)
QUEUE_DEAD_LETTERS = AlarmKind(
    "-dlq-messages",
    "messages in the queue's dead-letter queue",
    "a message was received max_receive_count times without being deleted: the consumer "
    "reported it failed (batchItemFailures), raised, or timed out on its batch "
    "(AWS/SQS ApproximateNumberOfMessagesVisible of the dead-letter queue)",
    "read them (aws sqs receive-message on the dead-letter queue), fix the cause, then move "
    "them back "
    "(aws sqs start-message-move-task) or delete them",
)
ITERATOR_AGE = AlarmKind(
    "-iterator-age",
    "age of the stream records it reads",
    "the last record the function received from a table's stream was older than the "
    "threshold: a batch fails and is retried (until it expires after 24 h, or retry_attempts), "
    "or the function is throttled (AWS/Lambda IteratorAge, Maximum)",
    "look at the function's errors: a record that always fails blocks its shard; fix it, or "
    "set retry_attempts and on_failure so that it is set aside",
)
EVENT_ALARM_KINDS = (OLDEST_MESSAGE, QUEUE_DEAD_LETTERS, ITERATOR_AGE)


@dataclass(frozen=True)
class QueueAlarmProps(AlarmWindow):
    # The age of the oldest message at or above which the alarm fires.
    oldest_message_age_s: int = 300
    # Messages in the dead-letter queue: any is a message that failed every receive.
    dead_letter_messages_threshold: int = 1

    def __post_init__(self) -> None:
        self._check_window("queue alarms")
        if not 1 <= self.oldest_message_age_s <= SQS_MAX_RETENTION_S:
            raise ValueError(
                f"oldest_message_age_s must be 1-{SQS_MAX_RETENTION_S}, got "
                f"{self.oldest_message_age_s}"
            )
        if self.dead_letter_messages_threshold < 1:
            raise ValueError("dead_letter_messages_threshold must be at least 1")


@dataclass(frozen=True)
class StreamAlarmProps(AlarmWindow):
    # The age of the newest record received, at or above which the alarm fires (ms).
    iterator_age_ms: int = 300_000

    def __post_init__(self) -> None:
        self._check_window("stream alarms")
        if self.iterator_age_ms < 1:
            raise ValueError("iterator_age_ms must be at least 1")


def watch_queue(
    monitoring: Monitoring, queue: EventQueue, props: QueueAlarmProps | None = None
) -> list[CloudwatchMetricAlarm]:
    """The queue's oldest message and its dead-letter queue's depth, named after the queue."""
    props = props or QueueAlarmProps()
    name = queue.props.name
    metric = Metric("AWS/SQS", "ApproximateAgeOfOldestMessage", {"QueueName": name}, "Maximum")
    depth = Metric(
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        {"QueueName": queue.props.dead_letter_name},
        "Maximum",
    )
    return [
        monitoring.add_alarm(
            name, OLDEST_MESSAGE, one_metric(metric), props.oldest_message_age_s, props.window,
            unit="s",
        ),
        monitoring.add_alarm(
            name, QUEUE_DEAD_LETTERS, one_metric(depth), props.dead_letter_messages_threshold,
            props.window,
        ),
    ]  # fmt: skip


def watch_stream_consumer(
    monitoring: Monitoring,
    function_name: str,
    alias_name: str,
    props: StreamAlarmProps | None = None,
) -> CloudwatchMetricAlarm:
    """The iterator age of what `function_name`'s alias reads from streams (one alarm per
    function: Lambda publishes the metric per function and alias, not per mapping)."""
    props = props or StreamAlarmProps()
    metric = Metric(
        "AWS/Lambda",
        "IteratorAge",
        {"FunctionName": function_name, "Resource": f"{function_name}:{alias_name}"},
        "Maximum",
    )
    return monitoring.add_alarm(
        function_name, ITERATOR_AGE, one_metric(metric), props.iterator_age_ms, props.window,
        unit="ms",
    )  # fmt: skip
