"""`make serve` delivers what the file's triggers would, end to end: a real serve process, moto
in it, each function in its own process. An API function sends to a queue it is granted; the
queue's consumer, a schedule fired with `make fire`'s command and an object put under a
bucket trigger's prefix all reach the worker, which records what it got in a table.

The partial-failure, visibility and dead-letter semantics are proven on a clock the tests
move in tests/test_local_delivery.py; here only arrival is awaited (with a deadline)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

import pytest

from scripts.local_triggers import (
    LocalQueue,
    LocalTopic,
    QueueTrigger,
    RuleTrigger,
    ScheduleTrigger,
    TableTrigger,
    TopicTrigger,
)
from scripts.serve_events import local_triggers
from serverless_app.config import load_config
from tests.support import REPO_ROOT
from tests.test_serve import ANSWER_WAIT_S, Server, code_folders, server_log, serving

API_APP = """import json
import os

import boto3


def handler(event, context):
    queue = os.environ["QUEUE_ORDERS_URL"]
    boto3.client("sqs").send_message(QueueUrl=queue, MessageBody=event["body"])
    return {"statusCode": 202, "headers": {}, "body": json.dumps({"queued": event["body"]})}
"""
# Records each thing it is given as an item `<source>#<what>` of its table; a message "FAIL"
# is reported as a failed item.
WORKER_APP = """import os

import boto3


def handler(event, context):
    table = boto3.client("dynamodb")
    if "Records" in event:
        keys = ["message#" + record["body"] for record in event["Records"]]
        failed = [r["messageId"] for r in event["Records"] if r["body"] == "FAIL"]
    elif event.get("source") == "aws.s3":
        keys, failed = ["object#" + event["detail"]["object"]["key"]], []
    else:
        keys, failed = ["schedule#" + event.get("job", "no input")], []
    for key in keys:
        table.put_item(TableName=os.environ["TABLE_SEEN_NAME"], Item={"pk": {"S": key}})
    return {"batchItemFailures": [{"itemIdentifier": item} for item in failed]}
"""
CONFIG = """project = "t"
env = "dev"

[tables.seen]
partition_key = {{ name = "pk", type = "S" }}

[buckets.uploads]

[queues.orders]
max_receive_count = 2

[functions.api]
source_dir = "{api}"
grants = {{ queues = {{ orders = "send" }} }}

[functions.worker]
source_dir = "{worker}"
timeout_s = 10
grants = {{ tables = {{ seen = "write" }} }}

[[routes]]
method = "POST"
path = "/orders"
function = "api"

[[triggers]]
function = "worker"
queue = "orders"

[[triggers]]
name = "nightly"
function = "worker"
schedule = "cron(0 3 * * ? *)"
timezone = "Europe/Berlin"

[[triggers]]
function = "worker"
bucket = "uploads"
prefix = "incoming/"
"""
TRIGGERS = CONFIG.count("[[triggers]]")
BUCKET = "t-dev-uploads-local"
TABLE = "t-dev-seen"
T = TypeVar("T")


@dataclass
class Served:
    server: Server
    events_port: int
    # What the start-up output says of the triggers, from the events port's line on.
    trigger_lines: list[str]


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[Served]:
    """The server, its events port and the start-up lines of the triggers."""
    folder = tmp_path_factory.mktemp("events")
    config = folder / "dev.toml"
    config.write_text(CONFIG.format(**code_folders(folder, {"api": API_APP, "worker": WORKER_APP})))
    with serving("--config", str(config)) as server:
        assert server.process.stdout is not None
        lines = iter(server.process.stdout.readline, "")
        events_line = next(line for line in lines if line.startswith("events: "))
        found = re.search(r"http://127\.0\.0\.1:(\d+)", events_line)
        assert found, events_line
        trigger_lines = [events_line, *(next(lines) for _ in range(TRIGGERS))]
        yield Served(server, int(found.group(1)), [line.rstrip("\n") for line in trigger_lines])


def seen(server: Server) -> set[str]:
    items = server.client("dynamodb").scan(TableName=TABLE)["Items"]
    return {item["pk"]["S"] for item in items}


def eventually(read: Callable[[], T], done: Callable[[T], bool], what: str) -> T:
    """`read()` once `done` holds for it; fails after the deadline, showing the last read."""
    deadline = time.monotonic() + ANSWER_WAIT_S
    while not done(value := read()):
        assert time.monotonic() < deadline, f"{what}; last seen: {value}"
        time.sleep(0.2)
    return value


def await_seen(server: Server, key: str) -> set[str]:
    """What the worker recorded once `key` is among it."""
    return eventually(lambda: seen(server), lambda found: key in found, f"{key} never arrived")


def await_log(server: Server, pattern: str) -> None:
    """Waits for a line of the server's log matching `pattern`."""
    eventually(
        lambda: server_log(server),
        lambda log: re.search(pattern, log, re.MULTILINE) is not None,
        f"no line matches {pattern!r}",
    )


def test_a_message_the_api_sends_reaches_the_queues_consumer(served):
    server = served.server
    request = urllib.request.Request(f"{server.base_url}/dev/orders", data=b"book", method="POST")
    with urllib.request.urlopen(request, timeout=ANSWER_WAIT_S) as reply:
        assert (reply.status, json.loads(reply.read())) == (202, {"queued": "book"})
    await_seen(server, "message#book")


def test_a_failed_item_stays_in_the_queue_while_the_rest_is_done(served):
    server = served.server
    sqs = server.client("sqs")
    url = sqs.get_queue_url(QueueName="t-dev-orders")["QueueUrl"]
    sqs.send_message_batch(
        QueueUrl=url,
        Entries=[{"Id": "1", "MessageBody": "FAIL"}, {"Id": "2", "MessageBody": "pen"}],
    )
    await_seen(server, "message#pen")
    # The engine logs the batch once it has deleted what succeeded and held what failed; the
    # queue is only settled from then on (the worker writes `pen` before that).
    await_log(server, r"^worker <- queue orders: \d messages?, 1 failed, back after 60 s$")
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    # The FAIL message is in flight until the visibility timeout (6 x 10 s) has passed.
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "1"


def test_the_start_up_lines_in_local_md_are_what_serve_prints(served):
    page = (REPO_ROOT / "docs" / "local.md").read_text()
    block = page[page.index("```text\nevents: ") + len("```text\n") :]
    documented = block[: block.index("```")].splitlines()
    printed = [line.replace(f":{served.events_port} ", ":8082 ") for line in served.trigger_lines]
    assert printed == documented


def test_make_fire_fires_the_schedule(served):
    server, events_port = served.server, served.events_port
    done = subprocess.run(
        [sys.executable, "-m", "scripts.fire", "nightly", "--port", str(events_port)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=ANSWER_WAIT_S,
    )
    assert (done.returncode, json.loads(done.stdout)) == (0, {"batchItemFailures": []})
    assert "schedule#no input" in seen(server)


def test_an_object_under_the_prefix_reaches_its_function(served):
    server = served.server
    s3 = server.client("s3")
    s3.put_object(Bucket=BUCKET, Key="elsewhere/b.csv", Body=b"b")
    s3.put_object(Bucket=BUCKET, Key="incoming/a.csv", Body=b"a")
    found = await_seen(server, "object#incoming/a.csv")
    assert "object#elsewhere/b.csv" not in found


# --- the configuration as the engine takes it ------------------------------------------------

ALIAS = "arn:aws:lambda:us-east-1:123456789012:function:t-dev-worker:live"
ALL_SOURCES = """project = "t"
env = "dev"

[tables.orders]
partition_key = { name = "pk", type = "S" }

[buckets.uploads]

[queues.jobs]
fifo = true
max_receive_count = 3
retention_seconds = 3600

[queues.failures]

[topics.alerts]

[functions.worker]
source_dir = "lambda"
timeout_s = 20

[[routes]]
method = "GET"
path = "/hello"
function = "worker"

[[triggers]]
function = "worker"
queue = "jobs"
batch_size = 5
maximum_concurrency = 7

[[triggers]]
function = "worker"
table = "orders"
retry_attempts = 4
bisect_on_error = true
maximum_record_age_seconds = 600
on_failure = "failures"

[[triggers]]
function = "worker"
topic = "alerts"
filter_policy = { kind = ["order"] }

[[triggers]]
name = "nightly"
function = "worker"
schedule = "rate(1 day)"
retry_attempts = 2
maximum_event_age_seconds = 3600

[[triggers]]
function = "worker"
bucket = "uploads"
prefix = "in/"
suffix = ".csv"

[[triggers]]
name = "orders-placed"
function = "worker"
rule = { source = ["shop"], detail-type = ["Order placed"] }
"""


def test_the_configuration_becomes_the_engines_triggers(tmp_path):
    path = tmp_path / "dev.toml"
    path.write_text(ALL_SOURCES)
    config = load_config(path)
    triggers = local_triggers(config, lambda key: f"t-dev-{key}-local")
    assert triggers.queues == [
        # FIFO names; the visibility timeout 6 x the consumer's 20 s.
        LocalQueue("jobs", "t-dev-jobs.fifo", "t-dev-jobs-dead-letters.fifo", 120, 3, True, 3600),
        # No consumer: SQS's 30 s; the default receive count and retention.
        LocalQueue("failures", "t-dev-failures", "t-dev-failures-dead-letters", 30, 5),
    ]
    assert triggers.topics == [LocalTopic("alerts", "t-dev-alerts")]
    assert triggers.queue_triggers == [
        QueueTrigger("worker-queue-jobs", "worker", "jobs", 5, 0, True, maximum_concurrency=7)
    ]
    assert triggers.table_triggers == [
        TableTrigger(
            "worker-table-orders",
            "worker",
            "t-dev-orders",
            batch_size=100,
            batching_window_s=0,
            starting_position="LATEST",
            report_batch_item_failures=True,
            maximum_retry_attempts=4,
            stream_view="NEW_AND_OLD_IMAGES",
            bisect_on_error=True,
            maximum_record_age_s=600,
            on_failure="t-dev-failures",
            target_arn=ALIAS,
        )
    ]
    assert triggers.topic_triggers == [
        TopicTrigger("worker-topic-alerts", "worker", "alerts", {"kind": ["order"]})
    ]
    assert triggers.schedules == [
        ScheduleTrigger(
            "nightly",
            "worker",
            "t-dev-nightly",
            "rate(1 day)",
            # The stack's input (constructs_lib/eventbridge.py), as Scheduler gets it.
            input=(
                '{"schedule_arn":"<aws.scheduler.schedule-arn>",'
                '"scheduled_time":"<aws.scheduler.scheduled-time>",'
                '"execution_id":"<aws.scheduler.execution-id>",'
                '"attempt_number":"<aws.scheduler.attempt-number>"}'
            ),
            group="t-dev",
            retry_attempts=2,
            maximum_event_age_s=3600,
            dead_letter_queue="t-dev-nightly-schedule-dlq",
            target_arn=ALIAS,
        )
    ]
    assert triggers.rules == [
        RuleTrigger(
            "worker-bucket-uploads",
            "worker",
            {
                "source": ["aws.s3"],
                "detail-type": ["Object Created"],
                "detail": {
                    "bucket": {"name": ["t-dev-uploads-local"]},
                    "object": {"key": [{"wildcard": "in/*.csv"}]},
                },
            },
            bucket="t-dev-uploads-local",
            # EventBridge's own defaults: 185 retries over 24 hours.
            retry_attempts=185,
            maximum_event_age_s=86_400,
            target_arn=ALIAS,
        ),
        RuleTrigger(
            "orders-placed",
            "worker",
            {"source": ["shop"], "detail-type": ["Order placed"]},
            retry_attempts=185,
            maximum_event_age_s=86_400,
            target_arn=ALIAS,
        ),
    ]
    assert triggers.function_dead_letter_queues == {"worker": "t-dev-worker-dlq"}
