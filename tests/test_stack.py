"""The whole stack per shipped environment: every required piece present and wired."""

import json
import re
import textwrap
import tomllib
from typing import Any

import pytest

from tests.support import (
    CONFIG_DIR,
    ENVIRONMENT_FILES,
    ENVIRONMENTS,
    REPO_ROOT,
    api_document,
    api_operations,
    data_sources,
    declared_addresses,
    env_config,
    file_values,
    function_keys,
    function_ref,
    load_balancer_functions,
    name_prefix,
    of_function,
    only,
    only_of_function,
    operation_authorization,
    ref,
    references,
    resources,
    stack_env,
)
from tests.terraform_cycle import merged, toml_text

REQUIRED_RESOURCES = {
    "aws_vpc",
    "aws_subnet",
    "aws_internet_gateway",
    "aws_route_table",
    "aws_route",
    "aws_route_table_association",
    "aws_vpc_endpoint",  # S3 and DynamoDB gateway endpoints; no NAT (see below)
    "aws_security_group",
    "aws_lb",
    "aws_s3_bucket",
    "aws_s3_object",
    "aws_iam_role",
    "aws_iam_role_policy",
    "aws_iam_role_policy_attachment",
    "aws_lambda_function",
    "aws_lambda_permission",
    "aws_api_gateway_rest_api",  # every route in its OpenAPI body
    "aws_api_gateway_deployment",
    "aws_api_gateway_stage",
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
    "tables",
    "buckets",
    "queues",
    "topics",
    "vpc_id",
    "alarm_topic_arn",
    "dashboard_name",
    "codedeploy_application",
    "route_urls",
    "functions",
    "function_urls",
    "user_pools",
}


def file_functions(env: str) -> set[str]:
    """The function keys the file of `env` defines, read from the file."""
    return set(file_values(ENVIRONMENT_FILES[env])["functions"])


def shipped_keys(stack: dict) -> list[str]:
    """The function keys of a shipped stack, checked against its file: a loop over them can
    not pass by finding no function."""
    keys = function_keys(stack)
    assert keys == file_functions(stack_env(stack))
    return sorted(keys)


# What a stack has only when its file declares it: the section declaring it.
DECLARED_RESOURCES = {"aws_dynamodb_table": "tables"}


def declared_types(stack: dict) -> set[str]:
    """The resource types of DECLARED_RESOURCES whose section the stack's file fills."""
    values = file_values(ENVIRONMENT_FILES[stack_env(stack)])
    return {kind for kind, section in DECLARED_RESOURCES.items() if values.get(section)}


def test_every_required_resource_type_is_present(stack):
    missing = (REQUIRED_RESOURCES | declared_types(stack)) - set(stack["resource"])
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
    assert stack["output"]["api_invoke_url"]["value"] == stage_url
    assert stack["output"]["vpc_id"]["value"] == ref(stack, "aws_vpc", "vpc", "id")


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_route_urls_name_every_route_of_the_file(stacks, env):
    synthesized, config = stacks[env], env_config(env)
    stage_url = ref(synthesized, "aws_api_gateway_stage", "api", "invoke_url")
    assert synthesized["output"]["route_urls"]["value"] == {
        f"{route.method} {route.path}": f"{stage_url}{route.path}" for route in config.routes
    }
    # As the file spells them: a regression in reading it shows here too.
    routes = file_values(ENVIRONMENT_FILES[env])["routes"]
    expected = {f"{route['method']} {route['path']}" for route in routes}
    assert set(synthesized["output"]["route_urls"]["value"]) == expected


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_functions_output_has_name_alias_and_deployment_group_of_each(stacks, env):
    synthesized = stacks[env]
    assert function_keys(synthesized) == file_functions(env)
    groups = resources(synthesized, "aws_codedeploy_deployment_group")
    expected = {}
    for key in file_functions(env):
        [group_id] = [rid for rid in groups if rid.startswith(f"releases_{key}-deployment-group_")]
        expected[key] = {
            "function_name": function_ref(synthesized, "aws_lambda_function", key, "function_name"),
            "live_alias_arn": function_ref(synthesized, "aws_lambda_alias", key, "arn"),
            "deployment_group": (
                f"${{aws_codedeploy_deployment_group.{group_id}.deployment_group_name}}"
            ),
        }
    assert synthesized["output"]["functions"]["value"] == expected


def test_default_tags_carry_env_and_extra_tags(stacks):
    for env, synthesized in stacks.items():
        [aws] = synthesized["provider"]["aws"]
        [default_tags] = aws["default_tags"]
        extra = file_values(ENVIRONMENT_FILES[env]).get("tags", {})
        assert default_tags["tags"] == {"Env": env, **extra}
    assert stacks["prod"]["provider"]["aws"][0]["default_tags"][0]["tags"] == {
        "Env": "prod",
        "Owner": "platform",
        "Project": "serverless-hello",
        "CostCenter": "1234",
    }


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_each_function_gets_the_names_of_what_it_is_granted_and_nothing_else(stacks, env):
    values = file_values(ENVIRONMENT_FILES[env])
    synthesized, functions = stacks[env], values["functions"]
    routed = {route["function"] for route in values["routes"]}
    cors = values.get("api", {}).get("cors")
    for key, function in functions.items():
        grants = function.get("grants", {})
        resource = only_of_function(synthesized, "aws_lambda_function", key)
        variables = resource.get("environment", {"variables": {}})
        # The documented names: TABLE_<KEY>_NAME, BUCKET_<KEY>_NAME (upper case, - as _).
        assert variables["variables"] == {
            **function.get("environment", {}),
            **{
                f"TABLE_{table.upper().replace('-', '_')}_NAME": ref(
                    synthesized, "aws_dynamodb_table", f"{table}_table", "name"
                )
                for table in grants.get("tables", {})
            },
            **{
                f"BUCKET_{bucket.upper().replace('-', '_')}_NAME": ref(
                    synthesized, "aws_s3_bucket", f"bucket-{bucket}_bucket", "bucket"
                )
                for bucket in grants.get("buckets", {})
            },
            # The API's CORS policy, for a function a route reaches (docs/functions.md).
            **(
                {
                    "CORS_POLICY": json.dumps(
                        {
                            "allow_origins": cors["allow_origins"],
                            "expose_headers": cors.get("expose_headers", []),
                            "allow_credentials": cors.get("allow_credentials", False),
                        },
                        separators=(",", ":"),
                    )
                }
                if cors and key in routed
                else {}
            ),
            # QUEUE_<KEY>_URL, TOPIC_<KEY>_ARN.
            **{
                f"QUEUE_{queue.upper().replace('-', '_')}_URL": ref(
                    synthesized, "aws_sqs_queue", f"queue-{queue}_queue", "url"
                )
                for queue in grants.get("queues", {})
            },
            **{
                f"TOPIC_{topic.upper().replace('-', '_')}_ARN": ref(
                    synthesized, "aws_sns_topic", f"topic-{topic}_topic", "arn"
                )
                for topic in grants.get("topics", {})
            },
        }, key


def test_dev_hello_gets_the_documented_variable_names(stacks):
    """The names above, literally, for dev's hello (granted the requests table and the assets
    bucket)."""
    hello = only_of_function(stacks["dev"], "aws_lambda_function", "hello")["environment"]
    assert {"LOG_LEVEL", "TABLE_REQUESTS_NAME", "BUCKET_ASSETS_NAME"} == set(hello["variables"]) - {
        "CORS_POLICY"
    }


def test_a_function_granted_nothing_gets_no_table_or_bucket_variable(tmp_path):
    dev = shipped_dev()
    del dev["api"]["cors"]
    escape = only_of_function(dev_variant(tmp_path, dev), "aws_lambda_function", "escape")
    # No environment block at all: AWS reports an empty one as none.
    assert "environment" not in escape


def test_the_shipped_table_keeps_the_address_it_had_before_tables_were_declared(stacks):
    """Terraform would otherwise replace the table: its items would be lost. Every file that
    declares a `requests` table (dev and prod as shipped)."""
    declaring = {
        env: file_values(path)["tables"]["requests"]
        for env, path in ENVIRONMENT_FILES.items()
        if "requests" in file_values(path).get("tables", {})
    }
    assert {"dev", "prod"} <= set(declaring)
    for env, declared in declaring.items():
        table = resources(stacks[env], "aws_dynamodb_table")["requests_table_131A3DF9"]
        assert table["name"] == f"{name_prefix(ENVIRONMENT_FILES[env])}-requests"
        assert table["hash_key"] == declared["partition_key"]["name"]
    # As shipped: one key, and a time to live.
    dev = resources(stacks["dev"], "aws_dynamodb_table")["requests_table_131A3DF9"]
    assert dev["attribute"] == [{"name": "pk", "type": "S"}]
    assert dev["ttl"] == {"attribute_name": "expires_at", "enabled": True}


def test_tables_and_buckets_outputs_name_each_by_key(stacks):
    for synthesized in stacks.values():
        outputs = synthesized["output"]
        values = file_values(ENVIRONMENT_FILES[stack_env(synthesized)])
        assert outputs["tables"]["value"] == {
            key: ref(synthesized, "aws_dynamodb_table", f"{key}_table", "name")
            for key in values.get("tables", {})
        }
        assert outputs["buckets"]["value"] == {
            key: ref(synthesized, "aws_s3_bucket", f"bucket-{key}_bucket", "bucket")
            for key in values.get("buckets", {})
        }


def test_local_state_path_is_relative(stacks):
    for env, synthesized in stacks.items():
        assert synthesized["terraform"]["backend"] == {
            "local": {"path": f"terraform.{env}.tfstate"}
        }


def test_shipped_environments_run_without_nat(stacks):
    """The shipped functions reach only DynamoDB and S3 (gateway endpoints): no NAT gateway,
    no Elastic IP, and one private route table without a default route."""
    for env, synthesized in stacks.items():
        assert resources(synthesized, "aws_nat_gateway") == {}, env
        assert resources(synthesized, "aws_eip") == {}, env
        prefix = name_prefix(ENVIRONMENT_FILES[env])
        private = [
            table
            for table in resources(synthesized, "aws_route_table").values()
            if table["tags"]["Name"].startswith(f"{prefix}-private-")
        ]
        assert len(private) == 1, env
        routes = resources(synthesized, "aws_route").values()
        assert all("nat_gateway_id" not in route for route in routes), env


def test_terraform_version_is_pinned_to_supported_range(stack):
    assert stack["terraform"]["required_version"] == ">= 1.10, < 2.0.0"


@pytest.mark.parametrize(("env", "protected"), [("dev", False), ("prod", True)])
def test_prod_protects_table_and_load_balancer_from_deletion(stacks, env, protected):
    assert only(stacks[env], "aws_dynamodb_table")["deletion_protection_enabled"] is protected
    assert only(stacks[env], "aws_lb")["enable_deletion_protection"] is protected


def test_every_log_group_has_the_files_retention_and_the_stack_key(stack):
    key_arn = ref(stack, "aws_kms_key", "key", "arn")
    logs = file_values(ENVIRONMENT_FILES[stack_env(stack)]).get("logs", {})
    days = logs.get("retention_days", 365)  # the default (docs/config.md)
    groups = resources(stack, "aws_cloudwatch_log_group").values()
    # One per function, then API access and execution, VPC flow logs, WAF.
    assert len(groups) == len(shipped_keys(stack)) + 4
    for group in groups:
        assert group["retention_in_days"] == days
        assert group["kms_key_id"] == key_arn


@pytest.mark.parametrize(("env", "traffic"), [("dev", "REJECT"), ("prod", "ALL")])
def test_dev_logs_rejected_connections_prod_every_connection(stacks, env, traffic):
    assert only(stacks[env], "aws_flow_log")["traffic_type"] == traffic


def test_no_flow_log_when_the_file_says_none(tmp_path):
    dev = shipped_dev()
    assert dev["vpc"]["flow_logs"] == "REJECT"
    synthesized = dev_variant(tmp_path, merged(dev, {"vpc": {"flow_logs": "none"}}))
    assert resources(synthesized, "aws_flow_log") == {}
    roles = [role["name"] for role in resources(synthesized, "aws_iam_role").values()]
    assert not any(name.endswith("-vpc-flow-logs") for name in roles), roles


def test_every_function_has_its_own_log_group(stack):
    for key in shipped_keys(stack):
        function = only_of_function(stack, "aws_lambda_function", key)
        group = only_of_function(stack, "aws_cloudwatch_log_group", key)
        assert group["name"] == f"/aws/lambda/{function['function_name']}"
        [group_id] = of_function(stack, "aws_cloudwatch_log_group", key)
        assert f"aws_cloudwatch_log_group.{group_id}" in function["depends_on"]


def test_every_function_runs_in_the_private_subnets(stack):
    private = {
        f"${{aws_subnet.{rid}.id}}"
        for rid, subnet in resources(stack, "aws_subnet").items()
        if subnet["tags"]["Tier"] == "private"
    }
    assert private
    for key in shipped_keys(stack):
        vpc_config = only_of_function(stack, "aws_lambda_function", key)["vpc_config"]
        assert set(vpc_config["subnet_ids"]) == private, key
        assert vpc_config["security_group_ids"] == [
            function_ref(stack, "aws_security_group", key, "id")
        ], key


def test_waf_protects_the_load_balancer_and_the_api_stage(stack):
    protected = {
        a["resource_arn"] for a in resources(stack, "aws_wafv2_web_acl_association").values()
    }
    assert protected == {
        ref(stack, "aws_lb", "alb", "arn"),
        ref(stack, "aws_api_gateway_stage", "api", "arn"),
    }


def test_a_bucket_objects_are_created_once_and_later_edits_are_kept(stack):
    buckets = file_values(ENVIRONMENT_FILES[stack_env(stack)]).get("buckets", {})
    for bucket, declared in buckets.items():
        bucket_id = ref(stack, "aws_s3_bucket", f"bucket-{bucket}_bucket", "id")
        for key, content in declared.get("objects", {}).items():
            [seeded] = [
                o
                for o in resources(stack, "aws_s3_object").values()
                if o["key"] == key and o["bucket"] == bucket_id
            ]
            assert seeded["content"] == content
            assert seeded["lifecycle"] == {"ignore_changes": ["content", "etag"]}


def test_dev_seeds_the_greeting_template(stacks):
    """The loop above, literally, on dev's one object."""
    [greeting] = [
        o for o in resources(stacks["dev"], "aws_s3_object").values() if o["key"] == "greeting.txt"
    ]
    assert greeting["content"] == "Hello, {name}!"
    assert greeting["bucket"] == ref(stacks["dev"], "aws_s3_bucket", "bucket-assets_bucket", "id")


def test_route_urls_output_says_how_to_call_them(stacks, tmp_path):
    for env, synthesized in stacks.items():
        assert "see route_urls" in synthesized["output"]["api_invoke_url"]["description"]
        description = synthesized["output"]["route_urls"]["description"]
        routes = file_values(ENVIRONMENT_FILES[env])["routes"]
        # A route is AWS_IAM unless it says otherwise (docs/config.md).
        if all(route.get("authorization", "AWS_IAM") == "NONE" for route in routes):
            assert "no authorization" in description and "SigV4" not in description, env
        else:
            assert "SigV4-signed" in description and "make call" in description, env
    dev = shipped_dev()
    # As shipped: hello's and orders-api's routes are signed (AWS_IAM), escape's two are
    # public, /me needs a token of the users authorizer.
    assert [route.get("authorization") for route in dev["routes"]] == [
        "AWS_IAM",
        "NONE",
        "NONE",
        "users",
        "AWS_IAM",
    ]
    # Every route public.
    public = [{**route, "authorization": "NONE"} for route in dev["routes"]]
    descriptions = {"mixed": stacks["dev"]["output"]["route_urls"]["description"]}
    synthesized = dev_variant(tmp_path, {**dev, "routes": public})
    descriptions["public"] = synthesized["output"]["route_urls"]["description"]
    assert "SigV4-signed" in descriptions["mixed"]
    assert "no authorization" in descriptions["public"] and "SigV4" not in descriptions["public"]


def test_shipped_functions_reserve_no_concurrency(stack):
    """New accounts may have far less than 1,000 concurrency: a reservation is opt-in."""
    for key in shipped_keys(stack):
        # -1: the provider's explicit "unreserved", the same as leaving the attribute out.
        function = only_of_function(stack, "aws_lambda_function", key)
        assert function["reserved_concurrent_executions"] == -1, key


def test_every_function_swaps_to_the_empty_default_group_before_destroy(stack):
    for key in shipped_keys(stack):
        function = only_of_function(stack, "aws_lambda_function", key)
        assert function["replace_security_groups_on_destroy"] is True
        assert function["replacement_security_group_ids"] == [
            ref(stack, "aws_default_security_group", "default-sg", "id")
        ]


# --- dev, per function and per route: IAM from the grants and nothing more -----------------


def inline_policies(synthesized: dict, key: str) -> dict[str, list[tuple[list, list]]]:
    """Policy name -> (actions, resources) of each statement, for the inline policies of
    function `key`'s role (found by the role the function runs as, not by ids)."""
    role = only_of_function(synthesized, "aws_lambda_function", key)["role"]
    role_id = role.removesuffix(".arn}")
    documents = data_sources(synthesized, "aws_iam_policy_document")
    found: dict[str, list[tuple[list, list]]] = {}
    for policy in resources(synthesized, "aws_iam_role_policy").values():
        if policy["role"] != f"{role_id}.id}}":
            continue
        document_id = policy["policy"].removeprefix("${data.aws_iam_policy_document.")
        statements = documents[document_id.removesuffix(".json}")]["statement"]
        assert policy["name"] not in found
        found[policy["name"]] = [(s["actions"], s["resources"]) for s in statements]
        assert all(s["effect"] == "Allow" and s["sid"] == policy["name"] for s in statements)
    return found


def test_dev_function_policies_are_exactly_what_their_grants_imply(stacks):
    dev = stacks["dev"]
    key_arn = ref(dev, "aws_kms_key", "key", "arn")

    def always(key: str) -> dict:
        """Every function: its own dead-letter queue and the stack key, nothing else."""
        return {
            "SendToDeadLetterQueue": [
                (["sqs:SendMessage"], [function_ref(dev, "aws_sqs_queue", key, "arn")])
            ],
            "UseStackKey": [(["kms:Decrypt", "kms:GenerateDataKey"], [key_arn])],
        }

    # escape: no grants.
    assert inline_policies(dev, "escape") == always("escape")
    # hello: tables = { requests = "write" }, buckets = { assets = { read = ["greeting.txt"] } }.
    bucket_arn = ref(dev, "aws_s3_bucket", "bucket-assets_bucket", "arn")
    assert inline_policies(dev, "hello") == {
        **always("hello"),
        "WriteItemsRequests": [
            (
                ["dynamodb:PutItem", "dynamodb:UpdateItem"],
                [ref(dev, "aws_dynamodb_table", "requests", "arn")],
            )
        ],
        "ReadObjectsBucketAssets": [(["s3:GetObject"], [f"{bucket_arn}/greeting.txt"])],
    }


def attached_policies(synthesized: dict, key: str) -> set[str]:
    role_name = function_ref(synthesized, "aws_iam_role", key, "name")
    return {
        attachment["policy_arn"].rsplit("/", 1)[1]
        for attachment in resources(synthesized, "aws_iam_role_policy_attachment").values()
        if attachment["role"] == role_name
    }


# dev without NAT, escape out of the VPC; both read a secret and escape reads the table.
ESCAPE_OUTSIDE = {
    "in_vpc": False,
    "secrets": {"token": "/dev/escape/token"},
    "grants": {"tables": {"requests": "read"}},
}


@pytest.mark.parametrize("hello_has_secrets", [True, False])
def test_a_function_outside_the_vpc_keeps_its_grants_without_network_permissions(
    tmp_path, hello_has_secrets
):
    dev = shipped_dev()
    assert dev["vpc"]["nat_gateways"] == "none"
    functions: dict[str, Any] = {"escape": ESCAPE_OUTSIDE}
    if hello_has_secrets:
        functions["hello"] = {"secrets": {"db": "/dev/db"}}
    synthesized = dev_variant(tmp_path, merged(dev, {"functions": functions}))

    escape = only_of_function(synthesized, "aws_lambda_function", "escape")
    assert "vpc_config" not in escape and "replace_security_groups_on_destroy" not in escape
    assert of_function(synthesized, "aws_security_group", "escape") == {}
    assert attached_policies(synthesized, "escape") == {
        "AWSLambdaBasicExecutionRole",
        "AWSXRayDaemonWriteAccess",
    }
    assert "AWSLambdaVPCAccessExecutionRole" in attached_policies(synthesized, "hello")
    role_id = function_ref(synthesized, "aws_iam_role", "escape", "id")
    inline = {
        policy["name"]
        for policy in resources(synthesized, "aws_iam_role_policy").values()
        if policy["role"] == role_id
    }
    assert {"ReadItemsRequests", "ReadSecretParameters"} <= inline
    # Outside the VPC the function reaches SSM's public endpoint: an interface endpoint only
    # for a function in the VPC that reads secrets, and only its group may use it (beside the
    # SQS endpoint of orders-api, which sends to a queue).
    endpoints = resources(synthesized, "aws_vpc_endpoint")
    interfaces = [e for e in endpoints.values() if e["vpc_endpoint_type"] == "Interface"]
    services = [endpoint["service_name"].rsplit(".", 1)[1] for endpoint in interfaces]
    assert sorted(services) == (["sqs", "ssm"] if hello_has_secrets else ["sqs"])
    clients = [
        rule["referenced_security_group_id"]
        for rule in resources(synthesized, "aws_vpc_security_group_ingress_rule").values()
        if rule.get("description") == "HTTPS from a client security group"
    ]
    hello_group = function_ref(synthesized, "aws_security_group", "hello", "id")
    orders_group = function_ref(synthesized, "aws_security_group", "orders-api", "id")
    assert clients == ([hello_group, orders_group] if hello_has_secrets else [orders_group])


def test_a_grant_changes_exactly_its_own_function_policy(stacks, tmp_path):
    """escape granted `read` on the table and the bucket gets those two statements and nothing
    else; hello is unchanged."""
    grants = {"tables": {"requests": "read"}, "buckets": {"assets": "read"}}
    granted = dev_variant(
        tmp_path, merged(shipped_dev(), {"functions": {"escape": {"grants": grants}}})
    )
    before = inline_policies(stacks["dev"], "escape")
    after = inline_policies(granted, "escape")
    assert set(after) - set(before) == {"ReadItemsRequests", "ReadObjectsBucketAssets"}
    bucket_arn = ref(granted, "aws_s3_bucket", "bucket-assets_bucket", "arn")
    # `read` on a bucket: every object, no listing.
    assert after["ReadObjectsBucketAssets"] == [(["s3:GetObject"], [f"{bucket_arn}/*"])]
    [(actions, table)] = after["ReadItemsRequests"]
    assert not [a for a in actions if not a.startswith("dynamodb:")]
    assert {"dynamodb:GetItem", "dynamodb:Query"} <= set(actions)
    assert not {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"} & set(actions)
    assert table == [ref(granted, "aws_dynamodb_table", "requests", "arn")]
    assert set(inline_policies(granted, "hello")) == {
        "SendToDeadLetterQueue",
        "UseStackKey",
        "WriteItemsRequests",
        "ReadObjectsBucketAssets",
    }


def test_every_dev_function_has_its_own_role_queue_and_managed_policies(stacks):
    dev = stacks["dev"]
    for key in shipped_keys(dev):
        function = only_of_function(dev, "aws_lambda_function", key)
        name = function["function_name"]
        assert name == f"{name_prefix(ENVIRONMENT_FILES['dev'])}-{key}"
        assert only_of_function(dev, "aws_iam_role", key)["name"] == f"{name}-role"
        assert function["role"] == function_ref(dev, "aws_iam_role", key, "arn")
        queue = only_of_function(dev, "aws_sqs_queue", key)
        assert queue["name"] == f"{name}-dlq"
        assert function["dead_letter_config"]["target_arn"] == function_ref(
            dev, "aws_sqs_queue", key, "arn"
        )
        attached = {
            a["policy_arn"].rsplit("/", 1)[1]
            for a in resources(dev, "aws_iam_role_policy_attachment").values()
            if a["role"] == function_ref(dev, "aws_iam_role", key, "name")
        }
        assert attached == {
            "AWSLambdaBasicExecutionRole",
            "AWSLambdaVPCAccessExecutionRole",
            "AWSXRayDaemonWriteAccess",
        }
    escape = only_of_function(dev, "aws_lambda_function", "escape")
    assert escape["architectures"] == ["arm64"] and escape["memory_size"] == 128


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_route_reaches_its_function_on_the_api_and_public_ones_on_the_load_balancer(
    stacks, env
):
    synthesized, config = stacks[env], env_config(env)
    prefix = name_prefix(ENVIRONMENT_FILES[env])
    document = api_document(synthesized)
    # The routes' operations; the preflights' (OPTIONS) are test_cors_preflights'.
    operations = {
        name: operation
        for name, operation in api_operations(synthesized).items()
        if not name.startswith("OPTIONS ")
    }
    permissions = [
        p
        for p in resources(synthesized, "aws_lambda_permission").values()
        if p["principal"] == "apigateway.amazonaws.com" and "/authorizers/" not in p["source_arn"]
    ]
    rules = resources(synthesized, "aws_lb_listener_rule").values()
    target_groups = resources(synthesized, "aws_lb_target_group")
    execution_arn = ref(synthesized, "aws_api_gateway_rest_api", "api", "execution_arn")
    routes = file_values(ENVIRONMENT_FILES[env])["routes"]
    assert [(r.method, r.path) for r in config.routes] == [(r["method"], r["path"]) for r in routes]
    assert len(operations) == len(permissions) == len(routes)
    public = [r for r in routes if r.get("authorization", "AWS_IAM") == "NONE"]
    assert len(rules) == len(public)
    for route in routes:
        key, method, path = route["function"], route["method"], route["path"]
        operation = operations[f"{method} {path}"]
        authorization = route.get("authorization", "AWS_IAM")
        assert operation_authorization(document, operation) == authorization
        integration = operation["x-amazon-apigateway-integration"]
        assert integration["type"] == "aws_proxy"
        assert integration["uri"] == function_ref(
            synthesized, "aws_lambda_alias", key, "invoke_arn"
        )
        pattern = re.sub(r"\{[^}]+\}", "*", path)
        [permission] = [
            p for p in permissions if p["source_arn"] == f"{execution_arn}/*/{method}{pattern}"
        ]
        assert permission["function_name"] == function_ref(
            synthesized, "aws_lambda_function", key, "function_name"
        )
        assert permission["qualifier"] == function_ref(synthesized, "aws_lambda_alias", key, "name")
        matching = [r for r in rules if {"path_pattern": {"values": [pattern]}} in r["condition"]]
        if authorization != "NONE":
            # The load balancer cannot check a signature: never a rule there.
            assert matching == []
            continue
        [rule] = matching
        assert {"http_request_method": {"values": [method]}} in rule["condition"]
        [action] = rule["action"]
        target_group_id = action["target_group_arn"].split(".")[1]
        assert target_groups[target_group_id]["name"] == f"{prefix}-{key}"
        [attachment] = [
            a
            for a in resources(synthesized, "aws_lb_target_group_attachment").values()
            if a["target_group_arn"] == action["target_group_arn"]
        ]
        assert attachment["target_id"] == function_ref(synthesized, "aws_lambda_alias", key, "arn")
    # One target group per function on the load balancer: routes of one function share it.
    assert sorted(t["name"] for t in target_groups.values()) == sorted(
        f"{prefix}-{key}" for key in load_balancer_functions(ENVIRONMENT_FILES[env])
    )


def test_the_shipped_load_balancers_serve_exactly_the_public_routes(stacks):
    """dev: escape's two public routes, not hello's signed one; prod: no route at all (its
    load balancer answers 404)."""
    dev, prod = stacks["dev"], stacks["prod"]
    assert len(resources(dev, "aws_lb_listener_rule")) == 2
    assert [t["name"] for t in resources(dev, "aws_lb_target_group").values()] == [
        f"{name_prefix(ENVIRONMENT_FILES['dev'])}-escape"
    ]
    assert resources(prod, "aws_lb_listener_rule") == {}
    assert resources(prod, "aws_lb_target_group") == {}
    assert len(resources(prod, "aws_lb")) == 1


def shipped_dev() -> dict[str, Any]:
    """The shipped dev.toml as data: tests change values, never the file or its wording."""
    return tomllib.loads((CONFIG_DIR / "dev.toml").read_text())


def dev_variant(tmp_path, data: dict[str, Any]) -> dict:
    """The stack of a changed copy of dev.toml, written to tmp_path."""
    from serverless_app.config import load_config
    from tests.support import synth_config

    path = tmp_path / "dev.toml"
    path.write_text(toml_text(data))
    return synth_config(load_config(path))


def rule_priorities(synthesized: dict) -> dict[str, int]:
    """`GET /escape/*` (method and path pattern) -> the priority of its listener rule."""
    found = {}
    for rule in resources(synthesized, "aws_lb_listener_rule").values():
        conditions = {key: c[key]["values"] for c in rule["condition"] for key in c}
        [pattern] = conditions["path_pattern"]
        [method] = conditions.get("http_request_method", ["ANY"])
        found[f"{method} {pattern}"] = rule["priority"]
    return found


def test_a_listener_rule_keeps_its_priority_when_routes_are_added_or_removed(stacks, tmp_path):
    """ELB refuses a rule a priority another rule still holds, and the provider moves rules
    one at a time: a change that renumbered the rules failed to apply (a route added to dev
    on the same state: PriorityInUse three times)."""
    dev = shipped_dev()
    before = rule_priorities(stacks["dev"])
    assert set(before) == {"GET /escape", "GET /escape/*"}
    # Added: a public route with a priority of its own (a new rule at that priority) and a
    # signed one (never a rule: no anonymous path).
    added = [
        {"method": "ANY", "path": "/escape/{name}/{rest+}", "function": "escape"}
        | {"authorization": "NONE", "priority": 4242},
        {"method": "POST", "path": "/refunds", "function": "escape"},
    ]
    grown = rule_priorities(dev_variant(tmp_path, {**dev, "routes": dev["routes"] + added}))
    assert grown == {**before, "ANY /escape/*/*": 4242}
    # Removed: the first of escape's routes (and its path from the WAF's markup paths, which
    # must be routes); the other keeps its rule and its priority.
    kept = [route for route in dev["routes"] if route["path"] != "/escape"]
    assert len(kept) == len(dev["routes"]) - 1
    assert dev["waf"]["markup_paths"] == ["/escape", "/escape/{name}"]
    without = merged({**dev, "routes": kept}, {"waf": {"markup_paths": ["/escape/{name}"]}})
    shrunk = rule_priorities(dev_variant(tmp_path, without))
    assert shrunk == {"GET /escape/*": before["GET /escape/*"]}


def test_release_alarms_follow_the_routes_a_function_has(tmp_path):
    """A function no route reaches has no API alarm (its release stops on its own three); one
    with eleven routes has two API alarms (ten routes each) and, with a public route among
    them, its target group's."""
    dev = shipped_dev()
    # escape loses its two routes (and the WAF its markup paths, which must be routes).
    routes = [route for route in dev["routes"] if route["function"] != "escape"]
    assert len(routes) == len(dev["routes"]) - 2
    del dev["waf"]["markup_paths"]
    routes += [
        {"method": "GET", "path": f"/hello/r{index}", "function": "hello"} for index in range(9)
    ]
    routes.append(
        {"method": "GET", "path": "/hello/public", "function": "hello", "authorization": "NONE"}
    )
    synthesized = dev_variant(tmp_path, {**dev, "routes": routes})
    prefix = name_prefix(CONFIG_DIR / "dev.toml")
    by_reference = {
        f"${{aws_cloudwatch_metric_alarm.{rid}.alarm_name}}": alarm["alarm_name"]
        for rid, alarm in resources(synthesized, "aws_cloudwatch_metric_alarm").items()
    }
    stops_on = {
        group["deployment_group_name"]: {
            by_reference[r] for r in group["alarm_configuration"]["alarms"]
        }
        for group in resources(synthesized, "aws_codedeploy_deployment_group").values()
    }
    own = ("errors", "duration-p99", "server-errors")
    hello, escape = f"{prefix}-hello", f"{prefix}-escape"
    orders, worker = f"{prefix}-orders-api", f"{prefix}-worker"
    assert stops_on == {
        hello: {
            *(f"{hello}-{kind}" for kind in own),
            f"{hello}-api-5xx",
            f"{hello}-api-5xx-2",
            # The target group `<load balancer>-hello`, the load balancer named `<prefix>`.
            f"{prefix}-hello-5xx",
        },
        escape: {f"{escape}-{kind}" for kind in own},
        orders: {*(f"{orders}-{kind}" for kind in own), f"{orders}-api-5xx"},
        # A queue's consumer: its own alarms, its per-message answers among them.
        worker: {f"{worker}-{kind}" for kind in own},
        # dev's housekeeping: EventBridge invokes it, no route reaches it.
        f"{prefix}-housekeeping": {f"{prefix}-housekeeping-{kind}" for kind in own},
    }
    assert not [name for name in by_reference.values() if name.startswith(f"{escape}-api-")]


# What AWS keeps unique per account and region (or globally, for buckets): the attribute that
# names each. A literal name must carry the environment's `<project>-<env>`.
ACCOUNT_UNIQUE_NAMES = {
    "aws_api_gateway_rest_api": "name",
    "aws_cloudwatch_dashboard": "dashboard_name",
    "aws_cloudwatch_log_group": "name",
    "aws_cloudwatch_metric_alarm": "alarm_name",
    "aws_codedeploy_app": "name",
    "aws_codedeploy_deployment_group": "deployment_group_name",
    "aws_dynamodb_table": "name",
    "aws_iam_role": "name",
    "aws_kms_alias": "name",
    "aws_lambda_function": "function_name",
    "aws_lb": "name",
    "aws_lb_target_group": "name",
    "aws_s3_bucket": "bucket_prefix",
    "aws_sns_topic": "name",
    "aws_sqs_queue": "name",
    "aws_wafv2_web_acl": "name",
}


def account_unique_names(synthesized: dict) -> set[tuple[str, str]]:
    """(type, name) of every resource AWS names uniquely per account, where the name is
    literal (one holding a `${...}` reference is as unique as what it references)."""
    names = set()
    for resource_type, attribute in ACCOUNT_UNIQUE_NAMES.items():
        found = [body[attribute] for body in resources(synthesized, resource_type).values()]
        names |= {(resource_type, name) for name in found if "${" not in name}
    return names


def test_every_account_unique_name_carries_the_name_prefix(stack):
    prefix = name_prefix(ENVIRONMENT_FILES[stack_env(stack)])
    names = account_unique_names(stack)
    # Every type but target groups (none without a public route, as in prod) and those of
    # what the file declares none of.
    undeclared = set(DECLARED_RESOURCES) - declared_types(stack)
    assert {resource_type for resource_type, _ in names} >= set(ACCOUNT_UNIQUE_NAMES) - {
        "aws_lb_target_group",
        *undeclared,
    }
    assert sorted(n for n in names if prefix not in n[1]) == []


def test_a_copy_of_dev_with_another_env_shares_no_name_with_dev(stacks, tmp_path):
    """Two environments in one account: the second apply must not fail on, or take over,
    anything of the first (alarms, log groups, the KMS alias, the web ACL, ...)."""
    copy = dev_variant(tmp_path, {**shipped_dev(), "env": "staging"})
    dev_names = account_unique_names(stacks["dev"])
    # dev has every kind: the comparison leaves none out.
    assert {resource_type for resource_type, _ in dev_names} == set(ACCOUNT_UNIQUE_NAMES)
    assert account_unique_names(copy).isdisjoint(dev_names)
    assert len(account_unique_names(copy)) == len(account_unique_names(stacks["dev"]))


# dev.toml with every optional part the constructs read attributes for: secrets (and their
# interface endpoint: dev has no NAT), provisioned concurrency, a custom domain, subscribers.
EVERYTHING_ON = {
    "functions": {
        "hello": {
            "provisioned_concurrency": 2,
            "reserved_concurrency": 5,
            "secrets": {"db": "/dev/db/password"},
            "grants": {
                "tables": {"requests": "read_write"},
                "buckets": {"assets": {"read": ["greeting.txt"], "write": ["uploads/*"]}},
            },
        }
    },
    "alarms": {
        "email": ["oncall@example.com", "team@example.com"],
        "https": ["https://hooks.example.com/alarms"],
    },
    "domain": {"name": "api.example.com", "hosted_zone_id": "Z0123456789ABCDEFGHIJ"},
}


def test_each_attribute_is_read_from_the_jsii_kernel_once(tmp_path, monkeypatch):
    """Every read of a resource attribute is a round trip to node, answered with a new token
    for the same reference: the constructs read each once and keep it (docs/performance.md).
    Adding a grant after a function exists would read its `depends_on` back, too."""
    from collections import Counter

    import jsii

    from serverless_app.config import load_config
    from tests.support import synth_config

    path = tmp_path / "dev.toml"
    path.write_text(toml_text(merged(shipped_dev(), EVERYTHING_ON)))
    config = load_config(path)
    reads: Counter[tuple[str, str]] = Counter()
    get = jsii.get

    def counting_get(obj, property):
        reads[obj.__jsii_ref__.ref, property] += 1
        return get(obj, property)

    # The generated bindings call `jsii.get` for every attribute they read.
    monkeypatch.setattr(jsii, "get", counting_get)
    synthesized = synth_config(config)
    monkeypatch.undo()
    assert {"aws_vpc_endpoint", "aws_api_gateway_domain_name", "aws_sns_topic_subscription"} <= (
        set(synthesized["resource"])
    )
    assert {read: count for read, count in reads.items() if count > 1} == {}


def test_table_keys_cannot_name_a_construct_the_stack_has_at_its_top_level(tmp_path):
    """Tables sit at the top level under their keys; the keys the configuration refuses are
    every other id there (outputs have `_`, which no key has)."""
    from cdktf import App

    from serverless_app.config import load_config
    from serverless_app.config.data import STACK_CONSTRUCT_IDS, STACK_SCOPE_PREFIXES
    from serverless_app.stack import ServerlessStack

    path = tmp_path / "dev.toml"
    path.write_text(toml_text(merged(shipped_dev(), EVERYTHING_ON)))
    config = load_config(path)
    stack = ServerlessStack(App(outdir=str(tmp_path / "out")), config)
    ids = {child.node.id for child in stack.node.children}
    others = {
        id
        for id in ids - set(config.tables)
        if "_" not in id and not id.startswith(STACK_SCOPE_PREFIXES)
    }
    assert others <= STACK_CONSTRUCT_IDS
    # The list holds nothing the stack no longer has (the backend is not a child construct).
    assert STACK_CONSTRUCT_IDS - others <= {"backend"}


def recipe_blocks(heading: str, language: str) -> list[str]:
    """The fenced blocks of one language in a section of docs/functions.md, as written."""
    text = (REPO_ROOT / "docs" / "functions.md").read_text()
    section = text.split(f"\n## {heading}\n")[1].split("\n## ")[0]
    blocks = re.findall(rf"```{language}\n(.*?)```", section, re.DOTALL)
    return [textwrap.dedent(block) for block in blocks]


def test_the_add_a_table_recipe_runs_as_written(tmp_path):
    from serverless_app.config import load_config
    from tests.support import synth_config

    declared, granted = recipe_blocks("Add a table (or a bucket)", "toml")
    # The function's code: the recipe's folder does not exist in this repository.
    granted = granted.replace('source_dir = "functions/orders"', 'source_dir = "lambda"')
    path = tmp_path / "dev.toml"
    path.write_text((CONFIG_DIR / "dev.toml").read_text() + "\n" + declared + "\n" + granted)
    synthesized = synth_config(load_config(path))
    [table] = [
        body
        for address, body in resources(synthesized, "aws_dynamodb_table").items()
        if address.startswith("orders_table_")
    ]
    assert (table["name"], table["hash_key"], table["range_key"]) == (
        "hello-dev-orders",
        "customer_id",
        "placed_at",
    )
    assert table["attribute"] == [
        {"name": "customer_id", "type": "S"},
        {"name": "placed_at", "type": "N"},
    ]
    assert table["ttl"] == {"attribute_name": "expires_at", "enabled": True}
    assert (table["stream_enabled"], table["stream_view_type"]) == (True, "NEW_AND_OLD_IMAGES")
    assert table["deletion_protection_enabled"] is True
    bucket_arn = ref(synthesized, "aws_s3_bucket", "bucket-invoices_bucket", "arn")
    variables = only_of_function(synthesized, "aws_lambda_function", "orders")["environment"]
    assert variables["variables"] == {
        "TABLE_ORDERS_NAME": ref(synthesized, "aws_dynamodb_table", "orders_table", "name"),
        "BUCKET_INVOICES_NAME": ref(
            synthesized, "aws_s3_bucket", "bucket-invoices_bucket", "bucket"
        ),
    }
    policies = inline_policies(synthesized, "orders")
    assert set(policies) - {"SendToDeadLetterQueue", "UseStackKey"} == {
        "ReadItemsOrders",
        "WriteItemsOrders",
        "WriteObjectsBucketInvoices",
    }
    assert policies["WriteObjectsBucketInvoices"] == [
        (["s3:PutObject"], [f"{bucket_arn}/drafts/*"])
    ]
    [lifecycle] = [
        body
        for address, body in resources(synthesized, "aws_s3_bucket_lifecycle_configuration").items()
        if address.startswith("bucket-invoices_")
    ]
    assert lifecycle["rule"][1]["filter"] == [{"prefix": "drafts/"}]
    assert lifecycle["rule"][1]["expiration"] == [{"days": 7}]
    # The code block reads exactly the variables the stack sets.
    [code] = recipe_blocks("Add a table (or a bucket)", "python")
    assert set(re.findall(r'os\.environ\["(\w+)"\]', code)) == set(variables["variables"])
