"""The deployer policy generated from a synthesized stack: every type the stacks hold is known,
no `*` action, resources scoped to the stack's prefix, region and account, `iam:PassRole` only
for the stack's roles to their services, each document within IAM's size, and the command's
refusals. That the policy suffices is shown by Terraform under it:
tests/test_deployer_policy_cycle.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cdktf
import pytest

from serverless_app.bootstrap import StateBucketStack
from serverless_app.config import BootstrapConfig, load_config
from serverless_app.config.bootstrap import DeployerRoles, GitHubTrust
from serverless_app.deployer_permissions import joined
from serverless_app.deployer_permissions.grants import Grant
from serverless_app.deployer_policy import Scope, UnknownTypes, deployer_policies
from serverless_app.deployer_roles import EnvironmentRole
from tests.support import BOOTSTRAP_TEST_CONFIG, CONFIG_DIR, REPO_ROOT, synth_config
from tests.terraform_cycle import PROD_OVERLAY, in_emulator_account, variant_config

HTTP_API_CONFIG = REPO_ROOT / "tests" / "config" / "http_api.toml"
EVENT_SOURCES_CONFIG = REPO_ROOT / "tests" / "config" / "event_sources.toml"
ACCOUNT = "111122223333"
REGION = "us-east-1"
# IAM's quota on a managed policy (whitespace not counted); a role takes 10 managed policies.
IAM_MANAGED_POLICY_CHARACTERS = 6144
IAM_MANAGED_POLICIES_PER_ROLE = 10


@pytest.fixture(scope="module")
def every_stack(stacks, nat_stack, tmp_path_factory) -> dict[str, dict]:
    """The shipped environments, dev with a NAT gateway, prod with the apply cycle's operating
    options (domain, secrets, provisioned concurrency), tests/config/operations.toml, the
    HTTP API's test file, with and without a custom domain, and the event sources' test file."""
    folder = tmp_path_factory.mktemp("deployer-configs")
    prod = folder / "prod.toml"
    prod.write_text(variant_config(CONFIG_DIR / "prod.toml", PROD_OVERLAY, "Z0123456789ABCDEFGHIJ"))
    http_domain = folder / "httpapi.toml"
    http_domain.write_text(
        HTTP_API_CONFIG.read_text()
        + '\n[domain]\nname = "api.example.com"\nhosted_zone_id = "Z0123456789ABCDEFGHIJ"\n'
    )
    return {
        **stacks,
        "dev with NAT": nat_stack,
        "prod operating": synth_config(load_config(prod)),
        "operations": synth_config(load_config(REPO_ROOT / "tests" / "config" / "operations.toml")),
        "http api": synth_config(load_config(HTTP_API_CONFIG)),
        "http api with a domain": synth_config(load_config(http_domain)),
        "event sources": synth_config(load_config(EVENT_SOURCES_CONFIG)),
    }


def prefix_of(stack: dict) -> str:
    tags = stack["provider"]["aws"][0]["default_tags"][0]["tags"]
    return f"hello-{tags['Env']}" if "Env" in tags else "hello"


def policies(stack: dict) -> list[dict]:
    return deployer_policies(stack, Scope("aws", REGION, ACCOUNT, prefix_of(stack)))


def statements(stack: dict) -> list[dict]:
    return [statement for policy in policies(stack) for statement in policy["Statement"]]


def test_every_type_of_every_stack_is_known(every_stack):
    # Fails when a construct adds a resource type or data source the generator has no
    # permissions for: add them to their family's table in serverless_app/deployer_permissions/.
    # The bootstrap stack's too (applied by an administrator, but its types must not go
    # unnoticed), with a deployer role and the GitHub identity provider it creates.
    config = load_config(BOOTSTRAP_TEST_CONFIG, BootstrapConfig).model_copy(
        update={
            "deployer": DeployerRoles(
                environments=["dev"], github=GitHubTrust(repository="o/r", branch="main")
            )
        }
    )
    roles = [EnvironmentRole("deployer-hello-dev", [{"Version": "2012-10-17", "Statement": []}])]
    bootstrap = json.loads(
        cdktf.Testing.synth(StateBucketStack(cdktf.Testing.app(), config, roles))
    )
    assert "aws_iam_openid_connect_provider" in bootstrap["resource"]
    for name, stack in {**every_stack, "bootstrap": bootstrap}.items():
        assert policies(stack), name  # raises UnknownTypes, naming them


def test_a_type_the_table_does_not_know_is_refused_by_name(stacks):
    stack = {**stacks["dev"], "resource": {**stacks["dev"]["resource"], "aws_foo_bar": {"x": {}}}}
    with pytest.raises(UnknownTypes) as error:
        policies(stack)
    assert error.value.types == ["aws_foo_bar"]
    assert "aws_foo_bar" in str(error.value)


def test_a_type_in_two_families_tables_is_refused_by_name():
    s3 = (Grant(("s3:CreateBucket",), ("*",)),)
    sqs = (Grant(("sqs:CreateQueue",), ("*",)),)
    with pytest.raises(ValueError, match=r"listed twice: aws_s3_bucket$"):
        joined({"aws_s3_bucket": s3}, {"aws_sqs_queue": sqs, "aws_s3_bucket": s3})
    assert joined({"aws_s3_bucket": s3}, {"aws_sqs_queue": sqs}) == {
        "aws_s3_bucket": s3,
        "aws_sqs_queue": sqs,
    }


def test_no_action_is_a_wildcard(every_stack):
    for name, stack in every_stack.items():
        actions = {action for s in statements(stack) for action in s["Action"]}
        assert not [action for action in actions if "*" in action], name
        assert all(s["Effect"] == "Allow" for s in statements(stack))


def test_each_document_fits_a_managed_policy_and_a_role_takes_them_all(every_stack):
    for name, stack in every_stack.items():
        documents = policies(stack)
        sizes = [len(json.dumps(document, separators=(",", ":"))) for document in documents]
        assert max(sizes) <= IAM_MANAGED_POLICY_CHARACTERS, (name, sizes)
        assert len(documents) <= IAM_MANAGED_POLICIES_PER_ROLE, name


# Resources that name no account or region in their ARN, and how they are scoped instead.
def is_scoped(resource: str, prefix: str) -> bool:
    parts = resource.split(":", 5)
    service, region, account = parts[2], parts[3], parts[4]
    if service == "s3":  # bucket ARNs carry neither: the bucket name's prefix does
        return parts[5].startswith(f"{prefix}-")
    if service == "wafv2" and "/managedruleset/" in resource:  # owned by AWS
        return region == REGION
    if service == "iam":  # global: the account and the prefix
        return account == ACCOUNT and f"/{prefix}-" in resource
    if service == "route53":  # global, ids chosen by Route 53: the zone, or a change's id
        return parts[5].startswith(("hostedzone/", "change/"))
    if service == "apigateway":  # API Gateway's ARNs never carry the account
        return region == REGION
    if service == "cloudwatch" and ":dashboard/" in resource:  # dashboards are global
        return account == ACCOUNT
    return region == REGION and account == ACCOUNT


def test_every_resource_but_unscopable_calls_is_in_the_region_account_or_prefix(every_stack):
    for name, stack in every_stack.items():
        prefix = prefix_of(stack)
        for statement in statements(stack):
            for resource in statement["Resource"]:
                if resource == "*":
                    continue
                assert is_scoped(resource, prefix), (name, resource)


# Actions AWS authorizes on no resource (Service Authorization Reference: the action's
# "Resource types" column is empty), which alone may be granted on `*`.
UNSCOPABLE_PREFIXES = ("ec2:Describe", "elasticloadbalancing:Describe")
UNSCOPABLE = {
    "acm:RequestCertificate",
    "cognito-idp:CreateUserPool",
    # It takes the domain, not the pool (the service authorization reference names no
    # resource type for it).
    "cognito-idp:DescribeUserPoolDomain",
    "cloudwatch:DescribeAlarms",
    "kms:CreateKey",
    "kms:ListAliases",
    # The function to map is a condition key (lambda:FunctionArn), not a resource.
    "lambda:CreateEventSourceMapping",
    "lambda:ListEventSourceMappings",
    "logs:CreateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:GetLogDelivery",
    "logs:ListLogDeliveries",
    "logs:UpdateLogDelivery",
    "logs:DescribeLogGroups",
    "logs:DescribeResourcePolicies",
    "logs:PutResourcePolicy",
    "route53:ListHostedZones",
    "route53:ListHostedZonesByName",
    "ssm:DescribeParameters",
    "sts:GetCallerIdentity",
}


def test_only_actions_without_resource_level_permissions_are_on_every_resource(every_stack):
    for name, stack in every_stack.items():
        for statement in statements(stack):
            if statement["Resource"] != ["*"]:
                continue
            for action in statement["Action"]:
                assert action in UNSCOPABLE or action.startswith(UNSCOPABLE_PREFIXES), (
                    name,
                    action,
                )


# The roles dev creates and the service each is passed to (their trust policies).
DEV_ROLES = {
    "hello-dev-hello-role": ["lambda.amazonaws.com"],
    "hello-dev-escape-role": ["lambda.amazonaws.com"],
    "hello-dev-housekeeping-role": ["lambda.amazonaws.com"],
    "hello-dev-nightly-scheduler": ["scheduler.amazonaws.com"],
    "hello-dev-orders-api-role": ["lambda.amazonaws.com"],
    "hello-dev-worker-role": ["lambda.amazonaws.com"],
    "hello-dev-vpc-flow-logs": ["vpc-flow-logs.amazonaws.com"],
    "hello-dev-codedeploy": ["codedeploy.amazonaws.com"],
}


def test_pass_role_is_granted_for_each_of_the_stacks_roles_to_its_service_only(stacks):
    passing = [s for s in statements(stacks["dev"]) if "iam:PassRole" in s["Action"]]
    granted = {}
    for statement in passing:
        assert statement["Action"] == ["iam:PassRole"]
        (arn,) = statement["Resource"]
        condition = statement["Condition"]["StringEquals"]["iam:PassedToService"]
        granted[arn.removeprefix(f"arn:aws:iam::{ACCOUNT}:role/")] = condition
    assert granted == DEV_ROLES


def deployer_policy_command(tmp_path: Path, config_text: str) -> subprocess.CompletedProcess:
    config = tmp_path / "config"
    config.mkdir()
    (config / "dev.toml").write_text(config_text)
    out = tmp_path / "out"
    subprocess.run(
        [sys.executable, "main.py", "--config", str(config), "--outdir", str(out)],
        cwd=REPO_ROOT,
        capture_output=True,
        check=True,
        timeout=600,
    )
    arguments = ["--env", "dev", "--config", str(config), "--stacks", str(out / "stacks")]
    return subprocess.run(
        [sys.executable, "-m", "scripts.deployer_policy", *arguments],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_command_prints_the_documents_for_the_named_account(tmp_path):
    dev = (CONFIG_DIR / "dev.toml").read_text()
    result = deployer_policy_command(tmp_path, in_emulator_account(dev))
    assert result.returncode == 0, result.stderr
    documents = json.loads(result.stdout)
    resources = {r for d in documents for s in d["Statement"] for r in s["Resource"]}
    assert "arn:aws:lambda:us-east-1:123456789012:function:hello-dev-*" in resources


def test_the_command_refuses_the_placeholder_account_in_one_line(tmp_path):
    result = deployer_policy_command(tmp_path, (CONFIG_DIR / "dev.toml").read_text())
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{tmp_path / 'config' / 'dev.toml'}: account_id: set the account this environment "
        "deploys to: the policy is scoped to it"
    ]
