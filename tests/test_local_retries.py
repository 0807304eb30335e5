"""The retry mechanism every asynchronous sender of `make serve` uses (scripts/local_retries.py),
on a clock the test moves: how many attempts a policy makes, which limit ends them, and that a
failure retrying cannot fix is given up at once. The expected numbers are worked out by hand
from the policy (delays 1, 2, 4, ... seconds)."""

from __future__ import annotations

import contextlib

import pytest

from scripts.local_retries import (
    LAMBDA_ASYNC_POLICY,
    DeliveryFailure,
    GaveUp,
    RetryingSender,
    RetryPolicy,
    backoff_delay,
    eventbridge_policy,
)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def run(policy: RetryPolicy, fails: int, *, retryable: bool = True, until: float = 100_000):
    """Send one event that fails its first `fails` attempts; step a second at a time.
    The attempts' times, and what was given up."""
    clock = Clock()
    attempts: list[tuple[float, int]] = []
    given_up: list[GaveUp] = []

    def attempt(event: str, number: int) -> str:
        attempts.append((clock.now, number))
        if len(attempts) <= fails:
            raise DeliveryFailure("Boom", "it failed", retryable=retryable)
        return "done"

    sender = RetryingSender(policy, attempt, given_up.append, clock)
    with contextlib.suppress(DeliveryFailure):
        sender.send("event")
    while clock.now < until and sender.waiting:
        clock.now += 1
        sender.step()
    return attempts, given_up


@pytest.mark.parametrize(("retry", "delay"), [(1, 1), (2, 2), (3, 4), (9, 256), (10, 300)])
def test_the_back_off_doubles_up_to_five_minutes(retry, delay):
    assert backoff_delay(retry) == delay


def test_a_delivery_that_succeeds_on_a_retry_is_not_given_up():
    attempts, given_up = run(eventbridge_policy(3, 3600), fails=2)
    # Retries after 1 s, then 2 s more; attempt numbers count from 1.
    assert attempts == [(0, 1), (1, 2), (3, 3)]
    assert given_up == []


@pytest.mark.parametrize(
    ("retries", "age", "attempt_times", "ended_by", "retries_made"),
    [
        (2, 3600, [0, 1, 3], "MaximumRetryAttempts", 2),
        (0, 3600, [0], "MaximumRetryAttempts", 0),
        # The sixth retry would come at 31 + 32 = 63 s, past 60.
        (185, 60, [0, 1, 3, 7, 15, 31], "MaximumEventAgeInSeconds", 5),
    ],
)
def test_retries_end_at_the_first_limit_reached(
    retries, age, attempt_times, ended_by, retries_made
):
    attempts, given_up = run(eventbridge_policy(retries, age), fails=1000)
    assert [at for at, _ in attempts] == attempt_times
    (gave_up,) = given_up
    assert isinstance(gave_up, GaveUp)
    assert (gave_up.event, gave_up.exhausted, gave_up.retries) == ("event", ended_by, retries_made)
    assert (gave_up.failure.code, gave_up.failure.message) == ("Boom", "it failed")


def test_a_failure_retrying_cannot_fix_is_given_up_at_once_without_a_limit():
    attempts, given_up = run(eventbridge_policy(185, 86_400), fails=1000, retryable=False)
    assert len(attempts) == 1
    assert (given_up[0].exhausted, given_up[0].retries) == (None, 0)


def test_lambdas_asynchronous_retries_come_a_minute_then_two_minutes_later():
    attempts, given_up = run(LAMBDA_ASYNC_POLICY, fails=1000)
    assert [at for at, _ in attempts] == [0, 60, 180]
    assert given_up[0].exhausted == "MaximumRetryAttempts"
