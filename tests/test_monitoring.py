import json

import pytest
from pydantic import TypeAdapter, ValidationError

from constructs_lib.alarm_props import ApiAlarmProps, FunctionAlarmProps, LoadBalancerAlarmProps
from constructs_lib.alarm_signals import Metric, Signal
from constructs_lib.api_alarms import ApiAlarms, ApiRouteAlarms
from constructs_lib.function_alarms import FunctionAlarms
from constructs_lib.kms import StackKey, StackKeyProps
from constructs_lib.load_balancer_alarms import LoadBalancerAlarms, TargetGroupAlarms
from constructs_lib.monitoring import Monitoring, MonitoringProps, WatchedAlarms
from constructs_lib.routes import Route
from serverless_app.config.rules import EmailAddress, HttpsUrl
from tests.support import (
    TEST_KEY_ARN,
    build_api,
    build_function,
    build_load_balancer,
    function_props,
    only,
    ref,
    resources,
    route_load_balancer,
    synth_construct,
    unqualified_target,
)


def build(stack, function_alarms=None) -> dict[str, WatchedAlarms]:
    key = StackKey(stack, "key", StackKeyProps(alias="t", region="us-east-1"))
    key.allow_cloudwatch_alarms()
    function = build_function(stack, timeout_s=10)
    api = build_api(stack, function)
    balancer = build_load_balancer(stack)
    group = route_load_balancer(balancer, function)
    monitoring = Monitoring(
        stack,
        "monitoring",
        MonitoringProps(
            name="t",
            region="us-east-1",
            kms_key_arn=key.key_arn,
            email_subscribers=["oncall@example.com"],
            https_subscribers=["https://events.example.com/hook"],
        ),
    )
    return {
        "function": FunctionAlarms(
            monitoring, function, function_alarms or FunctionAlarmProps(server_error_rate=0.05)
        ),
        "api": ApiAlarms(monitoring, api, ApiAlarmProps(latency_p99_ms=1500)),
        "routes": ApiRouteAlarms(monitoring, api, "t-fn", api.props.routes),
        "target group": TargetGroupAlarms(monitoring, balancer, group),
        "load balancer": LoadBalancerAlarms(monitoring, balancer),
    }


@pytest.fixture(scope="module")
def synthesized() -> dict:
    return synth_construct(build)


def alarm(synthesized: dict, name: str) -> dict:
    [found] = [a for a in resources(synthesized, "aws_cloudwatch_metric_alarm").values()
               if a["alarm_name"] == name]  # fmt: skip
    return found


def queries(alarm: dict) -> dict[str, dict]:
    """The metric queries of an alarm on metric math, by id."""
    return {query["id"]: query for query in alarm["metric_query"]}


def test_topic_is_encrypted_with_the_stack_key_and_has_subscriptions(synthesized):
    topic = only(synthesized, "aws_sns_topic")
    assert topic["kms_master_key_id"] == ref(synthesized, "aws_kms_key", "key", "arn")
    subscriptions = resources(synthesized, "aws_sns_topic_subscription").values()
    assert {(s["protocol"], s["endpoint"]) for s in subscriptions} == {
        ("email", "oncall@example.com"),
        ("https", "https://events.example.com/hook"),
    }


def test_key_policy_lets_cloudwatch_alarms_use_the_key(synthesized):
    policy = json.loads(only(synthesized, "aws_kms_key")["policy"])
    [statement] = [s for s in policy["Statement"] if s["Principal"].get("Service") ==
                   "cloudwatch.amazonaws.com"]  # fmt: skip
    assert set(statement["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey"}
    assert statement["Resource"] == "*"  # in a key policy: this key


ALARM_NAMES = [
    "t-api-latency-p99",
    "t-fn-api-5xx",
    "t-fn-dead-letters",
    "t-fn-duration-p99",
    "t-fn-errors",
    "t-fn-server-errors",
    "t-fn-throttles",
    "t-lb-elb-5xx",
    "t-lb-fn-5xx",
]


def test_every_alarm_notifies_the_topic_on_alarm_and_ok(synthesized):
    topic = ref(synthesized, "aws_sns_topic", "monitoring", "arn")
    alarms = resources(synthesized, "aws_cloudwatch_metric_alarm").values()
    assert len(alarms) == len(ALARM_NAMES)
    for each in alarms:
        assert each["alarm_actions"] == [topic]
        assert each["ok_actions"] == [topic]
        assert each["actions_enabled"] is True
        assert each["treat_missing_data"] == "notBreaching"


def test_alarms_are_named_after_what_they_watch(synthesized):
    names = sorted(
        a["alarm_name"] for a in resources(synthesized, "aws_cloudwatch_metric_alarm").values()
    )
    assert names == ALARM_NAMES


def names_of(alarms) -> set[str]:
    return {a.alarm_name_input for a in alarms}


def test_what_a_bad_release_sets_off_is_kept_apart_from_what_only_pages():
    watched: dict = {}
    synth_construct(lambda stack: watched.update(build(stack)))
    rollback = {kind: names_of(w.rollback) for kind, w in watched.items()}
    paging = {kind: names_of(w.paging) for kind, w in watched.items()}
    assert rollback == {
        "function": {"t-fn-errors", "t-fn-duration-p99", "t-fn-server-errors"},
        "api": set(),
        "routes": {"t-fn-api-5xx"},
        "target group": {"t-lb-fn-5xx"},
        "load balancer": set(),
    }
    # Capacity, asynchronous events, the whole stage or load balancer: a rollback fixes none.
    assert paging == {
        "function": {"t-fn-throttles", "t-fn-dead-letters"},
        "api": {"t-api-latency-p99"},
        "routes": set(),
        "target group": set(),
        "load balancer": {"t-lb-elb-5xx"},
    }


def test_function_alarms(synthesized):
    function_name = ref(synthesized, "aws_lambda_function", "fn", "function_name")
    errors = alarm(synthesized, "t-fn-errors")
    assert (errors["namespace"], errors["metric_name"], errors["statistic"]) == (
        "AWS/Lambda", "Errors", "Sum",
    )  # fmt: skip
    assert errors["dimensions"] == {"FunctionName": function_name}
    assert errors["threshold"] == 1
    assert (errors["period"], errors["evaluation_periods"], errors["datapoints_to_alarm"]) == (
        60, 3, 2,
    )  # fmt: skip
    assert alarm(synthesized, "t-fn-throttles")["metric_name"] == "Throttles"
    duration = alarm(synthesized, "t-fn-duration-p99")
    assert duration["extended_statistic"] == "p99"
    assert "statistic" not in duration
    assert duration["threshold"] == 8000  # 80 % of the 10 s timeout, in ms
    dead_letters = alarm(synthesized, "t-fn-dead-letters")
    assert dead_letters["namespace"] == "AWS/SQS"
    assert dead_letters["metric_name"] == "ApproximateNumberOfMessagesVisible"
    assert dead_letters["dimensions"] == {
        "QueueName": ref(synthesized, "aws_sqs_queue", "fn", "name")
    }


def test_handled_errors_are_watched_through_the_functions_request_metric(synthesized):
    """The function's embedded-metric-format count: 1 per 5XX answer, 0 otherwise, so the
    Average is the share of 5XX answers, over every version (FunctionName alone)."""
    server_errors = alarm(synthesized, "t-fn-server-errors")
    assert (server_errors["namespace"], server_errors["metric_name"]) == (
        "ServerlessApp/Requests", "ServerError",
    )  # fmt: skip
    assert server_errors["statistic"] == "Average"
    assert server_errors["dimensions"] == {
        "FunctionName": ref(synthesized, "aws_lambda_function", "fn", "function_name")
    }
    assert server_errors["threshold"] == 0.05


def test_without_a_request_metric_no_alarm_reads_it():
    synthesized = synth_construct(lambda stack: build(stack, FunctionAlarmProps()))
    names = {
        a["alarm_name"] for a in resources(synthesized, "aws_cloudwatch_metric_alarm").values()
    }
    assert "t-fn-server-errors" not in names and "t-fn-errors" in names


def test_api_latency_alarm_watches_the_stage(synthesized):
    latency = alarm(synthesized, "t-api-latency-p99")
    assert (latency["namespace"], latency["metric_name"]) == ("AWS/ApiGateway", "Latency")
    assert (latency["extended_statistic"], latency["threshold"]) == ("p99", 1500)
    assert latency["dimensions"] == {
        "ApiName": ref(synthesized, "aws_api_gateway_rest_api", "api", "name"),
        "Stage": ref(synthesized, "aws_api_gateway_stage", "api", "stage_name"),
    }


def test_function_routes_alarm_reads_each_routes_detailed_metrics(synthesized):
    routes = alarm(synthesized, "t-fn-api-5xx")
    assert "metric_name" not in routes
    stage = {
        "ApiName": ref(synthesized, "aws_api_gateway_rest_api", "api", "name"),
        "Stage": ref(synthesized, "aws_api_gateway_stage", "api", "stage_name"),
    }
    by_id = queries(routes)
    assert by_id["route0"]["metric"] == {
        "namespace": "AWS/ApiGateway",
        "metric_name": "5XXError",
        "dimensions": {**stage, "Resource": "/greet", "Method": "GET"},
        "stat": "Average",
        "period": 60,
    }
    assert by_id["worst"] == {
        "id": "worst",
        "expression": "MAX(FILL([route0], 0))",
        "return_data": True,
    }
    assert by_id["route0"]["return_data"] is False
    assert routes["threshold"] == 0.05


def test_several_routes_of_a_function_alarm_on_the_worst():
    def build_routes(stack):
        function = build_function(stack)
        target = unqualified_target(function)
        api = build_api(
            stack,
            function,
            routes=[
                Route("GET", "/items", target),
                Route("ANY", "/items/{id}", target),
            ],
        )
        monitoring = Monitoring(stack, "m", MonitoringProps("t", "us-east-1", TEST_KEY_ARN))
        ApiRouteAlarms(monitoring, api, "t-fn", api.props.routes)

    by_id = queries(only(synth_construct(build_routes), "aws_cloudwatch_metric_alarm"))
    assert [
        (q["metric"]["dimensions"]["Method"], q["metric"]["dimensions"]["Resource"])
        for id, q in by_id.items()
        if id.startswith("route")
    ] == [("GET", "/items"), ("ANY", "/items/{id}")]
    assert by_id["worst"]["expression"] == "MAX(FILL([route0, route1], 0))"


def test_routes_beyond_ten_get_further_alarms_of_ten():
    """An alarm on metric math reads at most ten metrics, one per route: 21 routes make
    three alarms, in route order, each a rollback alarm."""
    watched: list[WatchedAlarms] = []

    def build_many(stack):
        function = build_function(stack)
        target = unqualified_target(function)
        routes = [Route("GET", f"/r{index}", target) for index in range(21)]
        api = build_api(stack, function, routes=routes)
        monitoring = Monitoring(stack, "m", MonitoringProps("t", "us-east-1", TEST_KEY_ARN))
        watched.append(ApiRouteAlarms(monitoring, api, "t-fn", routes))

    alarms = {
        a["alarm_name"]: a
        for a in resources(synth_construct(build_many), "aws_cloudwatch_metric_alarm").values()
    }
    resources_read = {
        name: [
            q["metric"]["dimensions"]["Resource"] for q in alarm["metric_query"] if "metric" in q
        ]
        for name, alarm in alarms.items()
    }
    assert resources_read == {
        "t-fn-api-5xx": [f"/r{index}" for index in range(10)],
        "t-fn-api-5xx-2": [f"/r{index}" for index in range(10, 20)],
        "t-fn-api-5xx-3": ["/r20"],
    }
    assert alarms["t-fn-api-5xx-2"]["alarm_description"].startswith(
        "t-fn, part 2: 5XX answers on its API routes at or above 5 %"
    )
    [routes] = watched
    assert (len(routes.rollback), routes.paging) == (3, [])


def test_an_alarm_reads_at_most_ten_metrics():
    metric = Metric("AWS/ApiGateway", "5XXError", {"ApiName": "t"}, "Average")
    Signal({f"m{index}": metric for index in range(10)}, {"worst": "MAX(m0)"})
    with pytest.raises(ValueError, match="at most 10 metrics"):
        Signal({f"m{index}": metric for index in range(11)}, {"worst": "MAX(m0)"})


def test_target_group_alarm_counts_every_failed_request(synthesized):
    """Its 5XX answers, and what the load balancer answers 5XX for it: crashes, timeouts,
    throttles, invalid responses (LambdaUserError), Lambda's own failures."""
    target_group = alarm(synthesized, "t-lb-fn-5xx")
    dimensions = {
        "LoadBalancer": ref(synthesized, "aws_lb", "lb", "arn_suffix"),
        "TargetGroup": ref(synthesized, "aws_lb_target_group", "lb", "arn_suffix"),
    }
    by_id = queries(target_group)
    read = {
        id: (q["metric"]["metric_name"], q["metric"]["stat"])
        for id, q in by_id.items()
        if "metric" in q
    }
    assert read == {
        "target5xx": ("HTTPCode_Target_5XX_Count", "Sum"),
        "usererror": ("LambdaUserError", "Sum"),
        "internalerror": ("LambdaInternalError", "Sum"),
        "requests": ("RequestCount", "Sum"),
    }
    assert all(q["metric"]["dimensions"] == dimensions for q in by_id.values() if "metric" in q)
    assert by_id["failed"]["expression"] == "SUM(FILL([target5xx, usererror, internalerror], 0))"
    assert by_id["share"]["expression"] == "failed / MAX(FILL([requests, failed], 0))"
    assert [q["id"] for q in by_id.values() if q["return_data"]] == ["share"]


def test_no_alarm_watches_health_checks_that_lambda_targets_never_run(synthesized):
    """Health checks are off for lambda target groups: UnHealthyHostCount never moves."""
    body = json.dumps(resources(synthesized, "aws_cloudwatch_metric_alarm"))
    assert "UnHealthyHostCount" not in body and "HealthyHostCount" not in body


def test_load_balancer_alarm_counts_its_own_5xx(synthesized):
    own = alarm(synthesized, "t-lb-elb-5xx")
    by_id = queries(own)
    assert by_id["elb5xx"]["metric"]["metric_name"] == "HTTPCode_ELB_5XX_Count"
    assert by_id["elb5xx"]["metric"]["dimensions"] == {
        "LoadBalancer": ref(synthesized, "aws_lb", "lb", "arn_suffix")
    }
    assert by_id["share"]["expression"] == "failed / MAX(FILL([requests, failed], 0))"


def test_every_alarm_says_what_fires_it_and_what_to_do(synthesized):
    for each in resources(synthesized, "aws_cloudwatch_metric_alarm").values():
        description = each["alarm_description"]
        assert " Fires when " in description and " Do: " in description, each["alarm_name"]
        assert len(description) <= 1024  # CloudWatch's limit
    assert alarm(synthesized, "t-fn-server-errors")["alarm_description"].startswith(
        "t-fn: answers with status 5XX at or above 5 % in 2 of 3 periods of 60 s. "
    )
    assert alarm(synthesized, "t-fn-duration-p99")["alarm_description"].startswith(
        "t-fn: p99 duration near the timeout at or above 8000 ms in 2 of 3 periods of 60 s. "
    )


def dashboard(synthesized: dict) -> list[dict]:
    return json.loads(only(synthesized, "aws_cloudwatch_dashboard")["dashboard_body"])["widgets"]


def test_dashboard_starts_with_the_state_of_every_alarm(synthesized):
    [status] = [w for w in dashboard(synthesized) if w["type"] == "alarm"]
    assert dashboard(synthesized)[0] == status
    arns = {
        f"${{aws_cloudwatch_metric_alarm.{rid}.arn}}"
        for rid in resources(synthesized, "aws_cloudwatch_metric_alarm")
    }
    assert set(status["properties"]["alarms"]) == arns


def test_dashboard_graphs_each_alarm_with_a_human_title_and_its_threshold(synthesized):
    graphs = {w["properties"]["title"]: w["properties"] for w in dashboard(synthesized)
              if w["type"] == "metric"}  # fmt: skip
    for each in resources(synthesized, "aws_cloudwatch_metric_alarm").values():
        [title] = [t for t in graphs if t.startswith(f"{each['alarm_name']}: ")]
        line = graphs[title]["annotations"]["horizontal"]
        assert line == [{"label": "alarm threshold", "value": each["threshold"]}]
        assert graphs[title]["region"] == "us-east-1"
    assert "t-fn-errors: failed invocations" in graphs
    assert "t-lb-fn-5xx: failed requests behind the load balancer" in graphs
    # The metrics behind an expression are hidden; the alarm's value is drawn.
    shares = graphs["t-lb-fn-5xx: failed requests behind the load balancer"]["metrics"]
    drawn = [row[-1]["id"] for row in shares if row[-1].get("visible", True)]
    assert drawn == ["share"]


def test_dashboard_graphs_the_share_of_5xx_per_version(synthesized):
    graphs = {w["properties"]["title"]: w["properties"] for w in dashboard(synthesized)
              if w["type"] == "metric"}  # fmt: skip
    [[search]] = graphs["t-fn: share of 5XX answers per version"]["metrics"]
    function_name = ref(synthesized, "aws_lambda_function", "fn", "function_name")
    assert search["expression"] == (
        "SEARCH('{ServerlessApp/Requests,ExecutedVersion,FunctionName} "
        f'MetricName="ServerError" FunctionName="{function_name}"\', \'Average\', 60)'
    )


def test_thresholds_can_be_set():
    synthesized = synth_construct(
        lambda stack: build(stack, FunctionAlarmProps(errors_threshold=4, period_s=300,
                                                      evaluation_periods=3, datapoints_to_alarm=2,
                                                      duration_p99_timeout_ratio=0.5))
    )  # fmt: skip
    errors = alarm(synthesized, "t-fn-errors")
    assert (errors["threshold"], errors["period"], errors["evaluation_periods"]) == (4, 300, 3)
    assert alarm(synthesized, "t-fn-duration-p99")["threshold"] == 5000


@pytest.mark.parametrize(
    "kwargs",
    [
        {"period_s": 45},
        {"period_s": 3600, "evaluation_periods": 25},
        {"evaluation_periods": 2, "datapoints_to_alarm": 3},
        {"errors_threshold": 0},
        {"duration_p99_timeout_ratio": 1.5},
    ],
)
def test_function_alarm_bounds(kwargs):
    with pytest.raises(ValueError):
        FunctionAlarmProps(**kwargs)


def test_api_and_load_balancer_alarm_bounds():
    with pytest.raises(ValueError, match="latency_p99_ms"):
        ApiAlarmProps(latency_p99_ms=30_000)
    with pytest.raises(ValueError, match="server_error_rate"):
        ApiAlarmProps(server_error_rate=0)
    for rate in (0, 1.5):
        with pytest.raises(ValueError, match="server_error_rate"):
            LoadBalancerAlarmProps(server_error_rate=rate)
    with pytest.raises(ValueError, match="server_error_rate"):
        FunctionAlarmProps(server_error_rate=0)


SUBSCRIBERS = [
    ("email", "oncall@example.com", True),
    ("email", "nobody", False),
    # No top-level domain: SNS cannot deliver it (the construct took it before).
    ("email", "oncall@localhost", False),
    ("email", "on call@example.com", False),
    ("https", "https://events.example.com/hook", True),
    ("https", "http://events.example.com/hook", False),
    ("https", "https://", False),
    ("https", "https://events.example.com/" + "a" * 2021, True),  # 2048 characters
    ("https", "https://events.example.com/" + "a" * 2022, False),
]


def subscribed(protocol, endpoint):
    emails, urls = ([endpoint], []) if protocol == "email" else ([], [endpoint])
    return MonitoringProps(
        "t", "us-east-1", TEST_KEY_ARN, email_subscribers=emails, https_subscribers=urls
    )


@pytest.mark.parametrize(("protocol", "endpoint", "valid"), SUBSCRIBERS)
def test_the_construct_and_the_config_take_the_same_subscribers(protocol, endpoint, valid):
    """One rule each for addresses and URLs: what the config refuses, the props refuse too."""
    config_type = {"email": EmailAddress, "https": HttpsUrl}[protocol]
    if valid:
        subscribed(protocol, endpoint)
        TypeAdapter(config_type).validate_python(endpoint)
        return
    with pytest.raises(ValueError, match=f"{protocol}_subscribers: .* must be an? {protocol}"):
        subscribed(protocol, endpoint)
    with pytest.raises(ValidationError):
        TypeAdapter(config_type).validate_python(endpoint)


def test_key_policy_statement_ids_are_unique():
    def twice(stack):
        key = StackKey(stack, "key", StackKeyProps(alias="t", region="us-east-1"))
        key.allow_cloudwatch_alarms()
        key.allow_cloudwatch_alarms()

    with pytest.raises(ValueError, match="already"):
        synth_construct(twice)


def test_several_functions_and_target_groups_each_get_their_own_alarms():
    from cdktf_cdktf_provider_aws.lb_target_group import LbTargetGroup

    from constructs_lib.lambda_function import ServerlessFunction
    from constructs_lib.s3 import SecureBucket, SecureBucketProps

    def build_several(stack):
        monitoring = Monitoring(stack, "m", MonitoringProps("t", "us-east-1", TEST_KEY_ARN))
        for name in ("t-one", "t-two"):
            bucket = SecureBucket(stack, f"{name}-code", SecureBucketProps(bucket_prefix="t-"))
            props = function_props(bucket, function_name=name, role_name=f"{name}-role")
            FunctionAlarms(monitoring, ServerlessFunction(stack, name, props))
        balancer = build_load_balancer(stack)
        for name in ("t-one-tg", "t-two-tg"):
            group = LbTargetGroup(stack, name, name=name, target_type="lambda")
            TargetGroupAlarms(monitoring, balancer, group)

    synthesized = synth_construct(build_several)
    alarms = resources(synthesized, "aws_cloudwatch_metric_alarm").values()
    names = {a["alarm_name"] for a in alarms}
    # Per function errors, duration, throttles, dead letters; per target group its 5XX.
    assert len(names) == len(alarms) == 10
    assert {"t-one-errors", "t-two-errors", "t-one-tg-5xx", "t-two-tg-5xx"} <= names
    [two_tg] = [a for a in alarms if a["alarm_name"] == "t-two-tg-5xx"]
    groups = {q["metric"]["dimensions"]["TargetGroup"] for q in two_tg["metric_query"]
              if "metric" in q}  # fmt: skip
    assert groups == {ref(synthesized, "aws_lb_target_group", "t-two-tg", "arn_suffix")}
    headers = [w["properties"]["markdown"] for w in dashboard(synthesized) if w["type"] == "text"]
    assert headers == [
        "## Function t-one",
        "## Function t-two",
        "## Load balancer t-lb -> t-one-tg",
        "## Load balancer t-lb -> t-two-tg",
    ]


def test_watching_the_same_thing_twice_is_refused():
    def twice(stack):
        function = build_function(stack)
        monitoring = Monitoring(stack, "m", MonitoringProps("t", "us-east-1", TEST_KEY_ARN))
        FunctionAlarms(monitoring, function)
        FunctionAlarms(monitoring, function)

    with pytest.raises(ValueError, match="watched twice"):
        synth_construct(twice)
