"""AWS calls within what is left of the Lambda invocation.

Each call gets timeouts that fit the time left (less what is kept to reply), is tried again
after a transient failure while that time allows, with jittered backoff, and its failure is
classed as 503 (may pass by itself: unreachable, throttled, 5xx, no time) or 502 (the rest).
Standard library and boto3 only.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from http import HTTPStatus
from typing import Any

import boto3
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as EndpointConnectionFailure

# Error codes that mean "try again later" although AWS answers them with a 4xx status.
RETRY_LATER_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "ThrottlingException",
        "Throttling",
        "SlowDown",
        "TransactionConflictException",
        "TransactionInProgressException",
    }
)
# Why a transaction was cancelled, when trying it again later may succeed.
RETRY_LATER_CANCELLATIONS = frozenset(
    {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}
)
# Full per-attempt timeouts; an attempt gets less when the invocation has less time left.
CONNECT_TIMEOUT_S = 2.0
READ_TIMEOUT_S = 3.0
# Budgets round down to twentieths of the full timeouts: an execution environment creates at
# most this many clients per service, and an attempt needs at least one twentieth (0.25 s).
TIMEOUT_STEPS = 20
MAX_ATTEMPTS = 3
BACKOFF_BASE_S = 0.05
BACKOFF_MAX_S = 1.0
# Kept back from the invocation's remaining time to log and return the answer.
REPLY_RESERVE_S = 0.3
# Without a Lambda context (a direct call), the stack's default function timeout.
DEFAULT_BUDGET_S = 10.0


class RetryLater(Exception):
    """An AWS call not made or given up for a reason that may pass: an answer of 503."""


class OutOfTime(RetryLater):
    pass


@dataclass(frozen=True)
class Deadline:
    """What is left of the invocation for AWS calls: the runtime's own countdown
    (`context.get_remaining_time_in_millis()`) less the time kept to reply; `sleep` waits
    between attempts. Tests pass a simulated countdown and sleep: no test of the timing
    depends on how busy the machine is."""

    remaining_ms: Callable[[], float]
    sleep: Callable[[float], None] = time.sleep

    @classmethod
    def from_context(cls, context: Any, sleep: Callable[[float], None] = time.sleep) -> Deadline:
        remaining_ms = getattr(context, "get_remaining_time_in_millis", None)
        return cls(remaining_ms if callable(remaining_ms) else _countdown(DEFAULT_BUDGET_S), sleep)

    def remaining(self) -> float:
        return self.remaining_ms() / 1000 - REPLY_RESERVE_S


def _countdown(seconds: float) -> Callable[[], float]:
    """Milliseconds left of `seconds` from now, as the runtime's context counts them."""
    ends_at = time.monotonic() + seconds
    return lambda: (ends_at - time.monotonic()) * 1000


def aws_call(deadline: Deadline, service: str, operation: str, **params: Any) -> dict[str, Any]:
    """One AWS operation, tried again after a transient failure while the deadline allows.

    botocore's own retries are off: they know nothing of the deadline.
    """
    attempt = 1
    while True:
        step = _timeout_step(deadline.remaining())
        if step < 1:
            raise OutOfTime(f"{deadline.remaining():.2f} s left, too little for {operation}")
        try:
            answer: dict[str, Any] = getattr(_client(service, step), operation)(**params)
            return answer
        except (BotoCoreError, ClientError) as error:
            pause = _backoff(attempt)
            if (
                attempt >= MAX_ATTEMPTS
                or upstream_status(error) != HTTPStatus.SERVICE_UNAVAILABLE
                or _timeout_step(deadline.remaining() - pause) < 1
            ):
                raise
        deadline.sleep(pause)
        attempt += 1


def _timeout_step(budget_s: float) -> int:
    """How many twentieths of the full timeouts fit into the budget, at most all of them."""
    full_s = CONNECT_TIMEOUT_S + READ_TIMEOUT_S
    return max(0, min(TIMEOUT_STEPS, math.floor(budget_s / full_s * TIMEOUT_STEPS)))


def _backoff(attempt: int) -> float:
    # Full jitter: clients failing together do not retry together.
    return random.uniform(0, min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2**attempt))


@cache
def _client(service: str, timeout_step: int) -> BaseClient:
    """One client per service and timeout step for the life of the execution environment.

    boto3 honours AWS_ENDPOINT_URL(_<SERVICE>). Timeouts are fixed when a client is made,
    hence a client per step; in the common case, plenty of time left, that is one per service.
    """
    scale = timeout_step / TIMEOUT_STEPS
    config = Config(
        connect_timeout=CONNECT_TIMEOUT_S * scale,
        read_timeout=READ_TIMEOUT_S * scale,
        retries={"mode": "standard", "total_max_attempts": 1},
    )
    return boto3.client(service, config=config)


def upstream_status(error: BotoCoreError | ClientError | RetryLater) -> HTTPStatus:
    """503 for what may pass by itself (unreachable, throttled, 5xx, no time), 502 for the rest."""
    if isinstance(error, EndpointConnectionFailure | HTTPClientError | RetryLater):
        return HTTPStatus.SERVICE_UNAVAILABLE
    if isinstance(error, ClientError):
        http_status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if http_status >= 500 or error_code(error) in RETRY_LATER_CODES:
            return HTTPStatus.SERVICE_UNAVAILABLE
        if _cancelled_for_a_while(error):
            return HTTPStatus.SERVICE_UNAVAILABLE
    return HTTPStatus.BAD_GATEWAY


def _cancelled_for_a_while(error: ClientError) -> bool:
    reasons = error.response.get("CancellationReasons") or []
    return any(reason.get("Code") in RETRY_LATER_CANCELLATIONS for reason in reasons)


def error_code(error: BaseException) -> str | None:
    if isinstance(error, ClientError):
        code: str | None = error.response.get("Error", {}).get("Code")
        return code
    return None
