"""`[logs]`, `[alarms]` and `[releases]`: what the stack keeps, watches and how it ships a
new version."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated

from pydantic import Field

from constructs_lib.limits import (
    ALARM_MAX_EVALUATION_SECONDS,
    ALARM_MAX_METRICS,
    ALARM_MIN_PERIOD_S,
    API_MAX_LATENCY_MS,
    DEPLOYMENT_GROUP_MAX_ALARMS,
    RELEASE_STRATEGIES,
    alarm_evaluation_problem,
    alarm_period_problem,
    datapoints_to_alarm_problem,
    metric_alarms_needed,
)
from serverless_app.config.aws_facts import LOG_RETENTION_DAYS
from serverless_app.config.base import StrictModel, rule
from serverless_app.config.problems import Problem
from serverless_app.config.rules import EmailAddress, HttpsUrl, SnsTopicName, one_of

if TYPE_CHECKING:
    from serverless_app.config.environment import StackConfig


class LogsConfig(StrictModel):
    # Applies to every log group the stack creates (function, API access, VPC flow logs).
    retention_days: Annotated[int, one_of(LOG_RETENTION_DAYS, "a CloudWatch Logs retention")] = (
        Field(
            default=365,
            description=(
                f"for every log group the stack creates (function, API access and execution, "
                f"WAF, VPC flow logs); one of CloudWatch's values: "
                f"{', '.join(map(str, LOG_RETENTION_DAYS))}; below 365 the security gate lets "
                f"this environment's log groups fail `CKV_AWS_338`"
            ),
        )
    )


class AlarmsConfig(StrictModel):
    """CloudWatch alarms on the function, the API and the load balancer, sent (ALARM and OK)
    to one encrypted SNS topic (`topic_name`), plus a dashboard `<project>-<env>`."""

    topic_name: SnsTopicName = Field(
        description=(
            "the alarm topic; a new name replaces the topic and its confirmed subscriptions "
            "(see CHANGELOG.md before an upgrade); unique"
        ),
        json_schema_extra={"default_text": "`<project>-<env>-alarms`"},
    )
    email: list[EmailAddress] = Field(
        default_factory=list,
        description="addresses subscribed to the topic; each must confirm by email first",
    )
    https: list[HttpsUrl] = Field(
        default_factory=list,
        description="https:// endpoints (an incident tool's webhook); each must confirm first",
    )
    period_s: Annotated[int, Field(ge=ALARM_MIN_PERIOD_S, le=ALARM_MAX_EVALUATION_SECONDS)] = Field(
        default=60,
        description="a multiple of 60 (the metrics are published every minute)",
    )
    evaluation_periods: Annotated[
        int, Field(ge=1, le=ALARM_MAX_EVALUATION_SECONDS // ALARM_MIN_PERIOD_S)
    ] = Field(
        default=3,
        description=(
            "`period_s` x this at most one day (CloudWatch); with a canary or linear "
            "`releases.strategy`, `period_s` x this + 60 s (metric delay) at most the time "
            "the strategy watches the alarms (its canary interval; nine linear steps)"
        ),
    )
    datapoints_to_alarm: Annotated[int, Field(ge=1)] = Field(
        default=2, description="of the evaluation periods, how many must breach (M of N)"
    )
    # Counts per period; CloudWatch sets no maximum: 1,000,000 is a sanity bound.
    function_errors: Annotated[int, Field(ge=1, le=1_000_000)] = Field(
        default=1, description="function errors per period (sanity bound 1,000,000)"
    )
    function_throttles: Annotated[int, Field(ge=1, le=1_000_000)] = Field(
        default=1, description="throttled invocations per period (sanity bound 1,000,000)"
    )
    duration_p99_timeout_ratio: Annotated[float, Field(gt=0, le=1)] = Field(
        default=0.8, description="p99 duration as a share of the function's `timeout_s`"
    )
    function_server_error_rate: Annotated[float, Field(gt=0, le=1)] = Field(
        default=0.05,
        description=(
            "share of a function's own answers that are 5XX (the request metric it emits, "
            "every version); stops a release"
        ),
    )
    api_server_error_rate: Annotated[float, Field(gt=0, le=1)] = Field(
        default=0.05,
        description="share of 5XX answers on the worst of a function's API routes; stops a release",
    )
    api_latency_p99_ms: Annotated[int, Field(ge=1, le=API_MAX_LATENCY_MS)] = Field(
        default=3000, description="API p99 latency; API Gateway gives up at 29 s"
    )
    load_balancer_server_error_rate: Annotated[float, Field(gt=0, le=1)] = Field(
        default=0.05,
        description=(
            "share of a target group's requests that fail 5XX (function answers, crashes, "
            "timeouts, invalid responses; stops a release), and of all requests the load "
            "balancer answers 5XX itself"
        ),
    )

    @rule("period_s")
    def _whole_minutes(self) -> Iterator[Problem]:
        if (problem := alarm_period_problem(self.period_s)) is not None:
            yield Problem(("period_s",), problem, self.period_s)

    @rule("period_s", "evaluation_periods")
    def _window_within_a_day(self) -> Iterator[Problem]:
        if (
            problem := alarm_evaluation_problem(self.period_s, self.evaluation_periods)
        ) is not None:
            yield Problem(("evaluation_periods",), problem, self.evaluation_periods)

    @rule("datapoints_to_alarm", "evaluation_periods")
    def _datapoints_within_the_window(self) -> Iterator[Problem]:
        problem = datapoints_to_alarm_problem(self.datapoints_to_alarm, self.evaluation_periods)
        if problem is not None:
            yield Problem(("datapoints_to_alarm",), problem, self.datapoints_to_alarm)


class ReleasesConfig(StrictModel):
    """How CodeDeploy shifts the `live` alias to a new version (`scripts/release.py`)."""

    strategy: Annotated[str, one_of(RELEASE_STRATEGIES, "a CodeDeploy Lambda strategy")] = Field(
        default="Canary10Percent5Minutes",
        description=(
            f"one of {', '.join(RELEASE_STRATEGIES)}; the function's rollback alarms stop a "
            "release and roll it back while the new version has part of the traffic (never "
            "with AllAtOnce)"
        ),
    )


# The alarms the stack puts in every function's deployment group besides those that read its
# routes: its errors, p99 duration and share of 5XX answers (serverless_app/stack.py).
FUNCTION_ROLLBACK_ALARMS = 3


def _rollback_alarm_count(config: StackConfig, key: str) -> int:
    """The alarms that stop a release of function `key`: its own, one per ALARM_MAX_METRICS
    of its API routes (an alarm reads one metric per route), its target group's if it has
    one."""
    routes = config.routes_of(key)
    on_load_balancer = any(route.load_balancer for route in routes)
    return FUNCTION_ROLLBACK_ALARMS + metric_alarms_needed(len(routes)) + on_load_balancer


def rollback_alarm_problems(config: StackConfig) -> Iterator[Problem]:
    for key in config.functions:
        count = _rollback_alarm_count(config, key)
        if count > DEPLOYMENT_GROUP_MAX_ALARMS:
            message = (
                f"its releases would stop on {count} alarms, CodeDeploy takes "
                f"{DEPLOYMENT_GROUP_MAX_ALARMS}: {FUNCTION_ROLLBACK_ALARMS} of its own, one per "
                f"{ALARM_MAX_METRICS} of its API routes (CloudWatch reads {ALARM_MAX_METRICS} "
                "metrics per alarm) and its target group's; send fewer routes to it (one greedy "
                "{proxy+} route serves many paths)"
            )
            yield Problem(("functions", key), message, len(config.routes_of(key)))
