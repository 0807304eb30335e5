"""The alarms of an API's stage (REST or HTTP): its p99 latency, and per function the 5XX
share of the function's routes."""

from __future__ import annotations

from collections.abc import Sequence
from weakref import WeakKeyDictionary

from constructs_lib.alarm_kinds import API_LATENCY, API_SERVER_ERRORS
from constructs_lib.alarm_props import ApiAlarmProps
from constructs_lib.alarm_signals import Metric, Signal, one_metric
from constructs_lib.apigw import LambdaRestApi
from constructs_lib.http_api import LambdaHttpApi
from constructs_lib.limits import ALARM_MAX_METRICS
from constructs_lib.monitoring import Monitoring, WatchedAlarms
from constructs_lib.routes import Route

# Each API's stage dimensions, read once for its own alarm and each function's: every read of
# an attribute is a round trip to the jsii kernel, for the same reference.
_STAGE_DIMENSIONS: WeakKeyDictionary[LambdaRestApi | LambdaHttpApi, dict[str, str]] = (
    WeakKeyDictionary()
)


def _stage_dimensions(api: LambdaRestApi | LambdaHttpApi) -> dict[str, str]:
    """A REST API's metrics name the API, an HTTP API's its id."""
    if api not in _STAGE_DIMENSIONS:
        api_dimension = (
            {"ApiId": api.api_id} if isinstance(api, LambdaHttpApi) else {"ApiName": api.api.name}
        )
        _STAGE_DIMENSIONS[api] = {**api_dimension, "Stage": api.stage_name}
    return _STAGE_DIMENSIONS[api]


def _server_error_metric(api: LambdaRestApi | LambdaHttpApi) -> str:
    """API Gateway's 5XX metric: `5XXError` for REST APIs, `5xx` for HTTP APIs. AWS documents
    the REST metric's Average as the share of requests answered 5XX; the HTTP API guide only
    calls `5xx` a count, and its Average is read the same way (each request 0 or 1)."""
    return "5xx" if isinstance(api, LambdaHttpApi) else "5XXError"


class ApiAlarms(WatchedAlarms):
    """The stage's p99 latency (paging), named `<api name>-latency-p99`. Its 5XX are watched
    per function, on the function's routes (`ApiRouteAlarms`)."""

    def __init__(
        self,
        monitoring: Monitoring,
        api: LambdaRestApi | LambdaHttpApi,
        props: ApiAlarmProps | None = None,
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
    or ANY; an HTTP API's per-route metrics, which its stage turns on, have the same
    dimensions). They stop the function's releases. An alarm reads at most ALARM_MAX_METRICS
    routes: `<name>-api-5xx` the first ten in file order, `<name>-api-5xx-2` the next ten, and
    so on."""

    def __init__(
        self,
        monitoring: Monitoring,
        api: LambdaRestApi | LambdaHttpApi,
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
                    _server_error_metric(api),
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
