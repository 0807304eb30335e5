"""Stores the orders `functions/orders_api` sends to the `orders` queue in the `requests`
table (`TABLE_REQUESTS_NAME`, item `order#<id>`), a batch of SQS messages at a time, and
reports the messages it could not store as partial batch failures (`batchItemFailures`, the
trigger's `report_batch_item_failures`): SQS deletes the others and offers those again after
the queue's visibility timeout, until they land in its dead-letter queue after
`max_receive_count` receives.

Each message counts in the request metric (`request_metrics`, a link to
lambda/request_metrics.py) as an answer: 200 stored, 400 not an order (a producer's mistake:
it fails the message but not the release), 500 not stored (a failure of this code or of
DynamoDB: the `-server-errors` alarm then stops a release). Storing is idempotent: SQS
delivers at least once, and the same order written twice is the same item.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from functools import cache
from http import HTTPStatus
from typing import Any

import boto3
import request_metrics

# The table's partition key `pk` of an order: beside the other items of the table.
ORDER_KEY_PREFIX = "order#"


class NotAnOrder(ValueError):
    """A message body that describes no order."""


def order_item(record: dict[str, Any]) -> dict[str, Any]:
    """The table item of one SQS record (the event's `Records[]` shape)."""
    try:
        order = json.loads(record["body"])
    except json.JSONDecodeError as error:
        raise NotAnOrder(f"not JSON: {error}") from None
    if not isinstance(order, dict):
        raise NotAnOrder("not an object")
    order_id, item, quantity = order.get("order_id"), order.get("item"), order.get("quantity")
    if not (isinstance(order_id, str) and order_id and isinstance(item, str)):
        raise NotAnOrder("order_id and item must be strings")
    if type(quantity) is not int or quantity < 1:
        raise NotAnOrder("quantity must be a positive integer")
    return {
        "pk": f"{ORDER_KEY_PREFIX}{order_id}",
        "order_id": order_id,
        "item": item,
        "quantity": quantity,
        # When the order reached the queue (epoch milliseconds, as SQS reports it).
        "sent_at": int(record["attributes"]["SentTimestamp"]),
    }


def store_batch(
    records: Iterable[dict[str, Any]], put_item: Callable[[dict[str, Any]], None]
) -> tuple[list[str], list[HTTPStatus]]:
    """The message ids that failed, and each record's outcome as a status, in order."""
    failed: list[str] = []
    outcomes: list[HTTPStatus] = []
    for record in records:
        try:
            put_item(order_item(record))
        except NotAnOrder as error:
            print(
                json.dumps(
                    {"level": "WARNING", "messageId": record["messageId"], "error": str(error)}
                )
            )
            failed.append(record["messageId"])
            outcomes.append(HTTPStatus.BAD_REQUEST)
        # Any other failure fails this message only; the others of the batch are stored.
        except Exception as error:
            print(
                json.dumps(
                    {"level": "ERROR", "messageId": record["messageId"], "error": repr(error)}
                )
            )
            failed.append(record["messageId"])
            outcomes.append(HTTPStatus.INTERNAL_SERVER_ERROR)
        else:
            outcomes.append(HTTPStatus.OK)
    return failed, outcomes


@cache
def _table() -> Any:
    return boto3.resource("dynamodb").Table(os.environ["TABLE_REQUESTS_NAME"])


def _put_item(item: dict[str, Any]) -> None:
    _table().put_item(Item=item)


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    failed, outcomes = store_batch(event["Records"], _put_item)
    for status in outcomes:
        request_metrics.emit(status)
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed]}
