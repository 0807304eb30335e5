"""Every creation order the stacks rely on that Terraform cannot infer from references: an
explicit `depends_on` that only real AWS would punish if it were missing (the emulator creates
things in any order). One row per ordering, with the reason; every `depends_on` in every stack
must be one of them, and removing any of them fails its row.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from cdktf import Testing as CdktfTesting

from serverless_app.bootstrap import StateBucketStack
from serverless_app.config import BootstrapConfig, load_config
from tests.support import BOOTSTRAP_TEST_CONFIG, REPO_ROOT, resources, synth_config

Body = dict
_ADDRESS = re.compile(r"\$\{((?:data\.)?aws_[a-z0-9_]+\.[\w-]+)[.}]")


def addresses(value: object, resource_type: str) -> set[str]:
    """The `type.id` addresses of `resource_type` that a value's expressions name."""
    return {
        address
        for address in _ADDRESS.findall(json.dumps(value))
        if address.split(".")[0] == resource_type
    }


def same(attribute: str, other_attribute: str | None = None) -> Callable[[Body, Body], bool]:
    """Linked when both name the same thing in these attributes (the same bucket, ...)."""
    return lambda dependent, dependency: (
        dependent.get(attribute) == dependency.get(other_attribute or attribute)
    )


def same_role(dependent_role: str) -> Callable[[Body, Body], bool]:
    """Linked when the dependency (a role policy) belongs to the dependent's role."""
    return lambda dependent, dependency: bool(
        addresses(dependent.get(dependent_role), "aws_iam_role")
        & addresses(dependency.get("role"), "aws_iam_role")
    )


def schedule_role(schedule: Body, policy: Body) -> bool:
    """The schedule's target role is the policy's role."""
    return bool(
        addresses(schedule["target"]["role_arn"], "aws_iam_role")
        & addresses(policy.get("role"), "aws_iam_role")
    )


def permission_of_rule(target: Body, permission: Body) -> bool:
    """The rule the target belongs to is the one the permission names as its source."""
    rules = addresses(target["rule"], "aws_cloudwatch_event_rule")
    return bool(rules & addresses(permission.get("source_arn"), "aws_cloudwatch_event_rule"))


def log_group_of_function(function: Body, group: Body) -> bool:
    return group["name"] == f"/aws/lambda/{function['function_name']}"


def execution_log_group(stage: Body, group: Body) -> bool:
    api = next(iter(addresses(stage["rest_api_id"], "aws_api_gateway_rest_api")))
    return group["name"] == f"API-Gateway-Execution-Logs_${{{api}.id}}/{stage['stage_name']}"


def any_one(dependent: Body, dependency: Body) -> bool:
    """Linked for every pair: one of each per stack (the internet gateway and its route)."""
    return True


def public_route(dependent: Body, route: Body) -> bool:
    return bool(addresses(route.get("gateway_id"), "aws_internet_gateway"))


def access_log_bucket_policy(balancer: Body, policy: Body) -> bool:
    return balancer.get("access_logs", {}).get("bucket") == policy["bucket"]


def permission_of_target_group(attachment: Body, permission: Body) -> bool:
    return permission["source_arn"] == attachment["target_group_arn"]


def setting_of_region(marker: Body, setting: Body) -> bool:
    return marker.get("provider") == setting.get("provider") and "cloudwatch_role_arn" in setting


@dataclass(frozen=True)
class Ordering:
    dependent: str
    dependency: str
    linked: Callable[[Body, Body], bool]
    why: str


ORDERINGS = {
    "schedule after its role's inline policies": Ordering(
        "aws_scheduler_schedule",
        "aws_iam_role_policy",
        schedule_role,
        "Scheduler invokes as the role from the first run on: without its policies the first "
        "invocation is refused and retried, or lands in the dead-letter queue",
    ),
    "event rule target after its invoke permission": Ordering(
        "aws_cloudwatch_event_target",
        "aws_lambda_permission",
        permission_of_rule,
        "events matched before the permission exists fail to be delivered",
    ),
    "bucket policy after its public-access block": Ordering(
        "aws_s3_bucket_policy",
        "aws_s3_bucket_public_access_block",
        same("bucket"),
        "S3 refuses a bucket policy while the bucket's public-access block is being applied",
    ),
    "lifecycle rules after versioning": Ordering(
        "aws_s3_bucket_lifecycle_configuration",
        "aws_s3_bucket_versioning",
        same("bucket"),
        "noncurrent-version rules on a bucket not yet versioned are rejected or never apply",
    ),
    "objects after the default encryption": Ordering(
        "aws_s3_object",
        "aws_s3_bucket_server_side_encryption_configuration",
        same("bucket"),
        "an object uploaded before the bucket's KMS default stays SSE-S3",
    ),
    "function after its log group": Ordering(
        "aws_lambda_function",
        "aws_cloudwatch_log_group",
        log_group_of_function,
        "a function invoked first creates its own group, without retention or key",
    ),
    "function after its role's inline policies": Ordering(
        "aws_lambda_function",
        "aws_iam_role_policy",
        same_role("role"),
        "a function invoked before its grants exist fails with AccessDenied",
    ),
    "function after its role's managed policies": Ordering(
        "aws_lambda_function",
        "aws_iam_role_policy_attachment",
        same_role("role"),
        "Lambda checks the ENI permissions (VPC access) when it creates the function",
    ),
    "load balancer after the internet gateway": Ordering(
        "aws_lb",
        "aws_internet_gateway",
        any_one,
        "an internet-facing load balancer needs the gateway attached to its VPC",
    ),
    "load balancer after the public route": Ordering(
        "aws_lb",
        "aws_route",
        public_route,
        "until the default route exists the load balancer's nodes are unreachable",
    ),
    "load balancer after its access-log bucket policy": Ordering(
        "aws_lb",
        "aws_s3_bucket_policy",
        access_log_bucket_policy,
        "ELB tests that it may write to the log bucket when it enables the logs",
    ),
    "target attachment after the invoke permission": Ordering(
        "aws_lb_target_group_attachment",
        "aws_lambda_permission",
        permission_of_target_group,
        "ELB invokes the function to register it: AccessDenied without the permission",
    ),
    "NAT gateway after the internet gateway": Ordering(
        "aws_nat_gateway",
        "aws_internet_gateway",
        any_one,
        "a public NAT gateway needs the VPC's internet gateway (AWS documents the dependency)",
    ),
    "stage after its execution-log group": Ordering(
        "aws_api_gateway_stage",
        "aws_cloudwatch_log_group",
        execution_log_group,
        "with logging on, API Gateway would create the group itself, without retention or key",
    ),
    "deployment group after its role's policy": Ordering(
        "aws_codedeploy_deployment_group",
        "aws_iam_role_policy_attachment",
        same_role("service_role_arn"),
        "CodeDeploy checks its service role's permissions when the group is created",
    ),
    "flow log after its role's policy": Ordering(
        "aws_flow_log",
        "aws_iam_role_policy",
        same_role("iam_role_arn"),
        "delivery starts with the flow log and reports an access error without the policy",
    ),
    "API Gateway account setting after its role's policy": Ordering(
        "aws_api_gateway_account",
        "aws_iam_role_policy_attachment",
        same_role("cloudwatch_role_arn"),
        "API Gateway tests the role when the setting names it",
    ),
    "app client after its resource server": Ordering(
        "aws_cognito_user_pool_client",
        "aws_cognito_resource_server",
        same("user_pool_id"),
        "Cognito refuses an allowed OAuth scope no resource server of the pool has yet "
        "(ScopeDoesNotExistException; moto gap 36 makes the emulator refuse it too)",
    ),
    "logging-role marker after the region's setting": Ordering(
        "aws_ssm_parameter",
        "aws_api_gateway_account",
        setting_of_region,
        "an environment that finds the marker relies on the setting being in place",
    ),
}


@pytest.fixture(scope="module")
def all_stacks(stacks, nat_stack) -> dict[str, dict]:
    """The shipped environments, every operating option on, dev with a NAT gateway (the shipped
    files run without one), and the bootstrap stack."""
    operations = synth_config(load_config(REPO_ROOT / "tests" / "config" / "operations.toml"))
    # The HTTP API variant: a user pool with a resource server and hosted sign-in.
    http_api = synth_config(load_config(REPO_ROOT / "tests" / "config" / "http_api.toml"))
    bootstrap = load_config(BOOTSTRAP_TEST_CONFIG, BootstrapConfig)
    bootstrap_json = json.loads(CdktfTesting.synth(StateBucketStack(CdktfTesting.app(), bootstrap)))
    return {
        **stacks,
        "operations": operations,
        "httpapi": http_api,
        "dev with NAT": nat_stack,
        "bootstrap": bootstrap_json,
    }


def pairs(stack: dict, ordering: Ordering) -> list[tuple[str, Body, str]]:
    """(dependent address, dependent, dependency address) for every linked pair."""
    return [
        (f"{ordering.dependent}.{rid}", body, f"{ordering.dependency}.{other_id}")
        for rid, body in resources(stack, ordering.dependent).items()
        for other_id, other in resources(stack, ordering.dependency).items()
        if ordering.linked(body, other)
    ]


@pytest.mark.parametrize("name", ORDERINGS)
def test_the_stacks_keep_the_ordering(all_stacks, name):
    ordering = ORDERINGS[name]
    found = [(stack, pair) for stack, body in all_stacks.items() for pair in pairs(body, ordering)]
    assert found, f"no {ordering.dependent} with a {ordering.dependency} in any stack"
    for stack, (address, body, dependency) in found:
        assert dependency in body.get("depends_on", []), f"{stack}: {address}: {ordering.why}"


def test_every_explicit_ordering_is_one_of_the_table(all_stacks):
    """A new `depends_on` gets a row (and a reason) here, or it is not needed."""
    listed = {(ordering.dependent, ordering.dependency) for ordering in ORDERINGS.values()}
    unlisted = sorted(
        f"{stack}: {resource_type}.{rid} -> {dependency}"
        for stack, body in all_stacks.items()
        for resource_type, items in body.get("resource", {}).items()
        for rid, resource in items.items()
        for dependency in resource.get("depends_on", [])
        if (resource_type, dependency.split(".")[0]) not in listed
    )
    assert unlisted == []
