"""Terraform itself on a synthesized stack folder, as ops run it, against the local emulator.

The folder is copied as it is handed off; the only file added is an override
(`e2e_override.tf.json`) pointing the AWS provider at the emulator with test credentials and,
when the pinned provider version is not in the local mirror, at the mirror's version. Providers
come from a filesystem mirror only (a CLI config without `direct`): never the network.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import time
import tomllib
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.aws_facts import Endpoint
from tests.moto_server import TEST_CREDENTIALS, TlsFiles, moto_server, tls_files

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
    "apigatewayv2",
    "cloudwatch",
    "codedeploy",
    "cognitoidp",
    "dynamodb",
    "ec2",
    "elbv2",
    "events",
    "iam",
    "kms",
    "lambda",
    "logs",
    "route53",
    "s3",
    "scheduler",
    "sns",
    "sqs",
    "ssm",
    "sts",
    "wafv2",
)
# The account id moto answers with.
EMULATOR_ACCOUNT = "123456789012"
STEP_TIMEOUT_S = 900
# Resources that hold data (items, objects, the key that decrypts them, the alarm topic's
# subscriptions, a user pool's users): a change or an upgrade may update them in place, never
# delete or replace them.
STATEFUL_RESOURCE_TYPES = (
    "aws_dynamodb_table",
    "aws_s3_bucket",
    "aws_kms_key",
    "aws_sns_topic",
    "aws_cognito_user_pool",
)
# moto serves AWS managed policies (the function role attaches three) only when asked.
EMULATOR_ENVIRONMENT = {"MOTO_IAM_LOAD_MANAGED_POLICIES": "true"}


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


@dataclass(frozen=True)
class Emulator:
    url: str
    tls: TlsFiles

    def endpoint(self, region: str) -> Endpoint:
        return Endpoint(self.url, region, str(self.tls.certificate))


def start_emulator(running: ExitStack, work: Path) -> Emulator:
    """A moto server of its own (state is per process), stopped when `running` closes."""
    work.mkdir(parents=True)
    tls = tls_files(work)
    return Emulator(running.enter_context(moto_server(EMULATOR_ENVIRONMENT, tls=tls)), tls)


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


# What README states of routes, for the facts' expectations: a route is AWS_IAM unless it says
# "NONE", and only a public route is a listener rule, unless it opts out (the load balancer
# cannot check a signature).
DEFAULT_AUTHORIZATION = "AWS_IAM"


# A route naming an authorizer: the method's authorization type by the authorizer's type.
AUTHORIZER_METHOD_TYPES = {"cognito": "COGNITO_USER_POOLS", "lambda": "CUSTOM"}


def authorization(route: dict[str, Any]) -> str:
    return str(route.get("authorization", DEFAULT_AUTHORIZATION))


def authorization_type(route: dict[str, Any], config: dict[str, Any]) -> str:
    """The API method's `authorizationType`: `NONE`, `AWS_IAM`, or by the authorizer's type."""
    named = authorization(route)
    authorizer = config.get("authorizers", {}).get(named)
    return named if authorizer is None else AUTHORIZER_METHOD_TYPES[authorizer["type"]]


def served_methods(config: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Path -> method -> authorization type the stage serves: each route's, and with
    `[api.cors]` an OPTIONS without authorization on each path (the preflight)."""
    served: dict[str, dict[str, str]] = {}
    for route in config["routes"]:
        served.setdefault(route["path"], {})[route["method"]] = authorization_type(route, config)
    if config.get("api", {}).get("cors"):
        for methods in served.values():
            methods["OPTIONS"] = "NONE"
    return served


def public_routes(config: dict[str, Any]) -> list[dict[str, Any]]:
    """The file's routes on the load balancer."""
    return [
        route
        for route in config["routes"]
        if route.get("load_balancer", authorization(route) == "NONE")
    ]


def wildcards(path: str) -> str:
    """A route's path as the load balancer's path pattern: each parameter one `*`."""
    return re.sub(r"\{[^}]+\}", "*", path)


@dataclass
class StepResult:
    command: str
    returncode: int
    seconds: float
    output: str


# The return code recorded for a command stopped after STEP_TIMEOUT_S.
TIMED_OUT = -1


def _text(output: str | bytes) -> str:
    # What a timed-out command printed arrives undecoded.
    return output.decode(errors="replace") if isinstance(output, bytes) else output


@dataclass
class Workspace:
    """A copy of one stack folder and the environment Terraform runs in there."""

    folder: Path
    environment: dict[str, str]
    region: str
    steps: list[StepResult] = field(default_factory=list)

    # Put before each recorded command when the workspace is not the one a report is about.
    label: str = ""

    def run(self, *arguments: str) -> StepResult:
        started = time.monotonic()
        try:
            completed = subprocess.run(
                ["terraform", *arguments],
                cwd=self.folder,
                env=self.environment,
                capture_output=True,
                text=True,
                timeout=STEP_TIMEOUT_S,
            )
            returncode, output = completed.returncode, completed.stdout + completed.stderr
        except subprocess.TimeoutExpired as timeout:
            # Recorded like any failed command, with what it printed before it was stopped.
            partial = [part for part in (timeout.stdout, timeout.stderr) if part]
            printed = "".join(_text(part) for part in partial)
            returncode, output = TIMED_OUT, f"{printed}\nstopped after {STEP_TIMEOUT_S} s"
        result = StepResult(
            command=(f"{self.label}: " if self.label else "") + " ".join(arguments),
            returncode=returncode,
            seconds=time.monotonic() - started,
            output=output,
        )
        self.steps.append(result)
        return result

    def moved_to(self, target: Path) -> Workspace:
        """The folder copied elsewhere, as a saved plan travels to the machine that applies it."""
        shutil.copytree(self.folder, target, symlinks=True)
        return Workspace(target, self.environment, self.region, self.steps)

    def recording_into(self, steps: list[StepResult], label: str = "") -> Workspace:
        """The same folder, its commands recorded into `steps` (labelled when not empty)."""
        return dataclasses.replace(self, steps=steps, label=label)

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
    region, note = _write_override(target, toolchain, endpoint, credentials)
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
        # Plain text in the outputs the tests show when a command fails.
        "TF_CLI_ARGS": "-no-color",
        # The provider (Go) trusts the emulator's self-signed certificate through this.
        "SSL_CERT_FILE": str(tls.certificate),
        "AWS_CA_BUNDLE": str(tls.certificate),
        # No profile or instance credentials of the machine may leak in.
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    if bootstrapped:
        stack_json = json.loads((target / "cdk.tf.json").read_text())
        leave_bootstrap_marker(stack_json, endpoint, tls, region)
    return Workspace(target, environment, region), note


def _write_override(
    folder: Path, toolchain: Toolchain, endpoint: str, credentials: dict[str, str] | None = None
) -> tuple[str, str | None]:
    """The override for the folder's cdk.tf.json (with `credentials`, see `override`); its
    default provider's region and the note of `provider_version`."""
    stack_json = json.loads((folder / "cdk.tf.json").read_text())
    providers = stack_json["provider"]["aws"]
    region = next(block["region"] for block in providers if "alias" not in block)
    version, note = provider_version(stack_json, toolchain.mirror)
    settings = override(providers, endpoint, version, credentials)
    (folder / OVERRIDE_FILE).write_text(json.dumps(settings, indent=2))
    return region, note


def replace_stack(
    where: Workspace,
    stack_folder: Path,
    toolchain: Toolchain,
    endpoint: str,
    tls: TlsFiles,
    *,
    credentials: dict[str, str] | None = None,
    bootstrapped: bool = True,
) -> None:
    """A newly synthesized stack into a folder Terraform already applied, as a user's next synth
    does: its `cdk.tf.json` and `assets/` replace the old ones; Terraform's own files (state,
    `.terraform/`, the lock file) and the override stay, the override rewritten for the new
    JSON (with `credentials`, as in `workspace`). `bootstrapped`: the account is a
    bootstrapped one, whatever the stack applied before looked for (an upgrade from a release
    that did not check); False when the marker is there already."""
    for entry in stack_folder.iterdir():
        existing = where.folder / entry.name
        if existing.is_dir():
            shutil.rmtree(existing)
        if entry.is_dir():
            shutil.copytree(entry, existing)
        else:
            shutil.copy(entry, existing)
    region, _ = _write_override(where.folder, toolchain, endpoint, credentials)
    if bootstrapped:
        stack_json = json.loads((where.folder / "cdk.tf.json").read_text())
        leave_bootstrap_marker(stack_json, endpoint, tls, region)


def stateful_losses(plan: dict[str, Any]) -> list[str]:
    """`<address>: <actions>` for every stateful resource a plan (`terraform show -json`)
    deletes or replaces."""
    return [
        f"{change['address']}: {'/'.join(change['change']['actions'])}"
        for change in plan.get("resource_changes", [])
        if change["type"] in STATEFUL_RESOURCE_TYPES and "delete" in change["change"]["actions"]
    ]


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
    """An environment's file with the documented retire settings in it. The settings' table
    entry is written for the shipped files' table; the step asks it of every table of the
    file (docs/retire.toml), so each table this file declares gets it, and a file without
    tables none."""
    config = tomllib.loads(config_text)
    retire = tomllib.loads(RETIRE_SETTINGS.read_text())
    (table_settings,) = retire.pop("tables").values()
    if config.get("tables"):
        retire["tables"] = {key: table_settings for key in config["tables"]}
    return toml_text(merged(config, retire))


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


@dataclass
class ChangeStepReport(CycleReport):
    """One step of a change chain: a configuration applied onto the state the earlier steps of
    the chain left for its environment (`stack`)."""

    name: str = ""
    config: dict[str, Any] = field(default_factory=dict)
    stateful_losses: list[str] | None = None


@dataclass
class ChangeChain:
    """Steps applied one after the other in one emulator, each onto its environment's state."""

    title: str
    steps: list[ChangeStepReport] = field(default_factory=list)

    def seconds(self) -> float:
        return sum(step.seconds() for step in self.steps)


# Filled by the apply-cycle tests, printed by the terminal summary in conftest.py.
CYCLE_REPORTS: list[CycleReport] = []
CHANGE_CHAINS: list[ChangeChain] = []


def summary_lines() -> list[str]:
    """The measured time of every Terraform command the cycles ran, per stack or step, and the
    provider version used when it is not the pinned one."""
    lines = []
    for report in CYCLE_REPORTS:
        lines.append(f"apply cycle {report.stack}: {report.seconds():.0f}s ({_timed(report)})")
        if report.version_note:
            lines.append(f"apply cycle {report.stack}: {report.version_note}")
    for chain in CHANGE_CHAINS:
        lines.append(f"{chain.title}: {chain.seconds():.0f}s, {len(chain.steps)} steps")
        for step in chain.steps:
            lines.append(
                f"  {step.name} [{step.stack}]: {step.seconds():.0f}s ({_timed(step)})"
                + (f" FAILED: {step.failure}" if step.failure else "")
            )
    return lines


def _timed(report: CycleReport) -> str:
    return ", ".join(f"{step.command} {step.seconds:.0f}s" for step in report.steps)


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
