"""Alarms that page someone, the ones that stop a bad release, and a dashboard per environment.

`Monitoring` holds what every alarm shares: the SNS topic it notifies on ALARM and on OK
(`alarm_topic`), encrypted with the stack's key (the key policy must let CloudWatch use it:
`StackKey.allow_cloudwatch_alarms`; email subscribers must confirm before they receive
anything), the dashboard that lists and graphs it (`dashboard`), and `add_alarm`, which makes
one alarm of a kind (`alarm_kinds`: its name suffix and runbook line) on a signal
(`alarm_signals`) with a window (`alarm_props`).

What to watch is one construct per kind of resource, each with its props and their defaults
(`alarm_props`): `FunctionAlarms` (`function_alarms`), `ApiAlarms` and `ApiRouteAlarms`
(`api_alarms`), `TargetGroupAlarms` and `LoadBalancerAlarms` (`load_balancer_alarms`). Each is
`WatchedAlarms`: `rollback`, what a bad release of the watched function sets off (its
deployment group stops on them), and `paging`, the rest (capacity, queues, the whole API or
load balancer), which page but never roll back. Every alarm's description says what it
watches, what fires it and what to do: the runbook line docs/operating.md repeats in its alarm
table. To watch a new kind of resource, write its construct in a module of its own the same
way: a `WatchedAlarms` taking `(monitoring, resource, props)`, its props an `AlarmWindow` with
documented defaults, its alarms made with `monitoring.add_alarm` (an `AlarmKind` with its
runbook line) and its header and graphs with `monitoring.board`.

Every alarm, the topic and the dashboard are made in this construct's scope, not in one of
their own: their Terraform addresses (and the paths in the JSON) stay those of the deployed
resources, whichever module makes them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from constructs import Construct

from constructs_lib.alarm_kinds import AlarmKind
from constructs_lib.alarm_props import AlarmWindow
from constructs_lib.alarm_signals import Signal, alarm_arguments, threshold_text
from constructs_lib.alarm_topic import AlarmTopic
from constructs_lib.dashboard import AlarmDashboard
from constructs_lib.limits import (
    EMAIL_ADDRESS_PATTERN,
    EMAIL_ADDRESS_REQUIREMENT,
    HTTPS_URL_PATTERN,
    HTTPS_URL_REQUIREMENT,
)


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
    """The alarms made for one watched resource, by what they are for."""

    # What a bad release of the watched function sets off: its deployment group stops on them.
    rollback: list[CloudwatchMetricAlarm] = field(default_factory=list)
    # The rest: capacity, queues, the whole API or load balancer. They page, never roll back.
    paging: list[CloudwatchMetricAlarm] = field(default_factory=list)


class Monitoring(Construct):
    """The alarm topic, the dashboard, and the alarms the alarm constructs add (`add_alarm`)."""

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
        # Each alarm construct adds its header and graphs (`board.header`, `board.graph`).
        self.board = AlarmDashboard(self, name=props.name, region=props.region)
        self.dashboard = self.board.dashboard

    @property
    def topic_arn(self) -> str:
        return self._topic.arn

    def add_alarm(
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
        self.board.add_alarm(alarm.arn)
        self.board.graph(f"{alarm_name}: {kind.title}", signal, threshold=threshold)
        return alarm
