"""The dev example's housekeeping function: no route reaches it, EventBridge invokes it.

- Every night (`[[triggers]]` `schedule`, in the Europe/Berlin time zone) EventBridge
  Scheduler invokes it with the stack's schedule input: the schedule's ARN, the scheduled
  time, the execution id and the attempt number (`constructs_lib.eventbridge`,
  `SCHEDULER_CONTEXT_INPUT`).
- Each object created under `uploads/` in the `uploads` bucket reaches it as EventBridge's
  "Object Created" event from S3 (`[[triggers]]` `bucket`).

It logs one JSON line per invocation saying what it was asked to do, and returns the same
summary (an asynchronous invocation drops the answer; `make serve` and `make fire` show it).
An event it does not know is an error: Lambda retries it, then it lands in the function's
dead-letter queue. Standard library only.
"""

from __future__ import annotations

import json
from typing import Any

OBJECT_CREATED = "Object Created"


def summary(event: dict[str, Any]) -> dict[str, Any]:
    """What the event asks for: a nightly run, or an uploaded object to look at."""
    if event.get("detail-type") == OBJECT_CREATED:
        detail = event["detail"]
        return {
            "job": "upload",
            "bucket": detail["bucket"]["name"],
            "key": detail["object"]["key"],
            "size": detail["object"].get("size"),
        }
    if "schedule_arn" in event:
        return {
            "job": "nightly",
            "schedule": event["schedule_arn"],
            "scheduled_time": event["scheduled_time"],
            "attempt": int(event["attempt_number"]),
        }
    raise ValueError(f"not a schedule's input nor an Object Created event: {sorted(event)}")


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    result = summary(event)
    print(json.dumps(result))
    return result
