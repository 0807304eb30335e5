"""The environment's CloudWatch dashboard: the state of every alarm at the top, then a header
per watched resource and a graph per alarm with its threshold.

The dashboard is made in the scope given (the `Monitoring` construct), not in a construct of its
own: its Terraform address stays that of the deployed dashboard. Its body is rewritten with each
widget added.
"""

from __future__ import annotations

import json
from typing import Any

from cdktf_cdktf_provider_aws.cloudwatch_dashboard import CloudwatchDashboard
from constructs import Construct

from constructs_lib.alarm_kinds import REQUEST_METRICS_NAMESPACE, SERVER_ERROR_METRIC
from constructs_lib.alarm_signals import Signal, widget_metrics
from constructs_lib.limits import ALARM_MIN_PERIOD_S

# An alarm-status widget lists at most 100 alarms.
ALARMS_PER_STATUS_WIDGET = 100
DASHBOARD_WIDTH = 24
WIDGET_WIDTH = 12
WIDGET_HEIGHT = 6


class AlarmDashboard:
    """`dashboard`, named `name`, graphing metrics of `region`."""

    def __init__(self, scope: Construct, *, name: str, region: str) -> None:
        self.name = name
        self.region = region
        self._alarm_arns: list[str] = []
        self._widgets: list[dict[str, Any]] = []
        self.dashboard = CloudwatchDashboard(
            scope, "dashboard", dashboard_name=name, dashboard_body=self._body()
        )

    def add_alarm(self, alarm_arn: str) -> None:
        """Lists the alarm's state at the top (shown from the next widget added)."""
        self._alarm_arns.append(alarm_arn)

    def header(self, title: str) -> None:
        self._widgets.append(
            {
                "type": "text",
                "width": DASHBOARD_WIDTH,
                "height": 1,
                "properties": {"markdown": f"## {title}"},
            }
        )

    def graph(self, title: str, signal: Signal, *, threshold: float | None = None) -> None:
        """A graph of the signal, with a line at the alarm's threshold; the dashboard body is
        rewritten."""
        properties: dict[str, Any] = {
            "title": title,
            "region": self.region,
            "period": ALARM_MIN_PERIOD_S,
            "view": "timeSeries",
            "metrics": widget_metrics(signal),
        }
        if threshold is not None:
            properties["annotations"] = {
                "horizontal": [{"label": "alarm threshold", "value": threshold}]
            }
        self._add_widget(properties)

    def graph_by_version(self, name: str, function_name: str) -> None:
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
                "region": self.region,
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
                            "properties": {"markdown": f"# {self.name}: nothing watched"},
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
