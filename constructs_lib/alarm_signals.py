"""What an alarm watches (a `Signal`: one metric, or metric math over several) and its two
renderings: the alarm's arguments and the dashboard widget's metrics.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import (
    CloudwatchMetricAlarmMetricQuery,
    CloudwatchMetricAlarmMetricQueryMetric,
)

from constructs_lib.limits import ALARM_MAX_METRICS


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


def metric_factory(namespace: str, dimensions: Mapping[str, str]) -> Callable[[str, str], Metric]:
    def metric(name: str, statistic: str) -> Metric:
        return Metric(namespace, name, dimensions, statistic)

    return metric


def one_metric(metric: Metric) -> Signal:
    return Signal({"m": metric})


def threshold_text(threshold: float, signal: Signal, unit: str) -> str:
    """`5 %` for a share, `8000 ms` for a duration, `1` for a count."""
    if signal.is_share:
        return f"{threshold * 100:g} %"
    return f"{threshold:g} {unit}".strip()


def alarm_arguments(signal: Signal, period_s: int) -> dict[str, Any]:
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


def widget_metrics(signal: Signal) -> list[list[Any]]:
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
