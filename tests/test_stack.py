"""The whole stack per shipped environment: every required piece present and wired."""

import pytest

from tests.support import (
    data_sources,
    declared_addresses,
    only,
    ref,
    references,
    resources,
)

REQUIRED_RESOURCES = {
    "aws_vpc",
    "aws_subnet",
    "aws_internet_gateway",
    "aws_route_table",
    "aws_route",
    "aws_route_table_association",
    "aws_eip",
    "aws_nat_gateway",
    "aws_security_group",
    "aws_lb",
    "aws_s3_bucket",
    "aws_s3_object",
    "aws_iam_role",
    "aws_iam_role_policy",
    "aws_iam_role_policy_attachment",
    "aws_lambda_function",
    "aws_lambda_permission",
    "aws_api_gateway_rest_api",
    "aws_api_gateway_resource",
    "aws_api_gateway_method",
    "aws_api_gateway_integration",
    "aws_api_gateway_deployment",
    "aws_api_gateway_stage",
    "aws_dynamodb_table",
    "aws_lambda_alias",
    "aws_sns_topic",
    "aws_cloudwatch_metric_alarm",
    "aws_cloudwatch_dashboard",
    "aws_codedeploy_app",
    "aws_codedeploy_deployment_group",
}
OUTPUTS = {
    "api_invoke_url",
    "load_balancer_dns_name",
    "bucket_name",
    "table_name",
    "function_name",
    "vpc_id",
    "live_alias_arn",
    "alarm_topic_arn",
    "dashboard_name",
    "codedeploy_application",
    "deployment_group",
}


def test_every_required_resource_type_is_present(stack):
    missing = REQUIRED_RESOURCES - set(stack["resource"])
    assert not missing
    assert set(data_sources(stack, "aws_iam_policy_document"))
    # The function is zipped at synth time: the stack needs the AWS provider only.
    assert set(stack["terraform"]["required_providers"]) == {"aws"}


def test_every_reference_names_something_declared(stack):
    dangling = references(stack) - declared_addresses(stack)
    assert not dangling, f"references to undeclared objects: {sorted(dangling)}"
    depends_on = {
        dep
        for items in stack["resource"].values()
        for resource in items.values()
        for dep in resource.get("depends_on", [])
    }
    assert depends_on <= declared_addresses(stack)


def test_reference_checker_catches_a_dangling_reference(stack):
    broken = {**stack, "output": {"x": {"value": "${aws_vpc.does_not_exist.id}"}}}
    assert references(broken) - declared_addresses(broken) == {"aws_vpc.does_not_exist"}


def test_outputs(stack):
    assert set(stack["output"]) == OUTPUTS
    stage_url = ref(stack, "aws_api_gateway_stage", "api", "invoke_url")
    assert stack["output"]["api_invoke_url"]["value"] == f"{stage_url}/hello"
    assert stack["output"]["vpc_id"]["value"] == ref(stack, "aws_vpc", "vpc", "id")


def test_default_tags_carry_env_and_extra_tags(stacks):
    for env, synthesized in stacks.items():
        [aws] = synthesized["provider"]["aws"]
        [default_tags] = aws["default_tags"]
        assert default_tags["tags"]["Env"] == env
        assert default_tags["tags"]["Owner"] == "platform"
    assert stacks["prod"]["provider"]["aws"][0]["default_tags"][0]["tags"]["CostCenter"] == "1234"


def test_function_gets_table_and_bucket_names_injected(stack):
    variables = only(stack, "aws_lambda_function")["environment"]["variables"]
    assert variables["TABLE_NAME"] == ref(stack, "aws_dynamodb_table", "requests", "name")
    assert variables["BUCKET_NAME"] == ref(stack, "aws_s3_bucket", "artifacts", "bucket")
    assert "LOG_LEVEL" in variables


def test_local_state_path_is_relative(stacks):
    for env, synthesized in stacks.items():
        assert synthesized["terraform"]["backend"] == {
            "local": {"path": f"terraform.{env}.tfstate"}
        }


@pytest.mark.parametrize(("env", "nat_count", "private_tables"), [("dev", 1, 1), ("prod", 3, 3)])
def test_environments_differ_in_nat_strategy(stacks, env, nat_count, private_tables):
    synthesized = stacks[env]
    assert len(resources(synthesized, "aws_nat_gateway")) == nat_count
    tables = [
        table
        for table in resources(synthesized, "aws_route_table").values()
        if table["tags"]["Name"].startswith(f"{env}-private-")
    ]
    assert len(tables) == private_tables


def test_terraform_version_is_pinned_to_supported_range(stack):
    assert stack["terraform"]["required_version"] == ">= 1.10, < 2.0.0"


@pytest.mark.parametrize(("env", "protected"), [("dev", False), ("prod", True)])
def test_prod_protects_table_and_load_balancer_from_deletion(stacks, env, protected):
    assert only(stacks[env], "aws_dynamodb_table")["deletion_protection_enabled"] is protected
    assert only(stacks[env], "aws_lb")["enable_deletion_protection"] is protected


def test_every_log_group_has_retention_and_the_stack_key(stack):
    key_arn = ref(stack, "aws_kms_key", "key", "arn")
    groups = resources(stack, "aws_cloudwatch_log_group").values()
    assert len(groups) == 5  # function, API access and execution, VPC flow logs, WAF
    for group in groups:
        assert group["retention_in_days"] == 365
        assert group["kms_key_id"] == key_arn


def test_function_runs_in_the_private_subnets(stack):
    subnets = only(stack, "aws_lambda_function")["vpc_config"]["subnet_ids"]
    assert subnets and all("private-subnet" in s for s in subnets)


def test_waf_protects_the_load_balancer_and_the_api_stage(stack):
    protected = {
        a["resource_arn"] for a in resources(stack, "aws_wafv2_web_acl_association").values()
    }
    assert protected == {
        ref(stack, "aws_lb", "alb", "arn"),
        ref(stack, "aws_api_gateway_stage", "api", "arn"),
    }


def test_default_greeting_is_uploaded_and_later_edits_are_kept(stack):
    [greeting] = [
        o for o in resources(stack, "aws_s3_object").values() if o["key"] == "greeting.txt"
    ]
    assert greeting["content"] == "Hello, {name}!"
    assert greeting["lifecycle"] == {"ignore_changes": ["content", "etag"]}
    assert greeting["bucket"] == ref(stack, "aws_s3_bucket", "artifacts", "id")


def test_invoke_url_output_says_how_to_call_it(stack, tmp_path):
    from serverless_app.config import load_config
    from tests.support import CONFIG_DIR, synth_config

    description = stack["output"]["api_invoke_url"]["description"]
    assert "SigV4-signed" in description and "make call" in description
    public = tmp_path / "dev.toml"
    text = (CONFIG_DIR / "dev.toml").read_text()
    public.write_text(text.replace('authorization = "AWS_IAM"', 'authorization = "NONE"'))
    public_stack = synth_config(load_config(public))
    assert "no authorization" in public_stack["output"]["api_invoke_url"]["description"]


def test_shipped_functions_reserve_no_concurrency(stack):
    """New accounts may have far less than 1,000 concurrency: a reservation is opt-in."""
    # -1: the provider's explicit "unreserved", the same as leaving the attribute out.
    assert only(stack, "aws_lambda_function")["reserved_concurrent_executions"] == -1


def test_function_swaps_to_the_empty_default_group_before_destroy(stack):
    function = only(stack, "aws_lambda_function")
    assert function["replace_security_groups_on_destroy"] is True
    assert function["replacement_security_group_ids"] == [
        ref(stack, "aws_default_security_group", "default-sg", "id")
    ]
