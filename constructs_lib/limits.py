"""AWS limits and facts that both the constructs and the configuration checks enforce, stated
once. Standard library only: `--check` imports this module without loading cdktf or the
AWS provider bindings.
"""

from __future__ import annotations

import math
import re

# CloudWatch alarms on standard-resolution metrics: a period of 60 s or a multiple of it
# (Lambda, API Gateway, ELB and SQS publish every 60 s), evaluation periods x period at most
# one day.
ALARM_MIN_PERIOD_S = 60
ALARM_MAX_EVALUATION_SECONDS = 24 * 3600
# CloudWatch: an alarm on a metric math expression references at most 10 metrics (a hard
# limit, "Limits that apply to alarms based on metric math expressions", 2026-11-28).
ALARM_MAX_METRICS = 10
# CodeDeploy: at most 10 alarms per deployment group (AlarmConfiguration, 2026-11-28).
DEPLOYMENT_GROUP_MAX_ALARMS = 10


def metric_alarms_needed(metrics: int) -> int:
    """How many alarms watch `metrics` metrics when each reads at most ALARM_MAX_METRICS."""
    return math.ceil(metrics / ALARM_MAX_METRICS)


# Lambda, API Gateway and ELB publish one datapoint per minute, which reaches CloudWatch about
# a minute later: an alarm sees a failing minute one period after it ended, at the earliest.
METRIC_DELAY_S = 60

# CodeDeploy's predefined Lambda configurations shift 10 % and wait (Canary10Percent<N>Minutes),
# or add 10 % every N minutes until 100 % (Linear10PercentEvery<N>Minute(s)): ten steps, the
# last of which ends the deployment, so the new version serves part of the traffic for nine
# intervals. AllAtOnce shifts everything at once and ends: no alarm is ever evaluated.
_CANARY = re.compile(r"Canary10Percent(\d+)Minutes")
_LINEAR = re.compile(r"Linear10PercentEvery(\d+)Minutes?")
LINEAR_PARTIAL_STEPS = 9


def watched_seconds(strategy: str) -> int:
    """How long CodeDeploy watches the rollback alarms while the new version serves part of
    the traffic: the canary's interval, nine linear steps, 0 for AllAtOnce."""
    if strategy == "AllAtOnce":
        return 0
    if canary := _CANARY.fullmatch(strategy):
        return int(canary[1]) * 60
    if linear := _LINEAR.fullmatch(strategy):
        return int(linear[1]) * 60 * LINEAR_PARTIAL_STEPS
    raise ValueError(f"not a CodeDeploy Lambda strategy: {strategy!r}")


def alarm_window_problem(strategy: str, window_s: int) -> str | None:
    """Why alarms evaluating `window_s` seconds (period x evaluation periods) cannot stop a
    release with `strategy`, or None. The whole window, plus the minute the metrics take to arrive,
    must lie inside the time the new version serves part of the traffic: the alarm then
    judges only minutes in which the new version had its share, and it can reach its M
    breaching periods (M <= N) before the last shift, after which CodeDeploy stops watching.
    AllAtOnce watches nothing, so any window is allowed (and no alarm can roll it back)."""
    watched = watched_seconds(strategy)
    needed = window_s + METRIC_DELAY_S
    if watched and needed > watched:
        return (
            f"the alarm window ({window_s} s) plus the {METRIC_DELAY_S} s the metrics take to "
            f"arrive exceeds the {watched} s during which {strategy} watches the alarms"
        )
    return None


# WAF rate-based rules ("Rate-based rule high-level settings", 2026-11-28): requests per
# aggregation instance (here: per client IP) in the evaluation window.
WAF_RATE_LIMIT_MIN = 10
WAF_RATE_LIMIT_MAX = 2_000_000_000
WAF_RATE_WINDOWS_S = (60, 120, 300, 600)
# WAF: the regular expression of a regex match statement, at most this many characters.
WAF_REGEX_MAX_LENGTH = 512
# The AWS managed rule group whose cross-site-scripting rules `markup paths` scope.
WAF_COMMON_RULE_SET = "AWSManagedRulesCommonRuleSet"


# Lambda SnapStart (docs.aws.amazon.com/lambda/latest/dg/snapstart.html, "Supported features and
# limitations" and "Supported Regions", checked 2026-12-06): Python 3.12 and later among the
# Python runtimes; not together with provisioned concurrency, Amazon EFS or more than 512 MB of
# ephemeral storage (the constructs configure neither: 512 MB, no EFS); published versions and
# aliases to them only, never $LATEST; every commercial Region but Asia Pacific (New Zealand)
# and Asia Pacific (Taipei).
SNAP_START_MIN_PYTHON = (3, 12)
SNAP_START_UNSUPPORTED_REGIONS = ("ap-southeast-6", "ap-east-2")


def snap_start_runtime_problem(runtime: str) -> str | None:
    """Why SnapStart cannot be used with `runtime` ("python3.11"), or None."""
    version = tuple(int(part) for part in re.findall(r"\d+", runtime)[:2])
    if runtime.startswith("python") and version >= SNAP_START_MIN_PYTHON:
        return None
    minimum = ".".join(map(str, SNAP_START_MIN_PYTHON))
    return f"SnapStart supports Python {minimum} and later, not {runtime}"


def snap_start_concurrency_problem(provisioned_concurrency: int | None) -> str | None:
    if provisioned_concurrency is None:
        return None
    return (
        "SnapStart cannot be used together with provisioned concurrency "
        f"(provisioned_concurrency = {provisioned_concurrency}): choose one"
    )


def snap_start_region_problem(region: str) -> str | None:
    if region not in SNAP_START_UNSUPPORTED_REGIONS:
        return None
    return f"SnapStart is not offered in {region}"
