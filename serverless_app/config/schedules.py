"""The names AWS gets for what a `schedule` trigger creates besides the schedule itself (its
role and its dead-letter queue), and the check that they fit. The schedule and the rules are
named by `trigger_rules.aws_name`; every schedule of the stack is in one schedule group named
like the stack, `<project>-<env>`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from serverless_app.config.aws_facts import IAM_ROLE_NAME_MAX
from serverless_app.config.problems import Problem
from serverless_app.config.trigger_rules import aws_name
from serverless_app.config.triggers import TriggerConfig

if TYPE_CHECKING:
    from serverless_app.config.environment import StackConfig

# `<schedule name>-scheduler`: the role Scheduler invokes the function as.
SCHEDULER_ROLE_SUFFIX = "-scheduler"
# `<schedule name>-schedule-dlq`: apart from a queue's `-dlq` of the same key.
SCHEDULE_DEAD_LETTER_SUFFIX = "-schedule-dlq"


def schedule_role_name(prefix: str, trigger: TriggerConfig) -> str:
    return f"{aws_name(prefix, trigger)}{SCHEDULER_ROLE_SUFFIX}"


def schedule_dead_letter_queue_name(prefix: str, trigger: TriggerConfig) -> str:
    return f"{aws_name(prefix, trigger)}{SCHEDULE_DEAD_LETTER_SUFFIX}"


def schedule_problems(config: StackConfig) -> Iterator[Problem]:
    """A schedule's role name fits IAM's 64 characters (its queue's fits SQS's 80 whenever the
    schedule's name fits Scheduler's 64, which `trigger_rules` checks)."""
    for index, trigger in enumerate(config.triggers):
        if trigger.kind != "schedule":
            continue
        role = schedule_role_name(config.name_prefix, trigger)
        if len(role) > IAM_ROLE_NAME_MAX:
            message = (
                f"its role would be named {role!r}, {len(role)} characters; IAM allows "
                f"{IAM_ROLE_NAME_MAX}: set a shorter `name`"
            )
            yield Problem(("triggers", index, "name"), message, trigger.name)
