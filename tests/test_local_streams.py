"""A table trigger in `make serve` (scripts/local_streams.py) against moto's DynamoDB Streams
in server mode, with a real function process, on a clock the tests move: bisection of a failed
batch, the retry limit, the record age limit, the checkpoint of a partial batch response, and
the invocation record an `on_failure` queue gets for discarded records.

The function raises for a batch holding CRASH and reports a record holding FAIL as failed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from scripts.local_triggers import LocalQueue, LocalTriggers, TableTrigger
from tests.delivery_harness import (  # noqa: F401 (fixtures)
    REGION,
    Harness,
    aws_fixture,
    moto_url_fixture,
    worker_fixture,
)

TABLE = "t-dev-orders"
ALIAS = f"arn:aws:lambda:{REGION}:123456789012:function:t-dev-worker:live"
FAILURES = LocalQueue("failures", "t-dev-failures", "t-dev-failures-dead-letters", 30, 5)


def create_table(aws: Any) -> None:
    aws("dynamodb").create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )


def harness(
    aws: Any, worker: Any, now: Callable[[], datetime] = lambda: datetime.now(UTC), **settings: Any
) -> Harness:
    create_table(aws)
    settings = {"batch_size": 10, **settings}
    trigger = TableTrigger(
        "changes", "worker", TABLE, on_failure="t-dev-failures", target_arn=ALIAS, **settings
    )
    triggers = LocalTriggers(queues=[FAILURES], table_triggers=[trigger])
    return Harness(aws, worker, triggers, now=now)


def put(aws: Any, *keys: str) -> None:
    for key in keys:
        aws("dynamodb").put_item(TableName=TABLE, Item={"pk": {"S": key}})


def batches(run: Harness) -> list[list[str]]:
    return [
        [record["dynamodb"]["Keys"]["pk"]["S"] for record in event["Records"]]
        for event in run.events()
    ]


def invocation_records(run: Harness) -> list[dict[str, Any]]:
    return [json.loads(message["Body"]) for message in run.messages("t-dev-failures")]


def test_a_failed_batch_is_split_in_two_until_the_bad_record_is_alone_then_discarded(aws, worker):
    run = harness(aws, worker, bisect_on_error=True, maximum_retry_attempts=1)
    put(aws, "a", "b", "CRASH", "d")
    run.run_for(10)
    # Splitting uses no retry; the record alone is retried once, then discarded.
    assert batches(run) == [
        ["a", "b", "CRASH", "d"],
        ["a", "b"],
        ["CRASH", "d"],
        ["CRASH"],
        ["CRASH"],
        ["d"],
    ]
    (record,) = invocation_records(run)
    info = record["DDBStreamBatchInfo"]
    assert (record["requestContext"]["condition"], info["batchSize"]) == (
        "RetryAttemptsExhausted",
        1,
    )
    assert info["startSequenceNumber"] == info["endSequenceNumber"]
    assert record["requestContext"]["functionArn"] == ALIAS
    assert record["responseContext"]["functionError"] == "Unhandled"


def test_without_bisection_the_whole_batch_is_retried_then_discarded(aws, worker):
    run = harness(aws, worker, maximum_retry_attempts=2)
    put(aws, "a", "CRASH", "c")
    run.run_for(10)
    assert batches(run) == [["a", "CRASH", "c"]] * 3
    (record,) = invocation_records(run)
    assert record["DDBStreamBatchInfo"]["batchSize"] == 3
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["version"] == "1.0" and record["timestamp"].endswith("Z")
    assert record["DDBStreamBatchInfo"]["streamArn"].startswith(
        f"arn:aws:dynamodb:{REGION}:123456789012:table/{TABLE}/stream/"
    )


def test_a_reported_failure_is_retried_from_its_checkpoint_and_counts_as_a_retry(aws, worker):
    run = harness(aws, worker, report_batch_item_failures=True, maximum_retry_attempts=1)
    put(aws, "a", "FAIL", "c")
    run.run_for(10)
    assert batches(run) == [["a", "FAIL", "c"], ["FAIL", "c"]]
    (record,) = invocation_records(run)
    assert record["DDBStreamBatchInfo"]["batchSize"] == 2
    assert "functionError" not in record["responseContext"]


@pytest.mark.parametrize(("hours_later", "delivered"), [(0, [["a", "b"]]), (2, [])])
def test_records_older_than_the_maximum_record_age_are_discarded_unread(
    aws, worker, hours_later, delivered
):
    later = timedelta(hours=hours_later)
    run = harness(aws, worker, lambda: datetime.now(UTC) + later, maximum_record_age_s=3600)
    put(aws, "a", "b")
    run.run_for(2)
    assert batches(run) == delivered
    conditions = [record["requestContext"]["condition"] for record in invocation_records(run)]
    assert conditions == ([] if delivered else ["RecordAgeExceeded"])


def test_the_batching_window_gathers_records_until_it_ends(aws, worker):
    run = harness(aws, worker, batching_window_s=20)
    put(aws, "early")
    assert run.engine.step() == 0
    run.clock.advance(19)
    put(aws, "late")
    assert run.engine.step() == 0
    run.clock.advance(1)
    assert run.engine.step() == 1
    assert batches(run) == [["early", "late"]]


def test_a_full_batch_does_not_wait_for_the_window(aws, worker):
    create_table(aws)
    trigger = TableTrigger("changes", "worker", TABLE, batch_size=2, batching_window_s=300)
    run = Harness(aws, worker, LocalTriggers(table_triggers=[trigger]))
    put(aws, "a", "b")
    assert run.engine.step() == 1
    assert batches(run) == [["a", "b"]]


def test_a_batch_stops_at_lambdas_6_mb_payload_and_the_rest_goes_next(aws, worker):
    run = harness(aws, worker, batch_size=100, batching_window_s=1)
    # 20 items of 350,000 bytes, 7 MB: more than one invocation may take.
    for number in range(20):
        aws("dynamodb").put_item(
            TableName=TABLE, Item={"pk": {"S": f"{number:02d}"}, "data": {"S": "x" * 350_000}}
        )
    run.run_for(3)
    events = run.events()
    sizes = [len(json.dumps(event).encode()) for event in events]
    assert len(events) == 2 and all(size <= 6 * 1024 * 1024 for size in sizes)
    # The first batch is full: the second's first record would not have fitted.
    assert sizes[0] + len(json.dumps(events[1]["Records"][0])) + 2 > 6 * 1024 * 1024
    keys = [
        record["dynamodb"]["Keys"]["pk"]["S"] for event in events for record in event["Records"]
    ]
    assert keys == [f"{number:02d}" for number in range(20)]
