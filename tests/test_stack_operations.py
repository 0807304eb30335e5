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
    env_config,
    file_values,
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
    assert keys == set(env_config(stack_env(stack)).functions)
    assert len(resources(stack, "aws_lambda_alias")) == len(keys)
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
    # The functions' integrations; the CORS preflights' are MOCK, invoking nothing.
    integrations = [
        operation["x-amazon-apigateway-integration"]
        for operation in api_operations(stack).values()
        if operation["x-amazon-apigateway-integration"]["type"] == "aws_proxy"
    ]
    assert integrations
    invoked = set()
    for integration in integrations:
        key = function_of_alias_reference(stack, integration["uri"])
        assert integration["uri"] == function_ref(stack, "aws_lambda_alias", key, "invoke_arn")
        invoked.add(key)
    # Every function a route reaches, and no other.
    assert invoked == routed_keys(stack)
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


def alarms_by_name(stack: dict) -> dict[str, str]:
    """Alarm name -> `${...alarm_name}`, the reference a deployment group holds."""
    return {
        alarm["alarm_name"]: f"${{aws_cloudwatch_metric_alarm.{rid}.alarm_name}}"
        for rid, alarm in resources(stack, "aws_cloudwatch_metric_alarm").items()
    }


def routed_keys(stack: dict) -> set[str]:
    """The functions a route of the stack's file reaches (the others are fed by triggers)."""
    return {
        route["function"] for route in file_values(ENVIRONMENT_FILES[stack_env(stack)])["routes"]
    }


def event_alarm_count(stack: dict) -> int:
    """The alarms of the file's event sources: per queue its oldest message and its dead-letter
    queue; the schedule group's failed and dropped invocations and each schedule's own
    dead-letter queue; each bucket or rule trigger's failed invocations; each table stream's
    iterator age."""
    values = file_values(ENVIRONMENT_FILES[stack_env(stack)])
    triggers = values.get("triggers", [])
    schedules = [t for t in triggers if "schedule" in t]
    return (
        2 * len(values.get("queues", {}))
        + (2 if schedules else 0)
        + sum(1 for t in schedules if "on_failure" not in t)
        + sum(1 for t in triggers if "bucket" in t or "rule" in t or "table" in t)
    )


def rollback_alarm_names(stack: dict, key: str) -> set[str]:
    """What a bad release of function `key` sets off, named from its file: its failures,
    slowness and 5XX answers, its routes' 5XX on the API, its target group's 5XX."""
    config = env_config(stack_env(stack))
    name = config.functions[key].name
    names = {f"{name}-errors", f"{name}-duration-p99", f"{name}-server-errors"}
    if key in routed_keys(stack):
        names.add(f"{name}-api-5xx")
    if any(route.load_balancer for route in config.routes_of(key)):
        names.add(f"{config.load_balancer.name}-{key}-5xx")
    return names


def test_every_alarm_notifies_the_topic(stack):
    topic = ref(stack, "aws_sns_topic", "monitoring", "arn")
    alarms = resources(stack, "aws_cloudwatch_metric_alarm").values()
    functions = len(function_keys(stack))
    target_groups = len(resources(stack, "aws_lb_target_group"))
    assert target_groups == len(load_balancer_functions(ENVIRONMENT_FILES[stack_env(stack)]))
    # Per function five and per routed function its routes' 5XX, per target group one, the
    # API's latency and, when the load balancer has targets, its own 5XX; the event sources'.
    assert len(alarms) == (
        5 * functions
        + len(routed_keys(stack))
        + target_groups
        + 1
        + (target_groups > 0)
        + event_alarm_count(stack)
    )
    for alarm in alarms:
        assert alarm["alarm_actions"] == [topic]
        assert alarm["ok_actions"] == [topic]
    assert only(stack, "aws_sns_topic")["kms_master_key_id"] == ref(
        stack, "aws_kms_key", "key", "arn"
    )


def test_every_function_has_its_own_six_alarms(stack):
    names = set(alarms_by_name(stack))
    config = env_config(stack_env(stack))
    for key in function_keys(stack):
        name = config.functions[key].name
        kinds = ["errors", "throttles", "duration-p99", "dead-letters", "server-errors"]
        # The sixth watches the function's routes: a function no route reaches has none.
        kinds += ["api-5xx"] if key in routed_keys(stack) else []
        assert {f"{name}-{kind}" for kind in kinds} <= names, key
        assert (f"{name}-api-5xx" in names) == (key in routed_keys(stack)), key


def test_api_alarms_read_the_metrics_the_stage_publishes_for_each_route_of_the_function(stack):
    """API Gateway publishes 5XXError per ApiName, Stage, Resource and Method; with the API
    defined by its OpenAPI document, Resource is the document's path and Method its
    operation (ANY for the any-method). A function's API alarms read exactly the operations
    that integrate its live alias."""
    [api_id] = resources(stack, "aws_api_gateway_rest_api")
    [stage_id] = resources(stack, "aws_api_gateway_stage")
    stage = {
        "ApiName": f"${{aws_api_gateway_rest_api.{api_id}.name}}",
        "Stage": f"${{aws_api_gateway_stage.{stage_id}.stage_name}}",
    }
    alarms = resources(stack, "aws_cloudwatch_metric_alarm").values()
    config = env_config(stack_env(stack))
    for key in routed_keys(stack):
        invoke_arn = function_ref(stack, "aws_lambda_alias", key, "invoke_arn")
        operations = {
            tuple(operation.split(" ", 1)[::-1])
            for operation, body in api_operations(stack).items()
            if body["x-amazon-apigateway-integration"].get("uri") == invoke_arn
        }
        name = config.functions[key].name
        read = []
        for alarm in alarms:
            if alarm["alarm_name"] != f"{name}-api-5xx":
                continue
            for query in alarm["metric_query"]:
                if "metric" in query:
                    metric = query["metric"]
                    assert (metric["namespace"], metric["metric_name"]) == (
                        "AWS/ApiGateway",
                        "5XXError",
                    )
                    dimensions = dict(metric["dimensions"])
                    assert {k: dimensions.pop(k) for k in stage} == stage
                    read.append((dimensions.pop("Resource"), dimensions.pop("Method")))
                    assert dimensions == {}
        assert operations and sorted(read) == sorted(operations), key


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


def test_each_deployment_group_rolls_back_on_what_a_bad_release_of_its_function_sets_off(stack):
    keys = function_keys(stack)
    by_name = alarms_by_name(stack)
    assert len(resources(stack, "aws_codedeploy_deployment_group")) == len(keys)
    for key in keys:
        group = deployment_group(stack, key)
        function = only_of_function(stack, "aws_lambda_function", key)
        assert group["deployment_group_name"] == function["function_name"]
        # References to the alarms' names: the group is created after its alarms; another
        # function's alarms never stop this one's release.
        assert sorted(group["alarm_configuration"]["alarms"]) == sorted(
            by_name[name] for name in rollback_alarm_names(stack, key)
        )
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
        variables = function.get("environment", {"variables": {}})["variables"]
        assert not [name for name in variables if name.startswith("SECRET_")]
    assert not [
        p for p in resources(stack, "aws_iam_role_policy").values() if "Secret" in p["name"]
    ]


def periods(alarm: dict) -> set[int]:
    """The period of the alarm's metric, or of each metric its expression reads."""
    if "metric_query" not in alarm:
        return {alarm["period"]}
    return {query["metric"]["period"] for query in alarm["metric_query"] if "metric" in query}


def test_alarm_settings_come_from_the_config(ops):
    alarms = resources(ops, "aws_cloudwatch_metric_alarm").values()
    assert {(a["evaluation_periods"], a["datapoints_to_alarm"]) for a in alarms} == {(4, 2)}
    assert set().union(*(periods(a) for a in alarms)) == {120}
    thresholds = {a["alarm_name"]: a["threshold"] for a in alarms}
    prefix = name_prefix(OPERATIONS_CONFIG)
    assert thresholds[f"{prefix}-hello-errors"] == 3
    assert thresholds[f"{prefix}-hello-server-errors"] == 0.1
    assert thresholds[f"{prefix}-hello-api-5xx"] == 0.2
    # The load balancer is named after the prefix, its target groups `<prefix>-<key>`.
    assert (thresholds[f"{prefix}-hello-5xx"], thresholds[f"{prefix}-elb-5xx"]) == (0.3, 0.3)
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


def load_balancer_record(synthesized: dict) -> list[dict]:
    return [
        record
        for rid, record in resources(synthesized, "aws_route53_record").items()
        if "load-balancer-record" in rid
    ]


def test_the_load_balancer_has_a_name_its_certificate_covers(ops):
    """Its HTTPS listener serves the domain's certificate, so a client must reach it by a
    name on that certificate: alb.<domain>, pointed at it, and the redirect from port 80
    keeps the host the client asked for."""
    certificate = only(ops, "aws_acm_certificate")
    assert certificate["domain_name"] == "api.example.com"
    assert certificate["subject_alternative_names"] == ["alb.api.example.com"]
    # One validation record per name.
    validation = only(ops, "aws_acm_certificate_validation")
    assert len(validation["validation_record_fqdns"]) == 2
    [record] = load_balancer_record(ops)
    assert (record["name"], record["type"]) == ("alb.api.example.com", "A")
    assert record["alias"]["name"] == ref(ops, "aws_lb", "load-balancer", "dns_name")
    assert record["alias"]["zone_id"] == ref(ops, "aws_lb", "load-balancer", "zone_id")
    [redirect] = [
        listener
        for listener in resources(ops, "aws_lb_listener").values()
        if listener["port"] == 80
    ]
    assert redirect["default_action"][0]["redirect"]["protocol"] == "HTTPS"
    assert "host" not in redirect["default_action"][0]["redirect"]  # #{host}: unchanged
    assert ops["output"]["load_balancer_url"]["value"] == "https://alb.api.example.com"


def ops_with(tmp_path, before_functions: str = "", in_domain: str = "") -> dict:
    text = OPERATIONS_CONFIG.read_text()
    text = text.replace("[functions.hello]\n", f"{before_functions}[functions.hello]\n")
    text = text.replace(
        'hosted_zone_id = "Z0123456789ABCDEFGHIJ"\n',
        f'hosted_zone_id = "Z0123456789ABCDEFGHIJ"\n{in_domain}',
    )
    path = tmp_path / "ops.toml"
    path.write_text(text)
    return synth_config(load_config(path))


def test_the_load_balancers_name_can_be_chosen(tmp_path):
    synthesized = ops_with(tmp_path, in_domain='load_balancer_name = "www.example.com"\n')
    assert only(synthesized, "aws_acm_certificate")["subject_alternative_names"] == [
        "www.example.com"
    ]
    [record] = load_balancer_record(synthesized)
    assert record["name"] == "www.example.com"
    assert synthesized["output"]["load_balancer_url"]["value"] == "https://www.example.com"


def test_an_own_certificate_wins_over_the_domains(tmp_path):
    certificate = (
        "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-1234567890ab"
    )
    synthesized = ops_with(
        tmp_path, before_functions=f'[load_balancer]\ncertificate_arn = "{certificate}"\n\n'
    )
    [https] = [
        listener
        for listener in resources(synthesized, "aws_lb_listener").values()
        if listener["protocol"] == "HTTPS"
    ]
    assert https["certificate_arn"] == certificate
    # The names on that certificate are its owner's to point: none is added or pointed here.
    assert "subject_alternative_names" not in only(synthesized, "aws_acm_certificate")
    assert not load_balancer_record(synthesized)
    assert "load_balancer_url" not in synthesized["output"]


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


def test_interface_endpoints_only_without_nat_for_what_functions_call(stack):
    """Without NAT, an in-VPC function reaches SSM (secrets), SQS (queues it sends to) and SNS
    (topics it publishes to) only through an interface endpoint; with NAT, none is made."""
    values = file_values(ENVIRONMENT_FILES[stack_env(stack)])
    services = {
        endpoint["service_name"].rsplit(".", 1)[1]
        for endpoint in resources(stack, "aws_vpc_endpoint").values()
        if endpoint["vpc_endpoint_type"] == "Interface"
    }
    expected: set[str] = set()
    if values["vpc"].get("nat_gateways", "none") == "none":
        for function in values["functions"].values():
            if not function.get("in_vpc", True):
                continue
            grants = function.get("grants", {})
            expected |= {"ssm"} if function.get("secrets") else set()
            expected |= {"sqs"} if grants.get("queues") else set()
            expected |= {"sns"} if grants.get("topics") else set()
    assert services == expected
