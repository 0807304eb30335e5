"""Asynchronous invocations in `make serve` against moto in server mode, with a real function
process, on a clock the tests move: a schedule's and a rule's retry policy for the Invoke call
and their dead-letter queues with the attributes AWS documents, and Lambda's own retries of a
function's errors ending in the function's dead-letter queue, which the senders never see.

The Invoke call fails here when the harness takes the machinery down (locally, the only way
it fails); the function fails with CRASH in its event.
"""

from __future__ import annotations

import json

import pytest

from scripts.local_triggers import LocalQueue, LocalTriggers, RuleTrigger, ScheduleTrigger
from scripts.sandbox import FunctionError
from tests.delivery_harness import (  # noqa: F401 (fixtures)
    REGION,
    Harness,
    attributes,
    aws_fixture,
    moto_url_fixture,
    worker_fixture,
)

ACCOUNT = "123456789012"
ALIAS = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:t-dev-worker:live"
SCHEDULE_INPUT = '{"job": "report", "attempt": "<aws.scheduler.attempt-number>"}'
FAILURES = LocalQueue("failures", "t-dev-failures", "t-dev-failures-dead-letters", 30, 5)
FUNCTION_DLQ = {"worker": "t-dev-worker-dlq"}


def nightly(**settings) -> ScheduleTrigger:
    return ScheduleTrigger(
        name="nightly",
        function="worker",
        schedule_name="t-dev-nightly",
        expression="cron(0 3 * * ? *)",
        input=SCHEDULE_INPUT,
        group="t-dev",
        dead_letter_queue="t-dev-nightly-schedule-dlq",
        target_arn=ALIAS,
        **settings,
    )


@pytest.mark.parametrize(
    ("retries", "age", "attempts", "ended_by"),
    [
        # Retries 1 s and 2 s after the failures, then the limit.
        (2, 3600, 3, "MaximumRetryAttempts"),
        # Retries at 1, 3, 7, 15, 31 s; the next would come at 63 s, past 60.
        (185, 60, 6, "MaximumEventAgeInSeconds"),
    ],
)
def test_a_schedule_whose_invoke_keeps_failing_lands_in_its_dead_letter_queue(
    aws, worker, retries, age, attempts, ended_by
):
    schedule = nightly(retry_attempts=retries, maximum_event_age_s=age)
    run = Harness(aws, worker, LocalTriggers(schedules=[schedule]))
    run.machinery_down = True
    with pytest.raises(FunctionError, match="could not be started"):
        run.engine.fire("nightly")
    run.run_for(120)
    assert run.log.getvalue().count("local delivery failed") == attempts
    (dead,) = run.messages("t-dev-nightly-schedule-dlq")
    found = attributes(dead)
    assert found.pop("EXECUTION_ID") and found.pop("SCHEDULED_TIME").endswith("Z")
    assert found == {
        "ERROR_CODE": "ServiceException",
        "ERROR_MESSAGE": "the function's process could not be started",
        "EXHAUSTED_RETRY_CONDITION": ended_by,
        "IS_PAYLOAD_TRUNCATED": "false",
        "RETRY_ATTEMPTS": str(attempts - 1),
        "SCHEDULE_ARN": f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/t-dev/t-dev-nightly",
        "TARGET_ARN": ALIAS,
    }
    # What the target was sent, on the last attempt.
    assert json.loads(dead["Body"]) == {"job": "report", "attempt": str(attempts)}
    assert run.events() == []


def test_a_schedule_delivered_on_a_retry_reaches_the_function_with_that_attempt(aws, worker):
    run = Harness(aws, worker, LocalTriggers(schedules=[nightly(retry_attempts=3)]))
    run.machinery_down = True
    with pytest.raises(FunctionError):
        run.engine.fire("nightly")
    run.machinery_down = False
    run.run_for(5)
    assert run.events() == [{"job": "report", "attempt": "2"}]
    assert run.messages("t-dev-nightly-schedule-dlq") == []


def test_a_schedules_function_error_is_lambdas_to_retry_then_the_functions_dead_letter_queue(
    aws, worker
):
    crashing = ScheduleTrigger(**{**nightly().__dict__, "input": '{"job": "CRASH"}'})
    triggers = LocalTriggers(schedules=[crashing], function_dead_letter_queues=FUNCTION_DLQ)
    run = Harness(aws, worker, triggers)
    with pytest.raises(FunctionError, match="asked to crash"):
        run.engine.fire("nightly")
    run.run_for(59)
    assert len(run.events()) == 1
    run.run_for(121)  # Lambda's retries: a minute, then two minutes after the failures
    assert len(run.events()) == 2
    (dead,) = run.messages("t-dev-worker-dlq")
    assert json.loads(dead["Body"]) == {"job": "CRASH"}
    found = attributes(dead)
    assert found.pop("RequestID")
    assert found == {"ErrorCode": "200", "ErrorMessage": "asked to crash"}
    assert dead["MessageAttributes"]["ErrorCode"]["DataType"] == "Number"
    # Scheduler delivered the event: its own dead-letter queue gets nothing.
    assert run.messages("t-dev-nightly-schedule-dlq") == []


def orders_rule(**settings) -> RuleTrigger:
    return RuleTrigger(
        "orders", "worker", {"source": ["shop.orders"]}, target_arn=ALIAS, **settings
    )


def put_order(aws, detail: str) -> None:
    aws("events").put_events(
        Entries=[{"Source": "shop.orders", "DetailType": "Order", "Detail": detail}]
    )


def test_a_rule_whose_invoke_keeps_failing_sends_the_event_to_its_on_failure_queue(aws, worker):
    rule = orders_rule(retry_attempts=1, on_failure="t-dev-failures")
    run = Harness(aws, worker, LocalTriggers(queues=[FAILURES], rules=[rule]))
    run.machinery_down = True
    put_order(aws, '{"id": "o-1"}')
    run.run_for(10)
    (dead,) = run.messages("t-dev-failures")
    found = attributes(dead)
    assert found.pop("RULE_ARN") == f"arn:aws:events:{REGION}:{ACCOUNT}:rule/local-0-orders"
    assert found == {
        "TARGET_ARN": ALIAS,
        "ERROR_CODE": "ERROR_FROM_TARGET",
        "ERROR_MESSAGE": "the function's process could not be started",
        "EXHAUSTED_RETRY_CONDITION": "MaximumRetryAttempts",
        "RETRY_ATTEMPTS": "1",
    }
    event = json.loads(dead["Body"])
    assert (event["source"], event["detail"]) == ("shop.orders", {"id": "o-1"})


def test_without_on_failure_a_rule_drops_what_it_gives_up_on(aws, worker):
    run = Harness(aws, worker, LocalTriggers(rules=[orders_rule(retry_attempts=0)]))
    run.machinery_down = True
    put_order(aws, '{"id": "o-2"}')
    run.run_for(5)
    assert "rule orders: given up after 0 retries (MaximumRetryAttempts), dropped" in (
        run.log.getvalue()
    )


def test_a_rules_function_error_goes_to_the_functions_dead_letter_queue_not_on_failure(aws, worker):
    rule = orders_rule(on_failure="t-dev-failures")
    triggers = LocalTriggers(
        queues=[FAILURES], rules=[rule], function_dead_letter_queues=FUNCTION_DLQ
    )
    run = Harness(aws, worker, triggers)
    put_order(aws, '{"id": "CRASH"}')
    run.run_for(200, tick=10)
    assert len(run.events()) == 3
    (dead,) = run.messages("t-dev-worker-dlq")
    assert json.loads(dead["Body"])["detail"] == {"id": "CRASH"}
    assert run.messages("t-dev-failures") == []
