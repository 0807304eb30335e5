"""The plan-time checks, run: `terraform plan` against the emulator, as the apply cycle runs it
(tests/terraform_cycle.py), on small stacks holding one check each. Each check must fail the
plan with its message when the account is wrong, and let it pass when the account is right.

The JSON of each check is asserted where its construct is tested; this shows Terraform and the
provider evaluate it as meant, on what the emulator holds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from cdktf import TerraformStack
from cdktf import Testing as CdktfTesting
from cdktf_cdktf_provider_aws.provider import AwsProvider

from constructs_lib.api_account import ApiGatewayLoggingRole, ApiLoggingRoleCheck
from constructs_lib.domain import HostedZoneCheck
from constructs_lib.vpc import Network, NetworkProps, Subnet
from tests.aws_facts import Endpoint
from tests.moto_server import TlsFiles, moto_server, tls_files
from tests.terraform_cycle import EMULATOR_ACCOUNT, StepResult, required_toolchain, workspace

pytestmark = pytest.mark.e2e

REGION = "us-east-1"
OTHER_ROLE = f"arn:aws:iam::{EMULATOR_ACCOUNT}:role/other-team-logging"
OUR_ROLE = f"arn:aws:iam::{EMULATOR_ACCOUNT}:role/api-gateway-cloudwatch-logs"


@dataclass(frozen=True)
class Emulator:
    url: str
    tls: TlsFiles

    def client(self, service: str) -> Any:
        return Endpoint(self.url, REGION, str(self.tls.certificate)).client(service)


@pytest.fixture
def emulator(tmp_path) -> Iterator[Emulator]:
    """A fresh emulator per test: an empty account (about a second to start)."""
    required_toolchain()
    tls = tls_files(tmp_path)
    with moto_server(tls=tls) as url:
        yield Emulator(url, tls)


@pytest.fixture
def plan(
    emulator, tmp_path
) -> Iterator[Callable[[Callable[[TerraformStack], object]], StepResult]]:
    """`plan(build)`: synthesize a stack holding what `build` adds, init and plan it."""

    def run(build: Callable[[TerraformStack], object]) -> StepResult:
        app = CdktfTesting.app()
        stack = TerraformStack(app, "checks")
        AwsProvider(stack, "aws", region=REGION)
        build(stack)
        source = tmp_path / "stack"
        source.mkdir(exist_ok=True)
        (source / "cdk.tf.json").write_text(CdktfTesting.synth(stack))
        work = tmp_path / f"work-{len(list(tmp_path.glob('work-*')))}"
        where, _ = workspace(
            source, work, required_toolchain(), emulator.url, emulator.tls, bootstrapped=False
        )
        assert where.run("init", "-input=false").returncode == 0
        result = where.run("plan", "-input=false", "-no-color", "-lock=false")
        return result

    yield run


def failed_with(result: StepResult, message: str) -> bool:
    flat = " ".join(result.output.split())
    return result.returncode == 1 and message in flat


def network(zones: list[str]) -> Callable[[TerraformStack], object]:
    subnets = [Subnet(f"s{i}", f"10.0.{i}.0/24", zone) for i, zone in enumerate(zones)]
    props = NetworkProps(
        name="t",
        region=REGION,
        cidr="10.0.0.0/16",
        public_subnets=subnets,
        private_subnets=[Subnet("p", "10.0.100.0/24", zones[0])],
        nat_gateways="none",
        nat_subnet=None,
        flow_logs=None,
    )
    return lambda stack: Network(stack, "net", props)


@pytest.mark.parametrize(
    ("zones", "missing"),
    [
        (["use1-az1", "use1-az6"], None),
        (["us-east-1a", "us-east-1b"], None),
        (["use1-az1", "use1-az9"], "use1-az9"),
        (["us-east-1a", "us-east-1g"], "us-east-1g"),
    ],
    ids=["ids", "names", "unknown id", "unknown name"],
)
def test_subnet_zones_must_exist_in_the_account(plan, zones, missing):
    result = plan(network(zones))
    if missing is None:
        assert result.returncode == 0, result.output[-3000:]
    else:
        assert failed_with(result, f"Availability zone(s) {missing} not found in {REGION}"), (
            result.output[-3000:]
        )


def hosted_zone(emulator: Emulator, name: str, private: bool) -> str:
    """A new hosted zone's id; a private one is associated with a new VPC. (AWS makes a zone
    created with a VPC private; moto only when HostedZoneConfig says so, which AWS accepts.)"""
    request: dict[str, Any] = {"Name": name, "CallerReference": name}
    if private:
        vpc = emulator.client("ec2").create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
        request["VPC"] = {"VPCRegion": REGION, "VPCId": vpc}
        request["HostedZoneConfig"] = {"PrivateZone": True}
    zone = emulator.client("route53").create_hosted_zone(**request)
    return zone["HostedZone"]["Id"].rsplit("/", 1)[-1]


@pytest.mark.parametrize(
    ("zone_name", "private", "message"),
    [
        ("example.com", False, None),
        ("api.example.com", False, None),
        ("example.com", True, "is private: ACM cannot see its validation records"),
        ("example.org", False, "api.example.com not in hosted zone"),
        ("other.example.com", False, "api.example.com not in hosted zone"),
    ],
    ids=["parent zone", "its own zone", "private", "other domain", "sibling"],
)
def test_the_hosted_zone_must_be_public_and_hold_the_name(
    plan, emulator, zone_name, private, message
):
    zone_id = hosted_zone(emulator, zone_name, private)
    result = plan(
        lambda stack: HostedZoneCheck(stack, "zone", zone_id=zone_id, names=["api.example.com"])
    )
    if message is None:
        assert result.returncode == 0, result.output[-3000:]
    else:
        assert failed_with(result, message), result.output[-3000:]


REMEDY = "Apply the bootstrap stack for this region."


def test_an_environment_plan_fails_until_the_bootstrap_set_up_its_region(plan, emulator):
    def check(stack: TerraformStack) -> object:
        return ApiLoggingRoleCheck(stack, "logging", region=REGION, remedy=REMEDY)

    refused = plan(check)
    assert failed_with(
        refused, f"API Gateway in {REGION} has no CloudWatch Logs role from the bootstrap stack"
    ), refused.output[-3000:]
    assert REMEDY in " ".join(refused.output.split())
    # What the bootstrap leaves in the region once the setting points at its role.
    emulator.client("ssm").put_parameter(
        Name="/account/api-gateway/cloudwatch-role-arn", Value=OUR_ROLE, Type="String"
    )
    assert plan(check).returncode == 0


REFUSAL = "Set the switch to replace it."


def logging_role(take_over: bool) -> Callable[[TerraformStack], object]:
    return lambda stack: ApiGatewayLoggingRole(
        stack,
        "logging",
        regions=[REGION],
        default_region=REGION,
        take_over=take_over,
        refusal=REFUSAL,
    )


def set_account_role(emulator: Emulator, role_arn: str) -> None:
    emulator.client("apigateway").update_account(
        patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn", "value": role_arn}]
    )


@pytest.mark.parametrize(
    ("current", "take_over", "refused"),
    [
        (None, False, False),
        (OUR_ROLE, False, False),
        (OTHER_ROLE, False, True),
        (OTHER_ROLE, True, False),
    ],
    ids=["unset", "already ours", "another team's", "another team's, taken over"],
)
def test_the_bootstrap_refuses_to_take_over_a_role_set_elsewhere(
    plan, emulator, current, take_over, refused
):
    if current is not None:
        set_account_role(emulator, current)
    result = plan(logging_role(take_over))
    if refused:
        assert failed_with(
            result,
            f"API Gateway in {REGION} already logs through {current}, set outside this "
            f"stack: {REFUSAL}",
        ), result.output[-3000:]
    else:
        assert result.returncode == 0, result.output[-3000:]
        assert "will be imported" in result.output  # the twin reads the setting, never writes
