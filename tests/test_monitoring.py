import json

import pytest

from constructs_lib.kms import StackKey, StackKeyProps
from constructs_lib.monitoring import (
    ApiAlarmProps,
    FunctionAlarmProps,
    LoadBalancerAlarmProps,
    Monitoring,
    MonitoringProps,
)
from constructs_lib.releases import unqualified_target
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
)


def build(stack, function_alarms=None) -> None:
    key = StackKey(stack, "key", StackKeyProps(alias="t", region="us-east-1"))
    key.allow_cloudwatch_alarms()
    function = build_function(stack, timeout_s=10)
    api = build_api(stack, function)
    balancer = build_load_balancer(stack)
    route_load_balancer(balancer, function)
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
    monitoring.watch_function(function, function_alarms)
    monitoring.watch_api(api, ApiAlarmProps(latency_p99_ms=1500))
    monitoring.watch_load_balancer(balancer)


@pytest.fixture(scope="module")
def synthesized() -> dict:
    return synth_construct(build)


def alarm(synthesized: dict, name: str) -> dict:
    [found] = [a for a in resources(synthesized, "aws_cloudwatch_metric_alarm").values()
               if a["alarm_name"] == name]  # fmt: skip
    return found


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


def test_every_alarm_notifies_the_topic_on_alarm_and_ok(synthesized):
    topic = ref(synthesized, "aws_sns_topic", "monitoring", "arn")
    alarms = resources(synthesized, "aws_cloudwatch_metric_alarm").values()
    assert len(alarms) == 8
    for each in alarms:
        assert each["alarm_actions"] == [topic]
        assert each["ok_actions"] == [topic]
        assert each["actions_enabled"] is True
        assert each["treat_missing_data"] == "notBreaching"


def test_alarms_are_named_after_what_they_watch(synthesized):
    names = sorted(
        a["alarm_name"] for a in resources(synthesized, "aws_cloudwatch_metric_alarm").values()
    )
    assert names == [
        "t-api-5xx-rate",
        "t-api-latency-p99",
        "t-fn-dead-letters",
        "t-fn-duration-p99",
        "t-fn-errors",
        "t-fn-throttles",
        "t-lb-fn-target-5xx",
        "t-lb-fn-unhealthy-targets",
    ]


def test_function_alarms(synthesized):
    function_name = ref(synthesized, "aws_lambda_function", "fn", "function_name")
    errors = alarm(synthesized, "t-fn-errors")
    assert (errors["namespace"], errors["metric_name"], errors["statistic"]) == (
        "AWS/Lambda", "Errors", "Sum",
    )  # fmt: skip
    assert errors["dimensions"] == {"FunctionName": function_name}
    assert errors["threshold"] == 1
    assert (errors["period"], errors["evaluation_periods"], errors["datapoints_to_alarm"]) == (
        60, 5, 3,
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


def test_api_alarms(synthesized):
    rate = alarm(synthesized, "t-api-5xx-rate")
    assert (rate["namespace"], rate["metric_name"], rate["statistic"]) == (
        "AWS/ApiGateway", "5XXError", "Average",
    )  # fmt: skip
    assert rate["threshold"] == 0.05
    assert rate["dimensions"] == {
        "ApiName": ref(synthesized, "aws_api_gateway_rest_api", "api", "name"),
        "Stage": ref(synthesized, "aws_api_gateway_stage", "api", "stage_name"),
    }
    latency = alarm(synthesized, "t-api-latency-p99")
    assert (latency["extended_statistic"], latency["threshold"]) == ("p99", 1500)


def test_load_balancer_alarms(synthesized):
    dimensions = {
        "LoadBalancer": ref(synthesized, "aws_lb", "lb", "arn_suffix"),
        "TargetGroup": ref(synthesized, "aws_lb_target_group", "lb", "arn_suffix"),
    }
    # Named after the target group.
    target_5xx = alarm(synthesized, "t-lb-fn-target-5xx")
    assert target_5xx["metric_name"] == "HTTPCode_Target_5XX_Count"
    assert target_5xx["dimensions"] == dimensions
    assert target_5xx["threshold"] == 5
    unhealthy = alarm(synthesized, "t-lb-fn-unhealthy-targets")
    assert (unhealthy["metric_name"], unhealthy["statistic"]) == ("UnHealthyHostCount", "Maximum")
    assert unhealthy["dimensions"] == dimensions


def test_load_balancer_alarms_per_target_group():
    def build_two(stack):
        function = build_function(stack)
        balancer = build_load_balancer(stack)
        for id in ("fn", "admin"):
            balancer.add_function_target(id, f"t-lb-{id}", unqualified_target(function))
        monitoring = Monitoring(stack, "m", MonitoringProps("t", "us-east-1", TEST_KEY_ARN))
        assert len(monitoring.watch_load_balancer(balancer)) == 4

    synthesized = synth_construct(build_two)
    by_name = {
        a["alarm_name"]: a["dimensions"]["TargetGroup"]
        for a in resources(synthesized, "aws_cloudwatch_metric_alarm").values()
    }
    fn = ref(synthesized, "aws_lb_target_group", "lb_fn-target", "arn_suffix")
    admin = ref(synthesized, "aws_lb_target_group", "lb_admin-target", "arn_suffix")
    assert by_name == {
        "t-lb-fn-target-5xx": fn,
        "t-lb-fn-unhealthy-targets": fn,
        "t-lb-admin-target-5xx": admin,
        "t-lb-admin-unhealthy-targets": admin,
    }


def test_dashboard_graphs_every_watched_metric(synthesized):
    body = json.loads(only(synthesized, "aws_cloudwatch_dashboard")["dashboard_body"])
    graphed = {w["properties"]["metrics"][0][1] for w in body["widgets"] if w["type"] == "metric"}
    assert {"Errors", "Throttles", "Duration", "ApproximateNumberOfMessagesVisible"} <= graphed
    assert {"5XXError", "Latency", "HTTPCode_Target_5XX_Count", "UnHealthyHostCount"} <= graphed
    assert all(
        w["properties"]["region"] == "us-east-1" for w in body["widgets"] if w["type"] == "metric"
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
    with pytest.raises(ValueError):
        LoadBalancerAlarmProps(target_5xx_threshold=0)


def test_subscribers_are_checked():
    with pytest.raises(ValueError, match="https"):
        MonitoringProps("t", "us-east-1", TEST_KEY_ARN, https_subscribers=["http://x"])
    with pytest.raises(ValueError, match="email"):
        MonitoringProps("t", "us-east-1", TEST_KEY_ARN, email_subscribers=["nobody"])


def test_load_balancer_needs_a_function_target_first():
    def build_unrouted(stack):
        balancer = build_load_balancer(stack)
        Monitoring(stack, "m", MonitoringProps("t", "us-east-1", TEST_KEY_ARN)).watch_load_balancer(
            balancer
        )

    with pytest.raises(ValueError, match="with a function target"):
        synth_construct(build_unrouted)


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
            monitoring.watch_function(ServerlessFunction(stack, name, props))
        balancer = build_load_balancer(stack)
        groups = [
            LbTargetGroup(stack, name, name=name, target_type="lambda")
            for name in ("t-one-tg", "t-two-tg")
        ]
        monitoring.watch_load_balancer(balancer, target_groups=groups)

    synthesized = synth_construct(build_several)
    alarms = resources(synthesized, "aws_cloudwatch_metric_alarm").values()
    names = {a["alarm_name"] for a in alarms}
    assert len(names) == len(alarms) == 12
    assert {
        "t-one-errors",
        "t-two-errors",
        "t-one-tg-target-5xx",
        "t-two-tg-unhealthy-targets",
    } <= names
    [two_tg] = [a for a in alarms if a["alarm_name"] == "t-two-tg-target-5xx"]
    assert two_tg["dimensions"]["TargetGroup"] == ref(
        synthesized, "aws_lb_target_group", "t-two-tg", "arn_suffix"
    )
    body = json.loads(only(synthesized, "aws_cloudwatch_dashboard")["dashboard_body"])
    headers = [w["properties"]["markdown"] for w in body["widgets"] if w["type"] == "text"]
    assert headers == [
        "## Lambda t-one",
        "## Lambda t-two",
        "## Load balancer t-lb -> t-one-tg",
        "## Load balancer t-lb -> t-two-tg",
    ]


def test_watching_the_same_thing_twice_is_refused():
    def twice(stack):
        function = build_function(stack)
        monitoring = Monitoring(stack, "m", MonitoringProps("t", "us-east-1", TEST_KEY_ARN))
        monitoring.watch_function(function)
        monitoring.watch_function(function)

    with pytest.raises(ValueError, match="watched twice"):
        synth_construct(twice)
