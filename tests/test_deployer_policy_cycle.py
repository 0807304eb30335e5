"""The generated deployer policy, proven by Terraform with the emulator's IAM authorization on,
as a principal holding only generated policies: dev's change cycle steps onto one state (the
policy of each step's stack), then destroyed; prod applied, retired and destroyed; the
bootstrap stack's deployer role applied, assumed by the principal it trusts, and dev's cycle
run by Terraform assuming it. Without one action Terraform fails with an access error naming
it. What moto's authorization checks, and the fixes it runs with: tests/moto_authorization.py.
The services it authorizes are probed one call each."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

import main
from serverless_app.deployer_policy import Scope, deployer_policies
from tests.change_steps import CHANGES, CONFIGS
from tests.moto_server import (
    AWS_AUTHORIZATION_VARIABLE,
    TEST_CREDENTIALS,
    TlsFiles,
    enforce_iam,
    moto_server,
    tls_files,
)
from tests.support import BOOTSTRAP_TEST_CONFIG, CONFIG_DIR
from tests.terraform_cycle import (
    CYCLE_REPORTS,
    EMULATOR_ACCOUNT,
    TEARDOWN_OVERRIDE_FILE,
    CycleReport,
    Workspace,
    in_emulator_account,
    replace_stack,
    required_toolchain,
    retired_config,
    state_bucket_override,
    take_synthesized,
    toml_text,
    workspace,
)
from tests.test_change_cycle import Stage, synthesized

pytestmark = pytest.mark.e2e

REGION = "us-east-1"
PREFIX = "hello-dev"
# moto serves AWS managed policies (the function role attaches three) only when asked; it
# authorizes as AWS names actions and resources with the fixes of tests/moto_authorization.py.
EMULATOR_ENVIRONMENT = {"MOTO_IAM_LOAD_MANAGED_POLICIES": "true", AWS_AUTHORIZATION_VARIABLE: "1"}


@dataclass(frozen=True)
class Emulator:
    url: str
    tls: TlsFiles

    def client(self, service: str, **credentials: str) -> Any:
        """A client with the test credentials, or the access key given."""
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=REGION,
            verify=str(self.tls.certificate),
            **(
                credentials
                or {
                    "aws_access_key_id": TEST_CREDENTIALS["access_key"],
                    "aws_secret_access_key": TEST_CREDENTIALS["secret_key"],
                }
            ),
        )


@pytest.fixture(scope="module")
def dev_stack(tmp_path_factory) -> Path:
    """The shipped dev stack, synthesized for the emulator's account."""
    folder = tmp_path_factory.mktemp("deployer-dev")
    config = folder / "config"
    config.mkdir()
    (config / "dev.toml").write_text(in_emulator_account((CONFIG_DIR / "dev.toml").read_text()))
    assert main.main(["--config", str(config), "--outdir", str(folder / "out")]) == 0
    return folder / "out" / "stacks" / "dev"


def generated_policies(stack_folder: Path) -> list[dict]:
    stack = json.loads((stack_folder / "cdk.tf.json").read_text())
    return deployer_policies(stack, Scope("aws", REGION, EMULATOR_ACCOUNT, PREFIX))


def without(policies: list[dict], action: str) -> list[dict]:
    """The policies with `action` taken out of every statement."""
    removed = [
        {
            **policy,
            "Statement": [
                {**s, "Action": [a for a in s["Action"] if a != action]}
                for s in policy["Statement"]
                if s["Action"] != [action]
            ],
        }
        for policy in policies
    ]
    assert removed != policies, f"{action} is not in the policies"
    return removed


def deployer_credentials(emulator: Emulator, policies: list[dict]) -> dict[str, str]:
    """A user holding exactly `policies` (as managed policies), and its access key."""
    iam = emulator.client("iam")
    iam.create_user(UserName="deployer")
    for number, document in enumerate(policies, start=1):
        created = iam.create_policy(
            PolicyName=f"{PREFIX}-deployer-{number}", PolicyDocument=json.dumps(document)
        )
        iam.attach_user_policy(UserName="deployer", PolicyArn=created["Policy"]["Arn"])
    key = iam.create_access_key(UserName="deployer")["AccessKey"]
    return {"access_key": key["AccessKeyId"], "secret_key": key["SecretAccessKey"]}


@pytest.fixture
def deployer_workspace(tmp_path) -> Iterator[Any]:
    """`deploy(stack_folder, policies)`: a workspace whose Terraform runs as a user holding only
    `policies`, in an emulator that authorizes every later call."""
    toolchain = required_toolchain()
    tls = tls_files(tmp_path)
    with moto_server(EMULATOR_ENVIRONMENT, tls=tls) as url:
        emulator = Emulator(url, tls)

        def deploy(stack_folder: Path, policies: list[dict]) -> Workspace:
            credentials = deployer_credentials(emulator, policies)
            where, _ = workspace(
                stack_folder, tmp_path / "work", toolchain, url, tls, credentials=credentials
            )
            enforce_iam(url, tls)
            return where

        yield deploy


CYCLE = (
    ("init",),
    ("plan", "-out=tfplan", "-no-color"),
    ("apply", "-no-color", "tfplan"),
    ("plan", "-detailed-exitcode", "-no-color"),
    ("destroy", "-auto-approve", "-no-color"),
)


# (an action removed from the policy, the step that needs it). Both of EC2: the provider decodes
# moto's denial of an EC2 call, not of the others (tests/moto_authorization.py, "Not fixed").
MISSING_ACTIONS = {
    "ec2:DescribeAvailabilityZones": ("plan", "-no-color"),
    "ec2:CreateVpc": ("apply", "-auto-approve", "-no-color"),
}


@pytest.mark.parametrize(("action", "command"), MISSING_ACTIONS.items(), ids=list(MISSING_ACTIONS))
def test_without_one_action_terraform_fails_with_an_access_error_naming_it(
    dev_stack, deployer_workspace, action, command
):
    where = deployer_workspace(dev_stack, without(generated_policies(dev_stack), action))
    assert where.run("init").returncode == 0
    result = where.run(*command)
    assert result.returncode == 1
    flat = " ".join(result.output.split())
    assert f"is not authorized to perform: {action}" in flat, result.output[-4000:]


# One harmless call per service the stacks call (tests/terraform_cycle.py, ENDPOINT_SERVICES).
PROBES = {
    "acm": ("list_certificates", {}),
    "apigateway": ("get_rest_apis", {}),
    "cloudwatch": ("describe_alarms", {}),
    "codedeploy": ("list_applications", {}),
    "dynamodb": ("list_tables", {}),
    "ec2": ("describe_vpcs", {}),
    "elbv2": ("describe_load_balancers", {}),
    "iam": ("list_roles", {}),
    "kms": ("list_keys", {}),
    "lambda": ("list_functions", {}),
    "logs": ("describe_log_groups", {}),
    "route53": ("list_hosted_zones", {}),
    "s3": ("list_buckets", {}),
    "sns": ("list_topics", {}),
    "sqs": ("list_queues", {}),
    "ssm": ("describe_parameters", {}),
    "wafv2": ("list_web_acls", {"Scope": "REGIONAL"}),
}


@pytest.fixture(scope="module")
def probed(tmp_path_factory) -> dict[str, dict[str, str]]:
    """Each probe's outcome as a user without any policy and as one allowed everything."""
    tls = tls_files(tmp_path_factory.mktemp("probe"))
    with moto_server({AWS_AUTHORIZATION_VARIABLE: "1"}, tls=tls) as url:
        emulator = Emulator(url, tls)
        iam = emulator.client("iam")
        everything = {"Effect": "Allow", "Action": "*", "Resource": "*"}
        users = {"nobody": None, "admin": {"Version": "2012-10-17", "Statement": [everything]}}
        keys = {}
        for user, policy in users.items():
            iam.create_user(UserName=user)
            if policy is not None:
                iam.put_user_policy(
                    UserName=user, PolicyName="all", PolicyDocument=json.dumps(policy)
                )
            key = iam.create_access_key(UserName=user)["AccessKey"]
            keys[user] = {
                "aws_access_key_id": key["AccessKeyId"],
                "aws_secret_access_key": key["SecretAccessKey"],
            }
        enforce_iam(url, tls)
        return {
            user: {
                service: _outcome(emulator.client(service, **key), *call)
                for service, call in PROBES.items()
            }
            for user, key in keys.items()
        }


def _outcome(client: Any, operation: str, arguments: dict[str, Any]) -> str:
    try:
        getattr(client, operation)(**arguments)
    except ClientError as error:
        return error.response["Error"]["Code"] or str(
            error.response["ResponseMetadata"]["HTTPStatusCode"]
        )
    return "allowed"


def test_the_emulator_authorizes_every_service_the_stacks_call(probed):
    # Without a policy every service refuses (Route 53 answers a bare 403); with one allowing
    # everything none does (REST signatures: tests/moto_authorization.py A1).
    assert set(probed["admin"].values()) == {"allowed"}, probed["admin"]
    assert {s: o for s, o in probed["nobody"].items() if o not in ("AccessDenied", "403")} == {}


# --- The bootstrap's deployer role, applied, assumed and used -------------------------------

PLATFORM_USER = "platform-admin"
PLATFORM_ARN = f"arn:aws:iam::{EMULATOR_ACCOUNT}:user/{PLATFORM_USER}"
DEPLOYER_ROLE = f"deployer-{PREFIX}"
DEPLOYER_ROLE_ARN = f"arn:aws:iam::{EMULATOR_ACCOUNT}:role/{DEPLOYER_ROLE}"
# Allowed to assume the deployer role by its own policy, but not named by the role's trust.
UNTRUSTED_USER = "someone-else"
ASSUME_DEPLOYER = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": DEPLOYER_ROLE_ARN}],
}
EVERYTHING = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


@dataclass(frozen=True)
class BootstrappedAccount:
    """The bootstrap stack (state bucket, API logging, the deployer role of dev trusting
    PLATFORM_USER) beside dev's file, which has Terraform assume that role."""

    bootstrap: Path
    dev: Path


@pytest.fixture(scope="module")
def bootstrapped_account(tmp_path_factory) -> BootstrappedAccount:
    folder = tmp_path_factory.mktemp("deployer-role")
    config = folder / "config"
    (config / "bootstrap").mkdir(parents=True)
    dev = tomllib.loads(in_emulator_account((CONFIG_DIR / "dev.toml").read_text()))
    dev["assume_role"] = {"role_arn": DEPLOYER_ROLE_ARN, "session_name": "e2e"}
    (config / "dev.toml").write_text(toml_text(dev))
    bootstrap = tomllib.loads(BOOTSTRAP_TEST_CONFIG.read_text())
    bootstrap["api_logging_regions"] = [REGION]
    bootstrap["deployer"] = {"environments": ["dev"], "trusted_principal_arn": PLATFORM_ARN}
    state = config / "bootstrap" / "state.toml"
    state.write_text(toml_text(bootstrap))
    assert main.main(["--config", str(config), "--outdir", str(folder / "out")]) == 0
    bootstrap_out = folder / "bootstrap.out"
    assert main.main(["--bootstrap", "--config", str(state), "--outdir", str(bootstrap_out)]) == 0
    return BootstrappedAccount(
        bootstrap_out / "stacks" / "bootstrap", folder / "out" / "stacks" / "dev"
    )


def user_credentials(emulator: Emulator, user: str, policy: dict | None = None) -> dict[str, str]:
    """A user (with `policy` inline) and its access key; before authorization is on."""
    iam = emulator.client("iam")
    iam.create_user(UserName=user)
    if policy is not None:
        iam.put_user_policy(UserName=user, PolicyName="policy", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=user)["AccessKey"]
    return {"access_key": key["AccessKeyId"], "secret_key": key["SecretAccessKey"]}


def boto3_keys(credentials: dict[str, str]) -> dict[str, str]:
    return {
        "aws_access_key_id": credentials["access_key"],
        "aws_secret_access_key": credentials["secret_key"],
    }


def role_facts(emulator: Emulator, admin: dict[str, str]) -> dict[str, Any]:
    """The deployer role's trust policy and its attached policies' documents, by name."""
    iam = emulator.client("iam", **boto3_keys(admin))
    role = iam.get_role(RoleName=DEPLOYER_ROLE)["Role"]
    attached = iam.list_attached_role_policies(RoleName=DEPLOYER_ROLE)["AttachedPolicies"]
    documents = {}
    for policy in attached:
        version = iam.get_policy(PolicyArn=policy["PolicyArn"])["Policy"]["DefaultVersionId"]
        document = iam.get_policy_version(PolicyArn=policy["PolicyArn"], VersionId=version)
        documents[policy["PolicyName"]] = document["PolicyVersion"]["Document"]
    return {"trust": role["AssumeRolePolicyDocument"], "policies": documents}


def _decoded(document: Any) -> Any:
    # boto3 decodes IAM's URL-encoded documents into dicts; moto may answer a string.
    return json.loads(document) if isinstance(document, str) else document


def _succeeds(where: Workspace, *command: str) -> None:
    result = where.run(*command)
    assert result.returncode == 0, f"terraform {' '.join(command)}:\n{result.output[-4000:]}"


def test_the_bootstrap_role_is_applied_and_dev_deploys_by_assuming_it(
    bootstrapped_account, tmp_path
):
    """The bootstrap stack with `[deployer]` applied by an administrator; the role checked with
    boto3; the principal it trusts assumes it (another one is refused); Terraform assumes it
    (dev's `[assume_role]`) and applies, re-plans and destroys dev with its policies only;
    the bootstrap is destroyed. Authorization is on from the first call."""
    toolchain = required_toolchain()
    tls = tls_files(tmp_path)
    report = CycleReport("the bootstrap's deployer role, then dev assuming it")
    CYCLE_REPORTS.append(report)
    with moto_server(EMULATOR_ENVIRONMENT, tls=tls) as url:
        emulator = Emulator(url, tls)
        admin = user_credentials(emulator, "administrator", EVERYTHING)
        platform = user_credentials(emulator, PLATFORM_USER, ASSUME_DEPLOYER)
        untrusted = user_credentials(emulator, UNTRUSTED_USER, ASSUME_DEPLOYER)
        enforce_iam(url, tls)

        created, _ = workspace(
            bootstrapped_account.bootstrap, tmp_path / "bootstrap", toolchain, url, tls,
            bootstrapped=False, credentials=admin,
        )  # fmt: skip
        bootstrap = created.recording_into(report.steps, "bootstrap")
        for command in CYCLE[:4]:
            _succeeds(bootstrap, *command)

        facts = role_facts(emulator, admin)
        assert _decoded(facts["trust"]) == {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": PLATFORM_ARN}, "Action": "sts:AssumeRole"}
            ],
        }
        expected = generated_policies(bootstrapped_account.dev)
        assert {name: _decoded(doc) for name, doc in facts["policies"].items()} == {
            f"{DEPLOYER_ROLE}-{number}": document
            for number, document in enumerate(expected, start=1)
        }

        def assume(credentials: dict[str, str]) -> dict[str, Any]:
            sts = emulator.client("sts", **boto3_keys(credentials))
            return sts.assume_role(RoleArn=DEPLOYER_ROLE_ARN, RoleSessionName="check")

        with pytest.raises(ClientError, match="not authorized to perform: sts:AssumeRole"):
            assume(untrusted)
        assumed = assume(platform)["AssumedRoleUser"]["Arn"]
        assert assumed == f"arn:aws:sts::{EMULATOR_ACCOUNT}:assumed-role/{DEPLOYER_ROLE}/check"

        # The marker dev looks for is the bootstrap's own, applied above.
        created, _ = workspace(
            bootstrapped_account.dev, tmp_path / "dev", toolchain, url, tls,
            bootstrapped=False, credentials=platform,
        )  # fmt: skip
        dev = created.recording_into(report.steps, "dev")
        for command in CYCLE:
            _succeeds(dev, *command)

        (bootstrap.folder / TEARDOWN_OVERRIDE_FILE).write_text(
            json.dumps(
                state_bucket_override(json.loads((bootstrap.folder / "cdk.tf.json").read_text()))
            )
        )
        _succeeds(bootstrap, "apply", "-auto-approve", "-no-color")
        _succeeds(bootstrap, "destroy", "-auto-approve", "-no-color")
        roles = emulator.client("iam", **boto3_keys(admin)).list_roles()["Roles"]
        assert DEPLOYER_ROLE not in {role["RoleName"] for role in roles}


# --- Day two under the policy -----------------------------------------------------------------

# The change cycle's steps on dev (tests/change_steps.py); `add-environment` makes another
# environment, which deploys with its own policy.
DEV_CHANGES = [step.name for step in CHANGES if CONFIGS[step.name]["env"] == "dev"]


@pytest.fixture(scope="module")
def dev_changes(tmp_path_factory) -> list[Stage]:
    base = tmp_path_factory.mktemp("deployer-changes")
    return [synthesized(name, base / name) for name in DEV_CHANGES]


def granted(iam: Any, user: str, old: list[str], policies: list[dict], label: str) -> list[str]:
    """`policies` in place of the managed policies `old` on `user`, as an administrator
    re-applies the bootstrap stack after the stack changed; the new policies' ARNs."""
    new = []
    for number, document in enumerate(policies, start=1):
        created = iam.create_policy(
            PolicyName=f"{PREFIX}-deployer-{label}-{number}", PolicyDocument=json.dumps(document)
        )
        iam.attach_user_policy(UserName=user, PolicyArn=created["Policy"]["Arn"])
        new.append(created["Policy"]["Arn"])
    for arn in old:
        iam.detach_user_policy(UserName=user, PolicyArn=arn)
    return new


def _denials(output: str) -> list[str]:
    """The lines of Terraform's output that say what was refused."""
    return [
        line.strip()
        for line in output.splitlines()
        if "403" in line or "AccessDenied" in line or "not authorized" in line
    ]


def test_dev_changes_apply_under_the_policy_of_each_step(dev_changes, tmp_path):
    """The change cycle's dev steps onto one state as a user holding only the generated
    policies of the step's stack (regenerated when the stack changes, as the documentation
    asks), authorization on: plan, apply and a clean re-plan per step, destroy at the end."""
    toolchain = required_toolchain()
    problems = [f"{stage.name}: {stage.problem}" for stage in dev_changes if stage.problem]
    assert problems == []
    tls = tls_files(tmp_path)
    report = CycleReport("dev changes under the deployer policy")
    CYCLE_REPORTS.append(report)
    with moto_server(EMULATOR_ENVIRONMENT, tls=tls) as url:
        emulator = Emulator(url, tls)
        admin = user_credentials(emulator, "administrator", EVERYTHING)
        deployer = user_credentials(emulator, "deployer")
        iam = emulator.client("iam", **boto3_keys(admin))
        first = dev_changes[0]
        assert first.stack_folder is not None
        created, _ = workspace(
            first.stack_folder, tmp_path / "dev", toolchain, url, tls, credentials=deployer
        )
        where = created.recording_into(report.steps)
        enforce_iam(url, tls)
        failures: list[str] = []
        attached: list[str] = []
        policies: list[dict] = []
        for stage in dev_changes:
            assert stage.stack_folder is not None
            if generated_policies(stage.stack_folder) != policies:
                policies = generated_policies(stage.stack_folder)
                attached = granted(iam, "deployer", attached, policies, stage.name)
            if stage is first:
                _succeeds(where, "init")
            else:
                replace_stack(
                    where, stage.stack_folder, toolchain, url, tls,
                    credentials=deployer, bootstrapped=False,
                )  # fmt: skip
            for command in CYCLE[1:4]:
                result = where.run(*command)
                if result.returncode != 0:
                    denied = _denials(result.output) or [result.output[-2000:]]
                    failures.append(f"{stage.name}: terraform {' '.join(command)}: {denied}")
                    break
        _succeeds(where, *CYCLE[4])
    assert failures == []


# --- prod under its policy ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def prod_stacks(tmp_path_factory) -> tuple[Path, Path]:
    """The shipped prod stack in the emulator's account, and the same retired on purpose
    (docs/retire.toml's settings, docs/hand-off.md), which a plain destroy then removes."""
    folder = tmp_path_factory.mktemp("deployer-prod")
    shipped = in_emulator_account((CONFIG_DIR / "prod.toml").read_text())
    stacks = []
    for variant, text in (("applied", shipped), ("retired", retired_config(shipped))):
        config = folder / variant / "config"
        config.mkdir(parents=True)
        (config / "prod.toml").write_text(text)
        out = folder / variant / "out"
        assert main.main(["--config", str(config), "--outdir", str(out)]) == 0
        stacks.append(out / "stacks" / "prod")
    return stacks[0], stacks[1]


def test_prod_applies_and_is_retired_and_destroyed_under_its_generated_policy(
    prod_stacks, tmp_path
):
    """prod as a user holding only prod's generated policies, authorization on: plan, apply, a
    clean re-plan; then the documented retirement (its policy regenerated for the retired
    stack), and destroy."""
    toolchain = required_toolchain()
    applied, retired = prod_stacks
    prod_scope = Scope("aws", REGION, EMULATOR_ACCOUNT, "hello-prod")
    tls = tls_files(tmp_path)
    report = CycleReport("prod under the deployer policy")
    CYCLE_REPORTS.append(report)
    with moto_server(EMULATOR_ENVIRONMENT, tls=tls) as url:
        emulator = Emulator(url, tls)
        admin = user_credentials(emulator, "administrator", EVERYTHING)
        deployer = user_credentials(emulator, "deployer")
        iam = emulator.client("iam", **boto3_keys(admin))
        created, _ = workspace(
            applied, tmp_path / "prod", toolchain, url, tls, credentials=deployer
        )
        where = created.recording_into(report.steps)
        enforce_iam(url, tls)
        policies = deployer_policies(json.loads((applied / "cdk.tf.json").read_text()), prod_scope)
        attached = granted(iam, "deployer", [], policies, "applied")
        for command in CYCLE[:4]:
            _succeeds(where, *command)
        take_synthesized(retired, where.folder)
        policies = deployer_policies(json.loads((retired / "cdk.tf.json").read_text()), prod_scope)
        granted(iam, "deployer", attached, policies, "retired")
        _succeeds(where, "apply", "-auto-approve", "-no-color")
        _succeeds(where, *CYCLE[4])
