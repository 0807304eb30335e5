"""Terraform itself on a synthesized stack folder, as ops run it, against the local emulator.

The folder is copied as it is handed off; the only file added is an override
(`e2e_override.tf.json`) pointing the AWS provider at the emulator with test credentials and,
when the pinned provider version is not in the local mirror, at the mirror's version. Providers
come from a filesystem mirror only (a CLI config without `direct`): never the network.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

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
STEP_TIMEOUT_S = 900


@dataclass(frozen=True)
class Toolchain:
    terraform: Path
    mirror: Path


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


def provider_version(stack_json: dict, mirror: Path) -> tuple[str, str | None]:
    """The version to install, and a note when it is not the one the stack pins."""
    pinned = stack_json["terraform"]["required_providers"]["aws"]["version"]
    available = mirror_versions(mirror)
    if pinned in available:
        return pinned, None
    chosen = available[0]
    return chosen, f"hashicorp/aws {pinned} is not in {mirror}; using {chosen} from the mirror"


def override(providers: list[dict], endpoint: str, version: str) -> dict:
    """The one file added to the handed-off folder: emulator endpoints and test credentials for
    every `aws` provider block of the stack (the default one and each alias)."""
    emulated = {
        **TEST_CREDENTIALS,
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
) -> tuple[Workspace, str | None]:
    """Copy the stack folder, add the override and a mirror-only CLI config."""
    shutil.copytree(stack_folder, target)
    stack_json = json.loads((target / "cdk.tf.json").read_text())
    providers = stack_json["provider"]["aws"]
    region = next(block["region"] for block in providers if "alias" not in block)
    version, note = provider_version(stack_json, toolchain.mirror)
    settings = override(providers, endpoint, version)
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
    return Workspace(target, environment, region), note


TEARDOWN_OVERRIDE_FILE = "e2e_teardown_override.tf.json"


def teardown_override(stack_json: dict) -> dict:
    """What an operator sets on purpose to retire a protected environment: no
    `prevent_destroy`, deletion protection off, buckets emptied by Terraform. Empty for a
    stack that `terraform destroy` removes as it is."""
    resources = stack_json.get("resource", {})
    lifted: dict[str, dict[str, dict]] = {}

    def lift(resource_type: str, name: str, **settings: object) -> None:
        lifted.setdefault(resource_type, {}).setdefault(name, {}).update(settings)

    for resource_type, items in resources.items():
        for name, body in items.items():
            if body.get("lifecycle", {}).get("prevent_destroy"):
                lift(resource_type, name, lifecycle={"prevent_destroy": False})
            if resource_type == "aws_s3_bucket" and not body.get("force_destroy"):
                lift(resource_type, name, force_destroy=True)
            if body.get("enable_deletion_protection"):
                lift(resource_type, name, enable_deletion_protection=False)
            if body.get("deletion_protection_enabled"):
                lift(resource_type, name, deletion_protection_enabled=False)
    return {"resource": lifted}


@dataclass
class CycleReport:
    """Everything one stack's cycle saw, for the tests to assert on afterwards."""

    stack: str
    version_note: str | None = None
    steps: list[StepResult] = field(default_factory=list)
    facts: dict[str, object] = field(default_factory=dict)
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
