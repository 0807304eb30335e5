"""`make serve`'s part for `[queues]`, `[topics]` and `[[triggers]]`: the delivery engine
(scripts/local_delivery.py) made from the configuration, polling in a thread of its own, and
the events port where `make fire` fires a schedule (scripts/fire.py).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import boto3

from constructs_lib.event_limits import DEFAULT_STREAM_VIEW
from constructs_lib.eventbridge import SCHEDULER_CONTEXT_INPUT, pattern_text
from constructs_lib.names import function_dead_letter_queue_name
from constructs_lib.permissions import LIVE_ALIAS
from scripts.fire import HOST, EventsServer
from scripts.local_delivery import DeliveryEngine, Invoke
from scripts.local_triggers import (
    LocalQueue,
    LocalTopic,
    LocalTriggers,
    QueueTrigger,
    RuleTrigger,
    ScheduleTrigger,
    TableTrigger,
    TopicTrigger,
    object_created_pattern,
)
from scripts.trigger_events import LOCAL_ACCOUNT_ID, function_alias_arn, queue_arn
from serverless_app.config import StackConfig
from serverless_app.config.events import topic_name, visibility_timeout
from serverless_app.config.schedules import schedule_dead_letter_queue_name
from serverless_app.config.trigger_rules import aws_name
from serverless_app.config.triggers import TriggerConfig
from serverless_app.config.variables import granted_variable

_Setting = TypeVar("_Setting")
# Stream mappings retry a failed batch until its records expire, and keep records of any age,
# unless told otherwise.
RETRY_UNTIL_EXPIRED = -1
ANY_RECORD_AGE = -1


def local_triggers(config: StackConfig, bucket_name: Callable[[str], str]) -> LocalTriggers:
    """The file's queues, topics and triggers as the engine takes them; `bucket_name` gives a
    bucket key's local name."""
    prefix = config.name_prefix
    triggers = [_trigger(config, trigger, bucket_name) for trigger in config.triggers]
    return LocalTriggers(
        queues=[
            LocalQueue(
                key,
                *queue.names(prefix, key),
                visibility_timeout_s=visibility_timeout(config, key),
                max_receive_count=queue.max_receive_count,
                fifo=queue.fifo,
                retention_s=queue.retention_seconds,
            )
            for key, queue in config.queues.items()
        ],
        topics=[LocalTopic(key, topic_name(prefix, key)) for key in config.topics],
        queue_triggers=[each for each in triggers if isinstance(each, QueueTrigger)],
        table_triggers=[each for each in triggers if isinstance(each, TableTrigger)],
        topic_triggers=[each for each in triggers if isinstance(each, TopicTrigger)],
        schedules=[each for each in triggers if isinstance(each, ScheduleTrigger)],
        rules=[each for each in triggers if isinstance(each, RuleTrigger)],
        function_dead_letter_queues={
            key: function_dead_letter_queue_name(function.name)
            for key, function in config.functions.items()
        },
    )


def _trigger(
    config: StackConfig, trigger: TriggerConfig, bucket_name: Callable[[str], str]
) -> QueueTrigger | TableTrigger | TopicTrigger | ScheduleTrigger | RuleTrigger:
    """One `[[triggers]]` entry, its source's settings filled in by the configuration."""
    name, function = trigger.identity, trigger.function
    target = function_alias_arn(config.region, config.functions[function].name, LIVE_ALIAS)
    on_failure = None if trigger.on_failure is None else _queue_name(config, trigger.on_failure)
    if trigger.queue is not None:
        return QueueTrigger(
            name,
            function,
            trigger.queue,
            batch_size=_given(trigger.batch_size),
            batching_window_s=_given(trigger.batching_window_seconds),
            report_batch_item_failures=_given(trigger.report_batch_item_failures),
            maximum_concurrency=trigger.maximum_concurrency,
        )
    if trigger.table is not None:
        table = config.tables[trigger.table]
        return TableTrigger(
            name,
            function,
            table.name,
            batch_size=_given(trigger.batch_size),
            batching_window_s=_given(trigger.batching_window_seconds),
            starting_position=_given(trigger.starting_position),
            report_batch_item_failures=_given(trigger.report_batch_item_failures),
            maximum_retry_attempts=(
                RETRY_UNTIL_EXPIRED if trigger.retry_attempts is None else trigger.retry_attempts
            ),
            stream_view=table.stream or DEFAULT_STREAM_VIEW,
            bisect_on_error=_given(trigger.bisect_on_error),
            maximum_record_age_s=(
                ANY_RECORD_AGE
                if trigger.maximum_record_age_seconds is None
                else trigger.maximum_record_age_seconds
            ),
            on_failure=on_failure,
            target_arn=target,
        )
    if trigger.topic is not None:
        return TopicTrigger(
            name,
            function,
            trigger.topic,
            filter_policy=trigger.filter_policy,
            filter_policy_scope=trigger.filter_policy_scope,
        )
    attempts, age = _given(trigger.retry_attempts), _given(trigger.maximum_event_age_seconds)
    if trigger.schedule is not None:
        prefix = config.name_prefix
        return ScheduleTrigger(
            name,
            function,
            aws_name(prefix, trigger),
            trigger.schedule,
            # The stack's input: which schedule, for which time, which attempt.
            input=pattern_text(SCHEDULER_CONTEXT_INPUT),
            group=prefix,
            retry_attempts=attempts,
            maximum_event_age_s=age,
            dead_letter_queue=on_failure or schedule_dead_letter_queue_name(prefix, trigger),
            target_arn=target,
        )
    bucket = None if trigger.bucket is None else bucket_name(trigger.bucket)
    return RuleTrigger(
        name,
        function,
        _given(trigger.rule)
        if bucket is None
        else object_created_pattern(bucket, trigger.prefix or "", trigger.suffix or ""),
        bucket=bucket,
        retry_attempts=attempts,
        maximum_event_age_s=age,
        on_failure=on_failure,
        target_arn=target,
    )


def _given(value: _Setting | None) -> _Setting:
    """A setting the configuration fills in for the trigger's source (`prepared`)."""
    assert value is not None
    return value


def _queue_name(config: StackConfig, key: str) -> str:
    return config.queues[key].names(config.name_prefix, key)[0]


def granted_queue_arns(config: StackConfig, key: str) -> list[str]:
    """The queues function `key` may send to."""
    grants = config.functions[key].grants
    return [queue_arn(config.region, _queue_name(config, queue)) for queue in grants.queues]


def produce_variables(config: StackConfig, key: str) -> dict[str, str]:
    """`QUEUE_<KEY>_URL` and `TOPIC_<KEY>_ARN` of what function `key` is granted, for moto
    (which finds a queue by the name at the end of its URL)."""
    grants = config.functions[key].grants
    prefix = config.name_prefix
    return {
        **{
            granted_variable("QUEUE", queue): (
                f"https://sqs.{config.region}.amazonaws.com/{LOCAL_ACCOUNT_ID}/"
                f"{_queue_name(config, queue)}"
            )
            for queue in grants.queues
        },
        **{
            granted_variable("TOPIC", topic): (
                f"arn:aws:sns:{config.region}:{LOCAL_ACCOUNT_ID}:{topic_name(prefix, topic)}"
            )
            for topic in grants.topics
        },
    }


@dataclass
class LocalDelivery:
    """The engine polling in its thread, and the events port."""

    engine: DeliveryEngine
    server: EventsServer
    stopping: threading.Event

    def describe(self) -> Iterator[str]:
        port = self.server.server_address[1]
        yield f"events: http://{HOST}:{port} (make fire TRIGGER=<schedule>)"
        yield from self.engine.describe()

    def stop(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()


def start_delivery(
    server: EventsServer,
    endpoint_url: str,
    credentials: dict[str, str],
    config: StackConfig,
    bucket_name: Callable[[str], str],
    invoke: Invoke,
) -> LocalDelivery:
    """Create what the triggers need in moto (as the user with every permission whose
    `credentials` are given), then deliver in a thread and serve the events port."""

    def client(service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=endpoint_url,
            region_name=config.region,
            aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"],
        )

    engine = DeliveryEngine(client, config.region, invoke)
    engine.setup(local_triggers(config, bucket_name))
    server.engine = engine
    stopping = threading.Event()
    threading.Thread(target=engine.run, args=(stopping.wait,), daemon=True).start()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return LocalDelivery(engine, server, stopping)
