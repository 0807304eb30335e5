"""How long and how hard each kind of watched resource must fail before its alarms fire: the
props of the alarm constructs (`FunctionAlarms`, `ApiAlarms`, `ApiRouteAlarms`,
`TargetGroupAlarms`, `LoadBalancerAlarms`), with their defaults. Every window is checked
against CloudWatch's limits (`constructs_lib.limits`) when the props are made.
"""

from __future__ import annotations

from dataclasses import dataclass

from constructs_lib.limits import (
    API_MAX_LATENCY_MS,
    alarm_evaluation_problem,
    alarm_period_problem,
    datapoints_to_alarm_problem,
)


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
    """`FunctionAlarms`: any error, throttle or dead letter fires by default."""

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
    """`ApiAlarms` (latency) and `ApiRouteAlarms` (5XX)."""

    # Share of a route's requests answered 5XX (5XXError's Average) at or above which the
    # alarm on the function behind it fires.
    server_error_rate: float = 0.05
    # The stage's p99 latency (ms) at or above which its alarm fires.
    latency_p99_ms: int = 3000

    def __post_init__(self) -> None:
        self._check_window("API alarms")
        _check_rate("server_error_rate", self.server_error_rate)
        if not 1 <= self.latency_p99_ms <= API_MAX_LATENCY_MS:
            raise ValueError(f"latency_p99_ms must be between 1 and {API_MAX_LATENCY_MS}")


@dataclass(frozen=True)
class LoadBalancerAlarmProps(AlarmWindow):
    """`TargetGroupAlarms` and `LoadBalancerAlarms`."""

    # Share of requests that fail with a 5XX (from the function, or from the load balancer on
    # its behalf) at or above which the alarm fires.
    server_error_rate: float = 0.05

    def __post_init__(self) -> None:
        self._check_window("load balancer alarms")
        _check_rate("server_error_rate", self.server_error_rate)
