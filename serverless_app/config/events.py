"""`[queues.<key>]` (SQS, each with its own dead-letter queue) and `[topics.<key>]` (SNS): the
messaging a configuration declares, the grants that let a function produce to them
(`[functions.<key>.grants]` `queues` and `topics`) and the rules across them. What consumes
them is `[[triggers]]` (`triggers`)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Annotated

from pydantic import Field

from constructs_lib.event_limits import (
    SQS_DEFAULT_RETENTION_S,
    SQS_MAX_RECEIVE_COUNT,
    SQS_MAX_RETENTION_S,
    SQS_MAX_VISIBILITY_TIMEOUT_S,
    SQS_MIN_RECEIVE_COUNT,
    SQS_MIN_RETENTION_S,
    VISIBILITY_TIMEOUT_FACTOR,
    dead_letter_queue_name,
    default_visibility_timeout,
    queue_name,
)
from constructs_lib.names import function_dead_letter_queue_name
from serverless_app.config.base import StrictModel
from serverless_app.config.problems import Problem
from serverless_app.config.variables import granted_variable

if TYPE_CHECKING:
    from serverless_app.config.data import FunctionGrants
    from serverless_app.config.environment import StackConfig

# Stand-ins of the lengths the values will have: the stack sets the real ones.
_ACCOUNT = "1" * 12


class QueueConfig(StrictModel):
    """One SQS queue (`[queues.<key>]`), encrypted with the stack key, with its own dead-letter
    queue `<name>-dlq` (14 days' retention) that receives a message after `max_receive_count`
    failed receives."""

    fifo: bool = Field(
        default=False,
        description=(
            "a FIFO queue (`<project>-<env>-<key>.fifo`, its dead-letter queue FIFO too): order "
            "per message group and deduplication; a consumer takes batches of at most 10 and no "
            "batching window"
        ),
    )
    max_receive_count: Annotated[int, Field(ge=SQS_MIN_RECEIVE_COUNT, le=SQS_MAX_RECEIVE_COUNT)] = (
        Field(
            default=5,
            description="receives of a message before it moves to the dead-letter queue",
        )
    )
    retention_seconds: Annotated[int, Field(ge=SQS_MIN_RETENTION_S, le=SQS_MAX_RETENTION_S)] = (
        Field(
            default=SQS_DEFAULT_RETENTION_S,
            description="how long a message stays in the queue (SQS: 60 s to 14 days)",
        )
    )
    visibility_timeout_seconds: (
        Annotated[int, Field(ge=0, le=SQS_MAX_VISIBILITY_TIMEOUT_S)] | None
    ) = Field(
        default=None,
        description=(
            "how long a received message stays invisible to other receivers; with a consumer "
            f"(`[[triggers]]`) at least {VISIBILITY_TIMEOUT_FACTOR} times its `timeout_s` "
            "(AWS's advice for Lambda; Lambda refuses less than the timeout)"
        ),
        json_schema_extra={
            "default_text": (
                f"{VISIBILITY_TIMEOUT_FACTOR} x the consuming function's `timeout_s` (at most "
                f"{SQS_MAX_VISIBILITY_TIMEOUT_S}); SQS's 30 without a consumer"
            )
        },
    )

    def names(self, prefix: str, key: str) -> tuple[str, str]:
        """The queue's name and its dead-letter queue's."""
        return queue_name(prefix, key, self.fifo), dead_letter_queue_name(prefix, key, self.fifo)


class TopicConfig(StrictModel):
    """One SNS topic (`[topics.<key>]`, named `<project>-<env>-<key>`), encrypted with the stack
    key. Nothing to set yet: the table may be empty."""


def visibility_timeout(config: StackConfig, key: str) -> int:
    """The visibility timeout of queue `key`: as set, else derived from its consumer."""
    queue = config.queues[key]
    if queue.visibility_timeout_seconds is not None:
        return queue.visibility_timeout_seconds
    consumer = queue_consumer(config, key)
    return default_visibility_timeout(
        config.functions[consumer].timeout_s if consumer in config.functions else None
    )


def queue_consumer(config: StackConfig, key: str) -> str | None:
    """The key of the function a trigger feeds from queue `key` (at most one: checked)."""
    return next((each.function for each in config.triggers if each.queue == key), None)


def sqs_name_problems(
    prefix: str, queues: Mapping[str, QueueConfig], function_names: Mapping[str, str]
) -> Iterator[Problem]:
    """Queue names the stack would create twice: a queue, its dead-letter queue and each
    function's own dead-letter queue (`<function name>-dlq`) share SQS's names."""
    owners = {
        function_dead_letter_queue_name(name): ("functions", key)
        for key, name in function_names.items()
    }
    for key, queue in queues.items():
        for name in queue.names(prefix, key):
            if name in owners:
                other = ".".join(owners[name])
                message = f"its queue {name!r} is also the queue of {other}: choose another key"
                yield Problem(("queues", key), message, key)
            owners.setdefault(name, ("queues", key))


def produce_variables(config: StackConfig, grants: FunctionGrants) -> dict[str, str]:
    """`QUEUE_<KEY>_URL` and `TOPIC_<KEY>_ARN` for each granted queue and topic, with values of
    the lengths they will have (the stack sets the real ones)."""
    variables = {}
    for key in grants.queues:
        if key in config.queues:
            name = config.queues[key].names(config.name_prefix, key)[0]
            variables[granted_variable("QUEUE", key)] = queue_url_stand_in(config.region, name)
    for key in grants.topics:
        if key in config.topics:
            name = topic_name(config.name_prefix, key)
            variables[granted_variable("TOPIC", key)] = topic_arn_stand_in(config.region, name)
    return variables


def topic_name(prefix: str, key: str) -> str:
    return f"{prefix}-{key}"


def queue_url_stand_in(region: str, name: str) -> str:
    """A value of the length `QUEUE_<KEY>_URL` will have."""
    return f"https://sqs.{region}.amazonaws.com/{_ACCOUNT}/{name}"


def topic_arn_stand_in(region: str, name: str) -> str:
    """A value of the length `TOPIC_<KEY>_ARN` will have (partition `aws`)."""
    return f"arn:aws:sns:{region}:{_ACCOUNT}:{name}"


QUEUES_FIELD: dict[str, QueueConfig] = Field(
    default_factory=dict,
    description=(
        "`[queues.<key>]` SQS queues `<project>-<env>-<key>`, keys as `[buckets]`; a function "
        "sends with `grants.queues`, consumes with a `[[triggers]]` entry; none is fine"
    ),
    json_schema_extra={"type_text": "table of tables"},
)
TOPICS_FIELD: dict[str, TopicConfig] = Field(
    default_factory=dict,
    description=(
        "`[topics.<key>]` SNS topics `<project>-<env>-<key>`, keys as `[buckets]`; a function "
        "publishes with `grants.topics`, subscribes with a `[[triggers]]` entry; none is fine"
    ),
    json_schema_extra={"type_text": "table of tables"},
)
