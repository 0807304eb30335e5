"""The alarms of one Lambda function: what stops its releases and what pages."""

from __future__ import annotations

from constructs_lib.alarm_kinds import (
    DEAD_LETTERS,
    DURATION,
    ERRORS,
    REQUEST_METRICS_NAMESPACE,
    SERVER_ERROR_METRIC,
    SERVER_ERRORS,
    THROTTLES,
)
from constructs_lib.alarm_props import FunctionAlarmProps
from constructs_lib.alarm_signals import Metric, metric_factory, one_metric
from constructs_lib.lambda_function import ServerlessFunction
from constructs_lib.limits import LAMBDA_MAX_TIMEOUT_S
from constructs_lib.monitoring import Monitoring, WatchedAlarms

# Lambda's maximum timeout; a duration alarm above it could never fire.
MAX_FUNCTION_TIMEOUT_MS = LAMBDA_MAX_TIMEOUT_S * 1000


class FunctionAlarms(WatchedAlarms):
    """Errors, p99 duration against the timeout and (with `server_error_rate`) the function's
    own 5XX answers stop its releases; throttles and dead letters page. Named after the
    function (`<function_name>-errors`, ...), with a header and graphs on the dashboard.

    The alarms watch the whole function (every version): during a canary the new version's
    failures show up here, which is what stops the deployment."""

    def __init__(
        self,
        monitoring: Monitoring,
        function: ServerlessFunction,
        props: FunctionAlarmProps | None = None,
    ) -> None:
        props = props or FunctionAlarmProps()
        board = monitoring.board
        name = function.props.function_name
        function_name = function.function_name
        lambda_dimensions = {"FunctionName": function_name}
        timeout_ms = function.props.timeout_s * 1000
        duration_threshold = min(
            MAX_FUNCTION_TIMEOUT_MS, round(timeout_ms * props.duration_p99_timeout_ratio)
        )
        window = props.window
        lambda_metric = metric_factory("AWS/Lambda", lambda_dimensions)
        board.header(f"Function {name}")
        super().__init__(
            rollback=[
                monitoring.add_alarm(name, ERRORS, one_metric(lambda_metric("Errors", "Sum")),
                                     props.errors_threshold, window),
                monitoring.add_alarm(name, DURATION,
                                     one_metric(lambda_metric("Duration", "p99")),
                                     duration_threshold, window, unit="ms"),
            ],
            paging=[
                monitoring.add_alarm(name, THROTTLES,
                                     one_metric(lambda_metric("Throttles", "Sum")),
                                     props.throttles_threshold, window),
                monitoring.add_alarm(
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
            self.rollback.append(
                monitoring.add_alarm(
                    name, SERVER_ERRORS, one_metric(share), props.server_error_rate, window
                )
            )
            board.graph_by_version(name, function_name)
        board.graph(f"{name}: invocations", one_metric(lambda_metric("Invocations", "Sum")))
