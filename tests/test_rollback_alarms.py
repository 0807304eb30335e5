"""A release that answers 500 to every request is rolled back: prod's synthesized rollback
alarms, evaluated by tests/alarm_evaluator.py (the emulator never evaluates alarms), reach
ALARM while CodeDeploy's canary still watches them; a healthy release leaves them all OK.
Shipped prod serves `/hello` on the API only (AWS_IAM); here it also has a public route, so
that hello has a target group on the load balancer and its alarm is among the rollback ones.

The function's answers and its request-metric records come from running lambda/app.py (the
new version's code path is broken, so every request ends in its last-resort 500). What API
Gateway and the load balancer publish for those answers is modelled from them: a 5XX answer
is one 5XXError on its route, one HTTPCode_Target_5XX_Count on its target group.
"""

from __future__ import annotations

import json
import re
import uuid
from collections import defaultdict
from collections.abc import Iterator

import pytest

from serverless_app.config import StackConfig, load_config
from tests.alarm_evaluator import MetricRef, Value, alarm_values, states
from tests.support import (
    CONFIG_DIR,
    REPO_ROOT,
    load_function_module,
    only,
    resources,
    synth_config,
)

APP_SOURCE = REPO_ROOT / "lambda" / "app.py"
EVENTS = REPO_ROOT / "tests" / "events"
# CodeDeploy's Canary10Percent5Minutes: 10 % of the traffic for five minutes, then all of it.
CANARY_MINUTES = 5
NEW_VERSION_EVERY = 10
# A minute's datapoint reaches CloudWatch about a minute after the minute ends: at the end of
# the canary the alarms have seen the canary's first four minutes.
ARRIVED_MINUTES = CANARY_MINUTES - 1
REQUESTS_PER_MINUTE = 30  # through each of the API and the load balancer
FUNCTION = "hello"
TOKEN = re.compile(r"^\$\{(aws_[a-z0-9_]+)\.([^.]+)\.([a-z_]+)\}$")


PUBLIC_ROUTE = f"""
[[routes]]
method = "GET"
path = "/{FUNCTION}/{{name}}"
function = "{FUNCTION}"
authorization = "NONE"
"""


@pytest.fixture(scope="module")
def prod_config(tmp_path_factory) -> StackConfig:
    """prod as shipped, plus a public route to hello: on the API and the load balancer."""
    path = tmp_path_factory.mktemp("prod") / "prod.toml"
    path.write_text((CONFIG_DIR / "prod.toml").read_text() + PUBLIC_ROUTE)
    config = load_config(path)
    assert config.releases.strategy == "Canary10Percent5Minutes"
    return config


@pytest.fixture(scope="module")
def prod(prod_config) -> dict:
    return synth_config(prod_config)


def alarm_name(stack: dict, config: StackConfig, kind: str) -> str:
    """The name of hello's alarm of `kind`: after the function, or `<load balancer>-hello`
    for its target group's (`target-5xx`)."""
    if kind == "target-5xx":
        return f"{only(stack, 'aws_lb')['name']}-{FUNCTION}-5xx"
    return f"{config.functions[FUNCTION].name}-{kind}"


def rollback_alarms(stack: dict) -> dict[str, dict]:
    """The alarms hello's deployment group stops on, by name suffix after the watched name."""
    [group] = [
        g
        for rid, g in resources(stack, "aws_codedeploy_deployment_group").items()
        if rid.startswith(f"releases_{FUNCTION}-deployment-group_")
    ]
    alarms = resources(stack, "aws_cloudwatch_metric_alarm")
    found = {}
    for reference in group["alarm_configuration"]["alarms"]:
        token = TOKEN.match(reference)
        assert token, reference
        alarm = alarms[token[2]]
        found[alarm["alarm_name"]] = alarm
    return found


def runtime_value(stack: dict, token: str) -> str:
    """What a dimension's Terraform reference is once applied: the literal name the stack
    gives the function, API and stage, a made-up ARN suffix for the load balancer's parts."""
    match = TOKEN.match(token)
    if match is None:
        return token
    resource_type, rid, attribute = match.groups()
    body = resources(stack, resource_type)[rid]
    if attribute == "arn_suffix":
        return f"{resource_type}/{body['name']}/0123456789abcdef"
    return body[attribute]


def applied(stack: dict, alarm: dict) -> dict:
    """The alarm with its dimensions as CloudWatch will see them."""
    alarm = json.loads(json.dumps(alarm))
    metrics = [
        alarm,
        *(query["metric"] for query in alarm.get("metric_query", []) if "metric" in query),
    ]
    for metric in metrics:
        if "dimensions" in metric:
            metric["dimensions"] = {
                name: runtime_value(stack, value) for name, value in metric["dimensions"].items()
            }
    return alarm


class CloudWatch:
    """Per metric and statistic, one value per minute, from what the function printed and
    from what API Gateway and the load balancer publish for its answers."""

    def __init__(self) -> None:
        self.samples: dict[tuple, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))

    def add(self, namespace: str, name: str, dimensions: dict, minute: int, value: float) -> None:
        key = (namespace, name, tuple(sorted(dimensions.items())))
        self.samples[key][minute].append(value)

    def add_embedded_metrics(self, stdout: str, minute: int) -> None:
        """CloudWatch Logs' reading of embedded-metric-format lines: each metric under each of
        the record's dimension sets."""
        for line in stdout.splitlines():
            if not line.startswith('{"_aws"'):
                continue
            record = json.loads(line)
            for directive in record["_aws"]["CloudWatchMetrics"]:
                for dimension_set in directive["Dimensions"]:
                    dimensions = {name: record[name] for name in dimension_set}
                    for metric in directive["Metrics"]:
                        value = record[metric["Name"]]
                        self.add(directive["Namespace"], metric["Name"], dimensions, minute, value)

    def datapoints(self, ref: MetricRef) -> list[Value]:
        minutes = self.samples.get((ref.namespace, ref.name, ref.dimensions), {})
        return [_statistic(ref.statistic, minutes.get(minute)) for minute in range(CANARY_MINUTES)]


def _statistic(statistic: str, values: list[float] | None) -> Value:
    if not values:
        return None
    if statistic == "Sum":
        return sum(values)
    if statistic == "Average":
        return sum(values) / len(values)
    if statistic in ("Maximum", "p99"):
        return max(values)
    raise NotImplementedError(statistic)


def event(source: str) -> dict:
    name = "apigw-rest-get" if source == "api" else "alb-get"
    body = json.loads((EVENTS / f"{name}.json").read_text())
    if source == "api":
        body["requestContext"]["requestId"] = str(uuid.uuid4())
    return body


def canary(
    monkeypatch, capsys, stack: dict, config: StackConfig, *, new_version_fails: bool
) -> CloudWatch:
    """Five minutes of a canary: every tenth request reaches the new version."""
    function = config.functions[FUNCTION]
    monkeypatch.setenv("TABLE_REQUESTS_NAME", "requests")
    monkeypatch.setenv("BUCKET_ASSETS_NAME", "assets")
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", function.name)
    versions = {"1": load_function_module(APP_SOURCE, "prod_hello_v1")}
    versions["2"] = load_function_module(APP_SOURCE, "prod_hello_v2")
    # No AWS behind them: the old version greets as it would; the new one works or is broken.
    monkeypatch.setattr(versions["1"], "greet", lambda *_: {"message": "Hello!", "visits": 1})
    if new_version_fails:
        monkeypatch.setattr(versions["2"], "greet", _broken)
    else:
        monkeypatch.setattr(versions["2"], "greet", lambda *_: {"message": "Hi!", "visits": 1})
    cloudwatch = CloudWatch()
    api = {
        "ApiName": config.api.name,
        "Stage": config.api.stage_name,
        "Resource": f"/{FUNCTION}",
        "Method": "GET",
    }
    lb = only(stack, "aws_lb")["name"]
    [group] = [g["name"] for g in resources(stack, "aws_lb_target_group").values()]
    balancer = {
        "LoadBalancer": f"aws_lb/{lb}/0123456789abcdef",
        "TargetGroup": f"aws_lb_target_group/{group}/0123456789abcdef",
    }
    capsys.readouterr()
    for minute in range(CANARY_MINUTES):
        for source, index in _requests():
            version = "2" if index % NEW_VERSION_EVERY == 0 else "1"
            monkeypatch.setenv("AWS_LAMBDA_FUNCTION_VERSION", version)
            status = versions[version].handler(event(source), None)["statusCode"]
            failed = float(status >= 500)
            cloudwatch.add("AWS/Lambda", "Errors", {"FunctionName": function.name}, minute, 0.0)
            cloudwatch.add("AWS/Lambda", "Duration", {"FunctionName": function.name}, minute, 20)
            if source == "api":
                cloudwatch.add("AWS/ApiGateway", "5XXError", api, minute, failed)
            else:
                cloudwatch.add("AWS/ApplicationELB", "RequestCount", balancer, minute, 1.0)
                if failed:
                    cloudwatch.add("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", balancer,
                                   minute, 1.0)  # fmt: skip
        cloudwatch.add_embedded_metrics(capsys.readouterr().out, minute)
    return cloudwatch


def _requests() -> Iterator[tuple[str, int]]:
    for source in ("api", "alb"):
        for index in range(REQUESTS_PER_MINUTE):
            yield source, index


def _broken(*_: object) -> dict:
    raise RuntimeError("the new version's code path is broken")


def states_at_the_end_of_the_canary(stack: dict, cloudwatch: CloudWatch) -> dict[str, str]:
    final = {}
    for name, alarm in rollback_alarms(stack).items():
        alarm = applied(stack, alarm)
        values = alarm_values(alarm, cloudwatch.datapoints, ARRIVED_MINUTES)
        final[name] = states(alarm, values)[-1]
    return final


def test_a_release_answering_500_to_every_request_is_rolled_back(
    monkeypatch, capsys, prod, prod_config
):
    cloudwatch = canary(monkeypatch, capsys, prod, prod_config, new_version_fails=True)
    final = states_at_the_end_of_the_canary(prod, cloudwatch)
    # The function's own count, its route on the API and its target group all see it ...
    assert {name: final[name] for name in final if final[name] == "ALARM"} == {
        alarm_name(prod, prod_config, kind): "ALARM"
        for kind in ("server-errors", "api-5xx", "target-5xx")
    }
    # ... while Lambda saw no error at all: every exception became a 500 answer.
    assert final[alarm_name(prod, prod_config, "errors")] == "OK"


def test_a_healthy_release_is_not_rolled_back(monkeypatch, capsys, prod, prod_config):
    cloudwatch = canary(monkeypatch, capsys, prod, prod_config, new_version_fails=False)
    final = states_at_the_end_of_the_canary(prod, cloudwatch)
    assert set(final.values()) == {"OK"}
    assert len(final) == 5


def test_the_function_counts_its_answers_where_the_alarm_reads_them(
    monkeypatch, capsys, prod, prod_config
):
    """The request metric's namespace, name and dimension are the alarm's: one source of
    truth each side (lambda/request_metrics.py, constructs_lib/alarm_kinds.py)."""
    name = alarm_name(prod, prod_config, "server-errors")
    alarm = applied(prod, rollback_alarms(prod)[name])
    cloudwatch = canary(monkeypatch, capsys, prod, prod_config, new_version_fails=True)
    expected = MetricRef.of(
        alarm["namespace"], alarm["metric_name"], alarm["dimensions"], alarm["statistic"]
    )
    assert cloudwatch.datapoints(expected)[0] == pytest.approx(0.1)
    # The version of each answer is counted too: only version 2 failed.
    by_version = {
        dict(key[2])["ExecutedVersion"]: minutes[0]
        for key, minutes in cloudwatch.samples.items()
        if "ExecutedVersion" in dict(key[2])
    }
    assert {version: max(values) for version, values in by_version.items()} == {"1": 0, "2": 1}
