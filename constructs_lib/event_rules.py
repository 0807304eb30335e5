"""A function invoked by an EventBridge rule on the default event bus.

`FunctionEventRule` is an `aws_cloudwatch_event_rule` with an event pattern, one
`aws_cloudwatch_event_target` sending what it matches to an `InvokeTarget` (the function's
`live` alias), and the `aws_lambda_permission` letting `events.amazonaws.com` invoke that
alias for this rule of this account only (`source_arn` the rule, `source_account` the
account). EventBridge invokes Lambda asynchronously: a failed invocation is retried by Lambda
and lands in the function's own dead-letter queue; what EventBridge could not deliver at all
within the target's retry policy counts in the rule's `FailedInvocations`, which
`delivery_alarms.EventRuleAlarms` watches, and goes to the target's dead-letter queue when the
rule has a `failure_queue` (a standard `EventQueue`, whose policy then lets EventBridge send
for this rule; its key must let EventBridge in too: `StackKey.allow_eventbridge_deliveries`).

`object_created_rule` is the rule of a bucket's "Object Created" events, for a bucket that
sends its events to EventBridge (`s3.SecureBucket` does).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from cdktf_cdktf_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktf_cdktf_provider_aws.cloudwatch_event_target import (
    CloudwatchEventTarget,
    CloudwatchEventTargetDeadLetterConfig,
    CloudwatchEventTargetRetryPolicy,
)
from cdktf_cdktf_provider_aws.lambda_permission import LambdaPermission
from constructs import Construct

from constructs_lib.event_limits import (
    EVENT_MAX_AGE_S,
    EVENT_MAX_RETRY_ATTEMPTS,
    EVENT_PATTERN_MAX_CHARACTERS,
)
from constructs_lib.eventbridge import (
    event_age_problem,
    event_name_problem,
    object_created_pattern,
    pattern_text,
    retry_attempts_problem,
)
from constructs_lib.iam import stack_account
from constructs_lib.permissions import INVOKE_ACTION
from constructs_lib.queues import EventQueue
from constructs_lib.releases import InvokeTarget
from constructs_lib.terraform_text import literal_text

EVENTS_PRINCIPAL = "events.amazonaws.com"
# The rule's only target.
TARGET_ID = "function"
STATEMENT_ID_PREFIX = "AllowEventBridge-"


@dataclass(frozen=True)
class EventRuleProps:
    # The rule's name, unique on the default bus of the account and region.
    name: str
    # The event pattern (EventBridge's JSON), sent as written.
    event_pattern: Mapping[str, Any]
    description: str | None = None
    # Default EventBridge's own: 185 retries over at most a day, then the event is dropped
    # (counted in the rule's FailedInvocations).
    retry_attempts: int = EVENT_MAX_RETRY_ATTEMPTS
    maximum_event_age_s: int = EVENT_MAX_AGE_S

    def __post_init__(self) -> None:
        problem = event_name_problem(self.name)
        if problem is not None:
            raise ValueError(f"event rule name {problem}")
        for key, problem in (
            ("retry_attempts", retry_attempts_problem(self.retry_attempts)),
            ("maximum_event_age_s", event_age_problem(self.maximum_event_age_s)),
        ):
            if problem is not None:
                raise ValueError(f"event rule {self.name}: {key} {problem}")
        if not self.event_pattern:
            raise ValueError(f"event rule {self.name}: the event pattern is empty")
        # AWS gets the pattern as Terraform reads it: `$${` counts as the one `${` it means.
        length = len(literal_text(pattern_text(self.event_pattern)))
        if length > EVENT_PATTERN_MAX_CHARACTERS:
            raise ValueError(
                f"event rule {self.name}: the event pattern has {length} characters, "
                f"EventBridge takes at most {EVENT_PATTERN_MAX_CHARACTERS}"
            )


class FunctionEventRule(Construct):
    """A rule on the default bus, its target `target` and the permission to invoke it."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        target: InvokeTarget,
        props: EventRuleProps,
        failure_queue: EventQueue | None = None,
    ) -> None:
        super().__init__(scope, id)
        if failure_queue is not None and failure_queue.props.fifo:
            raise ValueError(
                f"event rule {props.name}: EventBridge sends failures to a standard queue, "
                "not a FIFO one"
            )
        self.props = props
        self.rule = CloudwatchEventRule(
            self,
            "rule",
            name=props.name,
            description=props.description,
            event_pattern=pattern_text(props.event_pattern),
        )
        rule_arn = self.rule.arn
        self.permission = LambdaPermission(
            self,
            "permission",
            statement_id=f"{STATEMENT_ID_PREFIX}{props.name}",
            action=INVOKE_ACTION,
            function_name=target.function_name,
            qualifier=target.qualifier,
            principal=EVENTS_PRINCIPAL,
            source_arn=rule_arn,
            source_account=stack_account(self),
        )
        dead_letter_config = None
        if failure_queue is not None:
            failure_queue.allow_service_to_send(EVENTS_PRINCIPAL, rule_arn)
            dead_letter_config = CloudwatchEventTargetDeadLetterConfig(arn=failure_queue.queue_arn)
        self.target = CloudwatchEventTarget(
            self,
            "target",
            rule=self.rule.name,
            target_id=TARGET_ID,
            arn=target.arn,
            retry_policy=CloudwatchEventTargetRetryPolicy(
                maximum_retry_attempts=props.retry_attempts,
                maximum_event_age_in_seconds=props.maximum_event_age_s,
            ),
            dead_letter_config=dead_letter_config,
            # Events matched before the permission exists would fail to be delivered.
            depends_on=[self.permission],
        )

    @cached_property
    def rule_name(self) -> str:
        return self.rule.name


def object_created_rule(
    scope: Construct,
    id: str,
    target: InvokeTarget,
    *,
    name: str,
    bucket_name: str,
    prefix: str | None = None,
    suffix: str | None = None,
    description: str | None = None,
    retry_attempts: int = EVENT_MAX_RETRY_ATTEMPTS,
    maximum_event_age_s: int = EVENT_MAX_AGE_S,
    failure_queue: EventQueue | None = None,
) -> FunctionEventRule:
    """The rule of objects created in `bucket_name` under `prefix` and `suffix` (the bucket
    must send its events to EventBridge); what it cannot deliver goes to `failure_queue`."""
    return FunctionEventRule(
        scope,
        id,
        target,
        EventRuleProps(
            name=name,
            event_pattern=object_created_pattern(bucket_name, prefix, suffix),
            description=description,
            retry_attempts=retry_attempts,
            maximum_event_age_s=maximum_event_age_s,
        ),
        failure_queue,
    )
