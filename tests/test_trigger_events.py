"""The events `make serve` builds for each trigger's source have the shape of AWS's documented
samples (tests/events/), built from what moto in server mode returns."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from scripts.trigger_events import (
    dynamodb_stream_event,
    eventbridge_event,
    scheduler_input,
    sns_event,
    sqs_event,
)
from tests.event_samples import sample, shape
from tests.moto_server import emulator_clients, moto_server, reset

REGION = "us-east-1"


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture
def aws(moto_url):
    reset(moto_url)
    return emulator_clients(moto_url, REGION)


def receive_all(sqs: Any, url: str) -> list[dict[str, Any]]:
    return sqs.receive_message(
        QueueUrl=url,
        MaxNumberOfMessages=10,
        MessageSystemAttributeNames=["All"],
        MessageAttributeNames=["All"],
    ).get("Messages", [])


def test_the_sqs_batch_has_the_documented_shape(aws):
    sqs = aws("sqs")
    url = sqs.create_queue(QueueName="my-queue")["QueueUrl"]
    sqs.send_message(
        QueueUrl=url,
        MessageBody="test",
        MessageAttributes={"myAttribute": {"DataType": "String", "StringValue": "myValue"}},
    )
    sqs.send_message(QueueUrl=url, MessageBody="test")
    arn = f"arn:aws:sqs:{REGION}:123456789012:my-queue"
    event = sqs_event(receive_all(sqs, url), arn, REGION)
    documented = sample("sqs-batch")
    assert [shape(record) for record in event["Records"]] == [
        shape(record) for record in documented["Records"]
    ]
    first = event["Records"][0]
    assert (first["body"], first["eventSourceARN"], first["awsRegion"]) == ("test", arn, REGION)
    assert first["md5OfBody"] == documented["Records"][0]["md5OfBody"]  # MD5 of "test"
    assert first["attributes"]["ApproximateReceiveCount"] == "1"
    assert first["messageAttributes"] == documented["Records"][0]["messageAttributes"]


def test_the_stream_batch_has_the_documented_shape(aws):
    dynamodb = aws("dynamodb")
    table = dynamodb.create_table(
        TableName="ExampleTableWithStream",
        KeySchema=[{"AttributeName": "Id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "Id", "AttributeType": "N"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]
    streams = aws("dynamodbstreams")
    arn = table["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    key = {"Id": {"N": "101"}}
    dynamodb.put_item(
        TableName="ExampleTableWithStream", Item={**key, "Message": {"S": "New item!"}}
    )
    dynamodb.put_item(
        TableName="ExampleTableWithStream", Item={**key, "Message": {"S": "This item has changed"}}
    )
    event = dynamodb_stream_event(streams.get_records(ShardIterator=iterator)["Records"], arn)
    documented = sample("dynamodb-stream-batch")
    # The order of keys in an item differs; their set and their types do not.
    assert [shape(record) for record in event["Records"]] == [
        shape(record) for record in documented["Records"]
    ]
    assert [record["eventName"] for record in event["Records"]] == ["INSERT", "MODIFY"]
    assert event["Records"][1]["dynamodb"]["OldImage"]["Message"] == {"S": "New item!"}
    assert all(record["eventSourceARN"] == arn for record in event["Records"])


def test_the_sns_notification_has_the_documented_shape(aws):
    sns, sqs = aws("sns"), aws("sqs")
    topic = sns.create_topic(Name="sns-lambda")["TopicArn"]
    url = sqs.create_queue(QueueName="subscriber")["QueueUrl"]
    subscription = sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=f"arn:aws:sqs:{REGION}:123456789012:subscriber",
        ReturnSubscriptionArn=True,
    )["SubscriptionArn"]
    sns.publish(
        TopicArn=topic,
        Message="Hello from SNS!",
        Subject="TestInvoke",
        MessageAttributes={"Test": {"DataType": "String", "StringValue": "TestString"}},
    )
    (message,) = receive_all(sqs, url)
    event = sns_event(json.loads(message["Body"]), subscription)
    assert shape(event) == shape(sample("sns-notification"))
    notification = event["Records"][0]["Sns"]
    assert (notification["Message"], notification["Subject"]) == ("Hello from SNS!", "TestInvoke")
    assert notification["MessageAttributes"] == {"Test": {"Type": "String", "Value": "TestString"}}
    assert event["Records"][0]["EventSubscriptionArn"] == subscription


def rule_to_queue(aws: Any, pattern: dict[str, Any]) -> str:
    """A rule on the default bus with `pattern` whose target is a new queue; its URL."""
    sqs, events = aws("sqs"), aws("events")
    url = sqs.create_queue(QueueName="target")["QueueUrl"]
    events.put_rule(Name="rule", EventPattern=json.dumps(pattern), State="ENABLED")
    events.put_targets(
        Rule="rule", Targets=[{"Id": "1", "Arn": f"arn:aws:sqs:{REGION}:123456789012:target"}]
    )
    return url


def test_the_object_created_event_has_the_documented_shape(aws):
    s3 = aws("s3")
    s3.create_bucket(Bucket="amzn-s3-demo-bucket1")
    s3.put_bucket_versioning(
        Bucket="amzn-s3-demo-bucket1", VersioningConfiguration={"Status": "Enabled"}
    )
    s3.put_bucket_notification_configuration(
        Bucket="amzn-s3-demo-bucket1", NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    url = rule_to_queue(aws, {"source": ["aws.s3"], "detail-type": ["Object Created"]})
    s3.put_object(Bucket="amzn-s3-demo-bucket1", Key="example-key", Body=b"hello")
    (message,) = receive_all(aws("sqs"), url)
    event = eventbridge_event(json.loads(message["Body"]))
    documented = sample("eventbridge-s3-object-created")
    assert shape(event) == shape(documented)
    assert event["detail"]["object"]["key"] == "example-key"
    assert event["detail"]["object"]["size"] == 5
    assert event["detail"]["reason"] == documented["detail"]["reason"]
    assert datetime.strptime(event["time"], "%Y-%m-%dT%H:%M:%SZ")


def test_an_unversioned_bucket_sends_no_version_id(aws):
    aws("s3").create_bucket(Bucket="plain")
    aws("s3").put_bucket_notification_configuration(
        Bucket="plain", NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    url = rule_to_queue(aws, {"source": ["aws.s3"], "detail-type": ["Object Created"]})
    aws("s3").put_object(Bucket="plain", Key="a", Body=b"")
    (message,) = receive_all(aws("sqs"), url)
    assert "version-id" not in eventbridge_event(json.loads(message["Body"]))["detail"]["object"]


def test_a_rules_event_has_the_documented_shape(aws):
    url = rule_to_queue(aws, {"source": ["aws.ec2"]})
    documented = sample("eventbridge-event")
    aws("events").put_events(
        Entries=[
            {
                "Source": "aws.ec2",
                "DetailType": documented["detail-type"],
                "Detail": json.dumps(documented["detail"]),
                "Resources": documented["resources"],
            }
        ]
    )
    (message,) = receive_all(aws("sqs"), url)
    event = eventbridge_event(json.loads(message["Body"]))
    assert shape(event) == shape(documented)
    assert event["detail"] == documented["detail"]


def test_a_schedules_input_gets_its_context_attributes():
    documented = sample("scheduler-invocation")
    template = json.dumps(
        {
            "job": "nightly-report",
            "schedule": "<aws.scheduler.schedule-arn>",
            "scheduled_time": "<aws.scheduler.scheduled-time>",
            "execution_id": "<aws.scheduler.execution-id>",
            "attempt": "<aws.scheduler.attempt-number>",
        }
    )
    arn = "arn:aws:scheduler:us-east-1:123456789012:schedule/default/nightly"
    event = scheduler_input(template, arn, datetime(2026, 12, 6, 3, 0, tzinfo=UTC))
    assert shape(event) == shape(documented)
    assert event["schedule"] == arn
    assert event["scheduled_time"] == "2026-12-06T03:00:00Z"
    assert event["attempt"] == "1"
    assert len(event["execution_id"]) == len(documented["execution_id"])


def test_a_schedule_without_input_sends_an_empty_object():
    assert scheduler_input(None, "arn", datetime.now(UTC)) == {}
