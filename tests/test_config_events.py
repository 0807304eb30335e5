"""`[queues]`, `[topics]`, the produce grants and `[[triggers]]`: every rule as a row (one line
with the key path), the values AWS accepts, the defaults each source fills in and the
identities that name a trigger's resources."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from serverless_app.config import load_config
from serverless_app.config.events import visibility_timeout
from tests.support import run_main
from tests.test_config import DELETE, dev_with, problems_of, write_config

# dev with one of everything: a standard and a FIFO queue, a failure queue, a topic and a
# worker consuming the queue.
EVENTS: dict[str, Any] = {
    "queues": {"orders": {}, "jobs": {"fifo": True}, "failed": {}},
    "topics": {"alerts": {}},
    "functions.worker": {"source_dir": "lambda", "timeout_s": 10},
    "triggers": [
        {"function": "worker", "queue": "orders"},
        {"function": "worker", "table": "requests", "on_failure": "failed"},
        {"function": "worker", "topic": "alerts"},
        {"function": "worker", "schedule": "cron(0 3 * * ? *)", "name": "nightly"},
        {"function": "worker", "bucket": "assets", "prefix": "uploads/"},
        {"function": "worker", "rule": {"source": ["my.app"]}, "name": "placed"},
    ],
}


def events_with(changes: dict[str, Any]) -> dict[str, Any]:
    """dev with EVENTS, then `changes` ({"dotted.key": value}, as `dev_with`)."""
    return dev_with({**copy.deepcopy(EVENTS), **changes})


def trigger(index: int, key: str) -> str:
    return f"triggers.{index}.{key}"


# (changes, key path reported, a fragment of the message)
RULES = [
    # Sources and their keys.
    ({trigger(0, "topic"): "alerts"}, "triggers[0]", "set exactly one source key of queue,"),
    ({trigger(0, "queue"): DELETE}, "triggers[0]", "(given: none)"),
    ({trigger(0, "timezone"): "UTC"}, "triggers[0].timezone", "only with `schedule`, not `queue`"),
    ({trigger(2, "batch_size"): 5}, "triggers[2].batch_size", "only with `queue` or `table`"),
    (
        {trigger(4, "filter_policy"): {"a": ["b"]}},
        "triggers[4].filter_policy",
        "only with `topic`, not `bucket`",
    ),
    ({trigger(3, "name"): DELETE}, "triggers[3].name", "a `schedule` trigger needs `name`"),
    ({trigger(5, "name"): DELETE}, "triggers[5].name", "a `rule` trigger needs `name`"),
    ({trigger(3, "name"): "Nightly"}, "triggers[3].name", "lowercase letters"),
    ({trigger(3, "name"): "n" * 33}, "triggers[3].name", "1-32"),
    # Keys the entry names.
    ({trigger(0, "function"): "wroker"}, "triggers[0].function", "did you mean 'worker'?"),
    (
        {trigger(0, "queue"): "order"},
        "triggers[0].queue",
        "not a key of [queues] (orders, jobs, failed); did you mean 'orders'?",
    ),
    ({trigger(1, "table"): "request"}, "triggers[1].table", "did you mean 'requests'?"),
    ({trigger(2, "topic"): "alert"}, "triggers[2].topic", "did you mean 'alerts'?"),
    ({trigger(4, "bucket"): "asset"}, "triggers[4].bucket", "did you mean 'assets'?"),
    ({trigger(1, "on_failure"): "faild"}, "triggers[1].on_failure", "did you mean 'failed'?"),
    ({trigger(1, "on_failure"): "jobs"}, "triggers[1].on_failure", "a FIFO queue cannot receive"),
    (
        {"functions.worker.grants": {"queues": {"ordrs": "send"}}},
        "functions.worker.grants.queues.ordrs",
        "did you mean 'orders'?",
    ),
    (
        {"functions.worker.grants": {"topics": {"alarts": "publish"}}},
        "functions.worker.grants.topics.alarts",
        "did you mean 'alerts'?",
    ),
    (
        {"functions.worker.grants": {"queues": {"orders": "receive"}}},
        "functions.worker.grants.queues.orders",
        "'send'",
    ),
    (
        {"functions.worker.grants": {"topics": {"alerts": "send"}}},
        "functions.worker.grants.topics.alerts",
        "'publish'",
    ),
    # Queues.
    (
        {"queues.orders.max_receive_count": 0},
        "queues.orders.max_receive_count",
        "greater than or equal to 1",
    ),
    (
        {"queues.orders.max_receive_count": 1001},
        "queues.orders.max_receive_count",
        "less than or equal to 1000",
    ),
    (
        {"queues.orders.retention_seconds": 59},
        "queues.orders.retention_seconds",
        "greater than or equal to 60",
    ),
    (
        {"queues.orders.retention_seconds": 1_209_601},
        "queues.orders.retention_seconds",
        "less than or equal to 1209600",
    ),
    (
        {"queues.orders.visibility_timeout_seconds": 43_201},
        "queues.orders.visibility_timeout_seconds",
        "less than or equal to 43200",
    ),
    (
        {"queues.orders.visibility_timeout_seconds": 59},
        "queues.orders.visibility_timeout_seconds",
        "less than 6 x functions.worker.timeout_s (10) = 60",
    ),
    (
        {"queues.orders.visibility_timeout_seconds": 9},
        "queues.orders.visibility_timeout_seconds",
        "(Lambda refuses less than the timeout)",
    ),
    ({"queues.orders.fifo": 1}, "queues.orders.fifo", "valid boolean"),
    ({"queues.orders.delay": 1}, "queues.orders.delay", "unknown key"),
    (
        {"queues.worker-dlq": {}, "functions.worker.name": "hello-dev-worker"},
        "queues.worker-dlq",
        "its queue 'hello-dev-worker-dlq' is also the queue of functions.worker",
    ),
    (
        {"queues.orders-dead-letters": {}},
        "queues.orders-dead-letters",
        "its queue 'hello-dev-orders-dead-letters' is also the queue of queues.orders",
    ),
    ({"queues.Orders": {}}, "queues.Orders", "lowercase"),
    ({"topics.alerts.fifo": True}, "topics.alerts.fifo", "unknown key"),
    # Queue consumers.
    (
        {
            "triggers": [
                {"function": "worker", "queue": "orders"},
                {"function": "hello", "queue": "orders"},
            ]
        },
        "triggers[1].queue",
        "already consumed by triggers[0]: one consumer per queue",
    ),
    (
        {trigger(0, "queue"): "jobs", trigger(0, "batch_size"): 11},
        "triggers[0].batch_size",
        "a FIFO queue gives batches of at most 10",
    ),
    (
        {trigger(0, "queue"): "jobs", trigger(0, "batching_window_seconds"): 1},
        "triggers[0].batching_window_seconds",
        "a FIFO queue takes no batching window",
    ),
    (
        {trigger(0, "batch_size"): 11},
        "triggers[0].batch_size",
        "needs batching_window_seconds of at least 1",
    ),
    (
        {trigger(0, "batch_size"): 10_001, trigger(0, "batching_window_seconds"): 1},
        "triggers[0].batch_size",
        "less than or equal to 10000",
    ),
    (
        {trigger(0, "batching_window_seconds"): 301},
        "triggers[0].batching_window_seconds",
        "less than or equal to 300",
    ),
    (
        {trigger(0, "maximum_concurrency"): 1},
        "triggers[0].maximum_concurrency",
        "greater than or equal to 2",
    ),
    (
        {trigger(0, "maximum_concurrency"): 1001},
        "triggers[0].maximum_concurrency",
        "less than or equal to 1000",
    ),
    (
        {trigger(0, "maximum_concurrency"): 6, "functions.worker.reserved_concurrency": 5},
        "triggers[0].maximum_concurrency",
        "above functions.worker.reserved_concurrency (5)",
    ),
    # Streams.
    (
        {trigger(1, "starting_position"): "AT_TIMESTAMP"},
        "triggers[1].starting_position",
        "'LATEST' or 'TRIM_HORIZON'",
    ),
    (
        {trigger(1, "retry_attempts"): -1},
        "triggers[1].retry_attempts",
        "greater than or equal to 0",
    ),
    (
        {trigger(1, "retry_attempts"): 10_001},
        "triggers[1].retry_attempts",
        "less than or equal to 10000",
    ),
    (
        {trigger(1, "maximum_record_age_seconds"): 59},
        "triggers[1].maximum_record_age_seconds",
        "greater than or equal to 60",
    ),
    (
        {trigger(1, "maximum_record_age_seconds"): 604_801},
        "triggers[1].maximum_record_age_seconds",
        "less than or equal to 604800",
    ),
    # Topics.
    ({trigger(2, "filter_policy"): {}}, "triggers[2].filter_policy", "an empty filter policy"),
    (
        {trigger(2, "filter_policy"): {"kind": "order"}},
        "triggers[2].filter_policy",
        "kind: a filter policy takes a non-empty list",
    ),
    (
        {trigger(2, "filter_policy"): {"kind": ["x" * 300_000]}},
        "triggers[2].filter_policy",
        "SNS allows 262,144",
    ),
    (
        {trigger(2, "filter_policy_scope"): "Body"},
        "triggers[2].filter_policy_scope",
        "'MessageAttributes' or 'MessageBody'",
    ),
    # Schedules, as Scheduler takes them.
    (
        {trigger(3, "schedule"): "cron(0 3 * * * *)"},
        "triggers[3].schedule",
        "exactly one of day-of-month and day-of-week must be ?",
    ),
    (
        {trigger(3, "schedule"): "cron(0 3 ? * ? *)"},
        "triggers[3].schedule",
        "exactly one of day-of-month",
    ),
    ({trigger(3, "schedule"): "cron(0 3 * * ?)"}, "triggers[3].schedule", "six fields"),
    (
        {trigger(3, "schedule"): "cron(60 3 * * ? *)"},
        "triggers[3].schedule",
        "minutes '60': must be 0-59",
    ),
    ({trigger(3, "schedule"): "cron(0 24 * * ? *)"}, "triggers[3].schedule", "hours '24'"),
    ({trigger(3, "schedule"): "cron(0 3 32 * ? *)"}, "triggers[3].schedule", "day-of-month '32'"),
    ({trigger(3, "schedule"): "cron(0 3 ? 13 MON *)"}, "triggers[3].schedule", "month '13'"),
    ({trigger(3, "schedule"): "cron(0 3 ? * FUN *)"}, "triggers[3].schedule", "day-of-week 'FUN'"),
    ({trigger(3, "schedule"): "cron(0 3 ? * 6#6 *)"}, "triggers[3].schedule", "1st-5th occurrence"),
    ({trigger(3, "schedule"): "cron(0 3 * * ? 1969)"}, "triggers[3].schedule", "year '1969'"),
    ({trigger(3, "schedule"): "cron(0/0 3 * * ? *)"}, "triggers[3].schedule", "increment after /"),
    ({trigger(3, "schedule"): "cron(0 3 L * W *)"}, "triggers[3].schedule", "day-of-week 'W'"),
    ({trigger(3, "schedule"): "rate(0 minutes)"}, "triggers[3].schedule", "at least 1"),
    (
        {trigger(3, "schedule"): "rate(1 minutes)"},
        "triggers[3].schedule",
        "write rate(1 minute) for one",
    ),
    (
        {trigger(3, "schedule"): "rate(5 minute)"},
        "triggers[3].schedule",
        "rate(N minutes) for more",
    ),
    (
        {trigger(3, "schedule"): "rate(1 week)"},
        "triggers[3].schedule",
        "rate(N minutes|hours|days)",
    ),
    ({trigger(3, "schedule"): "at(2026-12-24T18:00:00)"}, "triggers[3].schedule", 'must be "cron('),
    (
        {trigger(3, "timezone"): "Europe/Berln"},
        "triggers[3].timezone",
        "did you mean 'Europe/Berlin'?",
    ),
    ({trigger(3, "timezone"): "localtime"}, "triggers[3].timezone", "not an IANA time zone"),
    (
        {trigger(3, "flexible_window_minutes"): 1441},
        "triggers[3].flexible_window_minutes",
        "less than or equal to 1440",
    ),
    ({trigger(3, "retry_attempts"): 186}, "triggers[3].retry_attempts", "at most 185 times"),
    (
        {trigger(3, "maximum_event_age_seconds"): 59},
        "triggers[3].maximum_event_age_seconds",
        "greater than or equal to 60",
    ),
    (
        {trigger(3, "maximum_event_age_seconds"): 86_401},
        "triggers[3].maximum_event_age_seconds",
        "less than or equal to 86400",
    ),
    ({trigger(3, "on_failure"): "jobs"}, "triggers[3].on_failure", "a FIFO queue cannot receive"),
    # Buckets and rules.
    ({trigger(4, "prefix"): ""}, "triggers[4].prefix", "1-1024 bytes"),
    ({trigger(4, "suffix"): "é" * 513}, "triggers[4].suffix", "1-1024 bytes"),
    ({trigger(4, "retry_attempts"): 186}, "triggers[4].retry_attempts", "at most 185 times"),
    ({trigger(5, "rule"): {}}, "triggers[5].rule", "an empty event pattern matches every event"),
    (
        {trigger(5, "rule"): {"detail": {"state": "x"}}},
        "triggers[5].rule",
        "detail.state: an event pattern takes",
    ),
    (
        {trigger(5, "rule"): {"detail": {}}},
        "triggers[5].rule",
        "detail: an empty table matches nothing",
    ),
    ({trigger(5, "rule"): {"source": ["s" * 2040]}}, "triggers[5].rule", "EventBridge allows 2048"),
    # Identities.
    (
        {
            "triggers": [
                {"function": "worker", "bucket": "assets", "prefix": "a/"},
                {"function": "worker", "bucket": "assets", "prefix": "b/"},
            ]
        },
        "triggers[1]",
        "the same trigger as triggers[0] ('worker-bucket-assets'): set `name`",
    ),
    (
        {
            "triggers": [
                {"function": "worker", "queue": "orders", "name": "same"},
                {"function": "worker", "topic": "alerts", "name": "same"},
            ]
        },
        "triggers[1]",
        "the same trigger as triggers[0] ('same')",
    ),
    (
        {
            "project": "p" * 20,
            "env": "e" * 5,
            "functions.worker.name": "w",
            "load_balancer.name": "lb",
            "functions.a2345678901234567890": {"source_dir": "lambda"},
            "buckets.b2345678901234567890": {"name": "a-bucket-of-mine"},
            "triggers": [{"function": "a2345678901234567890", "bucket": "b2345678901234567890"}],
        },
        "triggers[0].name",
        "75 characters; AWS allows 64: set a shorter `name`",
    ),
    # The variables a grant adds count against Lambda's 4 KB.
    (
        {
            "functions.worker.environment": {"NOTES": "n" * 4000},
            "functions.worker.grants": {
                "queues": {"orders": "send"},
                "topics": {"alerts": "publish"},
            },
        },
        "functions.worker.environment",
        "QUEUE_<KEY>_URL and TOPIC_<KEY>_ARN",
    ),
    (
        {"functions.worker.environment": {"QUEUE_ORDERS_URL": "x"}},
        "functions.worker.environment.QUEUE_ORDERS_URL",
        "has the shape of the stack's",
    ),
    (
        {"functions.worker.environment": {"TOPIC_A_ARN": "x"}},
        "functions.worker.environment.TOPIC_A_ARN",
        "has the shape of the stack's",
    ),
]


@pytest.mark.parametrize(("changes", "location", "fragment"), RULES)
def test_rule_reports_the_key_and_the_value(tmp_path, changes, location, fragment):
    path = write_config(tmp_path, events_with(changes))
    problems = problems_of(path)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{path}: {location}: "), problems[0]
    assert fragment in problems[0], problems[0]


ACCEPTED_BY_AWS = {
    "every source once": {},
    "cron with names, ranges, lists and steps": {
        trigger(3, "schedule"): "cron(0/15 8-17 ? JAN-MAR,DEC MON-FRI 2026-2199)"
    },
    "cron on the last day and the nearest weekday": {trigger(3, "schedule"): "cron(0 0 L * ? *)"},
    "cron on a weekday near the 15th": {trigger(3, "schedule"): "cron(0 0 15W * ? *)"},
    "cron on the third Friday": {trigger(3, "schedule"): "cron(0 0 ? * 6#3 *)"},
    "cron on the last Friday": {trigger(3, "schedule"): "cron(0 0 ? * 6L *)"},
    "rate of one": {trigger(3, "schedule"): "rate(1 hour)"},
    "rate of many": {trigger(3, "schedule"): "rate(30 days)"},
    "schedule settings at their bounds": {
        trigger(3, "timezone"): "Europe/Berlin",
        trigger(3, "flexible_window_minutes"): 1440,
        trigger(3, "retry_attempts"): 0,
        trigger(3, "maximum_event_age_seconds"): 60,
        trigger(3, "on_failure"): "failed",
    },
    "FIFO batch of 10": {trigger(0, "queue"): "jobs", trigger(0, "batch_size"): 10},
    "standard batch of 10000 with a window": {
        trigger(0, "batch_size"): 10_000,
        trigger(0, "batching_window_seconds"): 1,
    },
    "visibility exactly six timeouts": {"queues.orders.visibility_timeout_seconds": 60},
    "maximum concurrency at the reservation": {
        trigger(0, "maximum_concurrency"): 5,
        "functions.worker.reserved_concurrency": 5,
    },
    "stream settings at their bounds": {
        trigger(1, "starting_position"): "TRIM_HORIZON",
        trigger(1, "bisect_on_error"): True,
        trigger(1, "retry_attempts"): 10_000,
        trigger(1, "maximum_record_age_seconds"): 604_800,
        trigger(1, "batch_size"): 10_000,
    },
    "a filter policy on the body": {
        trigger(2, "filter_policy"): {"order": {"kind": ["big"]}},
        trigger(2, "filter_policy_scope"): "MessageBody",
    },
    "two bucket triggers told apart by name": {
        "triggers": [
            {"function": "worker", "bucket": "assets", "prefix": "a/", "name": "a"},
            {"function": "worker", "bucket": "assets", "suffix": ".csv"},
        ]
    },
    "a nested event pattern with hyphenated keys": {
        trigger(5, "rule"): {
            "detail-type": ["Object Created"],
            "detail": {"size": [{"numeric": [">", 0]}]},
        }
    },
    "produce grants": {
        "functions.hello.grants.queues": {"orders": "send", "jobs": "send"},
        "functions.hello.grants.topics": {"alerts": "publish"},
    },
    "a queue and a topic nobody uses": {"triggers": []},
    # Their dead-letter queues differ: `<function>-dlq` and `<queue>-dead-letters`.
    "a function and a queue of the same key": {"functions.orders": {"source_dir": "lambda"}},
    "the longest prefix and trigger name": {
        "project": "p" * 20,
        "env": "e" * 5,
        "functions.worker.name": "w",
        "load_balancer.name": "lb",
        # A rule's: a schedule's role adds `-scheduler` (tests/test_stack_eventbridge.py).
        trigger(5, "name"): "n" * 32,
    },
}


@pytest.mark.parametrize("changes", ACCEPTED_BY_AWS.values(), ids=list(ACCEPTED_BY_AWS))
def test_values_aws_accepts_pass(tmp_path, changes):
    load_config(write_config(tmp_path, events_with(changes)))


def test_each_source_gets_its_own_defaults(tmp_path):
    config = load_config(write_config(tmp_path, events_with({})))
    queue, table, topic, schedule, bucket, rule = config.triggers
    assert (queue.batch_size, queue.batching_window_seconds, queue.report_batch_item_failures) == (
        10,
        0,
        True,
    )
    assert queue.maximum_concurrency is None and queue.retry_attempts is None
    assert (table.batch_size, table.starting_position, table.bisect_on_error) == (
        100,
        "LATEST",
        False,
    )
    assert (table.retry_attempts, table.maximum_record_age_seconds) == (None, None)
    assert (topic.filter_policy, topic.batch_size) == (None, None)
    assert (schedule.timezone, schedule.flexible_window_minutes) == ("UTC", 0)
    for each in (schedule, bucket, rule):
        assert (each.retry_attempts, each.maximum_event_age_seconds) == (185, 86_400)
    assert (bucket.timezone, rule.batch_size) == (None, None)


def test_identities_follow_function_source_and_key_or_name_whatever_the_order(tmp_path):
    data = events_with({})
    identities = [each.identity for each in load_config(write_config(tmp_path, data)).triggers]
    assert identities == [
        "worker-queue-orders",
        "worker-table-requests",
        "worker-topic-alerts",
        "nightly",
        "worker-bucket-assets",
        "placed",
    ]
    data["triggers"].reverse()
    reordered = load_config(write_config(tmp_path, data, name="reordered.toml")).triggers
    assert [each.identity for each in reordered] == identities[::-1]


def test_visibility_timeout_is_six_consumer_timeouts_unless_set(tmp_path):
    changes = {"functions.worker.timeout_s": 900, "queues.spare": {}}
    config = load_config(write_config(tmp_path, events_with(changes)))
    assert visibility_timeout(config, "orders") == 5400
    assert visibility_timeout(config, "spare") == 30  # no consumer: SQS's default
    assert visibility_timeout(config, "jobs") == 30
    changes["queues.orders.visibility_timeout_seconds"] = 43_200
    config = load_config(write_config(tmp_path, events_with(changes)))
    assert visibility_timeout(config, "orders") == 43_200


def test_every_problem_of_the_triggers_is_reported_at_once(tmp_path):
    changes = {
        trigger(1, "table"): "request",
        trigger(2, "function"): "wroker",
        "queues.orders.visibility_timeout_seconds": 1,
        "functions.hello.grants.topics": {"alert": "publish"},
    }
    problems = problems_of(write_config(tmp_path, events_with(changes)))
    assert [line.split(": ")[1] for line in problems] == [
        "triggers[1].table",
        "triggers[2].function",
        "queues.orders.visibility_timeout_seconds",
        "functions.hello.grants.topics.alert",
    ]


def test_check_prints_one_line_and_exits_2(tmp_path):
    path = write_config(tmp_path, events_with({trigger(3, "schedule"): "cron(0 3 * * * *)"}))
    result = run_main("--check", "--config", str(path))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"{path}: triggers[3].schedule: exactly one of day-of-month and day-of-week must be ? "
        "(the other says the days) (given: 'cron(0 3 * * * *)')"
    ]
    assert "Traceback" not in result.stderr
