from dataclasses import dataclass

import pytest

from constructs_lib.function_alarms import FunctionAlarms
from constructs_lib.lambda_function import ServerlessFunction
from constructs_lib.limits import RELEASE_STRATEGIES, deployment_config_name, watched_seconds
from constructs_lib.monitoring import Monitoring, MonitoringProps
from constructs_lib.releases import (
    DeploymentGroupProps,
    LiveAlias,
    LiveAliasProps,
    Releases,
    ReleasesProps,
)
from tests.support import (
    TEST_KEY_ARN,
    api_operations,
    build_api,
    build_function,
    build_load_balancer,
    data_sources,
    only,
    ref,
    resources,
    route_load_balancer,
    synth_construct,
)


def function(stack, **overrides) -> ServerlessFunction:
    return build_function(stack, **{"publish_versions": True, **overrides})


def build(stack, strategy="Canary10Percent5Minutes", provisioned=3, watched_window_s=180) -> None:
    fn = function(stack)
    alias = LiveAlias(stack, "live", fn, LiveAliasProps(provisioned_concurrency=provisioned))
    api = build_api(stack, fn, alias.target)
    balancer = build_load_balancer(stack)
    route_load_balancer(balancer, fn, alias.target)
    monitoring = Monitoring(stack, "monitoring", MonitoringProps("t", "us-east-1", TEST_KEY_ARN))
    watched = FunctionAlarms(monitoring, fn)
    releases = Releases(stack, "releases", ReleasesProps(name="t", region="us-east-1"))
    releases.add_function(
        "fn",
        alias,
        DeploymentGroupProps(
            strategy,
            rollback_alarms=watched.rollback,
            rollback_window_s=watched_window_s,
        ),
    )
    del api


@pytest.fixture(scope="module")
def synthesized() -> dict:
    return synth_construct(build)


def test_function_publishes_versions_and_alias_starts_at_the_published_one(synthesized):
    assert only(synthesized, "aws_lambda_function")["publish"] is True
    alias = only(synthesized, "aws_lambda_alias")
    assert alias["name"] == "live"
    assert alias["function_name"] == ref(synthesized, "aws_lambda_function", "fn", "function_name")
    assert alias["function_version"] == ref(synthesized, "aws_lambda_function", "fn", "version")
    # CodeDeploy moves the alias after the first apply; Terraform must not move it back.
    assert set(alias["lifecycle"]["ignore_changes"]) == {"function_version", "routing_config"}


def test_function_without_publishing_does_not_publish():
    synthesized = synth_construct(lambda stack: function(stack, publish_versions=False))
    assert "publish" not in only(synthesized, "aws_lambda_function")


def integration(synthesized: dict) -> dict:
    """The Lambda integration of the API's one route."""
    [operation] = api_operations(synthesized).values()
    return operation["x-amazon-apigateway-integration"]


def test_api_invokes_the_alias_with_a_qualified_permission(synthesized):
    assert integration(synthesized)["uri"] == ref(
        synthesized, "aws_lambda_alias", "live", "invoke_arn"
    )
    [permission] = [p for p in resources(synthesized, "aws_lambda_permission").values()
                    if p["principal"] == "apigateway.amazonaws.com"]  # fmt: skip
    assert permission["qualifier"] == ref(synthesized, "aws_lambda_alias", "live", "name")


def test_load_balancer_targets_the_alias_with_a_qualified_permission(synthesized):
    attachment = only(synthesized, "aws_lb_target_group_attachment")
    assert attachment["target_id"] == ref(synthesized, "aws_lambda_alias", "live", "arn")
    [permission] = [p for p in resources(synthesized, "aws_lambda_permission").values()
                    if p["principal"] == "elasticloadbalancing.amazonaws.com"]  # fmt: skip
    assert permission["qualifier"] == ref(synthesized, "aws_lambda_alias", "live", "name")


def test_unqualified_wiring_is_unchanged_without_a_target():
    def build_plain(stack):
        fn = function(stack, publish_versions=False)
        build_api(stack, fn)

    synthesized = synth_construct(build_plain)
    assert integration(synthesized)["uri"] == ref(
        synthesized, "aws_lambda_function", "fn", "invoke_arn"
    )
    assert "qualifier" not in only(synthesized, "aws_lambda_permission")


def test_provisioned_concurrency_is_on_the_alias(synthesized):
    config = only(synthesized, "aws_lambda_provisioned_concurrency_config")
    assert config["qualifier"] == ref(synthesized, "aws_lambda_alias", "live", "name")
    assert config["provisioned_concurrent_executions"] == 3


def test_no_provisioned_concurrency_by_default():
    synthesized = synth_construct(lambda stack: build(stack, provisioned=None))
    assert not resources(synthesized, "aws_lambda_provisioned_concurrency_config")


def test_codedeploy_application_and_service_role(synthesized):
    application = only(synthesized, "aws_codedeploy_app")
    assert application["compute_platform"] == "Lambda"
    attachments = resources(synthesized, "aws_iam_role_policy_attachment").values()
    assert any(
        # The narrow managed policy (no invoking of any function, no publishing).
        a["policy_arn"].endswith(":iam::aws:policy/service-role/AWSCodeDeployRoleForLambdaLimited")
        and a["policy_arn"].startswith("arn:${data.aws_partition.")
        for a in attachments
    )
    assume = [d for rid, d in data_sources(synthesized, "aws_iam_policy_document").items()
              if "releases" in rid and "assume" in rid]  # fmt: skip
    assert assume[0]["statement"][0]["principals"][0]["identifiers"] == ["codedeploy.amazonaws.com"]


def test_deployment_group_rolls_back_on_failure_and_on_the_functions_rollback_alarms(synthesized):
    group = only(synthesized, "aws_codedeploy_deployment_group")
    assert group["deployment_config_name"] == "CodeDeployDefault.LambdaCanary10Percent5Minutes"
    assert group["deployment_style"] == {
        "deployment_option": "WITH_TRAFFIC_CONTROL",
        "deployment_type": "BLUE_GREEN",
    }
    assert group["auto_rollback_configuration"] == {
        "enabled": True,
        "events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"],
    }
    by_name = {
        alarm["alarm_name"]: f"${{aws_cloudwatch_metric_alarm.{rid}.alarm_name}}"
        for rid, alarm in resources(synthesized, "aws_cloudwatch_metric_alarm").items()
    }
    assert group["alarm_configuration"]["enabled"] is True
    # Throttles and dead letters page but never hold one of CodeDeploy's ten slots.
    assert group["alarm_configuration"]["alarms"] == [
        by_name["t-fn-errors"],
        by_name["t-fn-duration-p99"],
    ]
    assert group["service_role_arn"] == ref(synthesized, "aws_iam_role", "releases", "arn")


@pytest.mark.parametrize(
    "strategy, config",
    [
        ("AllAtOnce", "CodeDeployDefault.LambdaAllAtOnce"),
        ("Linear10PercentEvery1Minute", "CodeDeployDefault.LambdaLinear10PercentEvery1Minute"),
    ],
)
def test_strategy_maps_to_the_predefined_configuration(strategy, config):
    synthesized = synth_construct(lambda stack: build(stack, strategy=strategy))
    assert only(synthesized, "aws_codedeploy_deployment_group")["deployment_config_name"] == config


# CodeDeploy's predefined Lambda deployment configurations (2026-11-28).
PREDEFINED_CONFIGURATIONS = {
    "AllAtOnce": "CodeDeployDefault.LambdaAllAtOnce",
    "Canary10Percent5Minutes": "CodeDeployDefault.LambdaCanary10Percent5Minutes",
    "Canary10Percent10Minutes": "CodeDeployDefault.LambdaCanary10Percent10Minutes",
    "Canary10Percent15Minutes": "CodeDeployDefault.LambdaCanary10Percent15Minutes",
    "Canary10Percent30Minutes": "CodeDeployDefault.LambdaCanary10Percent30Minutes",
    "Linear10PercentEvery1Minute": "CodeDeployDefault.LambdaLinear10PercentEvery1Minute",
    "Linear10PercentEvery2Minutes": "CodeDeployDefault.LambdaLinear10PercentEvery2Minutes",
    "Linear10PercentEvery3Minutes": "CodeDeployDefault.LambdaLinear10PercentEvery3Minutes",
    "Linear10PercentEvery10Minutes": "CodeDeployDefault.LambdaLinear10PercentEvery10Minutes",
}


def test_every_predefined_configuration_is_a_strategy_and_nothing_else():
    assert sorted(RELEASE_STRATEGIES) == sorted(PREDEFINED_CONFIGURATIONS)
    assert {s: deployment_config_name(s) for s in RELEASE_STRATEGIES} == PREDEFINED_CONFIGURATIONS
    with pytest.raises(ValueError, match="not a CodeDeploy Lambda strategy"):
        deployment_config_name("Canary10Percent1Minute")


@pytest.mark.parametrize(
    ("strategy", "seconds"),
    [
        ("AllAtOnce", 0),
        ("Canary10Percent5Minutes", 300),
        ("Canary10Percent10Minutes", 600),
        ("Canary10Percent15Minutes", 900),
        ("Canary10Percent30Minutes", 1800),
        # Ten steps of 10 %: the new version has part of the traffic for nine intervals.
        ("Linear10PercentEvery1Minute", 540),
        ("Linear10PercentEvery2Minutes", 1080),
        ("Linear10PercentEvery3Minutes", 1620),
        ("Linear10PercentEvery10Minutes", 5400),
    ],
)
def test_each_strategy_watches_the_alarms_while_the_new_version_shares_the_traffic(
    strategy, seconds
):
    assert watched_seconds(strategy) == seconds


@pytest.mark.parametrize(
    ("strategy", "window_s", "fits"),
    [
        # The window plus a minute for the metrics to arrive must fit the canary.
        ("Canary10Percent5Minutes", 240, True),
        ("Canary10Percent5Minutes", 241, False),
        ("Canary10Percent5Minutes", 300, False),
        ("Linear10PercentEvery1Minute", 480, True),
        ("Linear10PercentEvery1Minute", 540, False),
        # All at once watches nothing: no window can help, none is refused.
        ("AllAtOnce", 86_400, True),
    ],
)
def test_rollback_alarms_must_be_able_to_fire_before_the_release_is_over(strategy, window_s, fits):
    def props() -> DeploymentGroupProps:
        return DeploymentGroupProps(
            strategy, [NamedAlarm("t-fn-errors")], rollback_window_s=window_s
        )

    if fits:
        assert props().rollback_window_s == window_s
    else:
        with pytest.raises(ValueError, match="exceeds the"):
            props()


@dataclass(frozen=True)
class NamedAlarm:
    """An alarm by name only: what a deployment group reads of one."""

    alarm_name: str


def test_rollback_alarms_need_their_window():
    with pytest.raises(ValueError, match="rollback_window_s"):
        DeploymentGroupProps("Canary10Percent5Minutes", [NamedAlarm("t-fn-errors")])
    assert DeploymentGroupProps("Canary10Percent5Minutes").rollback_alarms == ()


def test_bounds():
    with pytest.raises(ValueError, match="strategy"):
        DeploymentGroupProps("Canary50Percent")
    with pytest.raises(ValueError, match="at most 10"):
        DeploymentGroupProps(
            "AllAtOnce",
            rollback_alarms=[NamedAlarm(f"a{i}") for i in range(11)],
            rollback_window_s=60,
        )
    with pytest.raises(ValueError, match="provisioned_concurrency"):
        LiveAliasProps(provisioned_concurrency=901)
    with pytest.raises(ValueError, match="provisioned_concurrency"):
        LiveAliasProps(provisioned_concurrency=0)
    assert LiveAliasProps(provisioned_concurrency=1900, account_concurrency_limit=2000)


@pytest.mark.parametrize(
    ("account", "largest"),
    [(2000, 1900), (150, 50), (101, 1), (100, 0), (50, 0), (10, 0)],
)
def test_provisioned_concurrency_leaves_what_lambda_keeps_unreserved(account, largest):
    """100 of the quota, or all of a quota below 100 (new accounts have 10 or 50)."""
    if largest:
        assert LiveAliasProps(provisioned_concurrency=largest, account_concurrency_limit=account)
    with pytest.raises(ValueError, match=f"between 1 and {largest} "):
        LiveAliasProps(provisioned_concurrency=largest + 1, account_concurrency_limit=account)


def test_alias_needs_published_versions_and_room_in_the_reservation():
    with pytest.raises(ValueError, match="publish_versions"):
        synth_construct(
            lambda stack: LiveAlias(
                stack, "live", function(stack, publish_versions=False), LiveAliasProps()
            )
        )
    with pytest.raises(ValueError, match="reserved"):
        synth_construct(
            lambda stack: LiveAlias(
                stack,
                "live",
                function(stack, reserved_concurrency=2),
                LiveAliasProps(provisioned_concurrency=3),
            )
        )


# --- SnapStart: on the published versions, never with provisioned concurrency ---------------


def test_snap_start_applies_to_the_published_versions_the_alias_uses():
    def build_snap_start(stack):
        LiveAlias(stack, "live", function(stack, snap_start=True), LiveAliasProps())

    synthesized = synth_construct(build_snap_start)
    function_json = only(synthesized, "aws_lambda_function")
    assert function_json["snap_start"] == {"apply_on": "PublishedVersions"}
    assert function_json["publish"] is True
    alias = only(synthesized, "aws_lambda_alias")
    assert alias["function_version"] == ref(synthesized, "aws_lambda_function", "fn", "version")


def test_no_snap_start_by_default(synthesized):
    assert "snap_start" not in only(synthesized, "aws_lambda_function")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"runtime": "python3.11"}, "SnapStart supports Python 3.12 and later, not python3.11"),
        ({"publish_versions": False}, "SnapStart applies to published versions only"),
    ],
)
def test_snap_start_is_refused_where_lambda_refuses_it(overrides, message):
    with pytest.raises(ValueError, match=message):
        synth_construct(lambda stack: function(stack, snap_start=True, **overrides))


def test_snap_start_and_provisioned_concurrency_exclude_each_other():
    with pytest.raises(ValueError, match="cannot be used together with provisioned concurrency"):
        synth_construct(
            lambda stack: LiveAlias(
                stack,
                "live",
                function(stack, snap_start=True),
                LiveAliasProps(provisioned_concurrency=1),
            )
        )


def test_an_account_quota_below_one_is_refused():
    with pytest.raises(ValueError, match="account_concurrency_limit must be at least 1, got 0"):
        LiveAliasProps(account_concurrency_limit=0)
