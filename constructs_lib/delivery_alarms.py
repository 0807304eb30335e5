"""The alarms of EventBridge's deliveries to functions: a schedule group's failed and dropped
invocations, a schedule's own dead-letter queue, an event rule's failed invocations. They
page; none stops a release."""

from __future__ import annotations

from constructs_lib.alarm_kinds import (
    RULE_FAILED_INVOCATIONS,
    SCHEDULE_DEAD_LETTERS,
    SCHEDULE_DROPPED,
    SCHEDULE_TARGET_FAILURES,
)
from constructs_lib.alarm_props import EventDeliveryAlarmProps
from constructs_lib.alarm_signals import Metric, metric_factory, one_metric
from constructs_lib.event_rules import FunctionEventRule
from constructs_lib.monitoring import Monitoring, WatchedAlarms
from constructs_lib.schedules import FunctionSchedule, ScheduleGroup


class ScheduleGroupAlarms(WatchedAlarms):
    """Invocations of the group's targets that Lambda refused, and invocations Scheduler gave
    up on (paging). Scheduler publishes both per group, not per schedule: each schedule's
    dead-letter queue (`ScheduleAlarms`) says which one."""

    def __init__(
        self,
        monitoring: Monitoring,
        group: ScheduleGroup,
        props: EventDeliveryAlarmProps | None = None,
    ) -> None:
        props = props or EventDeliveryAlarmProps()
        name = group.props.name
        metric = metric_factory("AWS/Scheduler", {"ScheduleGroup": name})
        monitoring.board.header(f"Schedule group {name}")
        alarms = [
            monitoring.add_alarm(
                name,
                kind,
                one_metric(metric(metric_name, "Sum")),
                props.failures_threshold,
                props.window,
            )
            for kind, metric_name in (
                (SCHEDULE_TARGET_FAILURES, "TargetErrorCount"),
                (SCHEDULE_DROPPED, "InvocationDroppedCount"),
            )
        ]
        monitoring.board.graph(
            f"{name}: invocation attempts", one_metric(metric("InvocationAttemptCount", "Sum"))
        )
        super().__init__(paging=alarms)


class ScheduleAlarms(WatchedAlarms):
    """The schedule's own dead-letter queue: any event in it is a run that did not happen
    (paging). A schedule sending its failures to another queue is watched with that queue."""

    def __init__(
        self,
        monitoring: Monitoring,
        schedule: FunctionSchedule,
        props: EventDeliveryAlarmProps | None = None,
    ) -> None:
        props = props or EventDeliveryAlarmProps()
        queue_name = schedule.dead_letter_queue_name
        if queue_name is None:
            super().__init__()
            return
        depth = Metric(
            "AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": queue_name}, "Maximum"
        )
        alarm = monitoring.add_alarm(
            schedule.props.name,
            SCHEDULE_DEAD_LETTERS,
            one_metric(depth),
            props.dead_letter_messages_threshold,
            props.window,
        )
        super().__init__(paging=[alarm])


class EventRuleAlarms(WatchedAlarms):
    """Events the rule matched but could not deliver to its target (paging)."""

    def __init__(
        self,
        monitoring: Monitoring,
        rule: FunctionEventRule,
        props: EventDeliveryAlarmProps | None = None,
    ) -> None:
        props = props or EventDeliveryAlarmProps()
        name = rule.props.name
        # Rules on the default bus are published under RuleName alone.
        metric = metric_factory("AWS/Events", {"RuleName": name})
        monitoring.board.header(f"Event rule {name}")
        alarm = monitoring.add_alarm(
            name,
            RULE_FAILED_INVOCATIONS,
            one_metric(metric("FailedInvocations", "Sum")),
            props.failures_threshold,
            props.window,
        )
        monitoring.board.graph(f"{name}: invocations", one_metric(metric("Invocations", "Sum")))
        super().__init__(paging=[alarm])
