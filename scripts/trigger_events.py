"""The events AWS sends a function for each kind of trigger, built from what moto returns.

Each builder takes what the emulator gives (boto3's answers, or the JSON moto puts on a queue)
and returns the event in the shape AWS documents for that source; the documented samples are
kept in tests/events/ and the tests compare both shapes.

- a queue (Lambda's event source mapping for SQS): `sqs_event`
- a table's stream (the mapping for DynamoDB Streams): `dynamodb_stream_event`
- a topic (an SNS subscription of protocol `lambda`): `sns_event`
- a schedule (EventBridge Scheduler's Lambda target): `scheduler_input`
- an object event of a bucket, or any event an EventBridge rule matches: `eventbridge_event`

The builders are pure; the delivery engine (scripts/local_delivery.py) does the calls.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from moto.core.models import DEFAULT_ACCOUNT_ID

# moto's account, in every ARN it returns.
LOCAL_ACCOUNT_ID = DEFAULT_ACCOUNT_ID

# EventBridge Scheduler's context attributes: placeholders in a target's input that it replaces
# at each invocation ("Adding context attributes", Scheduler user guide).
SCHEDULE_ARN = "<aws.scheduler.schedule-arn>"
SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"
EXECUTION_ID = "<aws.scheduler.execution-id>"
ATTEMPT_NUMBER = "<aws.scheduler.attempt-number>"
# What S3 puts in "detail-type" for a new object, and its "reason" for a PutObject.
OBJECT_CREATED = "Object Created"
PUT_OBJECT_REASON = "PutObject"


def payload_bytes(event: Any) -> int:
    """The size of an event as JSON, as the function's payload."""
    return len(json.dumps(event).encode())


# A batch event's size from its records' sizes: `{"Records": [` ... `]}`, records joined by ", ".
EMPTY_BATCH_BYTES = payload_bytes({"Records": []})
RECORD_SEPARATOR_BYTES = len(", ")


def record_bytes(event: Mapping[str, Any]) -> int:
    """The size of the one record of a batch event within a larger batch event."""
    return payload_bytes(event) - EMPTY_BATCH_BYTES


def records_within(sizes: Iterable[int], limit: int) -> int:
    """How many records from the front, of these sizes, make a batch event of at most `limit`
    bytes (at least one: a record alone is always sent)."""
    total, count = EMPTY_BATCH_BYTES, 0
    for size in sizes:
        total += size + (RECORD_SEPARATOR_BYTES if count else 0)
        if total > limit:
            return max(count, 1)
        count += 1
    return count


def queue_arn(region: str, name: str) -> str:
    return f"arn:aws:sqs:{region}:{LOCAL_ACCOUNT_ID}:{name}"


def function_alias_arn(region: str, function_name: str, alias: str) -> str:
    return f"arn:aws:lambda:{region}:{LOCAL_ACCOUNT_ID}:function:{function_name}:{alias}"


def schedule_arn(region: str, group: str, name: str) -> str:
    return f"arn:aws:scheduler:{region}:{LOCAL_ACCOUNT_ID}:schedule/{group}/{name}"


def iso_seconds(moment: datetime) -> str:
    """EventBridge's and Scheduler's time format: 2022-03-22T18:59:43Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def sqs_event(messages: Sequence[Mapping[str, Any]], arn: str, region: str) -> dict[str, Any]:
    """The batch Lambda's SQS poller sends: `messages` as ReceiveMessage returns them (with
    AttributeNames and MessageAttributeNames "All")."""
    return {"Records": [_sqs_record(message, arn, region) for message in messages]}


def _sqs_record(message: Mapping[str, Any], arn: str, region: str) -> dict[str, Any]:
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {
            name: _sqs_message_attribute(value)
            for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": arn,
        "awsRegion": region,
    }


def _sqs_message_attribute(value: Mapping[str, Any]) -> dict[str, Any]:
    """SQS's attribute (StringValue, BinaryValue as bytes) as Lambda spells it: lower camel
    case, binary values in base64."""
    attribute: dict[str, Any] = {"stringListValues": [], "binaryListValues": []}
    if "StringValue" in value:
        attribute["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        attribute["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
    attribute["dataType"] = value["DataType"]
    return attribute


def dynamodb_stream_event(records: Sequence[Mapping[str, Any]], arn: str) -> dict[str, Any]:
    """The batch Lambda's stream poller sends: `records` as GetRecords returns them through
    boto3 (which turns the creation time into a datetime; Lambda sends epoch seconds)."""
    return {"Records": [_stream_record(record, arn) for record in records]}


def _stream_record(record: Mapping[str, Any], arn: str) -> dict[str, Any]:
    change = dict(record["dynamodb"])
    created = change.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        change["ApproximateCreationDateTime"] = int(created.timestamp())
    return {
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        "eventVersion": record["eventVersion"],
        "eventSource": record["eventSource"],
        "awsRegion": record["awsRegion"],
        "dynamodb": change,
        "eventSourceARN": arn,
    }


# SNS's delivery to a queue spells two keys differently from its delivery to Lambda.
_SNS_QUEUE_TO_LAMBDA_KEYS = {"SigningCertURL": "SigningCertUrl", "UnsubscribeURL": "UnsubscribeUrl"}
_SNS_RECORD_KEYS = (
    "SignatureVersion",
    "Timestamp",
    "Signature",
    "SigningCertUrl",
    "MessageId",
    "Message",
    "MessageAttributes",
    "Type",
    "UnsubscribeUrl",
    "TopicArn",
    "Subject",
)


def sns_event(notification: Mapping[str, Any], subscription_arn: str) -> dict[str, Any]:
    """The event SNS sends a subscribed function: `notification` is the JSON envelope SNS
    delivers to a queue subscription (not raw), which carries the same fields."""
    renamed = {
        _SNS_QUEUE_TO_LAMBDA_KEYS.get(key, key): value for key, value in notification.items()
    }
    renamed.setdefault("MessageAttributes", {})
    renamed.setdefault("Subject", None)
    return {
        "Records": [
            {
                "EventVersion": "1.0",
                "EventSubscriptionArn": subscription_arn,
                "EventSource": "aws:sns",
                "Sns": {key: renamed.get(key) for key in _SNS_RECORD_KEYS},
            }
        ]
    }


def scheduler_input(
    input_text: str | None,
    arn: str,
    scheduled_at: datetime,
    attempt: int = 1,
    *,
    execution_id: str | None = None,
) -> Any:
    """What Scheduler's Lambda target passes: the target's input, its context attributes
    replaced (the execution id is the same for every attempt of one invocation). A target
    without input gets `{}` here: AWS documents that case only as "a default notification"
    without giving its shape."""
    if input_text is None:
        return {}
    replacements = {
        SCHEDULE_ARN: arn,
        SCHEDULED_TIME: iso_seconds(scheduled_at),
        EXECUTION_ID: execution_id or uuid.uuid4().hex[:16],
        ATTEMPT_NUMBER: str(attempt),
    }
    for placeholder, value in replacements.items():
        input_text = input_text.replace(placeholder, value)
    return json.loads(input_text)


def eventbridge_event(delivered: Mapping[str, Any]) -> dict[str, Any]:
    """The event a rule's Lambda target receives, from the event moto's rule put on a queue.

    moto sends S3's object events with a fixed id, an object `eTag` (AWS: `etag`), a
    `version-id` of "null" for an unversioned bucket (AWS leaves it out) and the reason
    `ObjectCreated` (AWS: the API call, `PutObject` for a put); a rule's target gets events
    of PutEvents without their `account`. Those are put right here."""
    event = {
        "version": "0",
        "id": delivered.get("id"),
        "detail-type": delivered.get("detail-type"),
        "source": delivered.get("source"),
        "account": LOCAL_ACCOUNT_ID,
        "time": delivered.get("time"),
        "region": delivered.get("region"),
        "resources": delivered.get("resources", []),
        "detail": dict(delivered.get("detail", {})),
    }
    if event.get("source") == "aws.s3" and event.get("detail-type") == OBJECT_CREATED:
        event["id"] = str(uuid.uuid4())
        event["detail"] = _object_created_detail(event["detail"])
    return event


def _object_created_detail(detail: Mapping[str, Any]) -> dict[str, Any]:
    given = detail["object"]
    found = {
        "key": given["key"],
        "size": given["size"],
        "etag": given.get("etag", given.get("eTag")),
        "version-id": None if given.get("version-id") in (None, "null") else given["version-id"],
        "sequencer": given.get("sequencer"),
    }
    return {
        **detail,
        "object": {key: value for key, value in found.items() if value is not None},
        "reason": PUT_OBJECT_REASON,
    }
