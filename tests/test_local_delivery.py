"""The local delivery engine against moto in server mode, invoking a real function process
(scripts/sandbox.py): batches and partial failures of a queue, the dead-letter queue after
`maxReceiveCount`, the batching window, schedules fired on demand, objects under a prefix,
topics, table streams and the retries of asynchronous invocations.

The engine runs on a clock the tests move (no sleeping, nothing depends on the machine's load):
a failed message is hidden in moto until that clock passes its visibility timeout.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from scripts.local_delivery import UnknownSchedule
from scripts.local_retries import reported_failures
from scripts.local_triggers import (
    LocalQueue,
    LocalTopic,
    LocalTriggers,
    QueueTrigger,
    RuleTrigger,
    ScheduleTrigger,
    TableTrigger,
    TopicTrigger,
    object_created_pattern,
)
from scripts.sandbox import FunctionError
from tests.delivery_harness import (  # noqa: F401 (fixtures)
    REGION,
    Harness,
    aws_fixture,
    moto_url_fixture,
    worker_fixture,
)

ORDERS = LocalQueue(
    key="orders",
    name="t-dev-orders",
    dead_letter_name="t-dev-orders-dlq",
    visibility_timeout_s=180,
    max_receive_count=2,
)


def queue_triggers(**settings: Any) -> LocalTriggers:
    trigger = QueueTrigger(name="orders", function="worker", queue="orders", **settings)
    return LocalTriggers(queues=[ORDERS], queue_triggers=[trigger])


# --- partial batch responses, as Lambda reads them -------------------------------------------


@pytest.mark.parametrize(
    ("response", "failed"),
    [
        (None, set()),
        ({}, set()),
        ({"batchItemFailures": None}, set()),
        ({"batchItemFailures": []}, set()),
        ({"batchItemFailures": [{"itemIdentifier": "b"}]}, {"b"}),
        ({"batchItemFailures": [{"itemIdentifier": "a"}, {"itemIdentifier": "c"}]}, {"a", "c"}),
        ({"batchItemFailures": [{"itemIdentifier": "unknown"}]}, {"a", "b", "c"}),
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, {"a", "b", "c"}),
        ({"batchItemFailures": [{"itemIdentifier": None}]}, {"a", "b", "c"}),
        ({"batchItemFailures": [{"id": "a"}]}, {"a", "b", "c"}),
        ({"batchItemFailures": "a"}, {"a", "b", "c"}),
        ("done", {"a", "b", "c"}),
    ],
)
def test_a_partial_batch_response_fails_what_lambda_fails(response, failed):
    assert reported_failures(response, ["a", "b", "c"]) == failed


# --- a queue --------------------------------------------------------------------------------


def test_the_queue_and_its_dead_letter_queue_are_created_with_the_redrive_policy(aws, worker):
    Harness(aws, worker, queue_triggers())
    attributes = aws("sqs").get_queue_attributes(
        QueueUrl=aws("sqs").get_queue_url(QueueName="t-dev-orders")["QueueUrl"],
        AttributeNames=["All"],
    )["Attributes"]
    assert (attributes["VisibilityTimeout"], attributes["MessageRetentionPeriod"]) == (
        "180",
        "345600",  # SQS's default: 4 days
    )
    assert json.loads(attributes["RedrivePolicy"]) == {
        "deadLetterTargetArn": f"arn:aws:sqs:{REGION}:123456789012:t-dev-orders-dlq",
        "maxReceiveCount": 2,
    }


def test_failed_items_come_back_after_the_visibility_timeout_then_go_to_the_dead_letter_queue(
    aws, worker
):
    run = Harness(aws, worker, queue_triggers(batch_size=5))
    run.send("t-dev-orders", "first", "FAIL", "second")
    assert run.engine.step() == 1
    assert [sorted(bodies) for bodies in run.bodies()] == [["FAIL", "first", "second"]]
    assert run.visible_bodies("t-dev-orders") == []  # the failed one is hidden, the rest deleted
    run.clock.advance(179)
    assert run.engine.step() == 0
    run.clock.advance(1)
    assert run.engine.step() == 1
    (event,) = run.events()
    assert [record["body"] for record in event["Records"]] == ["FAIL"]
    assert event["Records"][0]["attributes"]["ApproximateReceiveCount"] == "2"
    run.clock.advance(180)
    # Received twice, maxReceiveCount 2: moto moves it at the next receive.
    assert run.engine.step() == 0
    assert run.events() == []
    assert run.visible_bodies("t-dev-orders") == []
    assert run.visible_bodies("t-dev-orders-dlq") == ["FAIL"]


def test_a_function_error_returns_the_whole_batch(aws, worker):
    run = Harness(aws, worker, queue_triggers(batch_size=5))
    run.send("t-dev-orders", "first", "CRASH")
    run.engine.step()
    first = run.events()
    run.clock.advance(180)
    run.engine.step()
    again = run.events()
    ids = [sorted(record["messageId"] for record in event["Records"]) for event in first + again]
    assert len(ids) == 2 and ids[0] == ids[1] and len(ids[0]) == 2


def test_without_report_batch_item_failures_a_reported_item_counts_as_done(aws, worker):
    run = Harness(aws, worker, queue_triggers(report_batch_item_failures=False))
    run.send("t-dev-orders", "FAIL")
    run.engine.step()
    run.clock.advance(180)
    assert run.engine.step() == 0
    assert run.visible_bodies("t-dev-orders-dlq") == []


@pytest.mark.parametrize(("sent", "batches"), [(3, [2, 1]), (4, [2, 2])])
def test_batches_hold_at_most_the_batch_size(aws, worker, sent, batches):
    run = Harness(aws, worker, queue_triggers(batch_size=2))
    run.send("t-dev-orders", *(f"m{number}" for number in range(sent)))
    while run.engine.step():
        pass
    assert [len(bodies) for bodies in run.bodies()] == batches


def test_the_batching_window_gathers_messages_until_it_ends(aws, worker):
    run = Harness(aws, worker, queue_triggers(batch_size=10, batching_window_s=20))
    run.send("t-dev-orders", "early")
    assert run.engine.step() == 0
    run.clock.advance(19)
    run.send("t-dev-orders", "late")
    assert run.engine.step() == 0
    run.clock.advance(1)
    assert run.engine.step() == 1
    assert [sorted(bodies) for bodies in run.bodies()] == [["early", "late"]]


def test_a_full_batch_does_not_wait_for_the_window(aws, worker):
    run = Harness(aws, worker, queue_triggers(batch_size=2, batching_window_s=300))
    run.send("t-dev-orders", "a", "b")
    assert run.engine.step() == 1


# --- a schedule, fired on demand -------------------------------------------------------------

NIGHTLY = ScheduleTrigger(
    name="nightly",
    function="worker",
    schedule_name="t-dev-nightly",
    expression="cron(0 3 * * ? *)",
    input='{"job": "report", "at": "<aws.scheduler.scheduled-time>"}',
)


def test_a_schedule_fires_on_demand_with_its_input(aws, worker):
    run = Harness(aws, worker, LocalTriggers(schedules=[NIGHTLY]))
    assert run.engine.fire("nightly") == {"batchItemFailures": []}
    (event,) = run.events()
    assert event["job"] == "report"
    assert event["at"].endswith("Z") and "<aws" not in event["at"]


def test_firing_an_unknown_schedule_names_it(aws, worker):
    run = Harness(aws, worker, LocalTriggers(schedules=[NIGHTLY]))
    with pytest.raises(UnknownSchedule, match="nightly-typo"):
        run.engine.fire("nightly-typo")


def test_a_failing_schedule_reports_the_functions_error(aws, worker):
    crashing = ScheduleTrigger(**{**NIGHTLY.__dict__, "input": '{"job": "CRASH"}'})
    run = Harness(aws, worker, LocalTriggers(schedules=[crashing]))
    with pytest.raises(FunctionError, match="asked to crash"):
        run.engine.fire("nightly")


# --- a bucket, a rule, a topic, a stream -----------------------------------------------------


def uploads_trigger(aws: Any) -> LocalTriggers:
    aws("s3").create_bucket(Bucket="t-dev-uploads-local")
    pattern = object_created_pattern("t-dev-uploads-local", prefix="uploads/")
    rule = RuleTrigger(
        name="uploads", function="worker", pattern=pattern, bucket="t-dev-uploads-local"
    )
    return LocalTriggers(rules=[rule])


def test_an_object_under_the_prefix_reaches_the_function_as_eventbridge_sends_it(aws, worker):
    run = Harness(aws, worker, uploads_trigger(aws))
    aws("s3").put_object(Bucket="t-dev-uploads-local", Key="elsewhere/a.csv", Body=b"no")
    aws("s3").put_object(Bucket="t-dev-uploads-local", Key="uploads/a.csv", Body=b"yes")
    assert run.engine.step() == 1
    (event,) = run.events()
    assert (event["source"], event["detail-type"]) == ("aws.s3", "Object Created")
    assert event["detail"]["bucket"]["name"] == "t-dev-uploads-local"
    assert (event["detail"]["object"]["key"], event["detail"]["object"]["size"]) == (
        "uploads/a.csv",
        3,
    )


@pytest.mark.parametrize(
    ("prefix", "suffix", "delivered"),
    [
        ("", ".csv", ["in/a.csv", "out/b.csv"]),
        ("in/", ".csv", ["in/a.csv"]),
        ("in/", "", ["in/a.csv", "in/c.txt"]),
    ],
)
def test_prefix_and_suffix_filter_the_keys(aws, worker, prefix, suffix, delivered):
    aws("s3").create_bucket(Bucket="t-dev-files")
    rule = RuleTrigger(
        "files", "worker", object_created_pattern("t-dev-files", prefix, suffix), "t-dev-files"
    )
    run = Harness(aws, worker, LocalTriggers(rules=[rule]))
    for key in ("in/a.csv", "out/b.csv", "in/c.txt"):
        aws("s3").put_object(Bucket="t-dev-files", Key=key, Body=b"")
    run.engine.step()
    assert sorted(event["detail"]["object"]["key"] for event in run.events()) == delivered


def test_a_failing_asynchronous_invocation_is_tried_three_times_then_dropped(aws, worker):
    pattern = {"source": ["shop.orders"]}
    run = Harness(aws, worker, LocalTriggers(rules=[RuleTrigger("orders", "worker", pattern)]))
    aws("events").put_events(
        Entries=[{"Source": "shop.orders", "DetailType": "Order", "Detail": '{"id": "CRASH"}'}]
    )
    run.engine.step()
    run.clock.advance(59)
    run.engine.step()
    assert len(run.events()) == 1
    run.clock.advance(1)
    run.engine.step()
    run.clock.advance(120)
    run.engine.step()
    run.clock.advance(3600)
    run.engine.step()
    assert len(run.events()) == 2
    assert (
        run.log.getvalue()
        .splitlines()[-1]
        .startswith("worker <- rule orders: failed 3 times, dropped")
    )


def test_a_topics_notification_reaches_its_subscriber(aws, worker):
    triggers = LocalTriggers(
        topics=[LocalTopic("alerts", "t-dev-alerts")],
        topic_triggers=[TopicTrigger("alerts", "worker", "alerts")],
    )
    run = Harness(aws, worker, triggers)
    topic = aws("sns").create_topic(Name="t-dev-alerts")["TopicArn"]  # exists: its ARN
    aws("sns").publish(TopicArn=topic, Message="disk full", Subject="alert")
    assert run.engine.step() == 1
    (event,) = run.events()
    notification = event["Records"][0]["Sns"]
    assert (notification["TopicArn"], notification["Message"]) == (topic, "disk full")


def test_a_tables_changes_reach_the_function_in_order_and_a_failed_record_is_retried(aws, worker):
    aws("dynamodb").create_table(
        TableName="t-dev-orders",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    trigger = TableTrigger(
        "changes", "worker", "t-dev-orders", batch_size=10, report_batch_item_failures=True
    )
    run = Harness(aws, worker, LocalTriggers(table_triggers=[trigger]))
    for key in ("a", "FAIL", "c"):
        aws("dynamodb").put_item(TableName="t-dev-orders", Item={"pk": {"S": key}})
    assert run.engine.step() == 1
    run.clock.advance(1)
    run.engine.step()
    keys = [
        [record["dynamodb"]["Keys"]["pk"]["S"] for record in event["Records"]]
        for event in run.events()
    ]
    assert keys == [["a", "FAIL", "c"], ["FAIL", "c"]]


def test_a_subscriptions_filter_policy_lets_only_matching_messages_through(aws, worker):
    subscriber = TopicTrigger("alerts", "worker", "alerts", filter_policy={"kind": ["order"]})
    triggers = LocalTriggers(
        topics=[LocalTopic("alerts", "t-dev-alerts")], topic_triggers=[subscriber]
    )
    run = Harness(aws, worker, triggers)
    topic = aws("sns").create_topic(Name="t-dev-alerts")["TopicArn"]
    for kind in ("order", "refund"):
        aws("sns").publish(
            TopicArn=topic,
            Message=kind,
            MessageAttributes={"kind": {"DataType": "String", "StringValue": kind}},
        )
    run.engine.step()
    assert [event["Records"][0]["Sns"]["Message"] for event in run.events()] == ["order"]


def test_a_failure_of_the_machinery_returns_the_batch_like_a_function_error(aws, worker):
    run = Harness(aws, worker, queue_triggers())
    run.sandbox, sandbox = None, run.sandbox  # type: ignore[assignment]
    run.send("t-dev-orders", "lost?")
    assert run.engine.step() == 1  # the invocation fails: no sandbox
    run.sandbox = sandbox
    run.clock.advance(180)
    assert run.engine.step() == 1
    assert run.bodies() == [["lost?"]]
    assert "worker: local delivery failed: Traceback" in run.log.getvalue()


# --- maximum concurrency and Lambda's 6 MB payload --------------------------------------------


class HeldInvocations:
    """Dispatches a batch's invocation only when the test lets it end: a deterministic stand-in
    for invocations running side by side."""

    def __init__(self) -> None:
        self.held: list[Any] = []

    def __call__(self, work: Any) -> None:
        self.held.append(work)

    def end_first(self) -> None:
        self.held.pop(0)()


@pytest.mark.parametrize(("maximum", "in_flight"), [(2, 2), (3, 3), (None, 5)])
def test_no_more_batches_are_in_flight_than_the_maximum_concurrency(
    aws, worker, maximum, in_flight
):
    running = HeldInvocations()
    trigger = queue_triggers(batch_size=1, maximum_concurrency=maximum)
    run = Harness(aws, worker, trigger, dispatch=running)
    run.send("t-dev-orders", *(f"m{number}" for number in range(5)))
    for _ in range(8):
        run.engine.step()
    assert len(running.held) == in_flight
    # What the poller left waits in the queue, visible to another consumer.
    assert len(run.visible_bodies("t-dev-orders")) == 5 - in_flight
    running.end_first()
    run.engine.step()  # settles the ended batch and starts the next one
    assert len(running.held) == min(in_flight, 4)
    assert len(run.bodies()) == 1  # only the ended invocation reached the function
    assert "worker <- queue orders: 1 message, 0 failed" in run.log.getvalue()


def test_a_batch_stops_at_lambdas_6_mb_payload_and_the_rest_goes_next(aws, worker):
    # 30 messages of 240,000 bytes, 7.2 MB: more than one invocation may take.
    run = Harness(aws, worker, queue_triggers(batch_size=100, batching_window_s=1))
    run.send("t-dev-orders", *(f"{number:02d}" + "x" * 239_998 for number in range(30)))
    run.engine.step()
    run.clock.advance(1)
    run.engine.step()
    events = run.events()
    sizes = [len(json.dumps(event).encode()) for event in events]
    assert len(events) == 2 and all(size <= 6 * 1024 * 1024 for size in sizes)
    # The first batch is full: the second's first record would not have fitted.
    assert sizes[0] + len(json.dumps(events[1]["Records"][0])) + 2 > 6 * 1024 * 1024
    numbers = [record["body"][:2] for event in events for record in event["Records"]]
    assert sorted(numbers) == [f"{number:02d}" for number in range(30)]
