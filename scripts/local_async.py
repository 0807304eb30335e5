"""Asynchronous invocations in `make serve`: how EventBridge Scheduler, EventBridge rules (a
bucket's object events too) and SNS invoke a function's `live` alias, and what Lambda then does
with the event. Two stages, as on AWS:

1. The sender calls Lambda's Invoke, asynchronously, with its retry policy and dead-letter
   queue for that call ("Event retry policy and using dead-letter queues", EventBridge guide;
   "Configuring a dead-letter queue", Scheduler guide). Locally the call fails only when the
   local machinery cannot run the function (its package, its process): Lambda's
   `ServiceException`, a server error senders retry.
2. Lambda took the event: a function error is retried twice, a minute and two minutes later,
   then the event goes to the function's own dead-letter queue ("Asynchronous invocation",
   Lambda guide). The sender never sees the function's errors.

Both stages are `local_retries.RetryingSender`s on the engine's clock.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from scripts.local_retries import (
    LAMBDA_ASYNC_POLICY,
    DeliveryFailure,
    GaveUp,
    RetryingSender,
    RetryPolicy,
    eventbridge_dead_letter,
    eventbridge_policy,
    lambda_dead_letter,
    message_attributes,
    scheduler_dead_letter,
    send_dead_letter,
)
from scripts.local_triggers import RuleTrigger, ScheduleTrigger
from scripts.sandbox import FunctionError
from scripts.trigger_events import iso_seconds, schedule_arn, scheduler_input

if TYPE_CHECKING:
    from scripts.local_delivery import DeliveryEngine

# Lambda's error for a failure of its own (HTTP 500), which senders retry.
LAMBDA_SERVICE_ERROR = "ServiceException"
# EventBridge's ERROR_CODE for an error the target's service answered (its documented list).
EVENTBRIDGE_TARGET_ERROR = "ERROR_FROM_TARGET"
# SNS's delivery policy for AWS-managed endpoints such as Lambda: 100,015 tries over 23 days
# ("Amazon SNS message delivery retries"); locally its phases are simplified to 20 s apart.
SNS_RETRIES = 100_014
SNS_MAX_AGE_S = 23 * 24 * 3600
SNS_RETRY_DELAY_S = 20.0


class InvokeFailure(FunctionError):
    """Lambda's Invoke call failed (locally: the machinery that runs the function), as opposed
    to the function failing."""


def _function_failure(error: FunctionError) -> DeliveryFailure:
    return DeliveryFailure(
        error.error["errorType"], error.error["errorMessage"], request_id=error.error["requestId"]
    )


class AsyncInvocation:
    """One sender's asynchronous invocations of one function: `send` makes the first attempt
    and answers what the function did; `step` makes the retries that are due."""

    def __init__(
        self,
        engine: DeliveryEngine,
        function: str,
        source: str,
        policy: RetryPolicy,
        to_payload: Callable[[Any, int], Any],
        give_up: Callable[[GaveUp], None],
        error_code: str,
    ) -> None:
        self.engine, self.function, self.source = engine, function, source
        self.to_payload, self.error_code = to_payload, error_code
        self.delivery = RetryingSender(
            policy, self._call, give_up, engine.clock, self._retrying("Invoke failed")
        )
        self.function_retries = RetryingSender(
            LAMBDA_ASYNC_POLICY,
            self._run,
            self._function_gave_up,
            engine.clock,
            self._retrying("failed"),
        )

    @property
    def label(self) -> str:
        return f"{self.function} <- {self.source}"

    def send(self, event: Any) -> Any:
        """The function's result for the first attempt, or FunctionError; either way what
        failed is retried as AWS would."""
        try:
            result = self.delivery.send(event)
        except DeliveryFailure as failure:
            if isinstance(failure.__cause__, FunctionError):
                raise failure.__cause__ from None
            raise
        if isinstance(result, FunctionError):
            raise result
        return result

    def step(self) -> int:
        return self.delivery.step() + self.function_retries.step()

    def _call(self, event: Any, attempt: int) -> Any:
        """The sender's attempt: the Invoke call. A function error is Lambda's to retry, and
        comes back as the result (a function's result is JSON, never a FunctionError)."""
        payload = self.to_payload(event, attempt)
        try:
            result = self.engine.invoke(self.function, payload)
        except InvokeFailure as failure:
            raise DeliveryFailure(self.error_code, failure.error["errorMessage"]) from failure
        except FunctionError as error:
            self.function_retries.failed_elsewhere(payload, _function_failure(error))
            return error
        self.engine.note(f"{self.label}: 1 event")
        return result

    def _run(self, payload: Any, attempt: int) -> Any:
        """Lambda's retry of a function error."""
        try:
            result = self.engine.invoke(self.function, payload)
        except FunctionError as error:
            raise _function_failure(error) from error
        self.engine.note(f"{self.label}: 1 event, attempt {attempt}")
        return result

    def _retrying(self, what: str) -> Callable[[DeliveryFailure, float], None]:
        def note(failure: DeliveryFailure, delay: float) -> None:
            self.engine.note(f"{self.label}: {what} ({failure.code}), again in {delay:g} s")

        return note

    def _function_gave_up(self, gave_up: GaveUp) -> None:
        tries = f"failed {gave_up.retries + 1} times"
        queue = self.engine.function_dead_letter_queues.get(self.function)
        if queue is None:
            self.engine.note(f"{self.label}: {tries}, dropped (it has no dead-letter queue)")
            return
        send_dead_letter(self.engine.sqs, queue, gave_up.event, lambda_dead_letter(gave_up))
        self.engine.note(f"{self.label}: {tries}, to {queue}")


@dataclass(frozen=True)
class _Firing:
    """One scheduled invocation: its time and execution id stay the same across retries."""

    scheduled_at: datetime
    execution_id: str


def schedule_invocation(engine: DeliveryEngine, schedule: ScheduleTrigger) -> AsyncInvocation:
    """Scheduler's target for `schedule`: its input with the context attributes of each
    attempt, its retry policy, and its dead-letter queue."""
    arn = schedule_arn(engine.region, schedule.group, schedule.schedule_name)

    def payload(firing: _Firing, attempt: int) -> Any:
        return scheduler_input(
            schedule.input, arn, firing.scheduled_at, attempt, execution_id=firing.execution_id
        )

    def give_up(gave_up: GaveUp) -> None:
        firing: _Firing = gave_up.event
        ended = f"given up after {gave_up.retries} retries ({gave_up.exhausted or 'not retried'})"
        label = f"{schedule.function} <- schedule {schedule.name}"
        if schedule.dead_letter_queue is None:
            engine.note(f"{label}: {ended}, dropped (no dead-letter queue)")
            return
        attributes = scheduler_dead_letter(
            gave_up,
            arn,
            schedule.target_arn,
            firing.execution_id,
            iso_seconds(firing.scheduled_at),
        )
        body = payload(firing, gave_up.retries + 1)
        send_dead_letter(
            engine.sqs, schedule.dead_letter_queue, body, message_attributes(attributes)
        )
        engine.note(f"{label}: {ended}, to {schedule.dead_letter_queue}")

    policy = eventbridge_policy(schedule.retry_attempts, schedule.maximum_event_age_s)
    return AsyncInvocation(
        engine,
        schedule.function,
        f"schedule {schedule.name}",
        policy,
        payload,
        give_up,
        LAMBDA_SERVICE_ERROR,
    )


def fire(invocation: AsyncInvocation, now: datetime) -> Any:
    """A schedule's invocation now (`make fire`)."""
    return invocation.send(_Firing(now, uuid.uuid4().hex[:16]))


class QueuedEvents:
    """An engine-owned queue standing in for a Lambda target (a rule's target, a topic's
    subscription): each message is one asynchronous invocation, retried in memory."""

    def __init__(
        self,
        engine: DeliveryEngine,
        url: str,
        invocation: AsyncInvocation,
        to_event: Callable[[dict[str, Any]], Any],
    ) -> None:
        self.engine, self.url, self.invocation, self.to_event = engine, url, invocation, to_event

    @property
    def source(self) -> str:
        return self.invocation.source

    @property
    def function(self) -> str:
        return self.invocation.function

    def step(self) -> int:
        sqs = self.engine.sqs
        messages = sqs.receive_message(
            QueueUrl=self.url, MaxNumberOfMessages=10, WaitTimeSeconds=0
        ).get("Messages", [])
        for message in messages:
            sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
            # What fails is retried by the invocation's stages.
            with suppress(FunctionError):
                self.invocation.send(self.to_event(json.loads(message["Body"])))
        return len(messages) + self.invocation.step()


def rule_invocation(
    engine: DeliveryEngine, trigger: RuleTrigger, rule_arn: str, source: str
) -> AsyncInvocation:
    """A rule's target: the event as EventBridge delivers it, the target's retry policy, and
    its `on_failure` queue (without one EventBridge drops what it gives up on)."""

    def give_up(gave_up: GaveUp) -> None:
        ended = f"given up after {gave_up.retries} retries ({gave_up.exhausted or 'not retried'})"
        if trigger.on_failure is None:
            engine.note(f"{trigger.function} <- {source}: {ended}, dropped (no on_failure)")
            return
        attributes = eventbridge_dead_letter(gave_up, rule_arn, trigger.target_arn)
        send_dead_letter(
            engine.sqs, trigger.on_failure, gave_up.event, message_attributes(attributes)
        )
        engine.note(f"{trigger.function} <- {source}: {ended}, to {trigger.on_failure}")

    policy = eventbridge_policy(trigger.retry_attempts, trigger.maximum_event_age_s)
    return AsyncInvocation(
        engine,
        trigger.function,
        source,
        policy,
        lambda event, attempt: event,
        give_up,
        EVENTBRIDGE_TARGET_ERROR,
    )


def topic_invocation(engine: DeliveryEngine, function: str, source: str) -> AsyncInvocation:
    """A topic's subscription: SNS's own retries; the stack gives subscriptions no
    dead-letter queue, so what SNS gives up on is dropped."""

    def give_up(gave_up: GaveUp) -> None:
        engine.note(f"{function} <- {source}: SNS gave up ({gave_up.exhausted}), dropped")

    policy = RetryPolicy(SNS_RETRIES, SNS_MAX_AGE_S, lambda retry: SNS_RETRY_DELAY_S)
    return AsyncInvocation(
        engine,
        function,
        source,
        policy,
        lambda event, attempt: event,
        give_up,
        LAMBDA_SERVICE_ERROR,
    )
