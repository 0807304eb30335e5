"""Retries and dead letters of `make serve`'s asynchronous deliveries: one mechanism for every
sender AWS gives a retry policy (EventBridge Scheduler and rules for their targets, SNS for its
subscriptions, Lambda for a function's asynchronous invocations).

A `RetryingSender` makes a delivery's first attempt at once; a failure that retrying may fix is
tried again after the policy's delay, until `maximum_retry_attempts` retries were made or the
next retry would come later than `maximum_event_age_s` after the first attempt; a failure that
retrying cannot fix is given up at once. What it gives up on goes to its `give_up` (a
dead-letter queue, or the log), with the limit that ended the retries. What waits for a retry
is kept in memory, due on the engine's clock, so tests move time themselves.

The dead-letter messages carry the attributes each service documents:
`eventbridge_dead_letter` (rules), `scheduler_dead_letter` (schedules), `lambda_dead_letter`
(a function's own dead-letter queue). `reported_failures` reads a partial batch response, for
the queue and stream pollers, which retry by other rules.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

Clock = Callable[[], float]

# The limit that ended a delivery's retries, as EventBridge and Scheduler name it in the
# dead-letter message's EXHAUSTED_RETRY_CONDITION.
MAXIMUM_RETRY_ATTEMPTS = "MaximumRetryAttempts"
MAXIMUM_EVENT_AGE = "MaximumEventAgeInSeconds"
# EventBridge and Scheduler back off exponentially with jitter without saying by how much: here
# the delay doubles from a second, up to five minutes (185 retries in 24 hours, their default
# policy, are 7.8 minutes apart on average). No jitter: the tests move the clock exactly.
FIRST_BACKOFF_S = 1
LONGEST_BACKOFF_S = 300
# Lambda's asynchronous invocation: a function error is retried twice, about a minute and two
# minutes later; an event is kept up to 6 hours ("Asynchronous invocation", Lambda guide).
LAMBDA_ASYNC_DELAYS_S = (60, 120)
LAMBDA_ASYNC_MAX_EVENT_AGE_S = 6 * 3600
# A Lambda dead-letter message's ErrorMessage holds the first 1 KB of the error's message.
LAMBDA_DEAD_LETTER_MESSAGE_BYTES = 1024


def counted(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def reported_failures(response: Any, batch_ids: Sequence[str]) -> set[str]:
    """The items a function's partial batch response fails, as Lambda reads it ("Reporting
    batch item failures"): no response, no list or an empty one fail nothing; an item without
    a known identifier, or a response that is not an object, fails the whole batch."""
    everything = set(batch_ids)
    if response is None:
        return set()
    if not isinstance(response, dict):
        return everything
    failures = response.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return everything
    identifiers = [
        item.get("itemIdentifier") if isinstance(item, dict) else None for item in failures
    ]
    if not all(isinstance(found, str) and found in everything for found in identifiers):
        return everything
    return set(identifiers)  # type: ignore[arg-type]


@dataclass(frozen=True)
class RetryPolicy:
    """How a sender retries: at most `maximum_retry_attempts` retries, none later than
    `maximum_event_age_s` after the first attempt, `delay_s(n)` seconds before the n-th."""

    maximum_retry_attempts: int
    maximum_event_age_s: float
    delay_s: Callable[[int], float]


def backoff_delay(retry: int) -> float:
    return float(min(FIRST_BACKOFF_S * 2 ** (retry - 1), LONGEST_BACKOFF_S))


def eventbridge_policy(retry_attempts: int, maximum_event_age_s: int) -> RetryPolicy:
    """A Scheduler schedule's or an EventBridge rule target's retry policy."""
    return RetryPolicy(retry_attempts, maximum_event_age_s, backoff_delay)


def _lambda_async_delay(retry: int) -> float:
    return float(LAMBDA_ASYNC_DELAYS_S[retry - 1])


LAMBDA_ASYNC_POLICY = RetryPolicy(
    len(LAMBDA_ASYNC_DELAYS_S), LAMBDA_ASYNC_MAX_EVENT_AGE_S, _lambda_async_delay
)


class DeliveryFailure(Exception):
    """An attempt that failed: the error's code and message as the sender records them, and
    whether trying again may help (AWS sends a missing permission or target on at once)."""

    def __init__(
        self, code: str, message: str, *, retryable: bool = True, request_id: str = ""
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.retryable = code, message, retryable
        self.request_id = request_id  # the invocation's, when a function failed


@dataclass(frozen=True)
class GaveUp:
    """A delivery given up: its event, its last failure, the retries made, and the limit that
    ended them (None for a failure retrying cannot fix)."""

    event: Any
    failure: DeliveryFailure
    retries: int
    exhausted: str | None


@dataclass
class _Waiting:
    event: Any
    first_at: float
    retries: int
    due: float


class RetryingSender:
    """Delivers events with `attempt(event, attempt_number)`, which returns the result or
    raises DeliveryFailure; retries and gives up as `policy` says."""

    def __init__(
        self,
        policy: RetryPolicy,
        attempt: Callable[[Any, int], Any],
        give_up: Callable[[GaveUp], None],
        clock: Clock,
        on_retry: Callable[[DeliveryFailure, float], None] = lambda failure, delay: None,
    ) -> None:
        self.policy, self.attempt, self.give_up, self.clock = policy, attempt, give_up, clock
        self.on_retry = on_retry
        self.waiting: list[_Waiting] = []

    def send(self, event: Any) -> Any:
        """The first attempt, now: its result, or its DeliveryFailure (the event then waits
        for a retry, or is given up)."""
        now = self.clock()
        return self._attempt(_Waiting(event, now, 0, now))

    def failed_elsewhere(self, event: Any, failure: DeliveryFailure) -> None:
        """An event whose first attempt was made by someone else and failed: retry it."""
        now = self.clock()
        self._failed(_Waiting(event, now, 0, now), failure)

    def step(self) -> int:
        """The retries that are due: how many were made."""
        now = self.clock()
        due = [waiting for waiting in self.waiting if waiting.due <= now]
        for waiting in due:
            self.waiting.remove(waiting)
            with suppress(DeliveryFailure):  # waiting again, or given up
                self._attempt(waiting)
        return len(due)

    def _attempt(self, waiting: _Waiting) -> Any:
        try:
            return self.attempt(waiting.event, waiting.retries + 1)
        except DeliveryFailure as failure:
            self._failed(waiting, failure)
            raise

    def _failed(self, waiting: _Waiting, failure: DeliveryFailure) -> None:
        if not failure.retryable:
            self.give_up(GaveUp(waiting.event, failure, waiting.retries, None))
            return
        delay = 0.0
        if waiting.retries >= self.policy.maximum_retry_attempts:
            exhausted: str | None = MAXIMUM_RETRY_ATTEMPTS
        else:
            delay = self.policy.delay_s(waiting.retries + 1)
            too_old = self.clock() + delay - waiting.first_at > self.policy.maximum_event_age_s
            exhausted = MAXIMUM_EVENT_AGE if too_old else None
        if exhausted is not None:
            self.give_up(GaveUp(waiting.event, failure, waiting.retries, exhausted))
            return
        waiting.retries += 1
        waiting.due = self.clock() + delay
        self.waiting.append(waiting)
        self.on_retry(failure, delay)


def send_dead_letter(sqs: Any, queue: str, body: Any, attributes: Mapping[str, Any]) -> None:
    """`body` as JSON to the queue named `queue`, with the message attributes."""
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body), MessageAttributes=attributes)


def message_attributes(values: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """SQS string message attributes (SQS refuses an empty value: those are left out)."""
    return {
        name: {"DataType": "String", "StringValue": value}
        for name, value in values.items()
        if value
    }


def _retry_attributes(gave_up: GaveUp) -> dict[str, str]:
    values = {
        "ERROR_CODE": gave_up.failure.code,
        "ERROR_MESSAGE": gave_up.failure.message,
        "RETRY_ATTEMPTS": str(gave_up.retries),
    }
    if gave_up.exhausted is not None:
        values["EXHAUSTED_RETRY_CONDITION"] = gave_up.exhausted
    return values


def eventbridge_dead_letter(gave_up: GaveUp, rule_arn: str, target_arn: str) -> dict[str, str]:
    """The attributes of a rule target's dead-letter message ("Using dead-letter queues to
    process undelivered events", EventBridge user guide); its body is the event."""
    return {"RULE_ARN": rule_arn, "TARGET_ARN": target_arn, **_retry_attributes(gave_up)}


def scheduler_dead_letter(
    gave_up: GaveUp, schedule_arn: str, target_arn: str, execution_id: str, scheduled_time: str
) -> dict[str, str]:
    """The attributes of a schedule's dead-letter event ("Configuring a dead-letter queue",
    Scheduler user guide); its body is what the target was sent."""
    return {
        **_retry_attributes(gave_up),
        "EXECUTION_ID": execution_id,
        "IS_PAYLOAD_TRUNCATED": "false",
        "SCHEDULED_TIME": scheduled_time,
        "SCHEDULE_ARN": schedule_arn,
        "TARGET_ARN": target_arn,
    }


def lambda_dead_letter(gave_up: GaveUp) -> dict[str, dict[str, str]]:
    """The attributes of a function's own dead-letter message ("Dead-letter queues", Lambda
    guide): the request id, the HTTP status of the invocation (200 for a function error) and
    the first 1 KB of the error message; its body is the event."""
    message = gave_up.failure.message.encode()[:LAMBDA_DEAD_LETTER_MESSAGE_BYTES]
    return {
        **message_attributes(
            {
                "RequestID": gave_up.failure.request_id,
                "ErrorMessage": message.decode(errors="ignore"),
            }
        ),
        "ErrorCode": {"DataType": "Number", "StringValue": "200"},
    }
