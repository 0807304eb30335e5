"""What the local delivery engine (scripts/local_delivery.py) needs to know of the file's
queues, topics and triggers, one dataclass per kind, with the names AWS would have (the local
bucket's name for a bucket). scripts/serve_events.py makes them from the configuration.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from constructs_lib.event_limits import (
    DEFAULT_STREAM_VIEW,
    EVENT_MAX_AGE_S,
    EVENT_MAX_RETRY_ATTEMPTS,
    QUEUE_DEFAULT_BATCH_SIZE,
    SQS_DEFAULT_RETENTION_S,
    STREAM_DEFAULT_BATCH_SIZE,
)


@dataclass(frozen=True)
class LocalQueue:
    """A queue of the stack and its dead-letter queue."""

    key: str
    name: str
    dead_letter_name: str
    visibility_timeout_s: int
    max_receive_count: int
    fifo: bool = False
    retention_s: int = SQS_DEFAULT_RETENTION_S


@dataclass(frozen=True)
class LocalTopic:
    key: str
    name: str


@dataclass(frozen=True)
class QueueTrigger:
    """Lambda's event source mapping on one of the stack's queues."""

    name: str
    function: str
    queue: str  # a LocalQueue's key
    batch_size: int = QUEUE_DEFAULT_BATCH_SIZE
    batching_window_s: int = 0
    report_batch_item_failures: bool = True
    maximum_concurrency: int | None = None  # None: as many batches as Lambda scales to


@dataclass(frozen=True)
class TableTrigger:
    """Lambda's event source mapping on a table's stream."""

    name: str
    function: str
    table_name: str
    batch_size: int = STREAM_DEFAULT_BATCH_SIZE
    batching_window_s: int = 0
    starting_position: str = "LATEST"  # or TRIM_HORIZON
    report_batch_item_failures: bool = False
    maximum_retry_attempts: int = -1  # -1: until the records expire, as AWS's default
    stream_view: str = DEFAULT_STREAM_VIEW  # turned on with this view when the table has none
    bisect_on_error: bool = False
    maximum_record_age_s: int = -1  # -1: no limit (the stream keeps records 24 hours)
    on_failure: str | None = None  # the queue receiving a description of discarded records
    target_arn: str = ""  # the function's live alias


@dataclass(frozen=True)
class TopicTrigger:
    """A subscription of the function to one of the stack's topics."""

    name: str
    function: str
    topic: str  # a LocalTopic's key
    filter_policy: Mapping[str, Any] | None = None
    filter_policy_scope: str | None = None  # SNS's default: MessageAttributes


@dataclass(frozen=True)
class ScheduleTrigger:
    """An EventBridge Scheduler schedule whose target is the function."""

    name: str
    function: str
    schedule_name: str
    expression: str
    input: str | None = None  # the target's input, JSON text
    group: str = "default"
    retry_attempts: int = EVENT_MAX_RETRY_ATTEMPTS
    maximum_event_age_s: int = EVENT_MAX_AGE_S
    dead_letter_queue: str | None = None  # what Scheduler gives up on; None: dropped
    target_arn: str = ""  # the function's live alias


@dataclass(frozen=True)
class RuleTrigger:
    """An EventBridge rule on the default bus whose target is the function; a bucket trigger is
    one too (S3 sends its object events to EventBridge)."""

    name: str
    function: str
    pattern: Mapping[str, Any]
    bucket: str | None = None  # the bucket whose events it reads, which must send them
    retry_attempts: int = EVENT_MAX_RETRY_ATTEMPTS
    maximum_event_age_s: int = EVENT_MAX_AGE_S
    on_failure: str | None = None  # the queue receiving what EventBridge gives up on
    target_arn: str = ""  # the function's live alias


@dataclass(frozen=True)
class LocalTriggers:
    queues: Sequence[LocalQueue] = ()
    topics: Sequence[LocalTopic] = ()
    queue_triggers: Sequence[QueueTrigger] = ()
    table_triggers: Sequence[TableTrigger] = ()
    topic_triggers: Sequence[TopicTrigger] = ()
    schedules: Sequence[ScheduleTrigger] = ()
    rules: Sequence[RuleTrigger] = ()
    # A function's own dead-letter queue, by function key: where Lambda puts an asynchronous
    # event whose retries failed.
    function_dead_letter_queues: Mapping[str, str] = field(default_factory=dict)


def object_created_pattern(bucket: str, prefix: str = "", suffix: str = "") -> dict[str, Any]:
    """The rule S3's "Object Created" events of `bucket` match, keys filtered by prefix and
    suffix (EventBridge's `wildcard` when both are given)."""
    detail: dict[str, Any] = {"bucket": {"name": [bucket]}}
    key_filter = _key_filter(prefix, suffix)
    if key_filter is not None:
        detail["object"] = {"key": [key_filter]}
    return {"source": ["aws.s3"], "detail-type": ["Object Created"], "detail": detail}


def _key_filter(prefix: str, suffix: str) -> dict[str, str] | None:
    if prefix and suffix:
        escaped = [part.replace("\\", "\\\\").replace("*", "\\*") for part in (prefix, suffix)]
        return {"wildcard": "*".join(escaped)}
    if prefix:
        return {"prefix": prefix}
    if suffix:
        return {"suffix": suffix}
    return None
