"""Alarms that page someone, the ones that stop a bad release, and a dashboard per environment.

Every alarm sends both ALARM and OK to one SNS topic encrypted with the stack's key (the key
policy must let CloudWatch use it: `StackKey.allow_cloudwatch_alarms`). Subscriptions by email
must be confirmed by their owner before they receive anything.

Each `watch_*` method returns the alarms it made in two lists: `rollback`, what a bad release
of the watched function sets off (its deployment group stops on them), and `paging`, the rest
(capacity, queues, the whole API or load balancer), which page but never roll back. Every
alarm's description says what it watches, what fires it and what to do: the runbook line
docs/operating.md repeats in its alarm table.

A function reports the answers it handled itself (status 5XX without an exception, invisible
to Lambda's Errors) as an embedded-metric-format record per request: namespace
`REQUEST_METRICS_NAMESPACE`, metric `SERVER_ERROR_METRIC` (1 for a 5XX answer, else 0, so its
Average is the share of 5XX answers), dimension sets `[FunctionName]` and
`[FunctionName, ExecutedVersion]`. The alarm watches the first (every version: the new one's
failures show there during a canary); the dashboard graphs the second, version by version.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from cdktf_cdktf_provider_aws.cloudwatch_dashboard import CloudwatchDashboard
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import (
    CloudwatchMetricAlarm,
    CloudwatchMetricAlarmMetricQuery,
    CloudwatchMetricAlarmMetricQueryMetric,
)
from cdktf_cdktf_provider_aws.lb_target_group import LbTargetGroup
from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from cdktf_cdktf_provider_aws.sns_topic_subscription import SnsTopicSubscription
from constructs import Construct

from constructs_lib.apigw import LambdaRestApi
from constructs_lib.lambda_function import ServerlessFunction
from constructs_lib.limits import (
    ALARM_MAX_METRICS,
    ALARM_MIN_PERIOD_S,
    API_LATENCY_ALARM_SUFFIX,
    API_MAX_LATENCY_MS,
    LAMBDA_MAX_TIMEOUT_S,
    alarm_evaluation_problem,
    alarm_period_problem,
    datapoints_to_alarm_problem,
)
from constructs_lib.load_balancer import FunctionLoadBalancer
from constructs_lib.routes import Route

# Lambda's maximum timeout; a duration alarm above it could never fire.
MAX_FUNCTION_TIMEOUT_MS = LAMBDA_MAX_TIMEOUT_S * 1000
# The request metric functions emit (see the module docstring); lambda/app.py and the
# functions/ examples spell the same names (they cannot import this package).
REQUEST_METRICS_NAMESPACE = "ServerlessApp/Requests"
SERVER_ERROR_METRIC = "ServerError"
# An alarm-status widget lists at most 100 alarms.
ALARMS_PER_STATUS_WIDGET = 100
DASHBOARD_WIDTH = 24
WIDGET_WIDTH = 12
WIDGET_HEIGHT = 6


@dataclass(frozen=True)
class AlarmWindow:
    """How long a metric is watched before an alarm fires: M of N periods breaching."""

    period_s: int = 60
    evaluation_periods: int = 3
    # Of the evaluation periods, how many must breach (M of N).
    datapoints_to_alarm: int = 2

    def _check_window(self, name: str) -> None:
        problems = {
            "period_s": alarm_period_problem(self.period_s),
            "evaluation_periods": alarm_evaluation_problem(self.period_s, self.evaluation_periods),
            "datapoints_to_alarm": datapoints_to_alarm_problem(
                self.datapoints_to_alarm, self.evaluation_periods
            ),
        }
        for key, problem in problems.items():
            if problem is not None:
                raise ValueError(f"{name}: {key} {getattr(self, key)}: {problem}")

    @property
    def window(self) -> AlarmWindow:
        return AlarmWindow(self.period_s, self.evaluation_periods, self.datapoints_to_alarm)

    def describe(self) -> str:
        return (
            f"in {self.datapoints_to_alarm} of {self.evaluation_periods} periods of "
            f"{self.period_s} s"
        )


def _check_rate(name: str, rate: float | None) -> None:
    if rate is not None and not 0 < rate <= 1:
        raise ValueError(f"{name} must be in (0, 1], got {rate}")


@dataclass(frozen=True)
class FunctionAlarmProps(AlarmWindow):
    # Errors (Sum) per period at or above which the alarm fires.
    errors_threshold: int = 1
    # Throttled invocations (Sum) per period.
    throttles_threshold: int = 1
    # p99 duration as a share of the function's timeout: 0.8 pages before requests time out.
    duration_p99_timeout_ratio: float = 0.8
    # Messages waiting in the dead-letter queue: any failed asynchronous event needs a human.
    dead_letter_messages_threshold: int = 1
    # Share of the function's answers that are 5XX (its request metric, see the module
    # docstring). None: the function does not emit the metric, and no alarm watches it.
    server_error_rate: float | None = None

    def __post_init__(self) -> None:
        self._check_window("function alarms")
        for name in ("errors_threshold", "throttles_threshold", "dead_letter_messages_threshold"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not 0 < self.duration_p99_timeout_ratio <= 1:
            raise ValueError("duration_p99_timeout_ratio must be in (0, 1]")
        _check_rate("server_error_rate", self.server_error_rate)


@dataclass(frozen=True)
class ApiAlarmProps(AlarmWindow):
    # Share of a route's requests answered 5XX (5XXError's Average) at or above which the
    # alarm on the function behind it fires.
    server_error_rate: float = 0.05
    latency_p99_ms: int = 3000

    def __post_init__(self) -> None:
        self._check_window("API alarms")
        _check_rate("server_error_rate", self.server_error_rate)
        if not 1 <= self.latency_p99_ms <= API_MAX_LATENCY_MS:
            raise ValueError(f"latency_p99_ms must be between 1 and {API_MAX_LATENCY_MS}")


@dataclass(frozen=True)
class LoadBalancerAlarmProps(AlarmWindow):
    # Share of requests that fail with a 5XX (from the function, or from the load balancer on
    # its behalf) at or above which the alarm fires.
    server_error_rate: float = 0.05

    def __post_init__(self) -> None:
        self._check_window("load balancer alarms")
        _check_rate("server_error_rate", self.server_error_rate)


@dataclass(frozen=True)
class MonitoringProps:
    # Names the topic (`<name>-alarms`) and the dashboard, e.g. the environment. Alarms are
    # named after what they watch, whose names carry the environment already.
    name: str
    region: str
    kms_key_arn: str
    email_subscribers: Sequence[str] = ()
    # The alarm topic's name; None names it `<name>-alarms`. Renaming replaces the topic and
    # drops its confirmed subscriptions.
    topic_name: str | None = None
    # HTTPS endpoints (an incident tool's webhook); they must confirm the subscription.
    https_subscribers: Sequence[str] = ()

    def __post_init__(self) -> None:
        for endpoint in self.https_subscribers:
            if not endpoint.startswith("https://"):
                raise ValueError(f"https_subscribers must be https:// URLs, got {endpoint!r}")
        for address in self.email_subscribers:
            if "@" not in address:
                raise ValueError(f"email_subscribers must be addresses, got {address!r}")


@dataclass(frozen=True)
class AlarmKind:
    """One kind of alarm: its name suffix, its title and its runbook line (the alarm's
    description and the row of docs/operating.md's alarm table)."""

    suffix: str
    title: str
    fires_when: str
    what_to_do: str


ERRORS = AlarmKind(
    "-errors",
    "failed invocations",
    "the function raised, timed out, ran out of memory or failed to start (AWS/Lambda Errors)",
    "during a release CodeDeploy rolls back by itself; otherwise search the function's log "
    "group for Traceback or Task timed out, and roll back by hand if a release caused it",
)
THROTTLES = AlarmKind(
    "-throttles",
    "throttled invocations",
    "Lambda refused invocations: the function's reserved concurrency or the account's "
    "concurrency quota is used up (AWS/Lambda Throttles)",
    "check ConcurrentExecutions; raise reserved_concurrency or the account quota, or find "
    "what made invocations longer or more frequent",
)
DURATION = AlarmKind(
    "-duration-p99",
    "p99 duration near the timeout",
    "the slowest 1 % of invocations take longer than the threshold, a share of timeout_s "
    "(AWS/Lambda Duration p99)",
    "open the X-Ray traces of slow requests: a slow dependency or a slower release (which "
    "rolls back by itself); otherwise fix the call or raise timeout_s or memory_mb",
)
DEAD_LETTERS = AlarmKind(
    "-dead-letters",
    "events in the dead-letter queue",
    "an asynchronous invocation (invocation type Event: S3, SNS or EventBridge triggers) "
    "failed every retry; the API and the load balancer invoke synchronously, so their "
    "requests never reach the queue (AWS/SQS ApproximateNumberOfMessagesVisible)",
    "read the messages (aws sqs receive-message) to see the failed events, fix the cause, "
    "then send them again or delete them",
)
SERVER_ERRORS = AlarmKind(
    "-server-errors",
    "answers with status 5XX",
    "the share of the function's own answers with status 5XX (a handled error: a broken code "
    f"path, a denied grant, a missing table) reaches the threshold ({REQUEST_METRICS_NAMESPACE} "
    f"{SERVER_ERROR_METRIC}, every version)",
    "read the function's log lines with level ERROR and compare the versions in the "
    "dashboard's server-error graph; a release rolls back by itself",
)
API_SERVER_ERRORS = AlarmKind(
    "-api-5xx",
    "5XX answers on its API routes",
    "the share of 5XX answers on the worst of the function's API routes reaches the "
    "threshold: its own 5XX, crashes and timeouts (502, 504), malformed proxy responses "
    "(AWS/ApiGateway 5XXError per resource and method, detailed metrics)",
    "read the API's access log (status, integrationLatency) and the function's log; a "
    "release rolls back by itself",
)
TARGET_SERVER_ERRORS = AlarmKind(
    "-5xx",
    "failed requests behind the load balancer",
    "the share of the target group's requests that fail reaches the threshold: the "
    "function answered 5XX (HTTPCode_Target_5XX_Count), crashed, timed out, was throttled "
    "or answered an invalid response (LambdaUserError), or Lambda failed (LambdaInternalError)",
    "the access log's error_reason field names the cause (LambdaUnhandled, "
    "LambdaInvalidResponse, LambdaThrottling, ...); a release rolls back by itself",
)
API_LATENCY = AlarmKind(
    API_LATENCY_ALARM_SUFFIX,
    "p99 latency",
    "the slowest 1 % of the stage's requests take longer than the threshold "
    "(AWS/ApiGateway Latency p99)",
    "compare IntegrationLatency: if it is as slow, the function or its dependencies are "
    "(see its duration alarm); otherwise API Gateway itself, check the AWS Health Dashboard",
)
LOAD_BALANCER_SERVER_ERRORS = AlarmKind(
    "-elb-5xx",
    "5XX answers from the load balancer itself",
    "the share of requests the load balancer answered 5XX on its own reaches the threshold: "
    "a Lambda target failed (502, also counted per target group), a target group has no "
    "target (503), WAF could not be reached (500) (HTTPCode_ELB_5XX_Count)",
    "the access log's error_reason field names the cause; check the target group "
    "attachments and the WAF association",
)
ALARM_KINDS = (
    ERRORS,
    THROTTLES,
    DURATION,
    DEAD_LETTERS,
    SERVER_ERRORS,
    API_SERVER_ERRORS,
    TARGET_SERVER_ERRORS,
    API_LATENCY,
    LOAD_BALANCER_SERVER_ERRORS,
)


@dataclass(frozen=True)
class Metric:
    namespace: str
    name: str
    dimensions: Mapping[str, str]
    # Sum, Average, Maximum or a percentile (p99).
    statistic: str


@dataclass(frozen=True)
class Signal:
    """What an alarm watches: one metric, or metric math over metrics by id. `expressions`
    maps ids to expressions in evaluation order; the last one is what the alarm compares."""

    metrics: Mapping[str, Metric]
    expressions: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.metrics) > ALARM_MAX_METRICS or len(self.expressions) > ALARM_MAX_METRICS:
            raise ValueError(
                f"an alarm on metric math takes at most {ALARM_MAX_METRICS} metrics and "
                f"{ALARM_MAX_METRICS} expressions, got {len(self.metrics)} and "
                f"{len(self.expressions)}"
            )
        if not self.expressions and len(self.metrics) != 1:
            raise ValueError("a signal without an expression is one metric")

    @property
    def is_share(self) -> bool:
        """A share of requests (shown as a percentage): an expression or an Average."""
        return bool(self.expressions) or next(iter(self.metrics.values())).statistic == "Average"


def failure_share(failures: Mapping[str, Metric], requests: Metric) -> Signal:
    """Failed requests over requests, period by period. Failure counts are published only
    when not zero (FILL makes them 0); the divisor is at least the failures, so the share
    stays right whether or not `requests` counts the failed ones, and a period without
    requests has no value (0 / 0), which is not breaching."""
    return Signal(
        {**failures, "requests": requests},
        {
            "failed": f"SUM(FILL([{', '.join(failures)}], 0))",
            "share": "failed / MAX(FILL([requests, failed], 0))",
        },
    )


@dataclass
class WatchedAlarms:
    # What a bad release of the watched function sets off: its deployment group stops on them.
    rollback: list[CloudwatchMetricAlarm] = field(default_factory=list)
    # The rest: capacity, queues, the whole API or load balancer. They page, never roll back.
    paging: list[CloudwatchMetricAlarm] = field(default_factory=list)


class Monitoring(Construct):
    """The alarm topic, the dashboard, and `watch_*` methods adding alarms and widgets."""

    def __init__(self, scope: Construct, id: str, props: MonitoringProps) -> None:
        super().__init__(scope, id)
        self.props = props
        self.topic = SnsTopic(
            self,
            "topic",
            name=props.topic_name or f"{props.name}-alarms",
            kms_master_key_id=props.kms_key_arn,
        )
        for index, address in enumerate(props.email_subscribers):
            SnsTopicSubscription(
                self, f"email-{index}", topic_arn=self.topic_arn, protocol="email", endpoint=address
            )
        for index, url in enumerate(props.https_subscribers):
            SnsTopicSubscription(
                self, f"https-{index}", topic_arn=self.topic_arn, protocol="https", endpoint=url
            )
        self.alarms: dict[str, CloudwatchMetricAlarm] = {}
        self._alarm_arns: list[str] = []
        self._stages: dict[LambdaRestApi, dict[str, str]] = {}
        self._widgets: list[dict[str, Any]] = []
        self.dashboard = CloudwatchDashboard(
            self, "dashboard", dashboard_name=props.name, dashboard_body=self._body()
        )

    def watch_function(
        self, function: ServerlessFunction, props: FunctionAlarmProps | None = None
    ) -> WatchedAlarms:
        """Errors, p99 duration against the timeout and (with `server_error_rate`) the
        function's own 5XX answers stop its releases; throttles and dead letters page.

        The alarms watch the whole function (every version): during a canary the new
        version's failures show up here, which is what stops the deployment."""
        props = props or FunctionAlarmProps()
        name = function.props.function_name
        function_name = function.function_name
        lambda_dimensions = {"FunctionName": function_name}
        timeout_ms = function.props.timeout_s * 1000
        duration_threshold = min(
            MAX_FUNCTION_TIMEOUT_MS, round(timeout_ms * props.duration_p99_timeout_ratio)
        )
        window = props.window
        lambda_metric = _metric_factory("AWS/Lambda", lambda_dimensions)
        self._header(f"Function {name}")
        watched = WatchedAlarms(
            rollback=[
                self._alarm(name, ERRORS, _one(lambda_metric("Errors", "Sum")),
                            props.errors_threshold, window),
                self._alarm(name, DURATION, _one(lambda_metric("Duration", "p99")),
                            duration_threshold, window, unit="ms"),
            ],
            paging=[
                self._alarm(name, THROTTLES, _one(lambda_metric("Throttles", "Sum")),
                            props.throttles_threshold, window),
                self._alarm(
                    name, DEAD_LETTERS,
                    _one(Metric("AWS/SQS", "ApproximateNumberOfMessagesVisible",
                                {"QueueName": function.dead_letter_queue.name}, "Maximum")),
                    props.dead_letter_messages_threshold, window,
                ),
            ],
        )  # fmt: skip
        if props.server_error_rate is not None:
            share = Metric(
                REQUEST_METRICS_NAMESPACE, SERVER_ERROR_METRIC, lambda_dimensions, "Average"
            )
            watched.rollback.append(
                self._alarm(name, SERVER_ERRORS, _one(share), props.server_error_rate, window)
            )
            self._graph_by_version(name, function_name)
        self._graph(f"{name}: invocations", _one(lambda_metric("Invocations", "Sum")))
        return watched

    def watch_api(self, api: LambdaRestApi, props: ApiAlarmProps | None = None) -> WatchedAlarms:
        """The stage's p99 latency (paging). Its 5XX are watched per function, on the
        function's routes (`watch_api_routes`)."""
        props = props or ApiAlarmProps()
        name = api.props.name
        dimensions = self._api_dimensions(api)
        self._header(f"API {name}")
        latency = Metric("AWS/ApiGateway", "Latency", dimensions, "p99")
        alarm = self._alarm(
            name, API_LATENCY, _one(latency), props.latency_p99_ms, props.window, unit="ms"
        )
        self._graph(f"{name}: requests", _one(Metric("AWS/ApiGateway", "Count", dimensions, "Sum")))
        return WatchedAlarms(paging=[alarm])

    def watch_api_routes(
        self,
        api: LambdaRestApi,
        name: str,
        routes: Sequence[Route],
        props: ApiAlarmProps | None = None,
    ) -> WatchedAlarms:
        """The 5XX share of the worst of `routes` (those of the function named `name`), from
        API Gateway's detailed metrics per resource and method (the API's method settings
        turn them on; the resource is the route's path in the API's OpenAPI document, the
        method its method or ANY). They stop the function's releases. An alarm reads at most
        ALARM_MAX_METRICS routes: `<name>-api-5xx` the first ten in file order,
        `<name>-api-5xx-2` the next ten, and so on."""
        if not routes:
            raise ValueError(f"{name}: watch_api_routes needs the function's routes")
        props = props or ApiAlarmProps()
        dimensions = self._api_dimensions(api)
        parts = [
            routes[start : start + ALARM_MAX_METRICS]
            for start in range(0, len(routes), ALARM_MAX_METRICS)
        ]
        alarms = []
        for number, part in enumerate(parts, start=1):
            shares = {
                f"route{index}": Metric(
                    "AWS/ApiGateway",
                    "5XXError",
                    {**dimensions, "Resource": route.path, "Method": route.method},
                    "Average",
                )
                for index, route in enumerate(part)
            }
            # A route without requests in a period has no value: FILL makes it 0, not breaching.
            signal = Signal(shares, {"worst": f"MAX(FILL([{', '.join(shares)}], 0))"})
            alarms.append(
                self._alarm(
                    name,
                    API_SERVER_ERRORS,
                    signal,
                    props.server_error_rate,
                    props.window,
                    part=number if number > 1 else None,
                )
            )
        return WatchedAlarms(rollback=alarms)

    def watch_target_group(
        self,
        load_balancer: FunctionLoadBalancer,
        group: LbTargetGroup,
        props: LoadBalancerAlarmProps | None = None,
    ) -> WatchedAlarms:
        """The share of the target group's requests that fail, whatever failed: the function's
        5XX answers, its crashes, timeouts and throttles, invalid responses. Named after the
        target group; it stops the releases of the function behind it."""
        props = props or LoadBalancerAlarmProps()
        name = _plain_name(group)
        metric = _metric_factory(
            "AWS/ApplicationELB",
            {"LoadBalancer": load_balancer.arn_suffix, "TargetGroup": group.arn_suffix},
        )
        signal = failure_share(
            {
                "target5xx": metric("HTTPCode_Target_5XX_Count", "Sum"),
                "usererror": metric("LambdaUserError", "Sum"),
                "internalerror": metric("LambdaInternalError", "Sum"),
            },
            metric("RequestCount", "Sum"),
        )
        self._header(f"Load balancer {load_balancer.props.name} -> {name}")
        alarm = self._alarm(
            name, TARGET_SERVER_ERRORS, signal, props.server_error_rate, props.window
        )
        self._graph(f"{name}: p99 response time", _one(metric("TargetResponseTime", "p99")))
        return WatchedAlarms(rollback=[alarm])

    def watch_load_balancer(
        self, load_balancer: FunctionLoadBalancer, props: LoadBalancerAlarmProps | None = None
    ) -> WatchedAlarms:
        """The share of requests the load balancer answered 5XX on its own (paging: it is
        shared by every function behind it)."""
        props = props or LoadBalancerAlarmProps()
        name = load_balancer.props.name
        metric = _metric_factory("AWS/ApplicationELB", {"LoadBalancer": load_balancer.arn_suffix})
        signal = failure_share(
            {"elb5xx": metric("HTTPCode_ELB_5XX_Count", "Sum")}, metric("RequestCount", "Sum")
        )
        self._header(f"Load balancer {name}")
        alarm = self._alarm(
            name, LOAD_BALANCER_SERVER_ERRORS, signal, props.server_error_rate, props.window
        )
        return WatchedAlarms(paging=[alarm])

    def _api_dimensions(self, api: LambdaRestApi) -> dict[str, str]:
        """The stage's dimensions, read once per API for its own alarm and each function's."""
        if api not in self._stages:
            self._stages[api] = {"ApiName": api.api.name, "Stage": api.stage_name}
        return self._stages[api]

    def _alarm(
        self,
        watched: str,
        kind: AlarmKind,
        signal: Signal,
        threshold: float,
        window: AlarmWindow,
        *,
        unit: str = "",
        part: int | None = None,
    ) -> CloudwatchMetricAlarm:
        """An alarm named `<watched><suffix>` (`-<part>` appended for the further parts of
        what one alarm cannot read alone), described by its kind's runbook line, graphed on
        the dashboard with its threshold."""
        alarm_name = f"{watched}{kind.suffix}" + (f"-{part}" if part is not None else "")
        if alarm_name in self.alarms:
            raise ValueError(f"alarm {alarm_name!r} exists already: is it watched twice?")
        limit = _threshold_text(threshold, signal, unit)
        alarm = CloudwatchMetricAlarm(
            self,
            f"alarm-{alarm_name}",
            # Named after what it watches (function, API, target group), whose name carries
            # the environment already: unique in the account and region, readable on a page.
            alarm_name=alarm_name,
            alarm_description=(
                f"{watched}{f', part {part}' if part is not None else ''}: {kind.title} at or "
                f"above {limit} {window.describe()}. "
                f"Fires when {kind.fires_when}. Do: {kind.what_to_do}."
            ),
            comparison_operator="GreaterThanOrEqualToThreshold",
            threshold=threshold,
            evaluation_periods=window.evaluation_periods,
            datapoints_to_alarm=window.datapoints_to_alarm,
            # No traffic is no failure: an idle function must not page anyone.
            treat_missing_data="notBreaching",
            actions_enabled=True,
            alarm_actions=[self.topic_arn],
            ok_actions=[self.topic_arn],
            **_alarm_signal(signal, window.period_s),
        )
        self.alarms[alarm_name] = alarm
        self._alarm_arns.append(alarm.arn)
        self._graph(f"{alarm_name}: {kind.title}", signal, threshold=threshold)
        return alarm

    def _header(self, title: str) -> None:
        self._widgets.append(
            {
                "type": "text",
                "width": DASHBOARD_WIDTH,
                "height": 1,
                "properties": {"markdown": f"## {title}"},
            }
        )

    def _graph(self, title: str, signal: Signal, *, threshold: float | None = None) -> None:
        """A graph of the signal, with a line at the alarm's threshold; the dashboard body is
        rewritten."""
        properties: dict[str, Any] = {
            "title": title,
            "region": self.props.region,
            "period": ALARM_MIN_PERIOD_S,
            "view": "timeSeries",
            "metrics": _widget_metrics(signal),
        }
        if threshold is not None:
            properties["annotations"] = {
                "horizontal": [{"label": "alarm threshold", "value": threshold}]
            }
        self._add_widget(properties)

    def _graph_by_version(self, name: str, function_name: str) -> None:
        """The function's 5XX share per executed version: during a canary, old and new side by
        side."""
        search = (
            f"SEARCH('{{{REQUEST_METRICS_NAMESPACE},ExecutedVersion,FunctionName}} "
            f'MetricName="{SERVER_ERROR_METRIC}" FunctionName="{function_name}"\', '
            f"'Average', {ALARM_MIN_PERIOD_S})"
        )
        self._add_widget(
            {
                "title": f"{name}: share of 5XX answers per version",
                "region": self.props.region,
                "period": ALARM_MIN_PERIOD_S,
                "view": "timeSeries",
                "metrics": [[{"expression": search, "id": "versions"}]],
            }
        )

    def _add_widget(self, properties: dict[str, Any]) -> None:
        self._widgets.append(
            {
                "type": "metric",
                "width": WIDGET_WIDTH,
                "height": WIDGET_HEIGHT,
                "properties": properties,
            }
        )
        self.dashboard.dashboard_body = self._body()

    def _body(self) -> str:
        if not self._widgets:  # CloudWatch refuses a dashboard without widgets
            return json.dumps(
                {
                    "widgets": [
                        {
                            "type": "text",
                            "width": DASHBOARD_WIDTH,
                            "height": 2,
                            "properties": {"markdown": f"# {self.props.name}: nothing watched"},
                        }
                    ]
                }
            )
        return json.dumps({"widgets": [*self._status_widgets(), *self._widgets]})

    def _status_widgets(self) -> list[dict[str, Any]]:
        """At the top: the state of every alarm, at most 100 per widget."""
        chunks = [
            self._alarm_arns[start : start + ALARMS_PER_STATUS_WIDGET]
            for start in range(0, len(self._alarm_arns), ALARMS_PER_STATUS_WIDGET)
        ]
        return [
            {
                "type": "alarm",
                "width": DASHBOARD_WIDTH,
                # The widget scrolls when its alarms need more room.
                "height": WIDGET_HEIGHT,
                "properties": {"title": "Alarms", "alarms": chunk},
            }
            for chunk in chunks
        ]

    @cached_property
    def topic_arn(self) -> str:
        """Read once for the subscriptions and every alarm's actions: each read is a round
        trip to the jsii kernel, for the same reference."""
        return self.topic.arn


def _metric_factory(namespace: str, dimensions: Mapping[str, str]) -> Callable[[str, str], Metric]:
    def metric(name: str, statistic: str) -> Metric:
        return Metric(namespace, name, dimensions, statistic)

    return metric


def _one(metric: Metric) -> Signal:
    return Signal({"m": metric})


def _threshold_text(threshold: float, signal: Signal, unit: str) -> str:
    """`5 %` for a share, `8000 ms` for a duration, `1` for a count."""
    if signal.is_share:
        return f"{threshold * 100:g} %"
    return f"{threshold:g} {unit}".strip()


def _alarm_signal(signal: Signal, period_s: int) -> dict[str, Any]:
    """The alarm's arguments for its signal: the metric's own fields, or metric queries."""
    if not signal.expressions:
        [metric] = signal.metrics.values()
        percentile = metric.statistic.startswith("p")
        return {
            "namespace": metric.namespace,
            "metric_name": metric.name,
            "dimensions": dict(metric.dimensions),
            "statistic": None if percentile else metric.statistic,
            "extended_statistic": metric.statistic if percentile else None,
            "period": period_s,
        }
    queries = [
        CloudwatchMetricAlarmMetricQuery(
            id=id,
            metric=CloudwatchMetricAlarmMetricQueryMetric(
                namespace=metric.namespace,
                metric_name=metric.name,
                dimensions=dict(metric.dimensions),
                stat=metric.statistic,
                period=period_s,
            ),
            return_data=False,
        )
        for id, metric in signal.metrics.items()
    ]
    last = list(signal.expressions)[-1]
    queries += [
        CloudwatchMetricAlarmMetricQuery(id=id, expression=expression, return_data=id == last)
        for id, expression in signal.expressions.items()
    ]
    return {"metric_query": queries}


def _widget_metrics(signal: Signal) -> list[list[Any]]:
    """The dashboard's form of the signal: the metric, or the expression over hidden metrics."""
    last = list(signal.expressions)[-1] if signal.expressions else None
    rows: list[list[Any]] = [
        [{"expression": expression, "id": id, "label": id, "visible": id == last}]
        for id, expression in signal.expressions.items()
    ]
    for id, metric in signal.metrics.items():
        flat = [part for pair in metric.dimensions.items() for part in pair]
        # Only the alarm's own value is drawn; the metrics behind an expression are hidden.
        options = {"id": id, "stat": metric.statistic, "visible": last is None}
        rows.append([metric.namespace, metric.name, *flat, options])
    return rows


def _plain_name(group: LbTargetGroup) -> str:
    """The name the target group was given (alarm names and construct ids need the text)."""
    name = group.name_input
    if not isinstance(name, str) or "${" in name:
        raise ValueError("watch_target_group needs target groups with a literal name")
    return name
