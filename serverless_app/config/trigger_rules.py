"""The rules across `[[triggers]]`, `[queues]`, `[topics]` and the functions: every key a trigger
names exists, a queue has one consumer whose timeout its visibility timeout allows, FIFO and
batching limits, concurrency, identities and the names AWS gets. Each problem is located from
the file's top (`triggers[2].queue`, `queues.orders.visibility_timeout_seconds`)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from constructs_lib.event_limits import (
    BATCH_SIZE_WITHOUT_WINDOW_MAX,
    EVENT_NAME_MAX,
    EVENT_PATTERN_MAX_CHARACTERS,
    FIFO_MAX_BATCH_SIZE,
    VISIBILITY_TIMEOUT_FACTOR,
)
from constructs_lib.eventbridge import object_created_pattern, pattern_text
from serverless_app.config.data import bucket_name_length
from serverless_app.config.events import QueueConfig, sqs_name_problems
from serverless_app.config.problems import Problem
from serverless_app.config.rules import did_you_mean, listed
from serverless_app.config.triggers import EVENTBRIDGE_KINDS, TriggerConfig

if TYPE_CHECKING:
    from serverless_app.config.environment import StackConfig

# The section each source key refers to.
SOURCE_SECTIONS = {"queue": "queues", "table": "tables", "topic": "topics", "bucket": "buckets"}


def event_problems(config: StackConfig) -> Iterator[Problem]:
    """Every problem across the triggers, the queues, the topics and the functions."""
    yield from _unknown_keys(config)
    yield from _queue_consumers(config)
    yield from _identities(config)
    yield from sqs_name_problems(
        config.name_prefix,
        config.queues,
        {key: function.name for key, function in config.functions.items()},
    )
    yield from _produce_grants(config)
    yield from _object_created_patterns(config)


def aws_name(prefix: str, trigger: TriggerConfig) -> str:
    """The name of a trigger's schedule or EventBridge rule: `<project>-<env>-<identity>`."""
    return f"{prefix}-{trigger.identity}"


def _object_created_patterns(config: StackConfig) -> Iterator[Problem]:
    """A bucket trigger's rule matches the bucket's name and the object key's prefix and
    suffix (escaped in one `wildcard` when both are set): with the name as long as it will
    be, its event pattern fits EventBridge's size."""
    for index, trigger in enumerate(config.triggers):
        if trigger.bucket is None or trigger.bucket not in config.buckets:
            continue
        bucket = config.buckets[trigger.bucket]
        name = "b" * bucket_name_length(config.name_prefix, trigger.bucket, bucket)
        size = len(pattern_text(object_created_pattern(name, trigger.prefix, trigger.suffix)))
        if size > EVENT_PATTERN_MAX_CHARACTERS:
            key = "prefix" if trigger.prefix is not None else "suffix"
            message = (
                f"the rule's event pattern would be {size} characters as JSON with the "
                f"bucket's name; EventBridge allows {EVENT_PATTERN_MAX_CHARACTERS}: shorten "
                "prefix or suffix"
            )
            yield Problem(("triggers", index, key), message, getattr(trigger, key))


def _missing(key: str, section: str, declared: Mapping[str, object]) -> str:
    known = listed(declared) or "none declared"
    return f"not a key of [{section}] ({known}){did_you_mean(key, declared)}"


def _unknown_keys(config: StackConfig) -> Iterator[Problem]:
    for index, trigger in enumerate(config.triggers):
        if trigger.function not in config.functions:
            message = _missing(trigger.function, "functions", config.functions)
            yield Problem(("triggers", index, "function"), message, trigger.function)
        kind, key = trigger.kind, trigger.source_key
        if kind in SOURCE_SECTIONS and key is not None:
            declared: Mapping[str, object] = getattr(config, SOURCE_SECTIONS[kind])
            if key not in declared:
                message = _missing(key, SOURCE_SECTIONS[kind], declared)
                yield Problem(("triggers", index, kind), message, key)
        if trigger.on_failure is not None:
            yield from _failure_queue(config, index, trigger.on_failure)


def _failure_queue(config: StackConfig, index: int, key: str) -> Iterator[Problem]:
    loc = ("triggers", index, "on_failure")
    queue = config.queues.get(key)
    if queue is None:
        yield Problem(loc, _missing(key, "queues", config.queues), key)
    elif queue.fifo:
        message = (
            "a FIFO queue cannot receive failures (Lambda and EventBridge send to standard queues)"
        )
        yield Problem(loc, message, key)


def _queue_consumers(config: StackConfig) -> Iterator[Problem]:
    """One trigger per queue, within the queue's kind and its consumer's limits."""
    consumed: dict[str, int] = {}
    for index, trigger in enumerate(config.triggers):
        key = trigger.queue
        if key is None or key not in config.queues:
            continue
        if key in consumed:
            message = (
                f"queue {key!r} is already consumed by triggers[{consumed[key]}]: one consumer per "
                "queue (its visibility timeout follows that consumer's timeout)"
            )
            yield Problem(("triggers", index, "queue"), message, key)
            continue
        consumed[key] = index
        queue = config.queues[key]
        yield from _batching(index, trigger, queue)
        function = config.functions.get(trigger.function)
        if function is None:
            continue
        yield from _visibility(key, queue, function.timeout_s, trigger.function)
        reserved, maximum = function.reserved_concurrency, trigger.maximum_concurrency
        if reserved is not None and maximum is not None and reserved < maximum:
            message = (
                f"above functions.{trigger.function}.reserved_concurrency ({reserved}): Lambda "
                "would throttle the batches it polls and return their messages to the queue; "
                "lower it or reserve more"
            )
            yield Problem(("triggers", index, "maximum_concurrency"), message, maximum)


def _batching(index: int, trigger: TriggerConfig, queue: QueueConfig) -> Iterator[Problem]:
    batch_size = trigger.batch_size or 0
    window = trigger.batching_window_seconds or 0
    if queue.fifo and batch_size > FIFO_MAX_BATCH_SIZE:
        message = f"a FIFO queue gives batches of at most {FIFO_MAX_BATCH_SIZE} messages"
        yield Problem(("triggers", index, "batch_size"), message, batch_size)
    if queue.fifo and window > 0:
        message = "a FIFO queue takes no batching window"
        yield Problem(("triggers", index, "batching_window_seconds"), message, window)
    if not queue.fifo and batch_size > BATCH_SIZE_WITHOUT_WINDOW_MAX and window < 1:
        message = (
            f"a batch of more than {BATCH_SIZE_WITHOUT_WINDOW_MAX} messages needs "
            "batching_window_seconds of at least 1 (Lambda)"
        )
        yield Problem(("triggers", index, "batch_size"), message, batch_size)


def _visibility(key: str, queue: QueueConfig, timeout_s: int, function: str) -> Iterator[Problem]:
    visibility = queue.visibility_timeout_seconds
    needed = VISIBILITY_TIMEOUT_FACTOR * timeout_s
    if visibility is not None and visibility < needed:
        refused = " (Lambda refuses less than the timeout)" if visibility < timeout_s else ""
        message = (
            f"less than {VISIBILITY_TIMEOUT_FACTOR} x functions.{function}.timeout_s "
            f"({timeout_s}) = {needed}, AWS's advice for a queue Lambda consumes{refused}: a "
            "message would be received again while its batch is still being processed"
        )
        yield Problem(("queues", key, "visibility_timeout_seconds"), message, visibility)


def _identities(config: StackConfig) -> Iterator[Problem]:
    """No two triggers share an identity (their Terraform addresses); a schedule or rule name
    fits AWS's 64 characters."""
    seen: dict[str, int] = {}
    for index, trigger in enumerate(config.triggers):
        if trigger.kind is None:
            continue
        identity = trigger.identity
        if identity in seen:
            message = (
                f"the same trigger as triggers[{seen[identity]}] ({identity!r}): set `name` on "
                "one of them to tell them apart"
            )
            yield Problem(("triggers", index), message)
            continue
        seen[identity] = index
        name = aws_name(config.name_prefix, trigger)
        if trigger.kind in EVENTBRIDGE_KINDS and len(name) > EVENT_NAME_MAX:
            message = (
                f"its {trigger.kind} would be named {name!r}, {len(name)} characters; AWS allows "
                f"{EVENT_NAME_MAX}: set a shorter `name`"
            )
            yield Problem(("triggers", index, "name"), message, trigger.name or identity)


def _produce_grants(config: StackConfig) -> Iterator[Problem]:
    for function, settings in config.functions.items():
        for section, names in (
            ("queues", settings.grants.queues),
            ("topics", settings.grants.topics),
        ):
            declared: Mapping[str, object] = getattr(config, section)
            for key in names:
                if key not in declared:
                    loc = ("functions", function, "grants", section, key)
                    yield Problem(loc, _missing(key, section, declared), key)
