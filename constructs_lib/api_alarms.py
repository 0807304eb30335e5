"""The alarms of a REST API's stage: its p99 latency, and per function the 5XX share of the
function's routes."""

from __future__ import annotations

from collections.abc import Sequence
from weakref import WeakKeyDictionary

from constructs_lib.alarm_kinds import API_LATENCY, API_SERVER_ERRORS
from constructs_lib.alarm_props import ApiAlarmProps
from constructs_lib.alarm_signals import Metric, Signal, one_metric
from constructs_lib.apigw import LambdaRestApi
from constructs_lib.limits import ALARM_MAX_METRICS
from constructs_lib.monitoring import Monitoring, WatchedAlarms
from constructs_lib.routes import Route

# Each API's stage dimensions, read once for its own alarm and each function's: every read of
# an attribute is a round trip to the jsii kernel, for the same reference.
_STAGE_DIMENSIONS: WeakKeyDictionary[LambdaRestApi, dict[str, str]] = WeakKeyDictionary()


def _stage_dimensions(api: LambdaRestApi) -> dict[str, str]:
    if api not in _STAGE_DIMENSIONS:
        _STAGE_DIMENSIONS[api] = {"ApiName": api.api.name, "Stage": api.stage_name}
    return _STAGE_DIMENSIONS[api]


class ApiAlarms(WatchedAlarms):
    """The stage's p99 latency (paging), named `<api name>-latency-p99`. Its 5XX are watched
    per function, on the function's routes (`ApiRouteAlarms`)."""

    def __init__(
        self, monitoring: Monitoring, api: LambdaRestApi, props: ApiAlarmProps | None = None
    ) -> None:
        props = props or ApiAlarmProps()
        name = api.props.name
        dimensions = _stage_dimensions(api)
        monitoring.board.header(f"API {name}")
        latency = Metric("AWS/ApiGateway", "Latency", dimensions, "p99")
        alarm = monitoring.add_alarm(
            name, API_LATENCY, one_metric(latency), props.latency_p99_ms, props.window, unit="ms"
        )
        monitoring.board.graph(
            f"{name}: requests", one_metric(Metric("AWS/ApiGateway", "Count", dimensions, "Sum"))
        )
        super().__init__(paging=[alarm])


class ApiRouteAlarms(WatchedAlarms):
    """The 5XX share of the worst of `routes` (those of the function named `name`), from API
    Gateway's detailed metrics per resource and method (the API's method settings turn them
    on; the resource is the route's path in the API's OpenAPI document, the method its method
    or ANY). They stop the function's releases. An alarm reads at most ALARM_MAX_METRICS
    routes: `<name>-api-5xx` the first ten in file order, `<name>-api-5xx-2` the next ten, and
    so on."""

    def __init__(
        self,
        monitoring: Monitoring,
        api: LambdaRestApi,
        name: str,
        routes: Sequence[Route],
        props: ApiAlarmProps | None = None,
    ) -> None:
        if not routes:
            raise ValueError(f"{name}: ApiRouteAlarms needs the function's routes")
        props = props or ApiAlarmProps()
        dimensions = _stage_dimensions(api)
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
                monitoring.add_alarm(
                    name,
                    API_SERVER_ERRORS,
                    signal,
                    props.server_error_rate,
                    props.window,
                    part=number if number > 1 else None,
                )
            )
        super().__init__(rollback=alarms)
