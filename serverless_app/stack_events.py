"""The stack's queues, topics and the triggers that feed functions from queues, table streams
and topics: the queues and topics are made before the functions (whose grants name them), the
triggers after (they invoke the functions' `live` aliases), each trigger under a scope named
after its identity so that reordering `[[triggers]]` moves no Terraform address."""

from __future__ import annotations

from collections.abc import Mapping

from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from constructs import Construct

from constructs_lib.dynamodb import Table
from constructs_lib.event_alarms import (
    QueueAlarmProps,
    StreamAlarmProps,
    watch_queue,
    watch_stream_consumer,
)
from constructs_lib.event_limits import DEFAULT_STREAM_VIEW
from constructs_lib.event_sources import (
    QueueMappingProps,
    StreamMappingProps,
    map_queue,
    map_stream,
)
from constructs_lib.iam import Grantable
from constructs_lib.monitoring import Monitoring
from constructs_lib.permissions import LIVE_ALIAS
from constructs_lib.queues import EventQueue, QueueProps
from constructs_lib.releases import InvokeTarget
from constructs_lib.storage import StreamViewType
from constructs_lib.topics import EventTopic, SubscriptionProps, TopicProps
from serverless_app.config import StackConfig
from serverless_app.config.data import FunctionGrants
from serverless_app.config.events import topic_name, visibility_timeout
from serverless_app.config.triggers import EVENTBRIDGE_KINDS, TriggerConfig
from serverless_app.config.variables import granted_variable


def queue_id(key: str) -> str:
    return f"queue-{key}"


def topic_id(key: str) -> str:
    return f"topic-{key}"


def trigger_id(trigger: TriggerConfig) -> str:
    return f"trigger-{trigger.identity}"


def table_stream(config: StackConfig, key: str) -> StreamViewType | None:
    """The stream of table `key`: as the table sets it, else the one a trigger reading the
    table needs."""
    declared = config.tables[key].stream
    if declared is None and any(trigger.table == key for trigger in config.triggers):
        return DEFAULT_STREAM_VIEW
    return declared


class StackEvents:
    """The queues and topics of `config`, then (`connect`) its queue, table and topic
    triggers."""

    def __init__(self, scope: Construct, config: StackConfig, *, kms_key_arn: str) -> None:
        self.scope = scope
        self.config = config
        prefix = config.name_prefix
        self.queues = {
            key: EventQueue(
                scope,
                queue_id(key),
                QueueProps(
                    *queue.names(prefix, key),
                    kms_key_arn=kms_key_arn,
                    fifo=queue.fifo,
                    max_receive_count=queue.max_receive_count,
                    retention_seconds=queue.retention_seconds,
                    visibility_timeout_seconds=visibility_timeout(config, key),
                ),
            )
            for key, queue in config.queues.items()
        }
        self.topics = {
            key: EventTopic(
                scope,
                topic_id(key),
                TopicProps(name=topic_name(prefix, key), kms_key_arn=kms_key_arn),
            )
            for key in config.topics
        }

    def variables(self, grants: FunctionGrants) -> dict[str, str]:
        """QUEUE_<KEY>_URL and TOPIC_<KEY>_ARN for what a function may produce to."""
        return {
            **{granted_variable("QUEUE", key): self.queues[key].queue_url for key in grants.queues},
            **{granted_variable("TOPIC", key): self.topics[key].topic_arn for key in grants.topics},
        }

    def grant(self, grantee: Grantable, grants: FunctionGrants) -> None:
        """Send and publish on exactly the granted queues and topics (the stack key, which
        encrypts them, is granted to every function)."""
        for key in grants.queues:
            self.queues[key].grant_send(grantee)
        for key in grants.topics:
            self.topics[key].grant_publish(grantee)

    def connect(
        self,
        targets: Mapping[str, InvokeTarget],
        grantees: Mapping[str, Grantable],
        tables: Mapping[str, Table],
    ) -> None:
        """Every queue, table and topic trigger, invoking its function's `live` alias
        (`targets`) with the function's role (`grantees`) allowed to read its source."""
        # By identity: the grants they add land in the functions' `depends_on` in an order
        # that does not follow the file's either.
        for trigger in sorted(self.config.triggers, key=lambda each: each.identity):
            # Schedules, bucket events and rules are EventBridge's (`stack_eventbridge`).
            if trigger.kind in EVENTBRIDGE_KINDS:
                continue
            scope = Construct(self.scope, trigger_id(trigger))
            target, grantee = targets[trigger.function], grantees[trigger.function]
            if trigger.queue is not None:
                self._map_queue(scope, trigger, target, grantee)
            elif trigger.table is not None:
                self._map_stream(scope, trigger, target, grantee, tables[trigger.table])
            elif trigger.topic is not None:
                self.topics[trigger.topic].subscribe(
                    scope,
                    target,
                    SubscriptionProps(trigger.filter_policy, trigger.filter_policy_scope),
                )

    def _map_queue(
        self, scope: Construct, trigger: TriggerConfig, target: InvokeTarget, grantee: Grantable
    ) -> None:
        assert trigger.queue is not None and trigger.batch_size is not None
        map_queue(
            scope,
            "mapping",
            self.queues[trigger.queue],
            target,
            grantee,
            QueueMappingProps(
                batch_size=trigger.batch_size,
                batching_window_seconds=trigger.batching_window_seconds or 0,
                maximum_concurrency=trigger.maximum_concurrency,
                report_batch_item_failures=bool(trigger.report_batch_item_failures),
            ),
        )

    def _map_stream(
        self,
        scope: Construct,
        trigger: TriggerConfig,
        target: InvokeTarget,
        grantee: Grantable,
        table: Table,
    ) -> None:
        assert trigger.batch_size is not None and trigger.starting_position is not None
        map_stream(
            scope,
            "mapping",
            table.stream_arn,
            target,
            grantee,
            StreamMappingProps(
                batch_size=trigger.batch_size,
                batching_window_seconds=trigger.batching_window_seconds or 0,
                starting_position=trigger.starting_position,
                report_batch_item_failures=bool(trigger.report_batch_item_failures),
                bisect_on_error=bool(trigger.bisect_on_error),
                retry_attempts=trigger.retry_attempts,
                maximum_record_age_seconds=trigger.maximum_record_age_seconds,
            ),
            on_failure=self.queues[trigger.on_failure] if trigger.on_failure else None,
        )

    def watch(self, monitoring: Monitoring) -> list[CloudwatchMetricAlarm]:
        """Every queue's alarms, and the iterator age of each function reading a stream, with
        the window of `[alarms]`."""
        settings = self.config.alarms
        window = {
            "period_s": settings.period_s,
            "evaluation_periods": settings.evaluation_periods,
            "datapoints_to_alarm": settings.datapoints_to_alarm,
        }
        alarms = [
            alarm
            for queue in self.queues.values()
            for alarm in watch_queue(monitoring, queue, QueueAlarmProps(**window))
        ]
        readers = dict.fromkeys(
            trigger.function for trigger in self.config.triggers if trigger.table is not None
        )
        alarms += [
            watch_stream_consumer(
                monitoring,
                self.config.functions[key].name,
                LIVE_ALIAS,
                StreamAlarmProps(**window),
            )
            for key in readers
        ]
        return alarms
