"""The operating pieces wired into the stack: the live alias as what callers invoke, alarms
to the topic, CodeDeploy rolling back on the function's alarms, the optional custom domain
and SSM secrets (tests/config/operations.toml turns every option on)."""

import json

import pytest

from serverless_app.config import load_config
from tests.support import (
    ENVIRONMENT_FILES,
    REPO_ROOT,
    api_operations,
    data_sources,
    function_keys,
    function_ref,
    load_balancer_functions,
    name_prefix,
    of_function,
    only,
    only_of_function,
    ref,
    resources,
    stack_env,
    synth_config,
)

OPERATIONS_CONFIG = REPO_ROOT / "tests" / "config" / "operations.toml"


@pytest.fixture(scope="module")
def ops() -> dict:
    return synth_config(load_config(OPERATIONS_CONFIG))


def test_every_function_publishes_versions_and_its_alias_starts_on_the_first(stack):
    keys = function_keys(stack)
    assert "hello" in keys and len(resources(stack, "aws_lambda_alias")) == len(keys)
    for key in keys:
        assert only_of_function(stack, "aws_lambda_function", key)["publish"] is True
        alias = only_of_function(stack, "aws_lambda_alias", key)
        assert alias["name"] == "live"
        assert alias["function_name"] == function_ref(
            stack, "aws_lambda_function", key, "function_name"
        )
        assert alias["function_version"] == function_ref(
            stack, "aws_lambda_function", key, "version"
        )
        assert alias["lifecycle"]["ignore_changes"] == ["function_version", "routing_config"]


def function_of_alias_reference(stack: dict, reference: str) -> str:
    """The key of the function whose `live` alias `${aws_lambda_alias.ID.attribute}` names."""
    alias_id = reference.removeprefix("${aws_lambda_alias.").split(".")[0]
    [key] = [
        k for k in function_keys(stack) if alias_id in of_function(stack, "aws_lambda_alias", k)
    ]
    return key


def test_api_integrations_invoke_the_alias_of_their_function(stack):
    integrations = [
        operation["x-amazon-apigateway-integration"] for operation in api_operations(stack).values()
    ]
    assert integrations
    invoked = set()
    for integration in integrations:
        key = function_of_alias_reference(stack, integration["uri"])
        assert integration["uri"] == function_ref(stack, "aws_lambda_alias", key, "invoke_arn")
        invoked.add(key)
    # Every shipped function has a route on the API.
    assert invoked == function_keys(stack)
    permissions = [
        p
        for p in resources(stack, "aws_lambda_permission").values()
        if p["principal"] == "apigateway.amazonaws.com"
    ]
    assert len(permissions) == len(integrations)
    for permission in permissions:
        key = function_of_alias_reference(stack, permission["qualifier"])
        assert permission["qualifier"] == function_ref(stack, "aws_lambda_alias", key, "name")
        assert permission["function_name"] == function_ref(
            stack, "aws_lambda_function", key, "function_name"
        )


def test_each_target_group_holds_its_functions_alias(stack):
    # The functions with a public route: an AWS_IAM route is never on the load balancer.
    keys = load_balancer_functions(ENVIRONMENT_FILES[stack_env(stack)])
    assert keys <= function_keys(stack)
    attachments = resources(stack, "aws_lb_target_group_attachment")
    permissions = [
        p
        for p in resources(stack, "aws_lambda_permission").values()
        if p["principal"] == "elasticloadbalancing.amazonaws.com"
    ]
    assert len(attachments) == len(permissions) == len(keys)
    for key in keys:
        [attachment] = [
            a for rid, a in attachments.items() if rid.startswith(f"load-balancer_{key}-")
        ]
        assert attachment["target_id"] == function_ref(stack, "aws_lambda_alias", key, "arn")
        target_group_id = attachment["target_group_arn"].split(".")[1]
        name = resources(stack, "aws_lb_target_group")[target_group_id]["name"]
        assert name == f"{only(stack, 'aws_lb')['name']}-{key}"
        [permission] = [p for p in permissions if p["source_arn"] == attachment["target_group_arn"]]
        assert permission["qualifier"] == function_ref(stack, "aws_lambda_alias", key, "name")
        assert permission["function_name"] == function_ref(
            stack, "aws_lambda_function", key, "function_name"
        )


def function_alarms(stack: dict, key: str) -> list[str]:
    """`${...alarm_name}` of the alarms on function `key`: its Lambda metrics and its queue."""
    watched = {
        function_ref(stack, "aws_lambda_function", key, "function_name"),
        function_ref(stack, "aws_sqs_queue", key, "name"),
    }
    return sorted(
        f"${{aws_cloudwatch_metric_alarm.{rid}.alarm_name}}"
        for rid, alarm in resources(stack, "aws_cloudwatch_metric_alarm").items()
        if alarm["namespace"] in ("AWS/Lambda", "AWS/SQS")
        and set(alarm["dimensions"].values()) & watched
    )


def test_every_alarm_notifies_the_topic(stack):
    topic = ref(stack, "aws_sns_topic", "monitoring", "arn")
    alarms = resources(stack, "aws_cloudwatch_metric_alarm").values()
    functions = len(function_keys(stack))
    target_groups = len(resources(stack, "aws_lb_target_group"))
    assert target_groups == len(load_balancer_functions(ENVIRONMENT_FILES[stack_env(stack)]))
    # Per function: errors, throttles, duration, dead letters; per target group: 5XX,
    # unhealthy; the API: 5XX, latency.
    assert len(alarms) == 4 * functions + 2 * target_groups + 2
    for alarm in alarms:
        assert alarm["alarm_actions"] == [topic]
        assert alarm["ok_actions"] == [topic]
    assert only(stack, "aws_sns_topic")["kms_master_key_id"] == ref(
        stack, "aws_kms_key", "key", "arn"
    )


def test_every_function_has_its_own_four_alarms(stack):
    for key in function_keys(stack):
        alarms = function_alarms(stack, key)
        assert len(alarms) == 4, key
        metrics = {
            resources(stack, "aws_cloudwatch_metric_alarm")[a.split(".")[1]]["metric_name"]
            for a in alarms
        }
        assert metrics == {"Errors", "Throttles", "Duration", "ApproximateNumberOfMessagesVisible"}


def test_key_lets_cloudwatch_publish_to_the_encrypted_topic(stack):
    policy = json.loads(only(stack, "aws_kms_key")["policy"])
    [statement] = [
        s for s in policy["Statement"] if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    ]
    assert set(statement["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey"}


def deployment_group(stack: dict, key: str) -> dict:
    [group] = [
        g
        for rid, g in resources(stack, "aws_codedeploy_deployment_group").items()
        if rid.startswith(f"releases_{key}-deployment-group_")
    ]
    return group


def test_each_deployment_group_rolls_back_on_its_functions_alarms(stack):
    keys = function_keys(stack)
    assert len(resources(stack, "aws_codedeploy_deployment_group")) == len(keys)
    for key in keys:
        group = deployment_group(stack, key)
        function = only_of_function(stack, "aws_lambda_function", key)
        assert group["deployment_group_name"] == function["function_name"]
        # References to the alarms' names: the group is created after its alarms; another
        # function's alarms never stop this one's release.
        assert sorted(group["alarm_configuration"]["alarms"]) == function_alarms(stack, key)
        assert group["auto_rollback_configuration"]["events"] == [
            "DEPLOYMENT_FAILURE",
            "DEPLOYMENT_STOP_ON_ALARM",
        ]


@pytest.mark.parametrize(
    ("env", "config_name"),
    [
        ("dev", "CodeDeployDefault.LambdaAllAtOnce"),
        ("prod", "CodeDeployDefault.LambdaCanary10Percent5Minutes"),
    ],
)
def test_shipped_strategies(stacks, env, config_name):
    groups = resources(stacks[env], "aws_codedeploy_deployment_group").values()
    assert groups
    assert {group["deployment_config_name"] for group in groups} == {config_name}


def test_shipped_stacks_have_no_domain_secrets_or_subscribers(stack):
    for resource_type in (
        "aws_acm_certificate",
        "aws_api_gateway_domain_name",
        "aws_route53_record",
        "aws_sns_topic_subscription",
        "aws_lambda_provisioned_concurrency_config",
    ):
        assert not resources(stack, resource_type), resource_type
    functions = resources(stack, "aws_lambda_function").values()
    assert functions
    for function in functions:
        variables = function["environment"]["variables"]
        assert not [name for name in variables if name.startswith("SECRET_")]
    assert not [
        p for p in resources(stack, "aws_iam_role_policy").values() if "Secret" in p["name"]
    ]


def test_alarm_settings_come_from_the_config(ops):
    alarms = resources(ops, "aws_cloudwatch_metric_alarm").values()
    assert {(a["period"], a["evaluation_periods"], a["datapoints_to_alarm"]) for a in alarms} == {
        (120, 4, 2)
    }
    [errors] = [
        a for a in alarms if a["alarm_name"] == f"{name_prefix(OPERATIONS_CONFIG)}-hello-errors"
    ]
    assert errors["threshold"] == 3
    subscriptions = {
        (s["protocol"], s["endpoint"])
        for s in resources(ops, "aws_sns_topic_subscription").values()
    }
    assert subscriptions == {
        ("email", "oncall@example.com"),
        ("https", "https://events.example.com/hooks/alarms"),
    }
    group = only(ops, "aws_codedeploy_deployment_group")
    assert group["deployment_config_name"] == "CodeDeployDefault.LambdaLinear10PercentEvery1Minute"


def test_provisioned_concurrency_is_on_the_alias(ops):
    config = only(ops, "aws_lambda_provisioned_concurrency_config")
    assert config["qualifier"] == ref(ops, "aws_lambda_alias", "live", "name")
    assert config["provisioned_concurrent_executions"] == 2


def test_domain_maps_the_stage_and_the_load_balancer_uses_its_certificate(ops):
    domain = only(ops, "aws_api_gateway_domain_name")
    assert domain["domain_name"] == "api.example.com"
    validated = ref(ops, "aws_acm_certificate_validation", "domain", "certificate_arn")
    assert domain["regional_certificate_arn"] == validated
    mapping = only(ops, "aws_api_gateway_base_path_mapping")
    assert mapping["stage_name"] == ref(ops, "aws_api_gateway_stage", "api", "stage_name")
    [https] = [
        listener
        for listener in resources(ops, "aws_lb_listener").values()
        if listener["protocol"] == "HTTPS"
    ]
    assert https["certificate_arn"] == validated
    # The public route's rule answers on HTTPS.
    [rule] = resources(ops, "aws_lb_listener_rule").values()
    assert rule["listener_arn"] == ref(ops, "aws_lb_listener", "https", "arn")
    records = resources(ops, "aws_route53_record").values()
    assert {r["zone_id"] for r in records} == {"Z0123456789ABCDEFGHIJ"}
    # The stage on the domain; each route's URL is this plus its path.
    assert ops["output"]["api_url"]["value"] == "https://api.example.com"


def test_an_own_certificate_wins_over_the_domains(tmp_path):
    certificate = (
        "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-1234567890ab"
    )
    text = OPERATIONS_CONFIG.read_text().replace(
        "[functions.hello]\n",
        f'[load_balancer]\ncertificate_arn = "{certificate}"\n\n[functions.hello]\n',
    )
    path = tmp_path / "ops.toml"
    path.write_text(text)
    synthesized = synth_config(load_config(path))
    [https] = [
        listener
        for listener in resources(synthesized, "aws_lb_listener").values()
        if listener["protocol"] == "HTTPS"
    ]
    assert https["certificate_arn"] == certificate


def test_function_reads_exactly_its_secret_parameters(ops):
    variables = only(ops, "aws_lambda_function")["environment"]["variables"]
    assert variables["SECRET_DB_PASSWORD"] == "/ops/db/password"
    assert variables["SECRET_API_TOKEN"] == "/ops/api/token"
    [document] = [
        d
        for d in data_sources(ops, "aws_iam_policy_document").values()
        if any(s.get("sid") == "ReadSecretParameters" for s in d["statement"])
    ]
    read, decrypt = document["statement"]
    assert read["actions"] == ["ssm:GetParameter", "ssm:GetParameters"]
    assert [arn.rsplit(":parameter/", 1)[1] for arn in read["resources"]] == [
        "ops/api/token",
        "ops/db/password",
    ]
    assert decrypt["resources"] == [
        "arn:aws:kms:us-east-1:123456789012:key/12345678-1234-1234-1234-1234567890ab"
    ]
    [policy] = [
        p
        for p in resources(ops, "aws_iam_role_policy").values()
        if p["name"] == "ReadSecretParameters"
    ]
    assert policy["role"] == ref(ops, "aws_iam_role", "function", "id")


def test_without_nat_the_function_reaches_ssm_through_an_interface_endpoint(ops):
    [endpoint] = [
        e
        for e in resources(ops, "aws_vpc_endpoint").values()
        if e["vpc_endpoint_type"] == "Interface"
    ]
    assert endpoint["service_name"] == "com.amazonaws.us-east-1.ssm"
    assert endpoint["private_dns_enabled"] is True
    [rule] = [
        r
        for r in resources(ops, "aws_vpc_security_group_ingress_rule").values()
        if r.get("referenced_security_group_id")
        == ref(ops, "aws_security_group", "function_security-group", "id")
    ]
    assert rule["from_port"] == 443


def test_with_nat_no_interface_endpoint_is_created(stack):
    assert not [
        e
        for e in resources(stack, "aws_vpc_endpoint").values()
        if e["vpc_endpoint_type"] == "Interface"
    ]


def test_config_strategies_are_the_ones_the_construct_maps():
    from constructs_lib.releases import DEPLOYMENT_CONFIGS
    from serverless_app.config.aws_facts import RELEASE_STRATEGIES

    assert set(RELEASE_STRATEGIES) == set(DEPLOYMENT_CONFIGS)
