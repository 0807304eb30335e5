"""EventBridge facts beside their limits (`event_limits`): the JSON an event pattern reaches
AWS as, the event pattern of an S3 object created under a prefix and suffix, and the checks of
the settings Scheduler and EventBridge bound. Standard library only: `--check` and `make serve`
import this module without loading cdktf or the AWS provider bindings.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from constructs_lib.event_limits import (
    EVENT_MAX_AGE_S,
    EVENT_MAX_RETRY_ATTEMPTS,
    EVENT_MIN_AGE_S,
    EVENT_NAME_MAX,
    SCHEDULE_MAX_FLEXIBLE_WINDOW_MIN,
)

# Scheduler's schedule and group names, EventBridge's rule names (`EVENT_NAME_MAX`).
EVENT_NAME_PATTERN = rf"[0-9A-Za-z_.-]{{1,{EVENT_NAME_MAX}}}"

# What S3 sends to EventBridge when an object is created (S3 User Guide, "EventBridge event
# message structure"): the bucket's events must be on (`eventbridge = true` on the bucket's
# notification configuration), which every bucket of the stack has.
S3_EVENT_SOURCE = "aws.s3"
S3_OBJECT_CREATED = "Object Created"


def pattern_text(pattern: Mapping[str, Any]) -> str:
    """The JSON AWS gets for an event pattern or filter policy: the keys in the order written,
    every string as written (no `\\u` escapes)."""
    return json.dumps(pattern, ensure_ascii=False, separators=(",", ":"))


def event_name_problem(name: str) -> str | None:
    """Why Scheduler or EventBridge would refuse `name` for a schedule, group or rule."""
    if re.fullmatch(EVENT_NAME_PATTERN, name) is None:
        return (
            f"must be 1-{EVENT_NAME_MAX} letters, digits, `-`, `_` or `.`, "
            f"got {name!r} ({len(name)})"
        )
    return None


def retry_attempts_problem(attempts: int) -> str | None:
    if not 0 <= attempts <= EVENT_MAX_RETRY_ATTEMPTS:
        return f"must be between 0 and {EVENT_MAX_RETRY_ATTEMPTS}, got {attempts}"
    return None


def event_age_problem(seconds: int) -> str | None:
    if not EVENT_MIN_AGE_S <= seconds <= EVENT_MAX_AGE_S:
        return f"must be between {EVENT_MIN_AGE_S} and {EVENT_MAX_AGE_S} seconds, got {seconds}"
    return None


def flexible_window_problem(minutes: int) -> str | None:
    """0 is no window (Scheduler's mode OFF); else 1 to the maximum (mode FLEXIBLE)."""
    if not 0 <= minutes <= SCHEDULE_MAX_FLEXIBLE_WINDOW_MIN:
        return f"must be between 0 and {SCHEDULE_MAX_FLEXIBLE_WINDOW_MIN} minutes, got {minutes}"
    return None


def _escape_wildcard(text: str) -> str:
    """A literal inside an EventBridge `wildcard` matcher: `*` and `\\` escaped with `\\`."""
    return text.replace("\\", "\\\\").replace("*", "\\*")


def object_key_matcher(prefix: str | None, suffix: str | None) -> dict[str, str] | None:
    """The matcher of `detail.object.key` for keys starting with `prefix` and ending with
    `suffix`: `prefix` or `suffix` alone, both as one `wildcard` (a list of matchers would
    match either), None for every key. With both, prefix and suffix may not overlap in a key
    (`a*a` needs two characters), as with `uploads/` and `.csv`."""
    if prefix and suffix:
        return {"wildcard": f"{_escape_wildcard(prefix)}*{_escape_wildcard(suffix)}"}
    if prefix:
        return {"prefix": prefix}
    if suffix:
        return {"suffix": suffix}
    return None


def object_created_pattern(
    bucket_name: str, prefix: str | None = None, suffix: str | None = None
) -> dict[str, Any]:
    """The event pattern of objects created in `bucket_name` under `prefix` and `suffix`."""
    detail: dict[str, Any] = {"bucket": {"name": [bucket_name]}}
    matcher = object_key_matcher(prefix, suffix)
    if matcher is not None:
        detail["object"] = {"key": [matcher]}
    return {"source": [S3_EVENT_SOURCE], "detail-type": [S3_OBJECT_CREATED], "detail": detail}


# EventBridge Scheduler's context attributes (Scheduler User Guide, "Adding context
# attributes"): placeholders in a target's input that Scheduler replaces at each invocation. A
# Lambda target without input gets a default notification whose shape AWS does not document;
# with this input the function receives these four keys.
SCHEDULER_CONTEXT_INPUT = {
    "schedule_arn": "<aws.scheduler.schedule-arn>",
    "scheduled_time": "<aws.scheduler.scheduled-time>",
    "execution_id": "<aws.scheduler.execution-id>",
    "attempt_number": "<aws.scheduler.attempt-number>",
}
