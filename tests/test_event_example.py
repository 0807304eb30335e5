"""dev's event-driven example: `functions/orders_api` answers `POST /orders` and sends the order
to the queue; `functions/worker` stores a batch of SQS messages (the event shape of AWS's
documented sample, tests/events/sqs-receive-message.json) in DynamoDB and reports the ones it
could not store as partial batch failures. DynamoDB and SQS are moto's, in process."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.support import REPO_ROOT, load_function_module

SQS_EVENT = json.loads((REPO_ROOT / "tests" / "events" / "sqs-receive-message.json").read_text())
REST_POST = json.loads((REPO_ROOT / "tests" / "events" / "apigw-rest-post.json").read_text())
TABLE = "hello-dev-requests"
REGION = "us-east-1"


@pytest.fixture
def aws(monkeypatch) -> Iterator[None]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield


@pytest.fixture
def worker(aws, monkeypatch) -> Any:
    monkeypatch.setenv("TABLE_REQUESTS_NAME", TABLE)
    boto3.client("dynamodb").create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return load_function_module(REPO_ROOT / "functions" / "worker" / "app.py", "worker_app")


def event_with(*bodies: str) -> dict[str, Any]:
    """AWS's sample event with these message bodies, each record with its own message id."""
    event = copy.deepcopy(SQS_EVENT)
    template = event["Records"][0]
    event["Records"] = [
        {**copy.deepcopy(template), "messageId": f"message-{index}", "body": body}
        for index, body in enumerate(bodies)
    ]
    return event


def order(order_id: str, quantity: int = 2) -> str:
    return json.dumps({"order_id": order_id, "item": "tea", "quantity": quantity})


def emitted(output: str) -> list[int]:
    """The request metric's records the worker printed: 1 per message answered 5XX."""
    return [
        record["ServerError"]
        for line in output.splitlines()
        if line.startswith("{") and "_aws" in (record := json.loads(line))
    ]


def test_the_documented_sample_is_a_batch_of_messages_that_are_no_orders(worker, capsys):
    answer = worker.handler(SQS_EVENT, None)
    # Both of AWS's sample messages say "test": not an order, so both come back, and the
    # worker's own failure metric stays at 0 (a producer's mistake, not a release's).
    assert answer == {
        "batchItemFailures": [
            {"itemIdentifier": "059f36b4-87a3-44ab-83d2-661975830a7d"},
            {"itemIdentifier": "2e1424d4-f796-459a-8184-9c92662be6da"},
        ]
    }
    assert emitted(capsys.readouterr().out) == [0, 0]


def test_a_batch_stores_the_orders_and_returns_only_the_failed_messages(worker, capsys):
    event = event_with(order("o-1"), "{not json", order("o-2", quantity=0), order("o-3"))
    answer = worker.handler(event, None)
    assert answer == {
        "batchItemFailures": [{"itemIdentifier": "message-1"}, {"itemIdentifier": "message-2"}]
    }
    items = boto3.resource("dynamodb").Table(TABLE).scan()["Items"]
    assert sorted(item["pk"] for item in items) == ["order#o-1", "order#o-3"]
    stored = next(item for item in items if item["pk"] == "order#o-1")
    # The sample record's SentTimestamp, as SQS reports it (epoch milliseconds).
    assert (stored["item"], stored["quantity"], stored["sent_at"]) == ("tea", 2, 1545082649183)
    assert emitted(capsys.readouterr().out) == [0, 0, 0, 0]


def test_a_batch_without_failures_returns_an_empty_list(worker):
    assert worker.handler(event_with(order("o-1"), order("o-1")), None) == {"batchItemFailures": []}


def test_a_message_dynamodb_refuses_fails_alone_and_counts_as_a_server_error(
    worker, monkeypatch, capsys
):
    monkeypatch.setenv("TABLE_REQUESTS_NAME", "no-such-table")
    worker._table.cache_clear()
    answer = worker.handler(event_with(order("o-1")), None)
    assert answer == {"batchItemFailures": [{"itemIdentifier": "message-0"}]}
    # Stopped a release: the `-server-errors` alarm reads these.
    assert emitted(capsys.readouterr().out) == [1]


@pytest.fixture
def orders_api(aws, monkeypatch) -> tuple[Any, str]:
    url = boto3.client("sqs").create_queue(QueueName="hello-dev-orders")["QueueUrl"]
    monkeypatch.setenv("QUEUE_ORDERS_URL", url)
    module = load_function_module(REPO_ROOT / "functions" / "orders_api" / "app.py", "orders_app")
    return module, url


def test_post_orders_sends_the_order_and_answers_202_with_its_id(orders_api):
    app, url = orders_api
    event = {**REST_POST, "body": json.dumps({"item": "tea", "quantity": 3})}
    answer = app.handler(event, None)
    assert answer["statusCode"] == 202
    order_id = json.loads(answer["body"])["order_id"]
    [message] = boto3.client("sqs").receive_message(QueueUrl=url)["Messages"]
    assert json.loads(message["Body"]) == {"order_id": order_id, "item": "tea", "quantity": 3}


@pytest.mark.parametrize(
    "body",
    [
        None,
        "tea",
        "[]",
        json.dumps({"item": "tea"}),
        json.dumps({"item": "", "quantity": 1}),
        json.dumps({"item": "tea", "quantity": True}),
        json.dumps({"item": "tea", "quantity": 1001}),
    ],
)
def test_a_body_that_is_no_order_is_answered_400_and_sent_nowhere(orders_api, body):
    app, url = orders_api
    answer = app.handler({**REST_POST, "body": body}, None)
    assert answer["statusCode"] == 400
    assert "Messages" not in boto3.client("sqs").receive_message(QueueUrl=url)


def test_the_worker_reads_what_the_api_sends(orders_api, worker):
    """The message orders-api sends is an order the worker stores: one contract, both ends."""
    app, url = orders_api
    app.handler({**REST_POST, "body": json.dumps({"item": "tea", "quantity": 1})}, None)
    [message] = boto3.client("sqs").receive_message(QueueUrl=url, AttributeNames=["SentTimestamp"])[
        "Messages"
    ]
    record = {
        **copy.deepcopy(SQS_EVENT["Records"][0]),
        "messageId": message["MessageId"],
        "body": message["Body"],
        "attributes": message["Attributes"],
    }
    assert worker.handler({"Records": [record]}, None) == {"batchItemFailures": []}
    [item] = boto3.resource("dynamodb").Table(TABLE).scan()["Items"]
    assert item["pk"] == f"order#{json.loads(message['Body'])['order_id']}"
