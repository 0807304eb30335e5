"""EventBridge and EventBridge Scheduler facts that both the constructs and the configuration
checks use, stated once: the limits of their APIs and the event pattern of an S3 object
created under a prefix and suffix. Standard library only: `--check` and `make serve` import
this module without loading cdktf or the AWS provider bindings.
"""

from __future__ import annotations

import re
from typing import Any

# EventBridge Scheduler API reference, CreateSchedule (checked 2026-12-06): a schedule's and a
# schedule group's name, 1-64 of these characters.
SCHEDULER_NAME_MAX = 64
SCHEDULER_NAME_PATTERN = r"[0-9a-zA-Z_.-]{1,64}"
# RetryPolicy: MaximumRetryAttempts 0-185, MaximumEventAgeInSeconds 60-86,400; AWS's defaults
# are the maxima (a day of retries), which the constructs keep.
SCHEDULER_MAX_RETRY_ATTEMPTS = 185
SCHEDULER_MIN_EVENT_AGE_S = 60
SCHEDULER_MAX_EVENT_AGE_S = 86_400
# FlexibleTimeWindow: MaximumWindowInMinutes 1-1,440 when the mode is FLEXIBLE.
SCHEDULER_MIN_FLEXIBLE_WINDOW_MINUTES = 1
SCHEDULER_MAX_FLEXIBLE_WINDOW_MINUTES = 1_440

# EventBridge API reference, PutRule and PutTargets: a rule's name and a target's id, 1-64 of
# these characters. EventBridge quotas, "Event pattern size": 2,048 characters (adjustable to
# 4,096 through Service Quotas; the AWS provider refuses more than 2,048 at plan time).
EVENT_RULE_NAME_MAX = 64
EVENT_RULE_NAME_PATTERN = r"[.\-_A-Za-z0-9]{1,64}"
EVENT_PATTERN_MAX_CHARACTERS = 2_048

# Lambda AddPermission: a statement id of 1-100 letters, digits, `-` and `_`.
LAMBDA_STATEMENT_ID_MAX = 100

# What S3 sends to EventBridge when an object is created (S3 User Guide, "EventBridge event
# message structure"): the bucket's events must be on (`eventbridge = true` on the bucket's
# notification configuration), which every bucket of the stack has.
S3_EVENT_SOURCE = "aws.s3"
S3_OBJECT_CREATED = "Object Created"


def name_problem(name: str, pattern: str, maximum: int) -> str | None:
    """Why `name` is no name of that pattern (letters, digits and the characters it allows,
    at most `maximum`), or None."""
    if re.fullmatch(pattern, name) is None:
        allowed = "letters, digits, `-`, `_` and `.`"
        return f"must be 1-{maximum} characters of {allowed}, got {name!r} ({len(name)})"
    return None


def retry_attempts_problem(attempts: int) -> str | None:
    if not 0 <= attempts <= SCHEDULER_MAX_RETRY_ATTEMPTS:
        return f"must be between 0 and {SCHEDULER_MAX_RETRY_ATTEMPTS}, got {attempts}"
    return None


def event_age_problem(seconds: int) -> str | None:
    if not SCHEDULER_MIN_EVENT_AGE_S <= seconds <= SCHEDULER_MAX_EVENT_AGE_S:
        return (
            f"must be between {SCHEDULER_MIN_EVENT_AGE_S} and {SCHEDULER_MAX_EVENT_AGE_S} "
            f"seconds, got {seconds}"
        )
    return None


def flexible_window_problem(minutes: int) -> str | None:
    low, high = SCHEDULER_MIN_FLEXIBLE_WINDOW_MINUTES, SCHEDULER_MAX_FLEXIBLE_WINDOW_MINUTES
    if not low <= minutes <= high:
        return f"must be between {low} and {high} minutes, got {minutes}"
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
