"""Terraform itself on a synthesized stack folder, as ops run it, against the local emulator.

The folder is copied as it is handed off; the only file added is an override
(`e2e_override.tf.json`) pointing the AWS provider at the emulator with test credentials and,
when the pinned provider version is not in the local mirror, at the mirror's version. Providers
come from a filesystem mirror only (a CLI config without `direct`): never the network.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.moto_server import TlsFiles

AWS_PROVIDER = "registry.terraform.io/hashicorp/aws"
OVERRIDE_FILE = "e2e_override.tf.json"
# Where images and users put provider mirrors; TERRAFORM_PROVIDER_MIRROR names another.
MIRROR_CANDIDATES = (
    Path("/opt/tf-plugins"),
    Path.home() / ".terraform.d" / "plugins",
    Path("/usr/local/share/terraform/plugins"),
    Path("/usr/share/terraform/plugins"),
)
# Every AWS service the stacks call, by the provider's `endpoints` names.
ENDPOINT_SERVICES = (
    "acm",
    "apigateway",
    "cloudwatch",
    "codedeploy",
    "dynamodb",
    "ec2",
    "elbv2",
    "iam",
    "kms",
    "lambda",
    "logs",
    "route53",
    "s3",
    "sns",
    "sqs",
    "ssm",
    "sts",
    "wafv2",
)
TEST_CREDENTIALS = {"access_key": "testing", "secret_key": "testing"}
# The account id moto answers with.
EMULATOR_ACCOUNT = "123456789012"
STEP_TIMEOUT_S = 900


@dataclass(frozen=True)
class Toolchain:
    terraform: Path
    mirror: Path


def required_toolchain() -> Toolchain:
    """The toolchain, or a skip saying what is missing (a failure with E2E_REQUIRED=1, as CI
    sets it)."""
    import pytest

    found = find_toolchain()
    if isinstance(found, Toolchain):
        return found
    message = f"Terraform against the emulator not run: {found}"
    if os.environ.get("E2E_REQUIRED") == "1":
        pytest.fail(message)
    pytest.skip(message)


def find_toolchain() -> Toolchain | str:
    """Terraform and a provider mirror holding hashicorp/aws, or what is missing."""
    terraform = shutil.which("terraform")
    if terraform is None:
        return "terraform is not on PATH"
    named = os.environ.get("TERRAFORM_PROVIDER_MIRROR")
    candidates = [Path(named)] if named else list(MIRROR_CANDIDATES)
    for mirror in candidates:
        if mirror_versions(mirror):
            return Toolchain(terraform=Path(terraform), mirror=mirror)
    searched = ", ".join(str(path) for path in candidates)
    return f"no hashicorp/aws provider in a filesystem mirror ({searched})"


def mirror_versions(mirror: Path) -> list[str]:
    """The hashicorp/aws versions the mirror holds (unpacked layout), highest first."""
    folder = mirror / AWS_PROVIDER
    if not folder.is_dir():
        return []
    versions = [path.name for path in folder.iterdir() if path.is_dir()]
    return sorted(versions, key=_version_key, reverse=True)


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else -1 for part in version.split("."))


@dataclass(frozen=True)
class ProviderBehaviour:
    """Something provider 6 does that the stacks rely on and provider 5 does not do or check,
    and the test that holds it on the JSON instead."""

    label: str
    detail: str
    test: str


# What a cycle on provider 5 (this machine's mirror holds 5.100.0 only) cannot check.
PROVIDER_6_BEHAVIOURS = (
    ProviderBehaviour(
        "the API Gateway account reset on destroy",
        "destroying aws_api_gateway_account resets the region's logging role (5.x leaves it "
        "unless reset_on_delete): every one carries prevent_destroy",
        "tests/test_provider_version.py::test_no_plan_may_destroy_the_api_gateway_account_setting",
    ),
    ProviderBehaviour(
        "deployments without stages",
        "aws_api_gateway_deployment refuses stage_name, stage_description and canary_settings "
        "(5.x accepts them): the stage is its own aws_api_gateway_stage",
        "tests/test_provider_version.py::test_deployments_leave_the_stage_to_its_own_resource",
    ),
    ProviderBehaviour(
        "aws_eip without vpc",
        "aws_eip refuses vpc (5.x accepts it): the stack sets domain = vpc",
        "tests/test_provider_version.py::test_elastic_ips_use_domain",
    ),
    ProviderBehaviour(
        "aws_flow_log without log_group_name",
        "aws_flow_log refuses log_group_name (5.x accepts it): the stack sets log_destination",
        "tests/test_provider_version.py::test_flow_logs_use_log_destination",
    ),
)


def provider_version(stack_json: dict, mirror: Path) -> tuple[str, str | None]:
    """The version to install, and a note when it is not the one the stack pins (with what
    an older major version cannot check)."""
    pinned = stack_json["terraform"]["required_providers"]["aws"]["version"]
    available = mirror_versions(mirror)
    if pinned in available:
        return pinned, None
    chosen = available[0]
    note = f"hashicorp/aws {pinned} is not in {mirror}; using {chosen} from the mirror"
    if _version_key(chosen)[0] < _version_key(pinned)[0] == 6:
        unchecked = "; ".join(behaviour.label for behaviour in PROVIDER_6_BEHAVIOURS)
        note += f"; not checked by {chosen}, held on the JSON instead: {unchecked}"
    return chosen, note


def override(
    providers: list[dict], endpoint: str, version: str, credentials: dict[str, str] | None = None
) -> dict:
    """The one file added to the handed-off folder: emulator endpoints and credentials (the
    test credentials unless given) for every `aws` provider block of the stack (the default
    one and each alias)."""
    emulated = {
        **(credentials or TEST_CREDENTIALS),
        "skip_credentials_validation": True,
        "skip_metadata_api_check": True,
        "skip_region_validation": True,
        "s3_use_path_style": True,
        "endpoints": [{service: endpoint for service in ENDPOINT_SERVICES}],
    }
    blocks = [
        {**({"alias": block["alias"]} if "alias" in block else {}), **emulated}
        for block in providers
    ]
    return {
        "terraform": {
            "required_providers": {"aws": {"source": "hashicorp/aws", "version": version}}
        },
        "provider": {"aws": blocks},
    }


@dataclass
class StepResult:
    command: str
    returncode: int
    seconds: float
    output: str


@dataclass
class Workspace:
    """A copy of one stack folder and the environment Terraform runs in there."""

    folder: Path
    environment: dict[str, str]
    region: str
    steps: list[StepResult] = field(default_factory=list)

    def run(self, *arguments: str) -> StepResult:
        started = time.monotonic()
        completed = subprocess.run(
            ["terraform", *arguments],
            cwd=self.folder,
            env=self.environment,
            capture_output=True,
            text=True,
            timeout=STEP_TIMEOUT_S,
        )
        result = StepResult(
            command=" ".join(arguments),
            returncode=completed.returncode,
            seconds=time.monotonic() - started,
            output=completed.stdout + completed.stderr,
        )
        self.steps.append(result)
        return result

    def moved_to(self, target: Path) -> Workspace:
        """The folder copied elsewhere, as a saved plan travels to the machine that applies it."""
        shutil.copytree(self.folder, target, symlinks=True)
        return Workspace(target, self.environment, self.region, self.steps)

    def output_values(self) -> dict[str, object]:
        result = self.run("output", "-json")
        assert result.returncode == 0, result.output
        return {name: item["value"] for name, item in json.loads(result.output).items()}


def workspace(
    stack_folder: Path,
    target: Path,
    toolchain: Toolchain,
    endpoint: str,
    tls: TlsFiles,
    *,
    bootstrapped: bool = True,
    credentials: dict[str, str] | None = None,
) -> tuple[Workspace, str | None]:
    """Copy the stack folder, add the override and a mirror-only CLI config. `bootstrapped`:
    the emulator's account is one the bootstrap stack has set up for an environment stack (the
    README's order), see `leave_bootstrap_marker`. `credentials`: Terraform's access key
    (`access_key`, `secret_key`), the test credentials unless given."""
    shutil.copytree(stack_folder, target)
    stack_json = json.loads((target / "cdk.tf.json").read_text())
    providers = stack_json["provider"]["aws"]
    region = next(block["region"] for block in providers if "alias" not in block)
    version, note = provider_version(stack_json, toolchain.mirror)
    settings = override(providers, endpoint, version, credentials)
    (target / OVERRIDE_FILE).write_text(json.dumps(settings, indent=2))
    cli_config = target.parent / f"{target.name}.terraformrc"
    cli_config.write_text(
        "provider_installation {\n"
        f'  filesystem_mirror {{\n    path = "{toolchain.mirror}"\n'
        f'    include = ["{AWS_PROVIDER}"]\n  }}\n'
        "}\n"
    )
    environment = {
        **os.environ,
        "TF_CLI_CONFIG_FILE": str(cli_config),
        "TF_IN_AUTOMATION": "1",
        "TF_INPUT": "0",
        "CHECKPOINT_DISABLE": "1",
        # The provider (Go) trusts the emulator's self-signed certificate through this.
        "SSL_CERT_FILE": str(tls.certificate),
        "AWS_CA_BUNDLE": str(tls.certificate),
        # No profile or instance credentials of the machine may leak in.
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    if bootstrapped:
        leave_bootstrap_marker(stack_json, endpoint, tls, region)
    return Workspace(target, environment, region), note


def leave_bootstrap_marker(stack_json: dict, endpoint: str, tls: TlsFiles, region: str) -> None:
    """What the bootstrap stack leaves in a region it set API Gateway logging up in (its SSM
    marker), for an environment stack that checks for it at plan time
    (`constructs_lib.api_account.ApiLoggingRoleCheck`). The bootstrap stack itself creates it."""
    from constructs_lib.api_account import LOGGING_ROLE_NAME, MARKER_NAME, MARKER_PATH

    readers = stack_json.get("data", {}).get("aws_ssm_parameters_by_path", {}).values()
    if not any(reader.get("path") == MARKER_PATH for reader in readers):
        return
    import boto3

    ssm = boto3.client(
        "ssm",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=TEST_CREDENTIALS["access_key"],
        aws_secret_access_key=TEST_CREDENTIALS["secret_key"],
        verify=str(tls.certificate),
    )
    role = f"arn:aws:iam::{EMULATOR_ACCOUNT}:role/{LOGGING_ROLE_NAME}"
    ssm.put_parameter(Name=MARKER_NAME, Value=role, Type="String", Overwrite=True)


TEARDOWN_OVERRIDE_FILE = "e2e_teardown_override.tf.json"
# The documented step that retires an environment (docs/hand-off.md, "Retiring an
# environment"): these keys set in its config file, then synth, `terraform apply`,
# `terraform destroy`.
RETIRE_SETTINGS = Path(__file__).resolve().parents[1] / "docs" / "retire.toml"


def is_protected(stack_json: dict) -> bool:
    """Whether a plain `terraform destroy` must fail: `prevent_destroy` or deletion
    protection, or a bucket Terraform would not empty."""
    for resource_type, items in stack_json.get("resource", {}).items():
        for body in items.values():
            if body.get("lifecycle", {}).get("prevent_destroy"):
                return True
            if body.get("enable_deletion_protection") or body.get("deletion_protection_enabled"):
                return True
            if resource_type == "aws_s3_bucket" and not body.get("force_destroy"):
                return True
    return False


def retired_config(config_text: str) -> str:
    """An environment's file with the documented retire settings in it."""
    retire = tomllib.loads(RETIRE_SETTINGS.read_text())
    return toml_text(merged(tomllib.loads(config_text), retire))


def take_synthesized(stack_folder: Path, target: Path) -> None:
    """A new synth's `cdk.tf.json` and `assets/` in place of a stack folder's (state, lock
    file and `.terraform/` stay), as `make synth` refreshes the folder ops apply from."""
    shutil.copy(stack_folder / "cdk.tf.json", target / "cdk.tf.json")
    shutil.rmtree(target / "assets", ignore_errors=True)
    if (stack_folder / "assets").is_dir():
        shutil.copytree(stack_folder / "assets", target / "assets")


def state_bucket_override(stack_json: dict) -> dict:
    """The bootstrap's hand edit (docs/remote-state.md): `prevent_destroy` lifted from the
    state bucket. The bootstrap config has no retire keys; nothing else is changed."""
    lifted: dict[str, dict[str, dict]] = {}
    for resource_type, items in stack_json.get("resource", {}).items():
        for name, body in items.items():
            if body.get("lifecycle", {}).get("prevent_destroy"):
                lifted.setdefault(resource_type, {})[name] = {
                    "lifecycle": {"prevent_destroy": False}
                }
    return {"resource": lifted}


@dataclass
class CycleReport:
    """Everything one stack's cycle saw, for the tests to assert on afterwards."""

    stack: str
    version_note: str | None = None
    steps: list[StepResult] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    before: dict[str, list[str]] = field(default_factory=dict)
    after_destroy: dict[str, list[str]] = field(default_factory=dict)
    failure: str | None = None

    def step(self, command_prefix: str) -> StepResult:
        matches = [s for s in self.steps if s.command.startswith(command_prefix)]
        assert matches, f"{self.stack}: no step `terraform {command_prefix}` ran ({self.failure})"
        return matches[-1]

    def seconds(self) -> float:
        return sum(step.seconds for step in self.steps)


# Filled by the apply-cycle tests, printed by the terminal summary in conftest.py.
CYCLE_REPORTS: list[CycleReport] = []


# The apply cycle's prod runs with a custom domain, secrets and provisioned concurrency on:
# config/prod.toml with this overlay merged in (a hosted zone id filled by the harness).
PROD_OVERLAY = Path(__file__).resolve().parent / "config" / "prod_operations_overlay.toml"


def merged(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    """`base` with `overlay`'s keys; tables merge key by key, other values are replaced."""
    result = dict(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merged(result[key], value)
        else:
            result[key] = value
    return result


def toml_text(data: dict[str, Any], table: str = "") -> str:
    """TOML for a parsed configuration (strings, numbers, booleans, lists, tables):
    what `tomllib.loads` reads back as `data`. The standard library reads TOML, never writes."""
    lines = [f"{_toml_key(key)} = {_toml_value(value)}" for key, value in data.items()
             if not isinstance(value, dict)]  # fmt: skip
    text = (f"[{table}]\n" if table and lines else "") + "".join(f"{line}\n" for line in lines)
    for key, value in data.items():
        if isinstance(value, dict):
            name = f"{table}.{_toml_key(key)}" if table else _toml_key(key)
            text += "\n" + (toml_text(value, name) if value else f"[{name}]\n")
    return text


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key)


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a TOML basic string: the same escapes
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, dict):  # an inline table: how a list of tables ([[routes]]) is written
        pairs = (f"{_toml_key(key)} = {_toml_value(item)}" for key, item in value.items())
        return "{" + ", ".join(pairs) + "}"
    raise TypeError(f"no TOML for {value!r}")


def in_emulator_account(config_text: str) -> str:
    """An environment's file naming the emulator's account: the shipped files name a
    placeholder no account has, which Terraform refuses (as the bootstrap's placeholder bucket
    name is refused, the tests use a file of their own)."""
    return toml_text(merged(tomllib.loads(config_text), {"account_id": EMULATOR_ACCOUNT}))


def variant_config(base_file: Path, overlay_file: Path, hosted_zone_id: str | None) -> str:
    """The text of `base_file` with `overlay_file` merged in, the domain's hosted zone id set."""
    overlay = tomllib.loads(overlay_file.read_text())
    if hosted_zone_id is not None:
        overlay["domain"]["hosted_zone_id"] = hosted_zone_id
    return toml_text(merged(tomllib.loads(base_file.read_text()), overlay))


def overlay_domain(overlay_file: Path) -> str | None:
    return tomllib.loads(overlay_file.read_text()).get("domain", {}).get("name")


def hosted_zone_name(domain: str) -> str:
    """The zone the harness creates for a domain: its parent (api.prod.example.com ->
    prod.example.com), as a delegated subdomain zone would be."""
    return domain.split(".", 1)[1]


def secret_parameters(stack_json: dict) -> list[str]:
    """The SSM parameter names the stack's functions read (`SECRET_<NAME>` variables): they
    must exist before apply, as an operator creates them with `aws ssm put-parameter`."""
    names = []
    for function in stack_json.get("resource", {}).get("aws_lambda_function", {}).values():
        variables = function.get("environment", {}).get("variables", {})
        names += [value for name, value in variables.items() if name.startswith("SECRET_")]
    return sorted(set(names))
