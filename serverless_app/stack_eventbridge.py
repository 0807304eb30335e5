"""The triggers EventBridge delivers, each invoking its function's `live` alias: schedules on
EventBridge Scheduler (all in one schedule group named like the stack), objects created in
the stack's buckets and event patterns (rules on the default bus); and their alarms, with the
window of `[alarms]`. Each trigger's resources are under `trigger-<identity>`, stable when
entries are reordered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from constructs_lib.alarm_props import EventDeliveryAlarmProps
from constructs_lib.delivery_alarms import EventRuleAlarms, ScheduleAlarms, ScheduleGroupAlarms
from constructs_lib.event_rules import EventRuleProps, FunctionEventRule, object_created_rule
from constructs_lib.eventbridge import SCHEDULER_CONTEXT_INPUT, pattern_text
from constructs_lib.monitoring import Monitoring
from constructs_lib.schedules import (
    FailureQueue,
    FunctionSchedule,
    ScheduleGroup,
    ScheduleGroupProps,
    ScheduleProps,
)
from serverless_app.config import StackConfig
from serverless_app.config.schedules import (
    schedule_dead_letter_queue_name,
    schedule_role_name,
)
from serverless_app.config.trigger_rules import aws_name
from serverless_app.config.triggers import TriggerConfig
from serverless_app.stack_events import trigger_id

if TYPE_CHECKING:
    from serverless_app.stack import ServerlessStack


@dataclass
class EventBridgeTriggers:
    # None: the stack has no schedule.
    group: ScheduleGroup | None = None
    schedules: list[FunctionSchedule] = field(default_factory=list)
    rules: list[FunctionEventRule] = field(default_factory=list)


def add_eventbridge_triggers(stack: ServerlessStack) -> EventBridgeTriggers:
    """The schedule, bucket and rule triggers of the stack's configuration."""
    config = stack.config
    built = EventBridgeTriggers()
    for trigger in config.triggers:
        if trigger.kind == "schedule":
            if built.group is None:
                built.group = ScheduleGroup(
                    stack,
                    "schedule-group",
                    ScheduleGroupProps(name=config.name_prefix, region=config.region),
                )
            built.schedules.append(_schedule(stack, built.group, trigger))
        elif trigger.kind in ("bucket", "rule"):
            built.rules.append(_rule(stack, trigger))
    if any(
        trigger.kind in ("bucket", "rule") and trigger.on_failure for trigger in config.triggers
    ):
        # EventBridge writes the undelivered events into a queue encrypted with the stack key.
        stack.key.allow_eventbridge_deliveries()
    return built


def _description(stack: ServerlessStack, trigger: TriggerConfig) -> str:
    return f"Invokes {stack.config.functions[trigger.function].name} (live alias)"


def _schedule(
    stack: ServerlessStack, group: ScheduleGroup, trigger: TriggerConfig
) -> FunctionSchedule:
    config = stack.config
    assert trigger.schedule is not None and trigger.timezone is not None
    return FunctionSchedule(
        stack,
        trigger_id(trigger),
        group,
        stack.functions[trigger.function].alias.target,
        ScheduleProps(
            name=aws_name(config.name_prefix, trigger),
            role_name=schedule_role_name(config.name_prefix, trigger),
            expression=trigger.schedule,
            kms_key_arn=stack.key.key_arn,
            timezone=trigger.timezone,
            flexible_window_minutes=trigger.flexible_window_minutes or 0,
            # The function learns which schedule invoked it, for which time, which attempt.
            input=pattern_text(SCHEDULER_CONTEXT_INPUT),
            **_retries(trigger),
            description=_description(stack, trigger),
            dead_letter_queue_name=schedule_dead_letter_queue_name(config.name_prefix, trigger),
            failure_queue=FailureQueue(stack.events.queues[trigger.on_failure].queue_arn)
            if trigger.on_failure is not None
            else None,
        ),
    )


def _rule(stack: ServerlessStack, trigger: TriggerConfig) -> FunctionEventRule:
    config = stack.config
    target = stack.functions[trigger.function].alias.target
    name = aws_name(config.name_prefix, trigger)
    id = trigger_id(trigger)
    description = _description(stack, trigger)
    failure_queue = stack.events.queues[trigger.on_failure] if trigger.on_failure else None
    if trigger.bucket is not None:
        return object_created_rule(
            stack,
            id,
            target,
            name=name,
            bucket_name=stack.buckets[trigger.bucket].bucket_name,
            prefix=trigger.prefix,
            suffix=trigger.suffix,
            description=description,
            **_retries(trigger),
            failure_queue=failure_queue,
        )
    assert trigger.rule is not None
    return FunctionEventRule(
        stack,
        id,
        target,
        EventRuleProps(
            name=name, event_pattern=trigger.rule, description=description, **_retries(trigger)
        ),
        failure_queue,
    )


def _retries(trigger: TriggerConfig) -> dict[str, int]:
    """The retry policy: filled with the source's defaults by the configuration."""
    assert trigger.retry_attempts is not None and trigger.maximum_event_age_seconds is not None
    return {
        "retry_attempts": trigger.retry_attempts,
        "maximum_event_age_s": trigger.maximum_event_age_seconds,
    }


def watch_eventbridge_triggers(
    monitoring: Monitoring, triggers: EventBridgeTriggers, config: StackConfig
) -> None:
    """The schedule group's refused and given-up invocations, each schedule's dead-letter
    queue and each rule's failed deliveries; they page (a release cannot fix them)."""
    alarms = config.alarms
    props = EventDeliveryAlarmProps(
        period_s=alarms.period_s,
        evaluation_periods=alarms.evaluation_periods,
        datapoints_to_alarm=alarms.datapoints_to_alarm,
    )
    if triggers.group is not None:
        ScheduleGroupAlarms(monitoring, triggers.group, props)
    for schedule in triggers.schedules:
        ScheduleAlarms(monitoring, schedule, props)
    for rule in triggers.rules:
        EventRuleAlarms(monitoring, rule, props)
