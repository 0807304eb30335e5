"""The IAM actions each grant of the constructs gives, in one place: the constructs write them
into the functions' roles, and `make serve` into the same roles in its local emulator.

Only the standard library: importing this loads neither cdktf nor the AWS provider."""

from __future__ import annotations

# Transactions need no actions of their own: each item in one is checked against these.
TABLE_WRITE_ACTIONS = ("dynamodb:PutItem", "dynamodb:UpdateItem")
TABLE_READ_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:ConditionCheckItem",
)
OBJECT_READ_ACTIONS = ("s3:GetObject",)
OBJECT_WRITE_ACTIONS = ("s3:PutObject",)
# grants.queues "send" and grants.topics "publish".
QUEUE_SEND_ACTIONS = ("sqs:SendMessage",)
TOPIC_PUBLISH_ACTIONS = ("sns:Publish",)
