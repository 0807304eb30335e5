"""The stack's alarms: every function, its API routes and target group, the API stage and the
load balancer watched with the thresholds of `[alarms]`, and per function the alarms its
release stops on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from constructs import Construct

from constructs_lib.alarm_props import ApiAlarmProps, FunctionAlarmProps, LoadBalancerAlarmProps
from constructs_lib.api_alarms import ApiAlarms, ApiRouteAlarms
from constructs_lib.apigw import LambdaRestApi
from constructs_lib.function_alarms import FunctionAlarms
from constructs_lib.lambda_function import ServerlessFunction
from constructs_lib.load_balancer import FunctionLoadBalancer
from constructs_lib.load_balancer_alarms import LoadBalancerAlarms, TargetGroupAlarms
from constructs_lib.monitoring import Monitoring, MonitoringProps, WatchedAlarms
from constructs_lib.routes import Route
from serverless_app.config import StackConfig


def watch_stack(
    scope: Construct,
    config: StackConfig,
    *,
    kms_key_arn: str,
    functions: Mapping[str, ServerlessFunction],
    api: LambdaRestApi,
    routes: Sequence[Route],
    load_balancer: FunctionLoadBalancer,
) -> tuple[Monitoring, dict[str, list[CloudwatchMetricAlarm]]]:
    """Every alarm; per function, the ones its release stops on: its own failures, its
    routes' 5XX on the API and its target group's on the load balancer. `routes` are the
    API's, in the order of `config.routes`."""
    alarms = config.alarms
    window = {
        "period_s": alarms.period_s,
        "evaluation_periods": alarms.evaluation_periods,
        "datapoints_to_alarm": alarms.datapoints_to_alarm,
    }
    monitoring = Monitoring(
        scope,
        "monitoring",
        MonitoringProps(
            name=config.name_prefix,
            topic_name=config.alarms.topic_name,
            region=config.region,
            kms_key_arn=kms_key_arn,
            email_subscribers=alarms.email,
            https_subscribers=alarms.https,
        ),
    )
    api_props = ApiAlarmProps(
        server_error_rate=alarms.api_server_error_rate,
        latency_p99_ms=alarms.api_latency_p99_ms,
        **window,
    )
    balancer_props = LoadBalancerAlarmProps(
        server_error_rate=alarms.load_balancer_server_error_rate, **window
    )
    watched: dict[str, list[WatchedAlarms]] = {}
    for key, function in functions.items():
        function_props = FunctionAlarmProps(
            errors_threshold=alarms.function_errors,
            throttles_threshold=alarms.function_throttles,
            duration_p99_timeout_ratio=alarms.duration_p99_timeout_ratio,
            # Every function of this stack emits the request metric (docs/functions.md).
            server_error_rate=alarms.function_server_error_rate,
            **window,
        )
        watched[key] = [FunctionAlarms(monitoring, function, function_props)]
        # A function no route reaches yet has nothing on the API to watch.
        if function_routes := _routes_of(config, routes, key):
            name = function.props.function_name
            watched[key].append(ApiRouteAlarms(monitoring, api, name, function_routes, api_props))
    for key, group in load_balancer.target_groups.items():
        watched[key].append(TargetGroupAlarms(monitoring, load_balancer, group, balancer_props))
    ApiAlarms(monitoring, api, api_props)
    if load_balancer.target_groups:
        LoadBalancerAlarms(monitoring, load_balancer, balancer_props)
    # The configuration check counts these per function (CodeDeploy takes ten per group).
    rollback = {
        key: [alarm for each in lists for alarm in each.rollback] for key, lists in watched.items()
    }
    return monitoring, rollback


def _routes_of(config: StackConfig, routes: Sequence[Route], key: str) -> list[Route]:
    return [
        route
        for route_config, route in zip(config.routes, routes, strict=True)
        if route_config.function == key
    ]
