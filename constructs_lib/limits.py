"""AWS limits and facts that both the constructs and the configuration checks enforce, stated
once. Standard library only: `--check` imports this module without loading cdktf or the
AWS provider bindings.
"""

from __future__ import annotations

import math
import re
from typing import Literal, get_args

# Python runtimes Lambda supports, 2026-11-28 (docs.aws.amazon.com/lambda/latest/dg/
# lambda-runtimes.html): python3.10 was deprecated on 2026-10-31 and gets no security patches.
LAMBDA_PYTHON_RUNTIMES = ("python3.11", "python3.12", "python3.13", "python3.14")
Architecture = Literal["x86_64", "arm64"]
LAMBDA_ARCHITECTURES: tuple[str, ...] = get_args(Architecture)
LAMBDA_MAX_TIMEOUT_S = 900
# API Gateway REST integrations give up after 29 s: a longer function timeout only means the
# caller gets a 504 while the function keeps running (and billing), and a p99 latency alarm
# above it never fires.
API_GATEWAY_TIMEOUT_S = 29
API_MAX_LATENCY_MS = API_GATEWAY_TIMEOUT_S * 1000

# CloudWatch alarms on standard-resolution metrics: a period of 60 s or a multiple of it
# (Lambda, API Gateway, ELB and SQS publish every 60 s), evaluation periods x period at most
# one day.
ALARM_MIN_PERIOD_S = 60
ALARM_MAX_EVALUATION_SECONDS = 24 * 3600


# SNS subscription endpoints, as the configuration checks them and the alarm topic takes them:
# an address of at most 254 characters (RFC 5321), an https:// URL of at most 2048.
EMAIL_ADDRESS_PATTERN = r"(?=.{3,254}$)[^@\s]+@[^@\s]+\.[A-Za-z]{2,63}"
EMAIL_ADDRESS_REQUIREMENT = "an email address (at most 254 characters)"
HTTPS_URL_PATTERN = r"(?=.{9,2048}$)https://[^\s/]+(?:/\S*)?"
HTTPS_URL_REQUIREMENT = "an https:// URL of at most 2048 characters"


def alarm_period_problem(period_s: int) -> str | None:
    if period_s < ALARM_MIN_PERIOD_S or period_s % ALARM_MIN_PERIOD_S:
        return f"must be a multiple of {ALARM_MIN_PERIOD_S}"
    return None


def alarm_evaluation_problem(period_s: int, evaluation_periods: int) -> str | None:
    """Why `evaluation_periods` periods of `period_s` are no alarm window, or None."""
    if evaluation_periods < 1:
        return "must be at least 1"
    if period_s * evaluation_periods > ALARM_MAX_EVALUATION_SECONDS:
        return f"period_s x evaluation_periods exceeds {ALARM_MAX_EVALUATION_SECONDS} s"
    return None


def datapoints_to_alarm_problem(datapoints_to_alarm: int, evaluation_periods: int) -> str | None:
    """M of N: at least one of the evaluation periods, at most all of them."""
    if not 1 <= datapoints_to_alarm <= evaluation_periods:
        return "must be at least 1" if datapoints_to_alarm < 1 else "at most evaluation_periods"
    return None


# CloudWatch: an alarm on a metric math expression references at most 10 metrics (a hard
# limit, "Limits that apply to alarms based on metric math expressions", 2026-11-28).
ALARM_MAX_METRICS = 10
# CloudWatch alarm names: at most 255 characters (PutMetricAlarm). The longest name the stack
# derives from the API's name is its latency alarm's.
ALARM_NAME_MAX = 255
API_LATENCY_ALARM_SUFFIX = "-latency-p99"
API_NAME_MAX = ALARM_NAME_MAX - len(API_LATENCY_ALARM_SUFFIX)
# CodeDeploy: at most 10 alarms per deployment group (AlarmConfiguration, 2026-11-28).
DEPLOYMENT_GROUP_MAX_ALARMS = 10


def metric_alarms_needed(metrics: int) -> int:
    """How many alarms watch `metrics` metrics when each reads at most ALARM_MAX_METRICS."""
    return math.ceil(metrics / ALARM_MAX_METRICS)


# Lambda, API Gateway and ELB publish one datapoint per minute, which reaches CloudWatch about
# a minute later: an alarm sees a failing minute one period after it ended, at the earliest.
METRIC_DELAY_S = 60

# CodeDeploy's predefined Lambda deployment configurations, by the short name the
# configuration and the props take (`CodeDeployDefault.Lambda<name>`, 2026-11-28).
RELEASE_STRATEGIES = (
    "AllAtOnce",
    "Canary10Percent5Minutes",
    "Canary10Percent10Minutes",
    "Canary10Percent15Minutes",
    "Canary10Percent30Minutes",
    "Linear10PercentEvery1Minute",
    "Linear10PercentEvery2Minutes",
    "Linear10PercentEvery3Minutes",
    "Linear10PercentEvery10Minutes",
)


def deployment_config_name(strategy: str) -> str:
    """CodeDeploy's name of a predefined configuration in RELEASE_STRATEGIES."""
    if strategy not in RELEASE_STRATEGIES:
        raise ValueError(f"not a CodeDeploy Lambda strategy: {strategy!r}")
    return f"CodeDeployDefault.Lambda{strategy}"


# The predefined Lambda configurations shift 10 % and wait (Canary10Percent<N>Minutes),
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


# Secrets: a function reads the SSM parameter named in its `SECRET_<NAME>` variable; names are
# lower_snake_case, as the handler asks for them. At most 20 per function (the 4 KB environment
# binds first anyway).
SECRET_VARIABLE_PREFIX = "SECRET_"
SECRET_NAME_PATTERN = r"[a-z][a-z0-9_]{0,63}"
MAX_SECRETS_PER_FUNCTION = 20
# Parameter Store names: at most 2048 characters with the path, letters, digits and `_.-`,
# levels separated by `/`, at most 15 levels; names starting with "aws" or "ssm" are AWS's.
SSM_PARAMETER_NAME_MAX = 2048
SSM_MAX_HIERARCHY_LEVELS = 15
_SSM_PARAMETER_NAME = re.compile(r"/?[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)*")
_SSM_RESERVED_PREFIXES = ("aws", "ssm")


def ssm_parameter_name_problem(name: str) -> str | None:
    """Why Parameter Store would refuse `name`, or None."""
    if len(name) > SSM_PARAMETER_NAME_MAX or not _SSM_PARAMETER_NAME.fullmatch(name):
        return (
            f"must be an SSM parameter name: at most {SSM_PARAMETER_NAME_MAX} letters, digits "
            "or `_.-`, levels separated by `/`"
        )
    if name.count("/") > SSM_MAX_HIERARCHY_LEVELS:
        return f"at most {SSM_MAX_HIERARCHY_LEVELS} levels of hierarchy"
    if name.lstrip("/").lower().startswith(_SSM_RESERVED_PREFIXES):
        return "names starting with aws or ssm are reserved by AWS"
    return None


# What a VPC flow log records (EC2 CreateFlowLogs, `TrafficType`): every connection, the
# accepted ones or only those a security group or network ACL rejected.
FlowLogTraffic = Literal["ALL", "ACCEPT", "REJECT"]

# HTTP APIs (API Gateway v2), "Quotas for configuring and running an HTTP API" and the v2 API
# reference, checked 2026-12-06. The stack serves the `$default` stage: it answers at the
# URL's root and is the only stage AWS lets auto-deploy without a name in the path.
HTTP_API_DEFAULT_STAGE = "$default"
# Lambda integrations and Lambda authorizers receive the 2.0 event shape.
HTTP_API_PAYLOAD_FORMAT = "2.0"
HTTP_API_MAX_AUTHORIZERS = 10
HTTP_API_MAX_AUDIENCES = 50
HTTP_API_MAX_SCOPES = 10
