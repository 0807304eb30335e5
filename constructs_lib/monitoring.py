"""Alarms that page someone, the ones that stop a bad release, and a dashboard per environment.

Every alarm sends both ALARM and OK to one SNS topic encrypted with the stack's key (the key
policy must let CloudWatch use it: `StackKey.allow_cloudwatch_alarms`). Subscriptions by email
must be confirmed by their owner before they receive anything.

Each `watch_*` method returns the alarms it made in two lists: `rollback`, what a bad release
of the watched function sets off (its deployment group stops on them), and `paging`, the rest
(capacity, queues, the whole API or load balancer), which page but never roll back. Every
alarm's description says what it watches, what fires it and what to do: the runbook line
docs/operating.md repeats in its alarm table.

One module per concern: the alarm props (`alarm_props`), the kinds of alarm and their runbook
lines (`alarm_kinds`), what an alarm watches (`alarm_signals`), the topic (`alarm_topic`) and
the dashboard (`dashboard`). Their resources are made in this construct's scope, so their
Terraform addresses do not depend on how the code is split.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from cdktf_cdktf_provider_aws.lb_target_group import LbTargetGroup
from constructs import Construct

from constructs_lib.alarm_kinds import (
    API_LATENCY,
    API_SERVER_ERRORS,
    DEAD_LETTERS,
    DURATION,
    ERRORS,
    LOAD_BALANCER_SERVER_ERRORS,
    REQUEST_METRICS_NAMESPACE,
    RULE_FAILED_INVOCATIONS,
    SCHEDULE_DEAD_LETTERS,
    SCHEDULE_DROPPED,
    SCHEDULE_TARGET_FAILURES,
    SERVER_ERROR_METRIC,
    SERVER_ERRORS,
    TARGET_SERVER_ERRORS,
    THROTTLES,
    AlarmKind,
)
from constructs_lib.alarm_props import (
    AlarmWindow,
    ApiAlarmProps,
    EventDeliveryAlarmProps,
    FunctionAlarmProps,
    LoadBalancerAlarmProps,
)
from constructs_lib.alarm_signals import (
    Metric,
    Signal,
    alarm_arguments,
    failure_share,
    metric_factory,
    one_metric,
    threshold_text,
)
from constructs_lib.alarm_topic import AlarmTopic
from constructs_lib.apigw import LambdaRestApi
from constructs_lib.dashboard import AlarmDashboard
from constructs_lib.event_rules import FunctionEventRule
from constructs_lib.lambda_function import ServerlessFunction
from constructs_lib.limits import (
    ALARM_MAX_METRICS,
    EMAIL_ADDRESS_PATTERN,
    EMAIL_ADDRESS_REQUIREMENT,
    HTTPS_URL_PATTERN,
    HTTPS_URL_REQUIREMENT,
    LAMBDA_MAX_TIMEOUT_S,
)
from constructs_lib.load_balancer import FunctionLoadBalancer
from constructs_lib.routes import Route
from constructs_lib.schedules import FunctionSchedule, ScheduleGroup

# Lambda's maximum timeout; a duration alarm above it could never fire.
MAX_FUNCTION_TIMEOUT_MS = LAMBDA_MAX_TIMEOUT_S * 1000


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
        checks = (
            ("email_subscribers", EMAIL_ADDRESS_PATTERN, EMAIL_ADDRESS_REQUIREMENT),
            ("https_subscribers", HTTPS_URL_PATTERN, HTTPS_URL_REQUIREMENT),
        )
        for key, pattern, requirement in checks:
            for endpoint in getattr(self, key):
                if re.fullmatch(pattern, endpoint) is None:
                    raise ValueError(f"{key}: {endpoint!r} must be {requirement}")


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
        self._topic = AlarmTopic(
            self,
            name=props.topic_name or f"{props.name}-alarms",
            kms_key_arn=props.kms_key_arn,
            email_subscribers=props.email_subscribers,
            https_subscribers=props.https_subscribers,
        )
        self.topic = self._topic.topic
        self.alarms: dict[str, CloudwatchMetricAlarm] = {}
        self._stages: dict[LambdaRestApi, dict[str, str]] = {}
        self._board = AlarmDashboard(self, name=props.name, region=props.region)
        self.dashboard = self._board.dashboard

    @property
    def topic_arn(self) -> str:
        return self._topic.arn

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
        lambda_metric = metric_factory("AWS/Lambda", lambda_dimensions)
        self._board.header(f"Function {name}")
        watched = WatchedAlarms(
            rollback=[
                self._alarm(name, ERRORS, one_metric(lambda_metric("Errors", "Sum")),
                            props.errors_threshold, window),
                self._alarm(name, DURATION, one_metric(lambda_metric("Duration", "p99")),
                            duration_threshold, window, unit="ms"),
            ],
            paging=[
                self._alarm(name, THROTTLES, one_metric(lambda_metric("Throttles", "Sum")),
                            props.throttles_threshold, window),
                self._alarm(
                    name, DEAD_LETTERS,
                    one_metric(Metric("AWS/SQS", "ApproximateNumberOfMessagesVisible",
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
                self._alarm(name, SERVER_ERRORS, one_metric(share), props.server_error_rate, window)
            )
            self._board.graph_by_version(name, function_name)
        self._board.graph(f"{name}: invocations", one_metric(lambda_metric("Invocations", "Sum")))
        return watched

    def watch_api(self, api: LambdaRestApi, props: ApiAlarmProps | None = None) -> WatchedAlarms:
        """The stage's p99 latency (paging). Its 5XX are watched per function, on the
        function's routes (`watch_api_routes`)."""
        props = props or ApiAlarmProps()
        name = api.props.name
        dimensions = self._api_dimensions(api)
        self._board.header(f"API {name}")
        latency = Metric("AWS/ApiGateway", "Latency", dimensions, "p99")
        alarm = self._alarm(
            name, API_LATENCY, one_metric(latency), props.latency_p99_ms, props.window, unit="ms"
        )
        self._board.graph(
            f"{name}: requests", one_metric(Metric("AWS/ApiGateway", "Count", dimensions, "Sum"))
        )
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
        metric = metric_factory(
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
        self._board.header(f"Load balancer {load_balancer.props.name} -> {name}")
        alarm = self._alarm(
            name, TARGET_SERVER_ERRORS, signal, props.server_error_rate, props.window
        )
        self._board.graph(
            f"{name}: p99 response time", one_metric(metric("TargetResponseTime", "p99"))
        )
        return WatchedAlarms(rollback=[alarm])

    def watch_load_balancer(
        self, load_balancer: FunctionLoadBalancer, props: LoadBalancerAlarmProps | None = None
    ) -> WatchedAlarms:
        """The share of requests the load balancer answered 5XX on its own (paging: it is
        shared by every function behind it)."""
        props = props or LoadBalancerAlarmProps()
        name = load_balancer.props.name
        metric = metric_factory("AWS/ApplicationELB", {"LoadBalancer": load_balancer.arn_suffix})
        signal = failure_share(
            {"elb5xx": metric("HTTPCode_ELB_5XX_Count", "Sum")}, metric("RequestCount", "Sum")
        )
        self._board.header(f"Load balancer {name}")
        alarm = self._alarm(
            name, LOAD_BALANCER_SERVER_ERRORS, signal, props.server_error_rate, props.window
        )
        return WatchedAlarms(paging=[alarm])

    def watch_schedule_group(
        self, group: ScheduleGroup, props: EventDeliveryAlarmProps | None = None
    ) -> WatchedAlarms:
        """Invocations of the group's targets that Lambda refused, and invocations Scheduler
        gave up on (paging). Scheduler publishes both per group, not per schedule: each
        schedule's dead-letter queue (`watch_schedule`) says which one."""
        props = props or EventDeliveryAlarmProps()
        name = group.props.name
        metric = metric_factory("AWS/Scheduler", {"ScheduleGroup": name})
        self._board.header(f"Schedule group {name}")
        alarms = [
            self._alarm(name, kind, one_metric(metric(metric_name, "Sum")),
                        props.failures_threshold, props.window)
            for kind, metric_name in (
                (SCHEDULE_TARGET_FAILURES, "TargetErrorCount"),
                (SCHEDULE_DROPPED, "InvocationDroppedCount"),
            )
        ]  # fmt: skip
        self._board.graph(
            f"{name}: invocation attempts", one_metric(metric("InvocationAttemptCount", "Sum"))
        )
        return WatchedAlarms(paging=alarms)

    def watch_schedule(
        self, schedule: FunctionSchedule, props: EventDeliveryAlarmProps | None = None
    ) -> WatchedAlarms:
        """The schedule's own dead-letter queue: any event in it is a run that did not happen
        (paging). A schedule sending its failures to another queue is watched with that
        queue."""
        props = props or EventDeliveryAlarmProps()
        queue_name = schedule.dead_letter_queue_name
        if queue_name is None:
            return WatchedAlarms()
        depth = Metric(
            "AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": queue_name}, "Maximum"
        )
        alarm = self._alarm(
            schedule.props.name,
            SCHEDULE_DEAD_LETTERS,
            one_metric(depth),
            props.dead_letter_messages_threshold,
            props.window,
        )
        return WatchedAlarms(paging=[alarm])

    def watch_event_rule(
        self, rule: FunctionEventRule, props: EventDeliveryAlarmProps | None = None
    ) -> WatchedAlarms:
        """Events the rule matched but could not deliver to its target (paging)."""
        props = props or EventDeliveryAlarmProps()
        name = rule.props.name
        # Rules on the default bus are published under RuleName alone.
        metric = metric_factory("AWS/Events", {"RuleName": name})
        self._board.header(f"Event rule {name}")
        alarm = self._alarm(
            name,
            RULE_FAILED_INVOCATIONS,
            one_metric(metric("FailedInvocations", "Sum")),
            props.failures_threshold,
            props.window,
        )
        self._board.graph(f"{name}: invocations", one_metric(metric("Invocations", "Sum")))
        return WatchedAlarms(paging=[alarm])

    def add_alarm(
        self,
        watched: str,
        kind: AlarmKind,
        signal: Signal,
        threshold: float,
        window: AlarmWindow,
        *,
        unit: str = "",
    ) -> CloudwatchMetricAlarm:
        """An alarm of `kind` named `<watched><suffix>`, for watchers kept in modules of their
        own (`event_alarms`)."""
        return self._alarm(watched, kind, signal, threshold, window, unit=unit)

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
        limit = threshold_text(threshold, signal, unit)
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
            **alarm_arguments(signal, window.period_s),
        )
        self.alarms[alarm_name] = alarm
        self._board.add_alarm(alarm.arn)
        self._board.graph(f"{alarm_name}: {kind.title}", signal, threshold=threshold)
        return alarm


def _plain_name(group: LbTargetGroup) -> str:
    """The name the target group was given (alarm names and construct ids need the text)."""
    name = group.name_input
    if not isinstance(name, str) or "${" in name:
        raise ValueError("watch_target_group needs target groups with a literal name")
    return name
