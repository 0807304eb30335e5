"""Alarms that page someone and a dashboard per environment.

Every alarm sends both ALARM and OK to one SNS topic encrypted with the stack's key (the key
policy must let CloudWatch use it: `StackKey.allow_cloudwatch_alarms`). Subscriptions by email
must be confirmed by their owner before they receive anything.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from cdktf_cdktf_provider_aws.cloudwatch_dashboard import CloudwatchDashboard
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from cdktf_cdktf_provider_aws.lb_target_group import LbTargetGroup
from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from cdktf_cdktf_provider_aws.sns_topic_subscription import SnsTopicSubscription
from constructs import Construct

from constructs_lib.apigw import LambdaRestApi
from constructs_lib.lambda_function import ServerlessFunction
from constructs_lib.load_balancer import FunctionLoadBalancer

# CloudWatch limits: periods of 10 s, 30 s or a multiple of 60 s for standard-resolution
# metrics (Lambda, API Gateway, ELB and SQS publish every 60 s, so 60 is the useful minimum);
# evaluation periods times period at most one day.
MIN_PERIOD_S = 60
MAX_EVALUATION_SECONDS = 24 * 3600
# Lambda's maximum timeout; a duration alarm above it could never fire.
MAX_FUNCTION_TIMEOUT_MS = 900_000
# API Gateway REST integrations time out after 29 s by default.
MAX_API_LATENCY_MS = 29_000
DASHBOARD_WIDGET_WIDTH = 12
DASHBOARD_WIDGET_HEIGHT = 6


@dataclass(frozen=True)
class AlarmWindow:
    """How long a metric is watched before an alarm fires: M of N periods breaching."""

    period_s: int = 60
    evaluation_periods: int = 5
    # Of the evaluation periods, how many must breach (M of N).
    datapoints_to_alarm: int = 3

    def _check_window(self, name: str) -> None:
        period_s, evaluation_periods = self.period_s, self.evaluation_periods
        if period_s < MIN_PERIOD_S or period_s % 60:
            raise ValueError(f"{name}: period_s must be a multiple of 60, got {period_s}")
        if evaluation_periods < 1 or period_s * evaluation_periods > MAX_EVALUATION_SECONDS:
            raise ValueError(
                f"{name}: evaluation_periods x period_s must be between {period_s} and "
                f"{MAX_EVALUATION_SECONDS} s, got {evaluation_periods} x {period_s}"
            )
        if not 1 <= self.datapoints_to_alarm <= evaluation_periods:
            raise ValueError("datapoints_to_alarm must be between 1 and evaluation_periods")

    @property
    def window(self) -> tuple[int, int, int]:
        return (self.period_s, self.evaluation_periods, self.datapoints_to_alarm)


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

    def __post_init__(self) -> None:
        self._check_window("function alarms")
        for name in ("errors_threshold", "throttles_threshold", "dead_letter_messages_threshold"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not 0 < self.duration_p99_timeout_ratio <= 1:
            raise ValueError("duration_p99_timeout_ratio must be in (0, 1]")


@dataclass(frozen=True)
class ApiAlarmProps(AlarmWindow):
    # Share of requests answered 5XX (the metric's Average) at or above which the alarm fires.
    server_error_rate: float = 0.05
    latency_p99_ms: int = 3000

    def __post_init__(self) -> None:
        self._check_window("API alarms")
        if not 0 < self.server_error_rate <= 1:
            raise ValueError("server_error_rate must be in (0, 1]")
        if not 1 <= self.latency_p99_ms <= MAX_API_LATENCY_MS:
            raise ValueError(f"latency_p99_ms must be between 1 and {MAX_API_LATENCY_MS}")


@dataclass(frozen=True)
class LoadBalancerAlarmProps(AlarmWindow):
    # Target (function) 5XX answers per period.
    target_5xx_threshold: int = 5
    # Unhealthy targets (Maximum): with one Lambda target, 1 means it is down.
    unhealthy_targets_threshold: int = 1

    def __post_init__(self) -> None:
        self._check_window("load balancer alarms")
        if self.target_5xx_threshold < 1 or self.unhealthy_targets_threshold < 1:
            raise ValueError("load balancer thresholds must be at least 1")


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
        self._widgets: list[dict[str, Any]] = []
        self.dashboard = CloudwatchDashboard(
            self, "dashboard", dashboard_name=props.name, dashboard_body=self._body()
        )

    def watch_function(
        self, function: ServerlessFunction, props: FunctionAlarmProps | None = None
    ) -> list[CloudwatchMetricAlarm]:
        """Errors, throttles, p99 duration against the timeout, and dead-letter queue depth.

        The alarms watch the whole function (every version): during a canary the new
        version's errors show up here, which is what stops the deployment."""
        props = props or FunctionAlarmProps()
        name = function.props.function_name
        dimensions = {"FunctionName": function.function_name}
        queue_dimensions = {"QueueName": function.dead_letter_queue.name}
        timeout_ms = function.props.timeout_s * 1000
        duration_threshold = min(
            MAX_FUNCTION_TIMEOUT_MS, round(timeout_ms * props.duration_p99_timeout_ratio)
        )
        window = props.window
        alarms = [
            self._alarm(
                f"{name}-errors", "AWS/Lambda", "Errors", dimensions, "Sum",
                props.errors_threshold, window, f"{name}: invocations failed",
            ),
            self._alarm(
                f"{name}-throttles", "AWS/Lambda", "Throttles", dimensions, "Sum",
                props.throttles_threshold, window, f"{name}: invocations throttled",
            ),
            self._alarm(
                f"{name}-duration-p99", "AWS/Lambda", "Duration", dimensions, "p99",
                duration_threshold, window,
                f"{name}: p99 duration near the {function.props.timeout_s} s timeout",
            ),
            self._alarm(
                f"{name}-dead-letters", "AWS/SQS", "ApproximateNumberOfMessagesVisible",
                queue_dimensions, "Maximum",
                props.dead_letter_messages_threshold, window,
                f"{name}: events in the dead-letter queue",
            ),
        ]  # fmt: skip
        self._add_widgets(
            f"Lambda {name}",
            [
                ("AWS/Lambda", "Invocations", dimensions, "Sum"),
                ("AWS/Lambda", "Errors", dimensions, "Sum"),
                ("AWS/Lambda", "Throttles", dimensions, "Sum"),
                ("AWS/Lambda", "Duration", dimensions, "p99"),
                ("AWS/SQS", "ApproximateNumberOfMessagesVisible", queue_dimensions, "Maximum"),
            ],
        )
        return alarms

    def watch_api(
        self, api: LambdaRestApi, props: ApiAlarmProps | None = None
    ) -> list[CloudwatchMetricAlarm]:
        """5XX rate and p99 latency of the API's stage."""
        props = props or ApiAlarmProps()
        name = api.props.name
        dimensions = {"ApiName": api.api.name, "Stage": api.stage_name}
        window = props.window
        alarms = [
            self._alarm(
                f"{name}-5xx-rate", "AWS/ApiGateway", "5XXError", dimensions, "Average",
                props.server_error_rate, window, f"{name}: share of 5XX answers",
            ),
            self._alarm(
                f"{name}-latency-p99", "AWS/ApiGateway", "Latency", dimensions, "p99",
                props.latency_p99_ms, window, f"{name}: p99 latency",
            ),
        ]  # fmt: skip
        self._add_widgets(
            f"API {name}",
            [
                ("AWS/ApiGateway", "Count", dimensions, "Sum"),
                ("AWS/ApiGateway", "5XXError", dimensions, "Average"),
                ("AWS/ApiGateway", "4XXError", dimensions, "Average"),
                ("AWS/ApiGateway", "Latency", dimensions, "p99"),
            ],
        )
        return alarms

    def watch_load_balancer(
        self,
        load_balancer: FunctionLoadBalancer,
        props: LoadBalancerAlarmProps | None = None,
        *,
        target_groups: Sequence[LbTargetGroup] | None = None,
    ) -> list[CloudwatchMetricAlarm]:
        """Per target group behind the load balancer: target 5XX answers and unhealthy
        targets, named after the target group (`<target group>-target-5xx`,
        `<target group>-unhealthy-targets`) and graphed under one header each.

        `target_groups`: the groups to watch; by default every function target group of the
        load balancer (`add_function_target`, so call this after it)."""
        groups = list(
            target_groups if target_groups is not None else load_balancer.target_groups.values()
        )
        if not groups:
            raise ValueError("watch_load_balancer needs a load balancer with a function target")
        props = props or LoadBalancerAlarmProps()
        alarms: list[CloudwatchMetricAlarm] = []
        for group in groups:
            alarms += self._watch_target_group(load_balancer, group, props)
        return alarms

    def _watch_target_group(
        self,
        load_balancer: FunctionLoadBalancer,
        group: LbTargetGroup,
        props: LoadBalancerAlarmProps,
    ) -> list[CloudwatchMetricAlarm]:
        name = _plain_name(group)
        dimensions = {
            "LoadBalancer": load_balancer.arn_suffix,
            "TargetGroup": group.arn_suffix,
        }
        window = props.window
        alarms = [
            self._alarm(
                f"{name}-target-5xx", "AWS/ApplicationELB", "HTTPCode_Target_5XX_Count",
                dimensions, "Sum", props.target_5xx_threshold, window,
                f"{load_balancer.props.name} -> {name}: the function answered 5XX",
            ),
            self._alarm(
                f"{name}-unhealthy-targets", "AWS/ApplicationELB", "UnHealthyHostCount",
                dimensions, "Maximum", props.unhealthy_targets_threshold, window,
                f"{load_balancer.props.name} -> {name}: unhealthy targets",
            ),
        ]  # fmt: skip
        self._add_widgets(
            f"Load balancer {load_balancer.props.name} -> {name}",
            [
                ("AWS/ApplicationELB", "RequestCount", dimensions, "Sum"),
                ("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", dimensions, "Sum"),
                ("AWS/ApplicationELB", "UnHealthyHostCount", dimensions, "Maximum"),
                ("AWS/ApplicationELB", "TargetResponseTime", dimensions, "p99"),
            ],
        )
        return alarms

    def _alarm(
        self,
        alarm_name: str,
        namespace: str,
        metric: str,
        dimensions: Mapping[str, str],
        statistic: str,
        threshold: float,
        window: tuple[int, int, int],
        description: str,
    ) -> CloudwatchMetricAlarm:
        period_s, evaluation_periods, datapoints = window
        percentile = statistic.startswith("p")
        if alarm_name in self.alarms:
            raise ValueError(f"alarm {alarm_name!r} exists already: is it watched twice?")
        alarm = CloudwatchMetricAlarm(
            self,
            f"alarm-{alarm_name}",
            # Named after what it watches (function, API, target group), whose name carries
            # the environment already: unique in the account and region, readable on a page.
            alarm_name=alarm_name,
            alarm_description=description,
            namespace=namespace,
            metric_name=metric,
            dimensions=dict(dimensions),
            statistic=None if percentile else statistic,
            extended_statistic=statistic if percentile else None,
            comparison_operator="GreaterThanOrEqualToThreshold",
            threshold=threshold,
            period=period_s,
            evaluation_periods=evaluation_periods,
            datapoints_to_alarm=datapoints,
            # No traffic is no failure: an idle function must not page anyone.
            treat_missing_data="notBreaching",
            actions_enabled=True,
            alarm_actions=[self.topic_arn],
            ok_actions=[self.topic_arn],
        )
        self.alarms[alarm_name] = alarm
        return alarm

    def _add_widgets(
        self, title: str, metrics: Sequence[tuple[str, str, Mapping[str, str], str]]
    ) -> None:
        """One graph per metric under a text header; the dashboard body is rewritten."""
        self._widgets.append(
            {"type": "text", "width": 24, "height": 1, "properties": {"markdown": f"## {title}"}}
        )
        for namespace, metric, dimensions, statistic in metrics:
            flat = [part for pair in dimensions.items() for part in pair]
            self._widgets.append(
                {
                    "type": "metric",
                    "width": DASHBOARD_WIDGET_WIDTH,
                    "height": DASHBOARD_WIDGET_HEIGHT,
                    "properties": {
                        "title": f"{metric} ({statistic})",
                        "region": self.props.region,
                        "stat": statistic,
                        "period": MIN_PERIOD_S,
                        "view": "timeSeries",
                        "metrics": [[namespace, metric, *flat]],
                    },
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
                            "width": 24,
                            "height": 2,
                            "properties": {"markdown": f"# {self.props.name}: nothing watched"},
                        }
                    ]
                }
            )
        return json.dumps({"widgets": self._widgets})

    @cached_property
    def topic_arn(self) -> str:
        """Read once for the subscriptions and every alarm's actions: each read is a round
        trip to the jsii kernel, for the same reference."""
        return self.topic.arn

    def alarm_names(self, alarms: Sequence[CloudwatchMetricAlarm]) -> list[str]:
        return [alarm.alarm_name for alarm in alarms]


def _plain_name(group: LbTargetGroup) -> str:
    """The name the target group was given (alarm names and construct ids need the text)."""
    name = group.name_input
    if not isinstance(name, str) or "${" in name:
        raise ValueError("watch_load_balancer needs target groups with a literal name")
    return name
