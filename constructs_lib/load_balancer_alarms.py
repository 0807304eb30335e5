"""The alarms of an application load balancer in front of functions: per target group the
share of its requests that fail, and the share the load balancer answers 5XX on its own."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.lb_target_group import LbTargetGroup

from constructs_lib.alarm_kinds import LOAD_BALANCER_SERVER_ERRORS, TARGET_SERVER_ERRORS
from constructs_lib.alarm_props import LoadBalancerAlarmProps
from constructs_lib.alarm_signals import failure_share, metric_factory, one_metric
from constructs_lib.load_balancer import FunctionLoadBalancer
from constructs_lib.monitoring import Monitoring, WatchedAlarms


class TargetGroupAlarms(WatchedAlarms):
    """The share of the target group's requests that fail, whatever failed: the function's 5XX
    answers, its crashes, timeouts and throttles, invalid responses. Named after the target
    group (`<group name>-5xx`); it stops the releases of the function behind it."""

    def __init__(
        self,
        monitoring: Monitoring,
        load_balancer: FunctionLoadBalancer,
        group: LbTargetGroup,
        props: LoadBalancerAlarmProps | None = None,
    ) -> None:
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
        monitoring.board.header(f"Load balancer {load_balancer.props.name} -> {name}")
        alarm = monitoring.add_alarm(
            name, TARGET_SERVER_ERRORS, signal, props.server_error_rate, props.window
        )
        monitoring.board.graph(
            f"{name}: p99 response time", one_metric(metric("TargetResponseTime", "p99"))
        )
        super().__init__(rollback=[alarm])


class LoadBalancerAlarms(WatchedAlarms):
    """The share of requests the load balancer answered 5XX on its own (paging: it is shared
    by every function behind it), named `<load balancer name>-elb-5xx`."""

    def __init__(
        self,
        monitoring: Monitoring,
        load_balancer: FunctionLoadBalancer,
        props: LoadBalancerAlarmProps | None = None,
    ) -> None:
        props = props or LoadBalancerAlarmProps()
        name = load_balancer.props.name
        metric = metric_factory("AWS/ApplicationELB", {"LoadBalancer": load_balancer.arn_suffix})
        signal = failure_share(
            {"elb5xx": metric("HTTPCode_ELB_5XX_Count", "Sum")}, metric("RequestCount", "Sum")
        )
        monitoring.board.header(f"Load balancer {name}")
        alarm = monitoring.add_alarm(
            name, LOAD_BALANCER_SERVER_ERRORS, signal, props.server_error_rate, props.window
        )
        super().__init__(paging=[alarm])


def _plain_name(group: LbTargetGroup) -> str:
    """The name the target group was given (alarm names and construct ids need the text)."""
    name = group.name_input
    if not isinstance(name, str) or "${" in name:
        raise ValueError("TargetGroupAlarms needs target groups with a literal name")
    return name
