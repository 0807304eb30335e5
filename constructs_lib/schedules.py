"""A function invoked on a schedule by EventBridge Scheduler.

`ScheduleGroup` is one `aws_scheduler_schedule_group`: Scheduler publishes its CloudWatch
metrics per group (dimension `ScheduleGroup`), so a group is what `Monitoring` watches for
failed and given-up invocations. `FunctionSchedule` is one `aws_scheduler_schedule` in a group,
invoking an `InvokeTarget` (the function's `live` alias, so a release shifts it too) with its
own role and its own dead-letter queue:

- the role is trusted by `scheduler.amazonaws.com` only for this account's schedules of the
  group (`aws:SourceAccount`, `aws:SourceArn`: EventBridge Scheduler User Guide, "Cross-service
  confused deputy prevention") and may invoke only the target and write only to its queue;
- the queue (SQS, encrypted with the given key, kept 14 days) receives what Scheduler gave up
  on after its retry policy; Scheduler writes to it as the role, so the role may use the key;
- the schedule's own data (its target's input) is encrypted with the same key, which the role
  decrypts when Scheduler invokes the target.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from cdktf_cdktf_provider_aws.scheduler_schedule import (
    SchedulerSchedule,
    SchedulerScheduleFlexibleTimeWindow,
    SchedulerScheduleTarget,
    SchedulerScheduleTargetDeadLetterConfig,
    SchedulerScheduleTargetRetryPolicy,
)
from cdktf_cdktf_provider_aws.scheduler_schedule_group import SchedulerScheduleGroup
from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue
from constructs import Construct

from constructs_lib.event_limits import EVENT_MAX_AGE_S, EVENT_MAX_RETRY_ATTEMPTS
from constructs_lib.eventbridge import (
    event_age_problem,
    event_name_problem,
    flexible_window_problem,
    retry_attempts_problem,
)
from constructs_lib.iam import add_inline_policy, service_role, stack_account, stack_partition
from constructs_lib.lambda_function import DLQ_RETENTION_SECONDS
from constructs_lib.permissions import INVOKE_ACTION
from constructs_lib.releases import InvokeTarget

SCHEDULER_PRINCIPAL = "scheduler.amazonaws.com"
# What Scheduler needs of the key: write to the encrypted queue, read the schedule's data.
KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")


@dataclass(frozen=True)
class FailureQueue:
    """A queue that already exists, receiving what Scheduler gave up on instead of the
    schedule's own dead-letter queue (it must be a standard queue encrypted with the
    schedule's key, or with none)."""

    arn: str


@dataclass(frozen=True)
class ScheduleGroupProps:
    # The group's name, e.g. the environment's prefix ("shop-dev"); names its alarms too.
    name: str
    # Where its schedules run: the schedules' roles trust Scheduler only for this group.
    region: str

    def __post_init__(self) -> None:
        problem = event_name_problem(self.name)
        if problem is not None:
            raise ValueError(f"schedule group name {problem}")


class ScheduleGroup(Construct):
    """One `aws_scheduler_schedule_group`; `FunctionSchedule`s are created in it."""

    def __init__(self, scope: Construct, id: str, props: ScheduleGroupProps) -> None:
        super().__init__(scope, id)
        self.props = props
        self.group = SchedulerScheduleGroup(self, "group", name=props.name)
        # The ARN the roles' trust policies name, known before the group exists.
        self.source_arn = (
            f"arn:{stack_partition(self)}:scheduler:{props.region}:{stack_account(self)}"
            f":schedule-group/{props.name}"
        )

    @cached_property
    def name(self) -> str:
        """The group's name as a reference: a schedule in it is created after it."""
        return self.group.name


@dataclass(frozen=True)
class ScheduleProps:
    """One schedule; every setting but the names, the expression and the key has the default
    documented beside it (Scheduler's own where it has one)."""

    # The schedule's name, unique in its group.
    name: str
    # The role Scheduler invokes the target as.
    role_name: str
    # "cron(0 3 * * ? *)", "rate(1 hour)" or "at(2027-01-01T00:00:00)", as Scheduler takes it.
    expression: str
    # Encrypts the dead-letter queue and the schedule's data.
    kms_key_arn: str
    # Default UTC: the IANA time zone the cron and at expressions are read in.
    timezone: str = "UTC"
    # Default 0: invoked at the time itself (mode OFF); minutes: anywhere within that many
    # minutes after it (mode FLEXIBLE), which spreads the load of many schedules.
    flexible_window_minutes: int = 0
    # Default Scheduler's own: 185 retries over at most a day.
    retry_attempts: int = EVENT_MAX_RETRY_ATTEMPTS
    maximum_event_age_s: int = EVENT_MAX_AGE_S
    # Default None: the target receives Scheduler's default input; else this text or JSON.
    input: str | None = None
    description: str | None = None
    # Default None: "<name>-dlq".
    dead_letter_queue_name: str | None = None
    # Default None: the schedule's own dead-letter queue; else this queue, and no own one.
    failure_queue: FailureQueue | None = None

    def __post_init__(self) -> None:
        problems = {
            "name": event_name_problem(self.name),
            "flexible_window_minutes": flexible_window_problem(self.flexible_window_minutes),
            "retry_attempts": retry_attempts_problem(self.retry_attempts),
            "maximum_event_age_s": event_age_problem(self.maximum_event_age_s),
        }
        for key, problem in problems.items():
            if problem is not None:
                raise ValueError(f"schedule {self.name}: {key} {problem}")


class FunctionSchedule(Construct):
    """A schedule in `group` invoking `target` as its own role, with its own dead-letter
    queue (see the module docstring)."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        group: ScheduleGroup,
        target: InvokeTarget,
        props: ScheduleProps,
    ) -> None:
        super().__init__(scope, id)
        self.props = props
        # None: failures go to `props.failure_queue`.
        self.dead_letter_queue: SqsQueue | None = None
        if props.failure_queue is None:
            self.dead_letter_queue = SqsQueue(
                self,
                "dlq",
                name=props.dead_letter_queue_name or f"{props.name}-dlq",
                kms_master_key_id=props.kms_key_arn,
                message_retention_seconds=DLQ_RETENTION_SECONDS,
            )
            # Read once: every read is a round trip to the jsii kernel.
            queue_arn = self.dead_letter_queue.arn
        else:
            queue_arn = props.failure_queue.arn
        self.role = service_role(
            self,
            "role",
            name=props.role_name,
            service=SCHEDULER_PRINCIPAL,
            source_arn=group.source_arn,
        )
        policies = [
            add_inline_policy(self, self.role, "InvokeTarget", [INVOKE_ACTION], [target.arn]),
            add_inline_policy(
                self,
                self.role,
                "SendToDeadLetterQueue",
                ["sqs:SendMessage"],
                [queue_arn],
            ),
            add_inline_policy(self, self.role, "UseKey", list(KEY_ACTIONS), [props.kms_key_arn]),
        ]
        window = props.flexible_window_minutes
        self.schedule = SchedulerSchedule(
            self,
            "schedule",
            name=props.name,
            group_name=group.name,
            description=props.description,
            schedule_expression=props.expression,
            schedule_expression_timezone=props.timezone,
            flexible_time_window=SchedulerScheduleFlexibleTimeWindow(
                mode="FLEXIBLE" if window else "OFF",
                maximum_window_in_minutes=window or None,
            ),
            kms_key_arn=props.kms_key_arn,
            target=SchedulerScheduleTarget(
                arn=target.arn,
                role_arn=self.role.arn,
                input=props.input,
                retry_policy=SchedulerScheduleTargetRetryPolicy(
                    maximum_retry_attempts=props.retry_attempts,
                    maximum_event_age_in_seconds=props.maximum_event_age_s,
                ),
                dead_letter_config=SchedulerScheduleTargetDeadLetterConfig(arn=queue_arn),
            ),
            # Scheduler invokes as the role from the first run on: its policies come first.
            depends_on=policies,
        )

    @cached_property
    def dead_letter_queue_name(self) -> str | None:
        """The schedule's own dead-letter queue's name; None with a failure queue."""
        return self.dead_letter_queue.name if self.dead_letter_queue is not None else None
