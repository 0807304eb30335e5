"""Limits of the event sources (SQS, SNS, Lambda event source mappings, EventBridge Scheduler
and rules) that both the constructs and the configuration checks enforce, stated once, with
the syntax rules of schedule expressions. Standard library only (see `limits`).
"""

from __future__ import annotations

import re
import zoneinfo
from functools import cache
from typing import Literal

# SQS (CreateQueue attributes, "Amazon SQS quotas", checked 2026-12-06): a queue name is 1-80
# letters, digits, `-` or `_`, a FIFO queue's ending in `.fifo` (counted in the 80).
SQS_QUEUE_NAME_MAX = 80
FIFO_SUFFIX = ".fifo"
# Not `-dlq`: a function's own dead-letter queue is `<function name>-dlq`, and a function and a
# queue of the same key (`orders`) are common.
DEAD_LETTER_SUFFIX = "-dead-letters"
# MessageRetentionPeriod: 60 s to 14 days, 4 days by default.
SQS_MIN_RETENTION_S = 60
SQS_MAX_RETENTION_S = 14 * 24 * 3600
SQS_DEFAULT_RETENTION_S = 4 * 24 * 3600
# VisibilityTimeout: 0 to 12 hours, 30 s by default.
SQS_MAX_VISIBILITY_TIMEOUT_S = 12 * 3600
SQS_DEFAULT_VISIBILITY_TIMEOUT_S = 30
# RedrivePolicy maxReceiveCount: 1-1000.
SQS_MIN_RECEIVE_COUNT = 1
SQS_MAX_RECEIVE_COUNT = 1000
# AWS's advice for a queue Lambda consumes ("Configuring a queue to use with Lambda"): a
# visibility timeout of at least six times the function's timeout, so that a message whose batch
# Lambda retries after throttling is not received again while it is still being processed.
# CreateEventSourceMapping refuses a queue whose visibility timeout is below the timeout.
VISIBILITY_TIMEOUT_FACTOR = 6

# Lambda event source mappings (CreateEventSourceMapping, "Lambda parameters for Amazon SQS
# event source mappings" and for DynamoDB, checked 2026-12-06).
ESM_MAX_BATCH_SIZE = 10_000
FIFO_MAX_BATCH_SIZE = 10
# Above 10 records a batch of a standard queue needs a batching window of at least 1 s; FIFO
# queues take no batching window at all.
BATCH_SIZE_WITHOUT_WINDOW_MAX = 10
ESM_MAX_BATCHING_WINDOW_S = 300
# ScalingConfig.MaximumConcurrency (SQS only): 2-1000.
ESM_MIN_MAXIMUM_CONCURRENCY = 2
ESM_MAX_MAXIMUM_CONCURRENCY = 1000
QUEUE_DEFAULT_BATCH_SIZE = 10
# A mapping invokes synchronously, so a batch is at most Lambda's 6 MB request payload: Lambda
# invokes with what it gathered once the payload would grow past it ("Batching behavior").
ESM_MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
STREAM_DEFAULT_BATCH_SIZE = 100
# Streams: MaximumRetryAttempts -1 (until the record expires) or 0-10000;
# MaximumRecordAgeInSeconds -1 (no limit) or 60-604800.
STREAM_MAX_RETRY_ATTEMPTS = 10_000
STREAM_MIN_RECORD_AGE_S = 60
STREAM_MAX_RECORD_AGE_S = 604_800
StartingPosition = Literal["LATEST", "TRIM_HORIZON"]
# What a stream a trigger reads carries when its table names no view.
DEFAULT_STREAM_VIEW: Literal["NEW_AND_OLD_IMAGES"] = "NEW_AND_OLD_IMAGES"
REPORT_BATCH_ITEM_FAILURES = "ReportBatchItemFailures"

# EventBridge Scheduler (CreateSchedule) and EventBridge rule targets share the retry policy's
# bounds: 0-185 retries, an event kept 60 s to 24 h; both default to the maximum.
EVENT_MAX_RETRY_ATTEMPTS = 185
EVENT_MIN_AGE_S = 60
EVENT_MAX_AGE_S = 86_400
# Scheduler's flexible time window: 1-1440 minutes, or off.
SCHEDULE_MAX_FLEXIBLE_WINDOW_MIN = 1440
# Scheduler's schedule names and EventBridge rule names: 1-64 letters, digits, `.`, `-`, `_`.
EVENT_NAME_MAX = 64
# An event pattern: 2048 characters (EventBridge's default quota, "Event pattern size";
# the AWS provider refuses more).
EVENT_PATTERN_MAX_CHARACTERS = 2048
# SNS: a subscription's filter policy is at most 256 KB.
SNS_FILTER_POLICY_MAX_BYTES = 256 * 1024
FilterPolicyScope = Literal["MessageAttributes", "MessageBody"]
# A key of the data one of these sources reads, as a grant takes it.
QueueAccess = Literal["send"]
TopicAccess = Literal["publish"]


def queue_name(prefix: str, key: str, fifo: bool) -> str:
    """`<prefix>-<key>`, with `.fifo` for a FIFO queue."""
    return f"{prefix}-{key}{FIFO_SUFFIX if fifo else ''}"


def dead_letter_queue_name(prefix: str, key: str, fifo: bool) -> str:
    """`<prefix>-<key>-dead-letters`, `.fifo` too for a FIFO queue (whose dead-letter queue
    must be FIFO)."""
    return queue_name(prefix, f"{key}{DEAD_LETTER_SUFFIX}", fifo)


def default_visibility_timeout(consumer_timeout_s: int | None) -> int:
    """Six times the consumer's timeout (capped at SQS's maximum); SQS's 30 s without one."""
    if consumer_timeout_s is None:
        return SQS_DEFAULT_VISIBILITY_TIMEOUT_S
    return min(VISIBILITY_TIMEOUT_FACTOR * consumer_timeout_s, SQS_MAX_VISIBILITY_TIMEOUT_S)


# Schedule expressions as EventBridge Scheduler takes them ("Schedule types on EventBridge
# Scheduler" and the cron reference, checked 2026-12-06): `rate(value unit)` with a positive
# integer and minute(s), hour(s) or day(s) (singular for 1, plural above, as EventBridge's rules
# also require), or `cron(minutes hours day-of-month month day-of-week year)`.
_RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)")
_CRON = re.compile(r"cron\((.*)\)")
_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
_DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
# Per field: its name, its range, the names it takes for numbers, the special characters it
# allows besides `, - * /`.
_CRON_FIELDS: tuple[tuple[str, int, int, list[str], str], ...] = (
    ("minutes", 0, 59, [], ""),
    ("hours", 0, 23, [], ""),
    ("day-of-month", 1, 31, [], "?LW"),
    ("month", 1, 12, _MONTHS, ""),
    ("day-of-week", 1, 7, _DAYS, "?L#"),
    ("year", 1970, 2199, [], ""),
)


def schedule_expression_problem(expression: str) -> str | None:
    """Why EventBridge Scheduler would refuse `expression` as a recurring schedule, or None."""
    if expression.startswith("rate("):
        return _rate_problem(expression)
    if expression.startswith("cron("):
        return _cron_problem(expression)
    return 'must be "cron(minutes hours day-of-month month day-of-week year)" or "rate(N unit)"'


def _rate_problem(expression: str) -> str | None:
    match = _RATE.fullmatch(expression)
    if match is None:
        return "must be rate(N minutes|hours|days) with a whole N of at least 1"
    value, unit = int(match[1]), match[2]
    if value < 1:
        return "the rate must be at least 1"
    if (value == 1) != (not unit.endswith("s")):
        return f"write rate(1 {unit.rstrip('s')}) for one, rate(N {unit.rstrip('s')}s) for more"
    return None


def _cron_problem(expression: str) -> str | None:
    match = _CRON.fullmatch(expression)
    fields = match[1].split(" ") if match else []
    if len(fields) != len(_CRON_FIELDS):
        return "a cron expression has six fields separated by single spaces: " + " ".join(
            name for name, *_ in _CRON_FIELDS
        )
    for value, (name, low, high, names, special) in zip(fields, _CRON_FIELDS, strict=True):
        if (problem := _cron_field_problem(value, low, high, names, special)) is not None:
            return f"{name} {value!r}: {problem}"
    day_of_month, day_of_week = fields[2], fields[4]
    if (day_of_month == "?") == (day_of_week == "?"):
        return "exactly one of day-of-month and day-of-week must be ? (the other says the days)"
    return None


def _cron_field_problem(
    value: str, low: int, high: int, names: list[str], special: str
) -> str | None:
    if value == "?" and "?" in special:
        return None
    if value == "L" and "L" in special:
        return None
    for part in value.split(","):
        if (problem := _cron_part_problem(part, low, high, names, special)) is not None:
            return problem
    return None


def _cron_part_problem(
    part: str, low: int, high: int, names: list[str], special: str
) -> str | None:
    allowed = f"{low}-{high}" + (f" or {names[0]}-{names[-1]}" if names else "")
    base, _, step = part.partition("/")
    if step and not (step.isdigit() and 1 <= int(step) <= high):
        return f"the increment after / must be 1-{high}"
    if "#" in base and "#" in special:
        day, _, nth = base.partition("#")
        ok = _cron_value(day, low, high, names) is not None and nth in {"1", "2", "3", "4", "5"}
        return None if ok else "# takes a day of the week and its 1st-5th occurrence (6#3)"
    if base.endswith("W") and "W" in special:
        return None if _cron_value(base[:-1], low, high, []) is not None else "W follows a day 1-31"
    if base.endswith("L") and "L" in special and base != "L":
        return (
            None if _cron_value(base[:-1], low, high, names) is not None else f"must be {allowed}"
        )
    if base == "*":
        return None
    start, _, end = base.partition("-")
    bounds = [_cron_value(start, low, high, names)]
    if end:
        bounds.append(_cron_value(end, low, high, names))
    if None in bounds:
        return f"must be {allowed}, a range of them, * or a list (wildcards: , - * /{special})"
    return None


def _cron_value(text: str, low: int, high: int, names: list[str]) -> int | None:
    if text.upper() in names:
        return names.index(text.upper()) + low
    if text.isdigit() and low <= int(text) <= high:
        return int(text)
    return None


# Not places: zoneinfo lists them, Scheduler takes IANA zone names.
_NOT_ZONES = frozenset({"Factory", "localtime", "posixrules"})


@cache
def time_zones() -> frozenset[str]:
    """The IANA time zone names (Python's zoneinfo: the system's or the tzdata package's)."""
    return frozenset(zoneinfo.available_timezones() - _NOT_ZONES)
