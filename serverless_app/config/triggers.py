"""`[[triggers]]`: what calls a function besides HTTP. Each entry names a function and exactly one
source: a queue, a table's stream, a topic, a schedule, an object created in a bucket, or an
EventBridge rule's event pattern. The keys of one source are refused on another, and each
source's defaults are filled in before validation (`prepared`). The rules across the file
(keys that must exist, FIFO and visibility limits, identities) are in `trigger_rules`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, Field

from constructs_lib.event_limits import (
    ESM_MAX_BATCH_SIZE,
    ESM_MAX_BATCHING_WINDOW_S,
    ESM_MAX_MAXIMUM_CONCURRENCY,
    ESM_MIN_MAXIMUM_CONCURRENCY,
    EVENT_MAX_AGE_S,
    EVENT_MAX_RETRY_ATTEMPTS,
    EVENT_MIN_AGE_S,
    EVENT_PATTERN_MAX_CHARACTERS,
    QUEUE_DEFAULT_BATCH_SIZE,
    SCHEDULE_MAX_FLEXIBLE_WINDOW_MIN,
    SNS_FILTER_POLICY_MAX_BYTES,
    STREAM_DEFAULT_BATCH_SIZE,
    STREAM_MAX_RECORD_AGE_S,
    STREAM_MAX_RETRY_ATTEMPTS,
    STREAM_MIN_RECORD_AGE_S,
    FilterPolicyScope,
    StartingPosition,
    schedule_expression_problem,
    time_zones,
)
from constructs_lib.eventbridge import pattern_text
from serverless_app.config.aws_facts import S3_OBJECT_KEY_MAX_BYTES

# `rule` is also a key of the entry: the decorator goes by another name in the class body.
from serverless_app.config.base import StrictModel
from serverless_app.config.base import rule as across
from serverless_app.config.problems import Problem
from serverless_app.config.rules import checked_by, did_you_mean, pattern

SourceKind = Literal["queue", "table", "topic", "schedule", "bucket", "rule"]
SOURCE_KINDS: tuple[str, ...] = get_args(SourceKind)
# The sources EventBridge delivers (Scheduler for schedules): their retry policy and
# dead-letter queue.
EVENTBRIDGE_KINDS = ("schedule", "bucket", "rule")
# The settings each source takes; `function` and `name` are common to all.
SOURCE_SETTINGS: dict[str, tuple[str, ...]] = {
    "queue": (
        "batch_size",
        "batching_window_seconds",
        "maximum_concurrency",
        "report_batch_item_failures",
    ),
    "table": (
        "batch_size",
        "batching_window_seconds",
        "report_batch_item_failures",
        "starting_position",
        "bisect_on_error",
        "retry_attempts",
        "maximum_record_age_seconds",
        "on_failure",
    ),
    "topic": ("filter_policy", "filter_policy_scope"),
    "schedule": (
        "timezone",
        "flexible_window_minutes",
        "retry_attempts",
        "maximum_event_age_seconds",
        "on_failure",
    ),
    "bucket": ("prefix", "suffix", "retry_attempts", "maximum_event_age_seconds", "on_failure"),
    "rule": ("retry_attempts", "maximum_event_age_seconds", "on_failure"),
}
SETTINGS: tuple[str, ...] = tuple(
    dict.fromkeys(key for keys in SOURCE_SETTINGS.values() for key in keys)
)
# What a source's settings are when the entry leaves them out (documented per key).
_EVENT_RETRIES = {
    "retry_attempts": EVENT_MAX_RETRY_ATTEMPTS,
    "maximum_event_age_seconds": EVENT_MAX_AGE_S,
}
SOURCE_DEFAULTS: dict[str, dict[str, Any]] = {
    "queue": {
        "batch_size": QUEUE_DEFAULT_BATCH_SIZE,
        "batching_window_seconds": 0,
        "report_batch_item_failures": True,
    },
    "table": {
        "batch_size": STREAM_DEFAULT_BATCH_SIZE,
        "batching_window_seconds": 0,
        "report_batch_item_failures": True,
        "starting_position": "LATEST",
        "bisect_on_error": False,
    },
    "topic": {},
    "schedule": {"timezone": "UTC", "flexible_window_minutes": 0, **_EVENT_RETRIES},
    "bucket": dict(_EVENT_RETRIES),
    "rule": dict(_EVENT_RETRIES),
}
# A trigger's `name`: it names the schedule or rule (`<project>-<env>-<name>`, at most 64) and
# the trigger's resources in Terraform.
TriggerName = Annotated[
    str,
    pattern(
        r"(?=.{1,32}$)[a-z][a-z0-9]*(?:-[a-z0-9]+)*",
        "1-32 lowercase letters, digits or hyphens, starting with a letter, no `--`, not "
        "ending with `-`",
    ),
]


def _time_zone(value: str) -> str:
    if value not in time_zones():
        raise ValueError(f"not an IANA time zone{did_you_mean(value, time_zones())}")
    return value


def _object_key_filter(value: str) -> str:
    if not 1 <= len(value.encode()) <= S3_OBJECT_KEY_MAX_BYTES:
        raise ValueError(f"must be 1-{S3_OBJECT_KEY_MAX_BYTES} bytes (UTF-8)")
    return value


def _pattern_leaves_problem(pattern: dict[str, Any], what: str) -> str | None:
    """EventBridge and SNS match a key against a list of values or nested keys, never a bare
    value."""
    for key, value in pattern.items():
        if isinstance(value, dict):
            if not value:
                return f"{key}: an empty table matches nothing"
            if (problem := _pattern_leaves_problem(value, what)) is not None:
                return f"{key}.{problem}"
        elif not isinstance(value, list) or not value:
            return f"{key}: {what} takes a non-empty list of values here, e.g. {key} = [...]"
    return None


def _event_pattern(value: dict[str, Any]) -> dict[str, Any]:
    if not value:
        raise ValueError("an empty event pattern matches every event: name what to match")
    if (problem := _pattern_leaves_problem(value, "an event pattern")) is not None:
        raise ValueError(problem)
    if (size := len(event_pattern_json(value))) > EVENT_PATTERN_MAX_CHARACTERS:
        raise ValueError(
            f"the pattern is {size} characters as JSON; EventBridge allows "
            f"{EVENT_PATTERN_MAX_CHARACTERS}"
        )
    return value


def _filter_policy(value: dict[str, Any]) -> dict[str, Any]:
    if not value:
        raise ValueError("an empty filter policy: leave it out to receive every message")
    if (problem := _pattern_leaves_problem(value, "a filter policy")) is not None:
        raise ValueError(problem)
    if (size := len(event_pattern_json(value).encode())) > SNS_FILTER_POLICY_MAX_BYTES:
        raise ValueError(f"is {size:,} bytes as JSON; SNS allows {SNS_FILTER_POLICY_MAX_BYTES:,}")
    return value


def event_pattern_json(pattern: dict[str, Any]) -> str:
    """The JSON AWS gets for an event pattern or filter policy (the constructs write the same)."""
    return pattern_text(pattern)


def _only_for(*kinds: str) -> str:
    *others, last = [f"`{kind}`" for kind in kinds]
    return "only with " + (f"{', '.join(others)} or {last}" if others else last)


def _settings_of(key: str) -> str:
    return _only_for(*(kind for kind, keys in SOURCE_SETTINGS.items() if key in keys))


class TriggerConfig(StrictModel):
    """One `[[triggers]]` entry: a function and exactly one source."""

    function: str = Field(description="a key of `[functions]`: the function the source invokes")
    name: TriggerName | None = Field(
        default=None,
        description=(
            "required with `schedule` and `rule`; names the schedule or rule "
            "`<project>-<env>-<name>` (at most 64 characters) and the trigger's resources, "
            "unique among the triggers"
        ),
        json_schema_extra={
            "default_text": "`<function>-<source>-<key>` (e.g. `worker-queue-orders`)"
        },
    )
    queue: str | None = Field(
        default=None,
        description=(
            "a key of `[queues]`: an event source mapping on the function's `live` alias; one "
            "trigger per queue"
        ),
        json_schema_extra={"default_text": "unset"},
    )
    table: str | None = Field(
        default=None,
        description=(
            "a key of `[tables]`: its stream (turned on with `NEW_AND_OLD_IMAGES` unless the "
            "table sets `stream`) mapped to the function's `live` alias"
        ),
        json_schema_extra={"default_text": "unset"},
    )
    topic: str | None = Field(
        default=None,
        description="a key of `[topics]`: the function's `live` alias subscribes to it",
        json_schema_extra={"default_text": "unset"},
    )
    schedule: Annotated[str, checked_by(schedule_expression_problem)] | None = Field(
        default=None,
        description=(
            "an EventBridge Scheduler expression: `cron(minutes hours day-of-month month "
            "day-of-week year)` (one of the day fields `?`) or `rate(N unit)` (`minute`, `hour`, "
            "`day` for 1, plural above); needs `name`"
        ),
        json_schema_extra={"default_text": "unset"},
    )
    bucket: str | None = Field(
        default=None,
        description="a key of `[buckets]`: objects created there, delivered by EventBridge",
        json_schema_extra={"default_text": "unset"},
    )
    rule: Annotated[dict[str, Any], AfterValidator(_event_pattern)] | None = Field(
        default=None,
        description=(
            "an EventBridge event pattern on the default bus, as written "
            '(`{ source = ["my.app"], detail-type = ["Order placed"] }`): each key takes a list '
            f"of values or a table; at most {EVENT_PATTERN_MAX_CHARACTERS} characters as JSON; "
            "needs `name`"
        ),
        json_schema_extra={"type_text": "table", "default_text": "unset"},
    )
    batch_size: Annotated[int, Field(ge=1, le=ESM_MAX_BATCH_SIZE)] | None = Field(
        default=None,
        description=(
            f"{_settings_of('batch_size')}; records per invocation; a FIFO queue at most 10; "
            "above 10 a standard queue needs `batching_window_seconds` >= 1"
        ),
        json_schema_extra={
            "default_text": f"{QUEUE_DEFAULT_BATCH_SIZE} (queue), {STREAM_DEFAULT_BATCH_SIZE} "
            "(table)"
        },
    )
    batching_window_seconds: Annotated[int, Field(ge=0, le=ESM_MAX_BATCHING_WINDOW_S)] | None = (
        Field(
            default=None,
            description=(
                f"{_settings_of('batching_window_seconds')}; how long Lambda gathers records "
                "before it invokes; not with a FIFO queue"
            ),
            json_schema_extra={"default_text": "`0`"},
        )
    )
    maximum_concurrency: (
        Annotated[int, Field(ge=ESM_MIN_MAXIMUM_CONCURRENCY, le=ESM_MAX_MAXIMUM_CONCURRENCY)] | None
    ) = Field(
        default=None,
        description=(
            f"{_settings_of('maximum_concurrency')}; at most this many concurrent invocations "
            "from the queue; not above the function's `reserved_concurrency`"
        ),
        json_schema_extra={"default_text": "unset: as many as Lambda scales to"},
    )
    report_batch_item_failures: bool | None = Field(
        default=None,
        description=(
            f"{_settings_of('report_batch_item_failures')}; the function answers "
            '`{"batchItemFailures": [{"itemIdentifier": ...}]}` and only those records are '
            "retried (an exception still retries the whole batch)"
        ),
        json_schema_extra={"default_text": "`true`"},
    )
    starting_position: StartingPosition | None = Field(
        default=None,
        description=f"{_settings_of('starting_position')}; where a new mapping starts reading",
        json_schema_extra={"default_text": '`"LATEST"`'},
    )
    bisect_on_error: bool | None = Field(
        default=None,
        description=f"{_settings_of('bisect_on_error')}; a failed batch is split in two, retried",
        json_schema_extra={"default_text": "`false`"},
    )
    retry_attempts: Annotated[int, Field(ge=0, le=STREAM_MAX_RETRY_ATTEMPTS)] | None = Field(
        default=None,
        description=(
            f"{_settings_of('retry_attempts')}; retries of a failed batch (`table`: "
            f"0-{STREAM_MAX_RETRY_ATTEMPTS}) or event (the others: 0-{EVENT_MAX_RETRY_ATTEMPTS})"
        ),
        json_schema_extra={
            "default_text": f"`table`: unset, until the record expires; {EVENT_MAX_RETRY_ATTEMPTS}"
        },
    )
    maximum_record_age_seconds: (
        Annotated[int, Field(ge=STREAM_MIN_RECORD_AGE_S, le=STREAM_MAX_RECORD_AGE_S)] | None
    ) = Field(
        default=None,
        description=f"{_settings_of('maximum_record_age_seconds')}; older records are skipped",
        json_schema_extra={"default_text": "unset: no limit (the stream keeps 24 h)"},
    )
    on_failure: str | None = Field(
        default=None,
        description=(
            f"{_settings_of('on_failure')}; a key of `[queues]` (a standard queue) receiving what "
            "failed after the retries (a stream's batch description, an undelivered event)"
        ),
        json_schema_extra={"default_text": "unset"},
    )
    filter_policy: Annotated[dict[str, Any], AfterValidator(_filter_policy)] | None = Field(
        default=None,
        description=(
            f"{_settings_of('filter_policy')}; an SNS filter policy as written "
            '(`{ kind = ["order"] }`); at most 256 KB as JSON'
        ),
        json_schema_extra={"type_text": "table", "default_text": "unset: every message"},
    )
    filter_policy_scope: FilterPolicyScope | None = Field(
        default=None,
        description=f"{_settings_of('filter_policy_scope')}; what `filter_policy` matches",
        json_schema_extra={"default_text": '`"MessageAttributes"` (SNS)'},
    )
    timezone: Annotated[str, AfterValidator(_time_zone)] | None = Field(
        default=None,
        description=f"{_settings_of('timezone')}; the IANA time zone (`Europe/Berlin`) of a cron",
        json_schema_extra={"default_text": '`"UTC"`'},
    )
    flexible_window_minutes: (
        Annotated[int, Field(ge=0, le=SCHEDULE_MAX_FLEXIBLE_WINDOW_MIN)] | None
    ) = Field(
        default=None,
        description=(
            f"{_settings_of('flexible_window_minutes')}; Scheduler may invoke up to this many "
            "minutes late (spreads load); 0 is exact"
        ),
        json_schema_extra={"default_text": "`0`"},
    )
    maximum_event_age_seconds: (
        Annotated[int, Field(ge=EVENT_MIN_AGE_S, le=EVENT_MAX_AGE_S)] | None
    ) = Field(
        default=None,
        description=(
            f"{_settings_of('maximum_event_age_seconds')}; an event not delivered by then is "
            "dropped (or sent to `on_failure`)"
        ),
        json_schema_extra={"default_text": f"`{EVENT_MAX_AGE_S}`"},
    )
    prefix: Annotated[str, AfterValidator(_object_key_filter)] | None = Field(
        default=None,
        description=(
            f"{_settings_of('prefix')}; only object keys starting with it; with `suffix` and "
            "the bucket's name, the rule's event pattern fits EventBridge's "
            f"{EVENT_PATTERN_MAX_CHARACTERS} characters as JSON"
        ),
        json_schema_extra={"default_text": "unset: every key"},
    )
    suffix: Annotated[str, AfterValidator(_object_key_filter)] | None = Field(
        default=None,
        description=f"{_settings_of('suffix')}; only object keys ending with it",
        json_schema_extra={"default_text": "unset: every key"},
    )

    @classmethod
    def prepared(cls, data: Any) -> Any:
        """The settings the entry's source takes, filled with their defaults (a source named
        once; anything else is reported by `_one_source`)."""
        if not isinstance(data, dict):
            return data
        kinds = [kind for kind in SOURCE_KINDS if kind in data]
        if len(kinds) != 1:
            return data
        return {**SOURCE_DEFAULTS[kinds[0]], **data}

    @across(*SOURCE_KINDS)
    def _one_source(self) -> Iterator[Problem]:
        given = [kind for kind in SOURCE_KINDS if getattr(self, kind) is not None]
        if len(given) != 1:
            named = ", ".join(given) if given else "none"
            message = f"set exactly one source key of {', '.join(SOURCE_KINDS)} (given: {named})"
            yield Problem((), message)

    @across(*SOURCE_KINDS, *SETTINGS)
    def _settings_of_the_source(self) -> Iterator[Problem]:
        kind = self.kind
        if kind is None:
            return
        for key in SETTINGS:
            value = getattr(self, key)
            if value is not None and key not in SOURCE_SETTINGS[kind]:
                yield Problem((key,), f"{_settings_of(key)}, not `{kind}`", value)

    @across("schedule", "rule", "name")
    def _named_where_needed(self) -> Iterator[Problem]:
        for kind in ("schedule", "rule"):
            if getattr(self, kind) is not None and self.name is None:
                message = f"a `{kind}` trigger needs `name` (it names the {kind} in AWS)"
                yield Problem(("name",), message)

    @across("schedule", "bucket", "rule", "retry_attempts")
    def _event_retries(self) -> Iterator[Problem]:
        if self.kind in EVENTBRIDGE_KINDS and (self.retry_attempts or 0) > EVENT_MAX_RETRY_ATTEMPTS:
            message = f"EventBridge retries an event at most {EVENT_MAX_RETRY_ATTEMPTS} times"
            yield Problem(("retry_attempts",), message, self.retry_attempts)

    @property
    def kind(self) -> str | None:
        """The source's key (`queue`, ...), None without exactly one."""
        given = [kind for kind in SOURCE_KINDS if getattr(self, kind, None) is not None]
        return given[0] if len(given) == 1 else None

    @property
    def source_key(self) -> str | None:
        """The key of `[queues]`, `[tables]`, `[topics]` or `[buckets]` the trigger reads."""
        value = getattr(self, self.kind or "rule")
        return value if isinstance(value, str) and self.kind not in ("schedule", "rule") else None

    @property
    def identity(self) -> str:
        """What names the trigger's resources, stable when entries are reordered: `name`, else
        `<function>-<source>-<key>`."""
        if self.name is not None:
            return self.name
        return f"{self.function}-{self.kind}-{self.source_key}"


# No AWS limit on the number of triggers; each is a few resources of the plan: a sanity bound.
MAX_TRIGGERS = 200
Triggers = Annotated[list[TriggerConfig], Field(max_length=MAX_TRIGGERS)]
TRIGGERS_FIELD: list[TriggerConfig] = Field(
    default_factory=list,
    description=(
        "`[[triggers]]` entries, named `triggers[<index from 0>]` in messages (at most "
        f"{MAX_TRIGGERS}: a sanity bound); each names a `function` and exactly one source key: "
        "`queue`, `table`, `topic`, `schedule`, `bucket` or `rule`; none is fine"
    ),
    json_schema_extra={"type_text": "list of tables"},
)
