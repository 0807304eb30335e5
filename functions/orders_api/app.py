"""`POST /orders` with `{"item": "...", "quantity": N}`: the order is given an id and sent to
the `orders` queue (`QUEUE_ORDERS_URL`, set by the stack for the `send` grant), and the answer
is 202 with that id; the `worker` function stores it later. A body that is no such order is
answered 400 and sent nowhere.

Like every function of the stack it counts its answers in the request metric
(`request_metrics`, a link to lambda/request_metrics.py).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import boto3
import request_metrics

# The largest quantity one order may ask for: a sanity bound of this example.
MAX_QUANTITY = 1000
MAX_ITEM_LENGTH = 100


def order_from(body: str | None) -> dict[str, Any] | None:
    """The order a request body describes, or None when it describes none."""
    try:
        data = json.loads(body or "")
    except json.JSONDecodeError:
        return None
    if not isinstance(data, dict):
        return None
    item, quantity = data.get("item"), data.get("quantity")
    if not isinstance(item, str) or not 1 <= len(item) <= MAX_ITEM_LENGTH:
        return None
    if type(quantity) is not int or not 1 <= quantity <= MAX_QUANTITY:
        return None
    return {"item": item, "quantity": quantity}


def place_order(
    event: dict[str, Any], send: Callable[[str], None], new_id: Callable[[], str]
) -> tuple[HTTPStatus, dict[str, Any]]:
    """The answer to one request; `send` puts a message body on the queue."""
    order = order_from(event.get("body"))
    if order is None:
        message = f"send {{'item': 1-{MAX_ITEM_LENGTH} characters, 'quantity': 1-{MAX_QUANTITY}}}"
        return HTTPStatus.BAD_REQUEST, {"message": message}
    order_id = new_id()
    send(json.dumps({"order_id": order_id, **order}))
    return HTTPStatus.ACCEPTED, {"order_id": order_id}


def _send_to_queue(body: str) -> None:
    boto3.client("sqs").send_message(QueueUrl=os.environ["QUEUE_ORDERS_URL"], MessageBody=body)


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    status, answer = place_order(event, _send_to_queue, lambda: str(uuid.uuid4()))
    request_metrics.emit(status)
    return {
        "statusCode": int(status),
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(answer),
    }
