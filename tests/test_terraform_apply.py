"""Terraform applies every handed-off stack: init, validate, plan, apply, re-plan clean, destroy.

Each stack folder (dev, prod, bootstrap) is copied as ops would take it and driven by the real
`terraform` with the real hashicorp/aws provider from a local filesystem mirror, against moto
in server mode over TLS on 127.0.0.1 (one emulator per stack, the cycles in parallel).
After apply, boto3 asks the emulator what exists. Without terraform or the mirror the module
skips with one line; E2E_REQUIRED=1 (CI) turns that skip into a failure.

dev also runs on CDK Terrain's output (docs/frameworks.md): as a cycle of its own
("dev-cdktn", every dev fact checked again), and as a switch: over the state that cdktf's dev
output applied, CDK Terrain's dev output must plan no change.
"""

from __future__ import annotations

import functools
import json
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

import main
from tests import aws_facts
from tests.aws_facts import Endpoint
from tests.moto_server import TEST_CREDENTIALS
from tests.support import (
    BOOTSTRAP_TEST_CONFIG,
    CONFIG_DIR,
    ENVIRONMENTS,
    REPO_ROOT,
    framework_python,
    run_main,
)
from tests.terraform_cycle import (
    CYCLE_REPORTS,
    EMULATOR_ACCOUNT,
    PROD_OVERLAY,
    TEARDOWN_OVERRIDE_FILE,
    CycleReport,
    Emulator,
    Toolchain,
    Workspace,
    authorization,
    authorization_type,
    hosted_zone_name,
    in_emulator_account,
    is_protected,
    overlay_domain,
    public_routes,
    required_toolchain,
    retired_config,
    secret_parameters,
    served_methods,
    start_emulator,
    state_bucket_override,
    take_synthesized,
    variant_config,
    wildcards,
    workspace,
)

pytestmark = pytest.mark.e2e

# dev synthesized by CDK Terrain, applied in a cycle of its own.
CDKTN_DEV = "dev-cdktn"
# dev's shape on an HTTP API (`[api] type = "http"`), from tests/config/http_api.toml.
HTTP_API = "httpapi"
HTTP_API_CONFIG = REPO_ROOT / "tests" / "config" / "http_api.toml"
# A table's stream, a topic and EventBridge failures set aside, from
# tests/config/event_sources.toml (dev ships none of them), on an HTTP API.
EVENT_SOURCES = "feeds"
EVENT_SOURCES_CONFIG = REPO_ROOT / "tests" / "config" / "event_sources.toml"
STACKS = (*ENVIRONMENTS, "bootstrap", CDKTN_DEV, HTTP_API, EVENT_SOURCES)
# The stacks on an HTTP API.
HTTP_STACKS = (HTTP_API, EVENT_SOURCES)
# The stacks on a REST API.
REST_STACKS = (*ENVIRONMENTS, CDKTN_DEV)
# Route 53 is global: its API lives in us-east-1.
GLOBAL_REGION = "us-east-1"
Collector = Callable[[Endpoint, Any], dict[str, Any]]


def serverless_facts(
    endpoint: Endpoint, outputs: dict[str, Any], api_facts: Collector | None = None
) -> dict[str, Any]:
    """Everything an environment's stack made; its API with `api_facts` (the REST API's by
    default)."""
    api_facts = api_facts or aws_facts.api_facts
    functions = {
        key: aws_facts.function_facts(endpoint, function["function_name"])
        for key, function in outputs["functions"].items()
    }
    parameters = sorted(
        value
        for function in functions.values()
        for name, value in function["configuration"]
        .get("Environment", {})
        .get("Variables", {})
        .items()
        if name.startswith("SECRET_")
    )
    domain = urlparse(outputs["api_url"]).hostname if "api_url" in outputs else None
    stack_key = _stack_key(functions)
    return {
        "functions": functions,
        "load_balancer": aws_facts.load_balancer_facts(endpoint, outputs["load_balancer_dns_name"]),
        "api": api_facts(endpoint, outputs["api_invoke_url"]),
        "tables": {
            key: aws_facts.table_facts(endpoint, name) for key, name in outputs["tables"].items()
        },
        "bucket": aws_facts.bucket_facts(endpoint, outputs["bucket_name"]),
        "buckets": {
            key: aws_facts.bucket_facts(endpoint, name) for key, name in outputs["buckets"].items()
        },
        "operations": aws_facts.operations_facts(endpoint, outputs),
        "events": aws_facts.event_facts(endpoint, outputs),
        "logging": aws_facts.logging_facts(endpoint, outputs["vpc_id"]),
        "domain": aws_facts.domain_facts(endpoint, domain) if domain else None,
        "parameters": aws_facts.secret_facts(endpoint, parameters) if parameters else {},
        "provisioned_concurrency": {
            key: aws_facts.provisioned_concurrency_facts(
                endpoint, function["function_name"], "live"
            )
            for key, function in outputs["functions"].items()
        },
        "function_urls": {
            key: aws_facts.function_url_facts(endpoint, outputs["functions"][key]["function_name"])
            for key in outputs["function_urls"]
        },
        "user_pools": {
            key: aws_facts.user_pool_facts(endpoint, pool)
            for key, pool in outputs["user_pools"].items()
        },
        # The dashboard is named `<project>-<env>`, as the schedule group and the rules start.
        "eventbridge": aws_facts.eventbridge_facts(endpoint, outputs["dashboard_name"]),
        "invoke_policies": {
            key: aws_facts.invoke_policy_facts(endpoint, function["function_name"], "live")
            for key, function in outputs["functions"].items()
        },
        "stack_key": stack_key,
        "key_policy": aws_facts.key_policy_facts(endpoint, stack_key),
        "notifications": {
            key: aws_facts.notification_facts(endpoint, name)
            for key, name in outputs["buckets"].items()
        },
        "outputs": outputs,
    }


def _stack_key(functions: dict[str, Any]) -> str:
    """The stack's KMS key: the one every function's role may use (`UseStackKey`)."""
    (key_arn,) = {
        arn
        for function in functions.values()
        for statement in function["inline_policies"]["UseStackKey"]["Statement"]
        for arn in _as_list(statement["Resource"])
    }
    return key_arn


def bootstrap_facts(endpoint: Endpoint, outputs: dict[str, Any]) -> dict[str, Any]:
    return {"bucket": aws_facts.bucket_facts(endpoint, outputs["state_bucket"])}


@dataclass(frozen=True)
class StackFolders:
    """A stack as synthesized, and (for an environment) as synthesized again with the
    documented retire settings in its config file."""

    applied: Path
    retired: Path | None
    # The same stack synthesized by the other framework: planned over the applied state.
    switched: Path | None = None


def run_cycle(
    stack: str,
    folders: StackFolders,
    work: Path,
    toolchain: Toolchain,
    collect: Collector,
    emulator: Emulator,
) -> CycleReport:
    report = CycleReport(stack=stack)
    try:
        _cycle(report, folders, work, toolchain, collect, emulator)
    except Exception as error:  # recorded: the tests name the stack and the step that broke
        report.failure = f"{type(error).__name__}: {error}"
    return report


def _cycle(
    report: CycleReport,
    folders: StackFolders,
    work: Path,
    toolchain: Toolchain,
    collect: Collector,
    emulator: Emulator,
) -> None:
    planned, report.version_note = workspace(
        folders.applied, work / "planned", toolchain, emulator.url, emulator.tls
    )
    report.steps = planned.steps
    endpoint = emulator.endpoint(planned.region)
    report.before = aws_facts.inventory(endpoint)
    if not _all_succeed(planned, ("init",), ("validate",), ("plan", "-out=tfplan")):
        return
    report.facts["planned_folder"] = sorted(p.name for p in planned.folder.iterdir())
    # The saved plan is applied from another folder, as on another machine.
    applying = planned.moved_to(work / "applying")
    shutil.rmtree(planned.folder)
    if not _all_succeed(applying, ("apply", "tfplan")):
        return
    try:
        report.facts.update(collect(endpoint, applying.output_values()))
        functions = report.facts.get("outputs", {}).get("functions", {})
        if functions:
            saved = applying.folder.parent / "outputs.json"
            saved.write_text(applying.run("output", "-json").output)
            report.facts["releases"] = {
                key: _release_dry_run(applying, emulator, saved, key) for key in functions
            }
    except Exception as error:  # the fact tests fail on it; the cycle goes on
        report.facts["error"] = f"{type(error).__name__}: {error}"
    applying.run("plan", "-detailed-exitcode")
    if folders.switched is not None:
        take_synthesized(folders.switched, applying.folder)
        applying.run(*SWITCHED_PLAN.split())
    _destroy(applying, report, folders.retired, endpoint)
    report.after_destroy = aws_facts.inventory(endpoint)


# The plan after switching frameworks (its own spelling, so that `step()` tells it apart).
SWITCHED_PLAN = "plan -input=false -detailed-exitcode"


def _release_dry_run(
    where: Workspace, emulator: Emulator, saved: Path, function: str
) -> subprocess.CompletedProcess[str]:
    """`scripts/release.py` for `function` on the applied stack's outputs (`terraform output
    -json`, saved), as ops run it after apply, with the emulator as its AWS endpoint."""
    command = ["-m", "scripts.release", "--outputs", str(saved), "--function", function]
    return subprocess.run(
        [sys.executable, *command, "--dry-run"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={
            **where.environment,
            "AWS_ENDPOINT_URL": emulator.url,
            "AWS_ACCESS_KEY_ID": TEST_CREDENTIALS["access_key"],
            "AWS_SECRET_ACCESS_KEY": TEST_CREDENTIALS["secret_key"],
        },
    )


def _all_succeed(where: Workspace, *commands: tuple[str, ...]) -> bool:
    return all(where.run(*command).returncode == 0 for command in commands)


def _destroy(
    where: Workspace, report: CycleReport, retired: Path | None, endpoint: Endpoint
) -> None:
    """A plain destroy; a protected stack must refuse it, then is retired on purpose: an
    environment by the documented step (its config with docs/retire.toml's settings, synth,
    apply), the bootstrap by its documented hand edit."""
    stack_json = json.loads((where.folder / "cdk.tf.json").read_text())
    if is_protected(stack_json):
        where.run("plan", "-destroy", "-lock=false")
        if retired is not None:
            report.facts["versions_before_retire"] = _fill_versioned_buckets(endpoint)
            take_synthesized(retired, where.folder)
        else:
            lifted = state_bucket_override(stack_json)
            (where.folder / TEARDOWN_OVERRIDE_FILE).write_text(json.dumps(lifted, indent=2))
        report.facts["retire_folder"] = sorted(p.name for p in where.folder.iterdir())
        if not _all_succeed(where, ("apply", "-auto-approve")):
            return
    where.run("destroy", "-auto-approve")
    if retired is not None:
        report.facts["buckets_after_retire"] = _existing_buckets(
            endpoint, report.facts.get("versions_before_retire", {})
        )


# Written twice (an old version and a current one) into every versioned bucket before retiring.
RETIRE_PROBE_KEYS = ("retire-probe/overwritten.txt", "retire-probe/overwritten.txt", "other.txt")


def _fill_versioned_buckets(endpoint: Endpoint) -> dict[str, int]:
    """Objects and old versions in each versioned bucket, as a stack that ran for a while has
    them; the object versions each bucket then holds."""
    s3 = endpoint.client("s3")
    filled = {}
    for bucket in (item["Name"] for item in s3.list_buckets()["Buckets"]):
        if s3.get_bucket_versioning(Bucket=bucket).get("Status") != "Enabled":
            continue
        for key in RETIRE_PROBE_KEYS:
            s3.put_object(Bucket=bucket, Key=key, Body=b"written before the environment retires")
        listed = s3.list_object_versions(Bucket=bucket)
        filled[bucket] = len(listed.get("Versions", [])) + len(listed.get("DeleteMarkers", []))
    return filled


def _existing_buckets(endpoint: Endpoint, buckets: dict[str, int]) -> list[str]:
    existing = {item["Name"] for item in endpoint.client("s3").list_buckets()["Buckets"]}
    return sorted(existing & set(buckets))


def _selected_stacks(session: pytest.Session) -> tuple[str, ...]:
    """The cycles the selected tests of this module read, so that `-k feeds` runs that cycle
    alone: the stacks they are parametrized with; every stack when a selected test reads one by
    name (a fixture like `prod`)."""
    wanted: set[str] = set()
    for item in session.items:
        if item.path != Path(__file__) or "cycles" not in getattr(item, "fixturenames", ()):
            continue
        callspec = getattr(item, "callspec", None)
        params = callspec.params.values() if callspec is not None else ()
        named = {value for value in params if isinstance(value, str) and value in STACKS}
        if not named:
            return STACKS
        wanted |= named
    return tuple(stack for stack in STACKS if stack in wanted) or STACKS


@pytest.fixture(scope="module")
def cycles(request, tmp_path_factory) -> dict[str, CycleReport]:
    toolchain = required_toolchain()
    selected = _selected_stacks(request.session)
    base = tmp_path_factory.mktemp("apply-cycle")
    with ExitStack() as running:
        # The emulators start first: prod's hosted zone must exist before prod is synthesized
        # (prod's emulator starts even when its cycle does not run).
        emulators = {
            stack: start_emulator(running, base / stack)
            for stack in STACKS
            if stack in selected or stack == "prod"
        }
        config = _config_with_prod_variant(base / "config", emulators["prod"])
        out = base / "cdktf.out"
        assert main.main(["--config", str(config), "--outdir", str(out)]) == 0
        bootstrap_out = base / "bootstrap.out"
        bootstrap_arguments = [
            *("--config", str(BOOTSTRAP_TEST_CONFIG), "--outdir", str(bootstrap_out))
        ]
        assert main.main(["--bootstrap", *bootstrap_arguments]) == 0
        retired_out = base / "retired.out"
        retired = _config_retired(config, base / "retired-config")
        assert main.main(["--config", str(retired), "--outdir", str(retired_out)]) == 0
        cdktn_out = base / "cdktn.out"
        if {"dev", CDKTN_DEV} & set(selected):
            on_cdktn = run_main(
                *("--config", str(config), "--outdir", str(cdktn_out)),
                python=framework_python("cdktn"),
            )
            assert on_cdktn.returncode == 0, on_cdktn.stderr
        folders = {
            env: StackFolders(out / "stacks" / env, retired_out / "stacks" / env)
            for env in ENVIRONMENTS
        }
        folders["dev"] = StackFolders(
            out / "stacks" / "dev", retired_out / "stacks" / "dev", cdktn_out / "stacks" / "dev"
        )
        folders["bootstrap"] = StackFolders(bootstrap_out / "stacks" / "bootstrap", None)
        folders[CDKTN_DEV] = StackFolders(cdktn_out / "stacks" / "dev", None)
        for stack in HTTP_STACKS:
            folders[stack] = StackFolders(out / "stacks" / stack, retired_out / "stacks" / stack)
        _create_secret_parameters(folders["prod"].applied, emulators["prod"])
        collectors: dict[str, Callable[..., dict[str, Any]]] = {
            env: serverless_facts for env in (*ENVIRONMENTS, CDKTN_DEV)
        }
        collectors["bootstrap"] = bootstrap_facts
        for stack in HTTP_STACKS:
            collectors[stack] = functools.partial(
                serverless_facts, api_facts=aws_facts.http_api_facts
            )
        with ThreadPoolExecutor(max_workers=len(selected)) as pool:
            futures = {
                stack: pool.submit(
                    run_cycle,
                    stack,
                    folders[stack],
                    base / stack,
                    toolchain,
                    collectors[stack],
                    emulators[stack],
                )
                for stack in selected
            }
            reports = {stack: future.result() for stack, future in futures.items()}
    # Each environment's file as applied: the fact tests read their expectations from it.
    for file in config.glob("*.toml"):
        data = tomllib.loads(file.read_text())
        if data["env"] in reports:
            reports[data["env"]].facts["config"] = data
    if CDKTN_DEV in reports:
        reports[CDKTN_DEV].facts["config"] = tomllib.loads((config / "dev.toml").read_text())
    CYCLE_REPORTS.extend(reports.values())
    return reports


def _config_with_prod_variant(folder: Path, emulator: Emulator) -> Path:
    """The shipped config folder, prod with PROD_OVERLAY merged in: the domain's hosted zone is
    created in prod's emulator first and its (random) id written into the config."""
    folder.mkdir()
    for shipped in CONFIG_DIR.glob("*.toml"):
        (folder / shipped.name).write_text(in_emulator_account(shipped.read_text()))
    domain = overlay_domain(PROD_OVERLAY)
    zone_id = None
    if domain is not None:
        route53 = emulator.endpoint(GLOBAL_REGION).client("route53")
        zone = route53.create_hosted_zone(
            Name=hosted_zone_name(domain), CallerReference="apply-cycle"
        )
        zone_id = zone["HostedZone"]["Id"].rsplit("/", 1)[-1]
    text = variant_config(CONFIG_DIR / "prod.toml", PROD_OVERLAY, zone_id)
    (folder / "prod.toml").write_text(in_emulator_account(text))
    for extra in (HTTP_API_CONFIG, EVENT_SOURCES_CONFIG):
        (folder / extra.name).write_text(in_emulator_account(extra.read_text()))
    return folder


def _config_retired(config: Path, folder: Path) -> Path:
    """Every environment's file as applied, with the documented retire settings in it."""
    folder.mkdir()
    for file in config.glob("*.toml"):
        (folder / file.name).write_text(retired_config(file.read_text()))
    return folder


def _create_secret_parameters(stack_folder: Path, emulator: Emulator) -> None:
    """The SecureString parameters the stack's functions read, as an operator creates them
    before the first apply (the stack never holds a value)."""
    stack_json = json.loads((stack_folder / "cdk.tf.json").read_text())
    region = next(b["region"] for b in stack_json["provider"]["aws"] if "alias" not in b)
    ssm = emulator.endpoint(region).client("ssm")
    for name in secret_parameters(stack_json):
        ssm.put_parameter(Name=name, Type="SecureString", Value=f"value of {name}")


def _tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.splitlines()[-lines:])


@pytest.mark.parametrize("stack", STACKS)
def test_init_validate_plan_apply_succeed(cycles, stack):
    report = cycles[stack]
    for command in ("init", "validate", "plan -out", "apply tfplan"):
        step = report.step(command)
        assert step.returncode == 0, f"terraform {command}:\n{_tail(step.output)}"
    assert report.failure is None


@pytest.mark.parametrize("stack", STACKS)
def test_nothing_is_built_at_plan_time(cycles, stack):
    planned = cycles[stack].facts["planned_folder"]
    assert "build" not in planned
    assert {"cdk.tf.json", "tfplan", ".terraform"} <= set(planned)


@pytest.mark.parametrize("stack", STACKS)
def test_second_plan_reports_no_changes(cycles, stack):
    step = cycles[stack].step("plan -detailed-exitcode")
    assert step.returncode == 0, _tail(step.output, 80)


@pytest.mark.parametrize("stack", STACKS)
def test_destroy_leaves_the_emulator_as_it_was(cycles, stack):
    report = cycles[stack]
    step = report.step("destroy")
    assert step.returncode == 0, _tail(step.output)
    left = {
        kind: sorted(set(names) - set(report.before[kind]))
        for kind, names in report.after_destroy.items()
    }
    assert {kind: names for kind, names in left.items() if names} == {}


@pytest.mark.parametrize("stack", ["prod", "bootstrap"])
def test_a_protected_stack_refuses_a_plain_destroy(cycles, stack):
    # prod's artifact bucket and the state bucket are `prevent_destroy`: retiring them takes
    # a deliberate edit.
    step = cycles[stack].step("plan -destroy")
    assert step.returncode == 1
    assert "prevent_destroy" in step.output


def test_prod_is_retired_by_the_documented_step_versioned_buckets_and_all(cycles):
    """prod's config with docs/retire.toml's settings, synthesized again, applied over the
    running stack, then a plain destroy: buckets holding objects and old versions are
    emptied and deleted; no override file is involved."""
    report = cycles["prod"]
    versions = report.facts["versions_before_retire"]
    # The artifact bucket, the declared ones (assets; uploads from the overlay) and the
    # access-log bucket.
    assert len(versions) == 4
    assert report.facts["outputs"]["bucket_name"] in versions
    # Each holds at least the probe's three versions (one of them an old version).
    assert all(count >= 3 for count in versions.values()), versions
    assert TEARDOWN_OVERRIDE_FILE not in report.facts["retire_folder"]
    retire = report.step("apply -auto-approve")
    assert retire.returncode == 0, _tail(retire.output)
    destroy = report.step("destroy")
    assert destroy.returncode == 0, _tail(destroy.output)
    assert "BucketNotEmpty" not in destroy.output
    assert report.facts["buckets_after_retire"] == []


def test_switching_dev_to_cdk_terrain_plans_no_change(cycles):
    """The state cdktf's dev output applied, with CDK Terrain's dev output in its place."""
    step = cycles["dev"].step(SWITCHED_PLAN)
    assert step.returncode == 0, _tail(step.output, 80)
    assert "No changes." in step.output


@pytest.mark.parametrize("stack", ["dev", CDKTN_DEV])
def test_dev_is_destroyed_as_it_is(cycles, stack):
    commands = [step.command for step in cycles[stack].steps]
    assert commands[-1] == "destroy -auto-approve"
    assert not any(command.startswith("plan -destroy") for command in commands)


def _applied_facts(cycles: dict[str, CycleReport], stack: str) -> dict[str, Any]:
    report = cycles[stack]
    assert report.facts.get("functions"), report.failure or report.facts.get("error")
    return report.facts


@pytest.fixture(params=(*REST_STACKS, *HTTP_STACKS))
def applied(request, cycles) -> dict[str, Any]:
    """Each environment's stack, on either kind of API."""
    return _applied_facts(cycles, request.param)


@pytest.fixture(params=REST_STACKS)
def rest_applied(request, cycles) -> dict[str, Any]:
    return _applied_facts(cycles, request.param)


@pytest.fixture
def http_applied(cycles) -> dict[str, Any]:
    return _applied_facts(cycles, HTTP_API)


def test_every_function_runs_as_its_own_role_with_stack_settings(applied):
    config, outputs = applied["config"], applied["outputs"]
    for key, function in applied["functions"].items():
        configuration = function["configuration"]
        (trust,) = function["role"]["AssumeRolePolicyDocument"]["Statement"]
        assert trust["Principal"] == {"Service": "lambda.amazonaws.com"}, key
        assert sorted(arn.rsplit("/", 1)[-1] for arn in function["managed_policies"]) == [
            "AWSLambdaBasicExecutionRole",
            "AWSLambdaVPCAccessExecutionRole",
            "AWSXRayDaemonWriteAccess",
        ], key
        # docs/data.md: TABLE_<KEY>_NAME and BUCKET_<KEY>_NAME for each table and bucket granted.
        variables = configuration.get("Environment", {}).get("Variables", {})
        grants = _grants(config, key)
        for kind in ("tables", "buckets"):
            for granted in grants.get(kind, {}):
                variable = f"{kind[:-1].upper()}_{granted.upper().replace('-', '_')}_NAME"
                assert variables[variable] == outputs[kind][granted], (key, variable)
        assert configuration["TracingConfig"] == {"Mode": "Active"}, key
        # Its variables encrypted with the stack key; a function without variables has no key.
        if variables:
            assert configuration["KMSKeyArn"] == applied["stack_key"], key
        else:
            assert "KMSKeyArn" not in configuration, key


def test_function_policies_name_the_stack_resources(applied):
    config, outputs = applied["config"], applied["outputs"]
    for key, function in applied["functions"].items():
        statements = {
            statement.get("Sid"): statement
            for document in function["inline_policies"].values()
            for statement in document["Statement"]
        }
        grants = _grants(config, key)
        for table, access in grants.get("tables", {}).items():
            for verb, action in (("Read", "dynamodb:GetItem"), ("Write", "dynamodb:PutItem")):
                if verb.lower() in access:
                    statement = statements[_statement_name(f"{verb}Items", table)]
                    assert action in _as_list(statement["Action"]), (key, table)
                    assert outputs["tables"][table] in str(statement["Resource"]), (key, table)
        for bucket, access in grants.get("buckets", {}).items():
            for verb in ("read", "write"):
                # A verb alone grants every object; `{ read = [...] }` the objects listed.
                keys = (
                    access.get(verb, []) if isinstance(access, dict) else ["*"] * (verb in access)
                )
                if keys:
                    statement = statements[
                        _statement_name(f"{verb.title()}Objects", f"bucket-{bucket}")
                    ]
                    assert sorted(_as_list(statement["Resource"])) == sorted(
                        f"arn:aws:s3:::{outputs['buckets'][bucket]}/{object_key}"
                        for object_key in keys
                    ), (key, bucket)
        # Its failed asynchronous invocations go to its own dead-letter queue.
        (queue,) = _as_list(
            function["inline_policies"]["SendToDeadLetterQueue"]["Statement"][0]["Resource"]
        )
        assert queue.endswith(f":{outputs['functions'][key]['function_name']}-dlq"), key


def test_each_function_has_its_own_role_with_exactly_its_grants(applied):
    functions, outputs, config = applied["functions"], applied["outputs"], applied["config"]
    assert set(functions) == set(outputs["functions"]) == set(config["functions"])
    roles = {facts["role"]["RoleName"] for facts in functions.values()}
    assert len(roles) == len(functions)
    for key, facts in functions.items():
        name = outputs["functions"][key]["function_name"]
        assert facts["role"]["RoleName"] == f"{name}-role"
        # Every function sends to its own queue and uses the stack key; the rest are grants.
        granted = set(facts["inline_policies"]) - {"SendToDeadLetterQueue", "UseStackKey"}
        assert granted == _grant_policies(config, key), key


def test_dev_as_shipped_grants_exactly_its_examples(cycles):
    """The shipped dev file's grants, written out: hello writes requests and reads the
    greeting; the event-driven example sends to and consumes the orders queue. (The
    event-sources cycle's stream reader and topic publisher: tests/config/event_sources.toml,
    checked by its file like every cycle.)"""
    granted = {
        key: set(facts["inline_policies"]) - {"SendToDeadLetterQueue", "UseStackKey"}
        for key, facts in _applied_facts(cycles, "dev")["functions"].items()
    }
    assert granted == {
        "hello": {"WriteItemsRequests", "ReadObjectsBucketAssets"},
        "escape": set(),
        "orders-api": {"SendMessagesQueueOrders"},
        "worker": {"ConsumeMessagesQueueOrders", "WriteItemsRequests"},
        "housekeeping": set(),
    }


def _grants(config: dict[str, Any], key: str) -> dict[str, Any]:
    grants: dict[str, Any] = config["functions"][key].get("grants", {})
    return grants


def _statement_name(action: str, resource_id: str) -> str:
    """A grant's statement and inline policy: `action` and the resource's id in PascalCase
    ("WriteItems", "requests" -> "WriteItemsRequests")."""
    return action + "".join(part[:1].upper() + part[1:] for part in resource_id.split("-"))


def _grant_policies(config: dict[str, Any], key: str) -> set[str]:
    """The inline policies function `key`'s entry in the file asks for (docs/data.md,
    docs/events.md): one per table and bucket verb, one per queue it sends to or consumes and
    topic it publishes to, per table stream it reads one (and one for the queue its failures
    go to), one for its secrets. A grant of another kind fails here: its policies need a
    line."""
    function, grants = config["functions"][key], _grants(config, key)
    assert set(grants) <= {"tables", "buckets", "queues", "topics"}, (key, sorted(grants))
    policies: set[str] = set()
    for table, access in grants.get("tables", {}).items():
        policies |= {
            _statement_name(f"{verb.title()}Items", table)
            for verb in ("read", "write")
            if verb in access
        }
    for bucket, access in grants.get("buckets", {}).items():
        policies |= {
            _statement_name(f"{verb.title()}Objects", f"bucket-{bucket}")
            for verb in ("read", "write")
            if (access.get(verb) if isinstance(access, dict) else verb in access)
        }
    for queue, access in grants.get("queues", {}).items():
        assert access == "send", (key, queue, access)
        policies.add(_statement_name("SendMessages", f"queue-{queue}"))
    for topic, access in grants.get("topics", {}).items():
        assert access == "publish", (key, topic, access)
        policies.add(_statement_name("PublishMessages", f"topic-{topic}"))
    consumed = [t["queue"] for t in _triggers(config, "queue") if t["function"] == key]
    policies |= {_statement_name("ConsumeMessages", f"queue-{queue}") for queue in consumed}
    for stream in (t for t in _triggers(config, "table") if t["function"] == key):
        # Named after the trigger: `name`, else `<function>-table-<table>` (docs/events.md).
        trigger = f"trigger-{stream.get('name') or key + '-table-' + stream['table']}"
        policies.add(_statement_name("ReadStream", trigger))
        if "on_failure" in stream:
            policies.add(_statement_name("SendFailures", trigger))
    if function.get("secrets"):
        policies.add("ReadSecretParameters")
    return policies


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def test_every_function_sits_in_the_vpc_with_a_dead_letter_queue(applied):
    outputs = applied["outputs"]
    for key, facts in applied["functions"].items():
        configuration = facts["configuration"]
        placement = configuration["VpcConfig"]
        assert placement["VpcId"] == outputs["vpc_id"]
        assert len(placement["SubnetIds"]) >= 2 and len(placement["SecurityGroupIds"]) == 1
        target = configuration["DeadLetterConfig"]["TargetArn"]
        assert target.endswith(f":{outputs['functions'][key]['function_name']}-dlq")


def test_flow_log_and_every_log_group_keep_what_the_file_says(applied):
    config, logging = applied["config"], applied["logging"]
    (flow_log,) = logging["flow_logs"]
    # The defaults (docs/config.md) where the file leaves the keys out.
    assert flow_log["TrafficType"] == config["vpc"].get("flow_logs", "ALL")
    assert flow_log["LogDestinationType"] == "cloud-watch-logs"
    assert flow_log["LogDestination"].endswith(f":log-group:/aws/vpc/{_prefix(config)}/flow-logs")
    days = config.get("logs", {}).get("retention_days", 365)
    assert logging["log_groups"]
    assert set(logging["log_groups"].values()) == {days}, logging["log_groups"]


def _prefix(config: dict[str, Any]) -> str:
    return f"{config['project']}-{config['env']}"


def _triggers(config: dict[str, Any], *kinds: str) -> list[dict[str, Any]]:
    """The `[[triggers]]` entries whose source is one of `kinds`."""
    return [trigger for trigger in config.get("triggers", []) if set(kinds) & set(trigger)]


# What docs/events.md states of the EventBridge sources: the names of a trigger's schedule or
# rule, and the settings an entry leaves out.
def _event_name(config: dict[str, Any], trigger: dict[str, Any]) -> str:
    kind = next(kind for kind in ("schedule", "bucket", "rule") if kind in trigger)
    source = f"-{trigger[kind]}" if kind == "bucket" else ""
    return f"{_prefix(config)}-{trigger.get('name') or trigger['function'] + '-' + kind + source}"


def _retry_policy(trigger: dict[str, Any]) -> dict[str, int]:
    return {
        "MaximumRetryAttempts": trigger.get("retry_attempts", 185),
        "MaximumEventAgeInSeconds": trigger.get("maximum_event_age_seconds", 86400),
    }


def _key_matcher(trigger: dict[str, Any]) -> list[dict[str, str]] | None:
    """docs/events.md: a prefix or a suffix alone, both as one wildcard."""
    prefix: str | None = trigger.get("prefix")
    suffix: str | None = trigger.get("suffix")
    if prefix and suffix:
        return [{"wildcard": f"{prefix}*{suffix}"}]
    if prefix:
        return [{"prefix": prefix}]
    if suffix:
        return [{"suffix": suffix}]
    return None


def test_each_schedule_invokes_its_live_alias_as_its_own_role(applied):
    config, outputs = applied["config"], applied["outputs"]
    schedules = applied["eventbridge"]["schedules"]
    triggers = _triggers(config, "schedule")
    assert set(schedules) == {_event_name(config, trigger) for trigger in triggers}
    account = EMULATOR_ACCOUNT
    region = config["region"]
    for trigger in triggers:
        name = _event_name(config, trigger)
        facts = schedules[name]
        schedule, target = facts["schedule"], facts["schedule"]["Target"]
        alias_arn = outputs["functions"][trigger["function"]]["live_alias_arn"]
        assert schedule["GroupName"] == _prefix(config)
        assert schedule["State"] == "ENABLED"
        assert schedule["ScheduleExpression"] == trigger["schedule"]
        assert schedule["ScheduleExpressionTimezone"] == trigger.get("timezone", "UTC")
        window = trigger.get("flexible_window_minutes", 0)
        assert schedule["FlexibleTimeWindow"] == (
            {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": window} if window else {"Mode": "OFF"}
        )
        assert target["Arn"] == alias_arn
        assert target["RetryPolicy"] == _retry_policy(trigger)
        # The input names the schedule, the time, the execution and the attempt.
        assert set(json.loads(target["Input"])) == {
            "schedule_arn",
            "scheduled_time",
            "execution_id",
            "attempt_number",
        }
        key_arn = schedule["KmsKeyArn"]
        assert key_arn.startswith(f"arn:aws:kms:{region}:{account}:key/")
        # Its own role: Scheduler may assume it for this account's schedule group only.
        role = facts["role"]
        assert role["RoleName"] == f"{name}-scheduler"
        assert target["RoleArn"] == role["Arn"]
        [trust] = role["AssumeRolePolicyDocument"]["Statement"]
        assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
        assert trust["Condition"] == {
            "StringEquals": {"aws:SourceAccount": account},
            "ArnLike": {
                "aws:SourceArn": f"arn:aws:scheduler:{region}:{account}:schedule-group/"
                f"{_prefix(config)}"
            },
        }
        # Its own dead-letter queue, encrypted with the stack key, kept 14 days.
        queue = facts["dead_letter_queue"]
        assert queue["QueueArn"] == target["DeadLetterConfig"]["Arn"]
        assert queue["QueueArn"].endswith(f":{name}-schedule-dlq")
        assert queue["KmsMasterKeyId"] == key_arn
        assert queue["MessageRetentionPeriod"] == str(14 * 24 * 3600)
        # The role may invoke the alias, write its queue and use the key: nothing else.
        granted = {
            sid: (
                sorted(_as_list(document["Statement"][0]["Action"])),
                sorted(_as_list(document["Statement"][0]["Resource"])),
            )
            for sid, document in facts["role_policies"].items()
        }
        assert granted == {
            "InvokeTarget": (["lambda:InvokeFunction"], [alias_arn]),
            "SendToDeadLetterQueue": (["sqs:SendMessage"], [queue["QueueArn"]]),
            "UseKey": (["kms:Decrypt", "kms:GenerateDataKey"], [key_arn]),
        }, granted


def test_each_bucket_and_rule_trigger_is_a_rule_invoking_the_live_alias(applied):
    config, outputs = applied["config"], applied["outputs"]
    rules = applied["eventbridge"]["rules"]
    triggers = _triggers(config, "bucket", "rule")
    assert set(rules) == {_event_name(config, trigger) for trigger in triggers}
    for trigger in triggers:
        name = _event_name(config, trigger)
        rule, targets = rules[name]["rule"], rules[name]["targets"]
        alias_arn = outputs["functions"][trigger["function"]]["live_alias_arn"]
        pattern = json.loads(rule["EventPattern"])
        if "bucket" in trigger:
            detail: dict[str, Any] = {"bucket": {"name": [outputs["buckets"][trigger["bucket"]]]}}
            if (matcher := _key_matcher(trigger)) is not None:
                detail["object"] = {"key": matcher}
            expected = {"source": ["aws.s3"], "detail-type": ["Object Created"], "detail": detail}
            assert pattern == expected
        else:
            assert pattern == trigger["rule"]
        assert rule["EventBusName"] == "default" and rule["State"] == "ENABLED"
        [target] = targets
        assert (target["Id"], target["Arn"]) == ("function", alias_arn)
        assert target["RetryPolicy"] == _retry_policy(trigger)
        if "on_failure" in trigger:
            # What EventBridge could not deliver goes to that queue, which lets it send for
            # this rule only, encrypted with the stack key, which lets EventBridge use it.
            queue = applied["events"]["queues"][trigger["on_failure"]]["queue"]
            assert target["DeadLetterConfig"] == {"Arn": queue["QueueArn"]}
            [sends] = json.loads(queue["Policy"])["Statement"]
            assert sends["Principal"] == {"Service": "events.amazonaws.com"}
            assert (sends["Effect"], _as_list(sends["Action"])) == ("Allow", ["sqs:SendMessage"])
            assert sends["Resource"] == queue["QueueArn"]
            assert rule["Arn"] in _as_list(sends["Condition"]["ArnEquals"]["aws:SourceArn"])
            [key_use] = [
                s
                for s in applied["key_policy"]["Statement"]
                if s.get("Principal") == {"Service": "events.amazonaws.com"}
            ]
            assert sorted(key_use["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]
        else:
            assert "DeadLetterConfig" not in target
        # The alias lets EventBridge invoke it for this rule of this account only.
        statements = applied["invoke_policies"][trigger["function"]]
        [statement] = [s for s in statements if s["Sid"] == f"AllowEventBridge-{name}"]
        assert statement["Principal"] == {"Service": "events.amazonaws.com"}
        assert statement["Resource"] == alias_arn
        assert statement["Condition"] == {
            "ArnLike": {"AWS:SourceArn": rule["Arn"]},
            "StringEquals": {"AWS:SourceAccount": EMULATOR_ACCOUNT},
        }


def test_every_declared_bucket_sends_its_events_to_eventbridge(applied):
    notifications = applied["notifications"]
    assert set(notifications) == set(applied["config"].get("buckets", {}))
    for key, notification in notifications.items():
        assert notification.get("EventBridgeConfiguration") == {}, key


def test_load_balancer_sends_each_public_route_to_its_function_alias(applied):
    balancer, config = applied["load_balancer"], applied["config"]
    public = public_routes(config)
    name = balancer["load_balancer"]["LoadBalancerName"]
    groups = {group["TargetGroupName"]: group for group in balancer["target_groups"]}
    # One `lambda` target group per function a public route reaches, holding its live alias.
    reached = {route["function"] for route in public}
    assert set(groups) == {f"{name}-{key}" for key in reached}
    for key in reached:
        group = groups[f"{name}-{key}"]
        assert group["TargetType"] == "lambda"
        arn = applied["functions"][key]["configuration"]["FunctionArn"]
        assert balancer["targets"][group["TargetGroupArn"]] == [f"{arn}:live"]
    # With a certificate (prod, through its domain) the routes are on 443; 80 redirects there.
    (listener,) = [item for item in balancer["listeners"] if item["Port"] in (80, 443)
                   and item["DefaultActions"][0]["Type"] != "redirect"]  # fmt: skip
    # A path no route matches: 404 from the load balancer itself.
    (default,) = listener["DefaultActions"]
    assert default["Type"] == "fixed-response"
    assert default["FixedResponseConfig"]["StatusCode"] == "404"
    rules = [r for r in balancer["rules"][listener["ListenerArn"]] if not r["IsDefault"]]
    by_group = {group["TargetGroupArn"]: name for name, group in groups.items()}
    served, priorities = {}, {}
    for rule in rules:
        conditions = {c["Field"]: c for c in rule["Conditions"]}
        (pattern,) = conditions["path-pattern"]["PathPatternConfig"]["Values"]
        (method,) = conditions["http-request-method"]["HttpRequestMethodConfig"]["Values"]
        (action,) = rule["Actions"]
        served[f"{method} {pattern}"] = by_group[action["TargetGroupArn"]]
        priorities[pattern] = int(rule["Priority"])
    # Exactly the public routes; an AWS_IAM route is never reachable without a signature.
    assert served == {
        f"{route['method']} {wildcards(route['path'])}": f"{name}-{route['function']}"
        for route in public
    }
    # A longer, parameterised path is tested before a shorter literal one it would match.
    for longer in priorities:
        for shorter in priorities:
            if longer.startswith(f"{shorter}/"):
                assert priorities[longer] < priorities[shorter], (longer, shorter)
    logged = config.get("load_balancer", {}).get("access_logs", True)  # on by default
    assert balancer["attributes"]["access_logs.s3.enabled"] == str(logged).lower()


def test_api_stage_deploys_every_route_to_its_function_alias(rest_applied):
    applied = rest_applied
    api, config = applied["api"], applied["config"]
    assert api["stage"]["deploymentId"] in api["deployments"]
    routes = {f"{route['method']} {route['path']}": route for route in config["routes"]}
    # The preflights (OPTIONS) are test_cors_preflights_and_api_gateways_own_errors'.
    proxied = {name: m for name, m in api["methods"].items() if not name.startswith("OPTIONS ")}
    assert set(proxied) == set(routes) == set(applied["outputs"]["route_urls"])
    # What the live deployment serves (AWS's own view of a deployment), not only the API.
    served = {
        path: {method: summary["authorizationType"] for method, summary in methods.items()}
        for path, methods in api["served"].items()
        if methods
    }
    assert served == served_methods(config)
    for name, method in proxied.items():
        route = routes[name]
        function_arn = applied["functions"][route["function"]]["configuration"]["FunctionArn"]
        assert method["authorizationType"] == authorization_type(route, config)
        integration = method["methodIntegration"]
        assert integration["type"] == "AWS_PROXY"
        assert integration["httpMethod"] == "POST"
        assert integration["uri"].endswith(f"{function_arn}:live/invocations"), name
        parameters = re.findall(r"\{(\w+)\+?\}", route["path"])
        assert method.get("requestParameters", {}) == {
            f"method.request.path.{parameter}": True for parameter in parameters
        }


def test_routes_with_an_authorizer_use_it_with_their_scopes(rest_applied):
    applied = rest_applied
    api, config = applied["api"], applied["config"]
    authorizers = config.get("authorizers", {})
    assert set(api["authorizers"]) == set(authorizers)
    for key, authorizer in authorizers.items():
        found = api["authorizers"][key]
        if authorizer["type"] == "cognito":
            pool = applied["user_pools"][key]["pool"]
            assert (found["type"], found["providerARNs"]) == ("COGNITO_USER_POOLS", [pool["Arn"]])
        if authorizer["type"] == "lambda":
            # A REQUEST authorizer on the `live` alias, keyed and cached as the file says.
            function_arn = applied["functions"][authorizer["function"]]["configuration"]
            assert found["type"] == "REQUEST"
            assert found["authorizerUri"].endswith(
                f"{function_arn['FunctionArn']}:live/invocations"
            )
            assert found["identitySource"] == ", ".join(
                _identity_source(source, REST_REQUEST_PARTS)
                for source in authorizer.get("identity_sources", ["header.Authorization"])
            )
            assert found["authorizerResultTtlInSeconds"] == authorizer.get(
                "result_ttl_seconds", AUTHORIZER_RESULT_TTL_DEFAULT_S
            )
            api_id = urlparse(applied["outputs"]["api_invoke_url"]).netloc.split(".")[0]
            _only_api_gateway_invokes(
                applied["invoke_policies"][authorizer["function"]],
                f"{_execute_api_arn(config, api_id)}/authorizers/*",
            )
    for route in config["routes"]:
        if authorization(route) not in authorizers:
            continue
        method = api["methods"][f"{route['method']} {route['path']}"]
        assert method["authorizerId"] == api["authorizers"][route["authorization"]]["id"]
        assert method.get("authorizationScopes", []) == route.get("scopes", [])
    # dev ships a signed-in user's route: its user pool signs users in by email, with a
    # public SRP client, and nobody signs up on their own.
    if applied["outputs"]["user_pools"]:
        pool = applied["user_pools"]["users"]
        assert pool["pool"]["Name"] == f"{_prefix(config)}-users"
        assert pool["pool"]["UsernameAttributes"] == ["email"]
        assert pool["pool"]["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
        assert "ClientSecret" not in pool["client"]
        assert set(pool["client"]["ExplicitAuthFlows"]) == {
            "ALLOW_USER_SRP_AUTH",
            "ALLOW_REFRESH_TOKEN_AUTH",
        }
        issuer = applied["outputs"]["user_pools"]["users"]["issuer"]
        assert issuer.endswith(f"/{pool['pool']['Id']}")


def test_cors_preflights_and_api_gateways_own_errors(rest_applied):
    applied = rest_applied
    api, config = applied["api"], applied["config"]
    cors = config.get("api", {}).get("cors")
    paths = {route["path"] for route in config["routes"]}
    if cors is None:
        assert api["preflights"] == {} and api["gateway_responses"] == {}
        return
    assert set(api["preflights"]) == {f"OPTIONS {path}" for path in paths}
    for name, response in api["preflights"].items():
        methods = sorted({r["method"] for r in config["routes"] if f"OPTIONS {r['path']}" == name})
        parameters = response["responseParameters"]
        assert parameters["method.response.header.Access-Control-Allow-Methods"] == (
            f"'{','.join(methods)}'"
        )
        assert parameters["method.response.header.Access-Control-Allow-Headers"] == (
            f"'{','.join(cors.get('allow_headers', []))}'"
        )
        # Several origins: the request's, when listed, by the mapping template.
        template = response["responseTemplates"]["application/json"]
        assert all(f'"{origin}"' in template for origin in cors["allow_origins"])
        assert api["methods"][name]["methodIntegration"]["type"] == "MOCK"
        assert api["methods"][name]["authorizationType"] == "NONE"
    kinds = {"DEFAULT_4XX", "DEFAULT_5XX"}
    if config.get("authorizers"):
        kinds |= {"UNAUTHORIZED", "ACCESS_DENIED", "AUTHORIZER_FAILURE"}
        kinds |= {"AUTHORIZER_CONFIGURATION_ERROR"}
    assert set(api["gateway_responses"]) == kinds
    for response in api["gateway_responses"].values():
        origin = response["responseParameters"][
            "gatewayresponse.header.Access-Control-Allow-Origin"
        ]
        assert origin == "method.request.header.Origin"


def test_function_urls_serve_the_live_alias(applied):
    config = applied["config"]
    urls = {key: f["url"] for key, f in config["functions"].items() if "url" in f}
    assert set(applied["function_urls"]) == set(urls) == set(applied["outputs"]["function_urls"])
    for key, url in urls.items():
        found = applied["function_urls"][key]["config"]
        function_arn = applied["functions"][key]["configuration"]["FunctionArn"]
        assert found["FunctionArn"] == f"{function_arn}:live"
        assert found["AuthType"] == url.get("auth", "AWS_IAM")
        assert found.get("InvokeMode", "BUFFERED") == url.get("invoke_mode", "BUFFERED")
        assert found["FunctionUrl"] == applied["outputs"]["function_urls"][key]
        if "cors" in url:
            # The provider keeps the origins as a set: AWS answers them in its own order.
            assert sorted(found["Cors"]["AllowOrigins"]) == sorted(url["cors"]["allow_origins"])


def test_firewall_guards_load_balancer_and_api_stage(rest_applied):
    applied = rest_applied
    prefix = applied["outputs"]["dashboard_name"]  # `<project>-<env>`, as the web ACL's
    assert applied["load_balancer"]["web_acl"]["Name"] == prefix
    assert applied["api"]["web_acl"]["Name"] == prefix
    rules = {rule["Name"]: rule for rule in applied["load_balancer"]["web_acl"]["Rules"]}
    # First, per client IP: the file's limit, or the default 2000 (the shipped files' too).
    rate = rules["RateLimitPerIp"]
    assert (rate["Priority"], rate["Action"]) == (0, {"Block": {}})
    statement = rate["Statement"]["RateBasedStatement"]
    limit = applied["config"].get("waf", {}).get("rate_limit", 2000)
    assert (statement["Limit"], statement["AggregateKeyType"]) == (limit, "IP")
    # Where the file lets routes take markup (dev's escape example), the XSS rule that blocks
    # markup on every other path; prod has no such route.
    markup_paths = applied["config"].get("waf", {}).get("markup_paths", [])
    assert ("CrossSiteScriptingOutsideMarkupPaths" in rules) is bool(markup_paths)


def test_every_declared_table_has_its_key_schema_recovery_encryption_and_expiry(applied):
    declared = applied["config"].get("tables", {})
    assert set(applied["tables"]) == set(declared)
    for key, table in applied["tables"].items():
        config = declared[key]
        keys = [(config["partition_key"], "HASH")]
        keys += [(config["sort_key"], "RANGE")] if "sort_key" in config else []
        description = table["table"]
        assert description["KeySchema"] == [
            {"AttributeName": attribute["name"], "KeyType": kind} for attribute, kind in keys
        ], key
        assert sorted(
            (a["AttributeName"], a["AttributeType"]) for a in description["AttributeDefinitions"]
        ) == sorted((attribute["name"], attribute["type"]) for attribute, _ in keys), key
        assert table["pitr"]["PointInTimeRecoveryStatus"] == "ENABLED"
        assert description["SSEDescription"]["SSEType"] == "KMS"
        assert description["SSEDescription"]["Status"] == "ENABLED"
        expiring = "ttl_attribute" in config
        assert table["ttl"]["TimeToLiveStatus"] == ("ENABLED" if expiring else "DISABLED"), key
        # As the file sets it; a table a trigger reads has NEW_AND_OLD_IMAGES without it.
        read = any(trigger["table"] == key for trigger in _triggers(applied["config"], "table"))
        view = config.get("stream", "NEW_AND_OLD_IMAGES" if read else None)
        stream = description.get("StreamSpecification", {})
        assert stream.get("StreamViewType") == view, key
        assert stream.get("StreamEnabled", False) is (view is not None), key


def test_the_user_defined_table_is_applied_in_prod(cycles):
    """The overlay's orders table: a composite key of a string and a number, and a stream."""
    table = cycles["prod"].facts["tables"]["orders"]["table"]
    assert table["KeySchema"] == [
        {"AttributeName": "customer_id", "KeyType": "HASH"},
        {"AttributeName": "placed_at", "KeyType": "RANGE"},
    ]
    assert table["StreamSpecification"] == {
        "StreamEnabled": True,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }


@pytest.mark.parametrize("stack", STACKS)
def test_bucket_is_encrypted_private_and_tls_only(cycles, stack):
    bucket = cycles[stack].facts["bucket"]
    assert bucket["versioning"] == "Enabled"
    assert set(bucket["public_access_block"].values()) == {True}
    (rule,) = bucket["encryption"]
    algorithm = rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"]
    assert algorithm == ("AES256" if stack == "bootstrap" else "aws:kms")
    deny = next(s for s in bucket["policy"]["Statement"] if s["Effect"] == "Deny")
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_every_package_and_every_declared_object_are_uploaded(applied):
    objects = applied["bucket"]["objects"]
    functions = applied["outputs"]["functions"].values()
    assert objects == sorted(f"lambda/{function['function_name']}.zip" for function in functions)
    declared = applied["config"].get("buckets", {})
    assert set(applied["buckets"]) == set(declared)
    for key, bucket in applied["buckets"].items():
        assert bucket["objects"] == sorted(declared[key].get("objects", {})), key
        assert bucket["versioning"] == "Enabled"
        assert set(bucket["public_access_block"].values()) == {True}
        [rule] = bucket["encryption"]
        assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"


def test_alarms_page_the_topic_and_stop_releases(applied):
    operations, outputs = applied["operations"], applied["outputs"]
    functions, env = outputs["functions"], outputs["dashboard_name"]
    topic = outputs["alarm_topic_arn"]
    alarms = operations["alarms"]
    balancer = applied["load_balancer"]["load_balancer"]["LoadBalancerName"]
    config = applied["config"]
    behind_load_balancer = {route["function"] for route in public_routes(config)}
    routed = {route["function"] for route in config["routes"]}
    schedules, rules = _triggers(config, "schedule"), _triggers(config, "bucket", "rule")
    # Per function five, one for its API routes if it has any, one for its target group if a
    # public route reaches it; the API's latency and, when the load balancer has targets, its
    # own 5XX; two per queue (its oldest message, its dead-letter queue), one per function
    # reading a table's stream (its iterator age); the schedule group's two and one per
    # schedule (its dead-letter queue); one per rule (its failed deliveries).
    stream_readers = {trigger["function"] for trigger in _triggers(config, "table")}
    assert len(alarms) == (
        5 * len(functions)
        + 2 * len(config.get("queues", {}))
        + len(stream_readers)
        + len(routed)
        + len(behind_load_balancer)
        + 1
        + bool(behind_load_balancer)
        + (2 if schedules else 0)
        + len(schedules)
        + len(rules)
    )
    assert all(a["AlarmActions"] == [topic] and a["OKActions"] == [topic] for a in alarms)
    # Named after what they watch, the name prefix once: hello-dev-hello-errors, ...
    assert not [a["AlarmName"] for a in alarms if a["AlarmName"].startswith(f"{env}-{env}-")]
    expected = applied["config"].get("releases", {}).get("strategy", "Canary10Percent5Minutes")
    for key, function in functions.items():
        name = function["function_name"]
        assert operations["aliases"][key]["AliasArn"] == function["live_alias_arn"]
        group = operations["deployment_groups"][key]
        # Each function's release stops on what a bad release of it sets off, and only that.
        own = {f"{name}-{kind}" for kind in ("errors", "duration-p99", "server-errors")}
        if key in routed:
            own.add(f"{name}-api-5xx")
        if key in behind_load_balancer:
            own.add(f"{balancer}-{key}-5xx")  # its target group's, `<load balancer>-<key>`
        assert own <= {a["AlarmName"] for a in alarms}
        assert {a["name"] for a in group["alarmConfiguration"]["alarms"]} == own
        assert group["deploymentStyle"]["deploymentType"] == "BLUE_GREEN"
        assert group["deploymentConfigName"] == f"CodeDeployDefault.Lambda{expected}"


@pytest.fixture
def prod(cycles) -> dict[str, Any]:
    """prod as the cycle applies it: custom domain, secrets and provisioned concurrency on."""
    return _applied_facts(cycles, "prod")


def test_dev_as_shipped_has_no_domain_secrets_or_provisioned_concurrency(cycles):
    facts = cycles["dev"].facts
    assert facts["domain"] is None and facts["parameters"] == {}
    assert set(facts["provisioned_concurrency"].values()) == {None}
    assert [listener["Port"] for listener in facts["load_balancer"]["listeners"]] == [80]


def test_custom_domain_maps_the_stage_and_resolves_to_it(prod):
    domain, outputs = prod["domain"], prod["outputs"]
    name = "api.prod.example.com"
    assert outputs["api_url"] == f"https://{name}"
    assert domain["domain"]["endpointConfiguration"]["types"] == ["REGIONAL"]
    assert domain["domain"]["securityPolicy"] == "TLS_1_2"
    stage = prod["api"]["stage"]
    (mapping,) = domain["mappings"]
    assert mapping["basePath"] == "(none)"  # the stage at the domain's root
    assert mapping["stage"] == stage["stageName"]
    api_id = urlparse(outputs["api_invoke_url"]).hostname.split(".", 1)[0]
    assert mapping["restApiId"] == api_id
    (alias_record,) = [
        r for r in domain["records"] if r["Type"] == "A" and r["Name"].rstrip(".") == name
    ]
    target = alias_record["AliasTarget"]
    assert target["DNSName"].rstrip(".") == domain["domain"]["regionalDomainName"]
    assert target["HostedZoneId"] == domain["domain"]["regionalHostedZoneId"]


def test_certificate_is_dns_validated_and_serves_domain_and_load_balancer(prod):
    domain = prod["domain"]
    certificate = domain["certificate"]
    # Issued only because the stack wrote the record ACM asked for (moto gap 9).
    assert certificate["Status"] == "ISSUED"
    assert certificate["DomainName"] == "api.prod.example.com"
    # The load balancer's own name is on it too: clients verify the host they asked for.
    assert "alb.api.prod.example.com" in certificate["SubjectAlternativeNames"]
    options = certificate["DomainValidationOptions"]
    assert {o["DomainName"] for o in options} == {
        "api.prod.example.com",
        "alb.api.prod.example.com",
    }
    for option in options:
        assert option["ValidationMethod"] == "DNS"
        asked = option["ResourceRecord"]
        [written] = [r for r in domain["records"] if r["Name"] == asked["Name"]]
        assert (written["Type"], written["ResourceRecords"]) == (
            "CNAME",
            [{"Value": asked["Value"]}],
        )
    listeners = {item["Port"]: item for item in prod["load_balancer"]["listeners"]}
    assert listeners[443]["Protocol"] == "HTTPS"
    assert [c["CertificateArn"] for c in listeners[443]["Certificates"]] == [
        certificate["CertificateArn"]
    ]
    (redirect,) = listeners[80]["DefaultActions"]
    assert redirect["Type"] == "redirect"
    assert redirect["RedirectConfig"]["Protocol"] == "HTTPS"
    # That name resolves to the load balancer.
    balancer = prod["load_balancer"]["load_balancer"]
    (record,) = [
        r
        for r in domain["records"]
        if r["Type"] == "A" and r["Name"].rstrip(".") == "alb.api.prod.example.com"
    ]
    assert record["AliasTarget"]["DNSName"].rstrip(".") == balancer["DNSName"]
    assert record["AliasTarget"]["HostedZoneId"] == balancer["CanonicalHostedZoneId"]
    assert prod["outputs"]["load_balancer_url"] == "https://alb.api.prod.example.com"


def test_function_reads_exactly_its_secret_parameters(prod):
    parameters = prod["parameters"]
    assert sorted(parameters) == ["/prod/hello/api_token", "/prod/hello/db_password"]
    assert {p["Type"] for p in parameters.values()} == {"SecureString"}
    variables = prod["functions"]["hello"]["configuration"]["Environment"]["Variables"]
    assert variables["SECRET_DB_PASSWORD"] == "/prod/hello/db_password"
    assert variables["SECRET_API_TOKEN"] == "/prod/hello/api_token"
    statements = [
        statement
        for document in prod["functions"]["hello"]["inline_policies"].values()
        for statement in document["Statement"]
    ]
    ssm = [s for s in statements if any(a.startswith("ssm:") for a in _as_list(s["Action"]))]
    (grant,) = ssm
    assert sorted(_as_list(grant["Action"])) == ["ssm:GetParameter", "ssm:GetParameters"]
    assert sorted(_as_list(grant["Resource"])) == sorted(p["ARN"] for p in parameters.values())
    # The AWS-managed SSM key: decrypt only when SSM asks on the function's behalf.
    [decrypt] = [s for s in statements if s.get("Sid") == "DecryptSecretParametersViaSsm"]
    assert decrypt["Condition"] == {
        "StringEquals": {"kms:ViaService": "ssm.us-east-1.amazonaws.com"}
    }


def test_provisioned_concurrency_is_on_the_live_alias(prod):
    config = prod["provisioned_concurrency"]["hello"]
    assert config["RequestedProvisionedConcurrentExecutions"] == 2
    assert config["Status"] == "READY"


def test_each_function_has_the_provisioned_concurrency_its_file_asks_for(applied):
    for key, function in applied["config"]["functions"].items():
        found = applied["provisioned_concurrency"][key]
        if "provisioned_concurrency" not in function:
            assert found is None, key
            continue
        assert (
            found["RequestedProvisionedConcurrentExecutions"]
            == (function["provisioned_concurrency"])
        ), key
        assert found["Status"] == "READY", key


def test_release_reads_the_applied_outputs_and_finds_live_on_the_only_version(applied):
    # One apply published version 1 of each function and `live` serves it: a release of any
    # of them has nothing to shift.
    releases, functions = applied["releases"], applied["outputs"]["functions"]
    assert set(releases) == set(functions)
    for key, result in releases.items():
        assert result.returncode == 0, (key, result.stderr)
        function = functions[key]["function_name"]
        assert result.stdout == f"{function}:live already serves version 1; nothing to do\n"


def test_the_http_api_serves_every_route_on_its_function_alias(http_applied):
    api, config, outputs = http_applied["api"], http_applied["config"], http_applied["outputs"]
    assert api["api"]["ProtocolType"] == "HTTP"
    assert api["api"]["Name"] == _prefix(config)
    assert outputs["api_invoke_url"] == api["api"]["ApiEndpoint"]
    routes = {f"{route['method']} {route['path']}": route for route in config["routes"]}
    assert set(api["routes"]) == set(routes)
    # The $default stage serves at the URL's root: a route's URL is the endpoint + its path.
    assert outputs["route_urls"] == {
        name: f"{api['api']['ApiEndpoint']}{route['path']}" for name, route in routes.items()
    }
    for name, route in routes.items():
        served = api["routes"][name]
        # A route naming an authorizer: JWT (cognito and jwt are JWT authorizers here) or
        # CUSTOM (a lambda authorizer).
        authorizer = config.get("authorizers", {}).get(authorization(route))
        expected = (
            authorization(route) if authorizer is None else HTTP_ROUTE_TYPES[authorizer["type"]]
        )
        assert served["AuthorizationType"] == expected, name
        integration = api["integrations"][served["Target"].removeprefix("integrations/")]
        function_arn = http_applied["functions"][route["function"]]["configuration"]["FunctionArn"]
        assert integration["IntegrationType"] == "AWS_PROXY"
        assert integration["PayloadFormatVersion"] == "2.0"
        assert integration["IntegrationUri"].endswith(f"{function_arn}:live/invocations"), name


def test_the_http_apis_default_stage_deploys_itself_throttled_and_logs_every_request(
    http_applied,
):
    api, config = http_applied["api"], http_applied["config"]
    (stage,) = api["stages"].values()
    assert stage["StageName"] == "$default"
    assert stage["AutoDeploy"] is True
    assert stage["DefaultRouteSettings"] == {
        "DetailedMetricsEnabled": True,
        "ThrottlingRateLimit": config["api"]["throttling_rate_limit"],
        "ThrottlingBurstLimit": config["api"]["throttling_burst_limit"],
    }
    destination = stage["AccessLogSettings"]["DestinationArn"]
    assert destination.endswith(f":log-group:/aws/apigateway/{_prefix(config)}/access")
    line = json.loads(stage["AccessLogSettings"]["Format"])
    assert {"requestId", "status", "routeKey"} <= set(line)


def test_waf_guards_the_load_balancer_of_an_http_api_stack(http_applied):
    """A web ACL cannot attach to an HTTP API: the load balancer's routes keep WAF."""
    prefix = _prefix(http_applied["config"])
    assert http_applied["load_balancer"]["web_acl"]["Name"] == prefix


def test_the_http_apis_authorizers_guard_their_routes(http_applied):
    api, config, outputs = http_applied["api"], http_applied["config"], http_applied["outputs"]
    authorizers = {item["Name"]: item for item in api["authorizers"].values()}
    declared = config["authorizers"]
    assert set(authorizers) == set(declared)
    for key, authorizer in declared.items():
        applied = authorizers[key]
        if authorizer["type"] == "lambda":
            continue  # test_the_http_apis_lambda_authorizer_...
        assert applied["AuthorizerType"] == "JWT", key
        assert applied["IdentitySource"] == ["$request.header.Authorization"], key
        if authorizer["type"] == "cognito":
            # The stack's user pool issues the tokens; its app client is the audience.
            pool = outputs["user_pools"][key]
            region = config["region"]
            expected = {
                "Issuer": f"https://cognito-idp.{region}.amazonaws.com/{pool['user_pool_id']}",
                "Audience": [pool["client_id"]],
            }
        else:
            expected = {"Issuer": authorizer["issuer"], "Audience": authorizer["audiences"]}
        assert applied["JwtConfiguration"] == expected, key
    for route in config["routes"]:
        served = api["routes"][f"{route['method']} {route['path']}"]
        key = route.get("authorization")
        if key in declared:
            assert served["AuthorizerId"] == authorizers[key]["AuthorizerId"]
            assert served.get("AuthorizationScopes", []) == route.get("scopes", [])


def test_the_http_apis_lambda_authorizer_invokes_the_live_alias_as_the_file_says(http_applied):
    """GetAuthorizer of each lambda authorizer: a REQUEST authorizer on its function's `live`
    alias, payload 2.0 with simple responses, the file's identity sources and cache time; the
    alias lets this API's authorizer invoke it and nothing else."""
    api, config = http_applied["api"], http_applied["config"]
    authorizers = {item["Name"]: item for item in api["authorizers"].values()}
    lambdas = {k: a for k, a in config["authorizers"].items() if a["type"] == "lambda"}
    assert lambdas, "tests/config/http_api.toml applies a lambda authorizer"
    api_id = api["api"]["ApiId"]
    for key, authorizer in lambdas.items():
        applied = authorizers[key]
        function_arn = http_applied["functions"][authorizer["function"]]["configuration"]
        assert applied["AuthorizerType"] == "REQUEST"
        assert applied["AuthorizerUri"].endswith(f"{function_arn['FunctionArn']}:live/invocations")
        assert applied["AuthorizerPayloadFormatVersion"] == "2.0"
        assert applied["EnableSimpleResponses"] is True
        assert applied["IdentitySource"] == [
            _identity_source(source, HTTP_REQUEST_PARTS)
            for source in authorizer.get("identity_sources", ["header.Authorization"])
        ]
        assert applied["AuthorizerResultTtlInSeconds"] == authorizer.get(
            "result_ttl_seconds", AUTHORIZER_RESULT_TTL_DEFAULT_S
        )
        _only_api_gateway_invokes(
            http_applied["invoke_policies"][authorizer["function"]],
            f"{_execute_api_arn(config, api_id)}/authorizers/{applied['AuthorizerId']}",
        )
        for route in config["routes"]:
            if route.get("authorization") == key:
                served = api["routes"][f"{route['method']} {route['path']}"]
                assert (served["AuthorizationType"], served["AuthorizerId"]) == (
                    "CUSTOM",
                    applied["AuthorizerId"],
                )


def test_a_cognito_resource_server_offers_the_scopes_its_routes_require(http_applied):
    """DescribeResourceServer: the file's identifier and scopes; the app client allowed them
    (with openid and email) through the authorization code grant back to the file's callback
    URLs; the hosted sign-in's domain `<project>-<env>-<key>`; every route's scopes exist."""
    config, outputs = http_applied["config"], http_applied["outputs"]
    declared = {
        key: authorizer
        for key, authorizer in config["authorizers"].items()
        if "resource_server" in authorizer
    }
    assert declared, "tests/config/http_api.toml applies a resource server"
    for key, authorizer in declared.items():
        server, pool = authorizer["resource_server"], http_applied["user_pools"][key]
        pool_id = pool["pool"]["Id"]
        applied = pool["resource_servers"]
        assert set(applied) == {server["identifier"]}
        found = applied[server["identifier"]]
        assert found["UserPoolId"] == pool_id
        assert sorted(found["Scopes"], key=lambda scope: scope["ScopeName"]) == [
            {"ScopeName": name, "ScopeDescription": description}
            for name, description in sorted(server["scopes"].items())
        ]
        scopes = [f"{server['identifier']}/{name}" for name in server["scopes"]]
        client = pool["client"]
        assert sorted(client["AllowedOAuthScopes"]) == sorted(["openid", "email", *scopes])
        assert client["AllowedOAuthFlows"] == ["code"]
        assert client["AllowedOAuthFlowsUserPoolClient"] is True
        assert client["SupportedIdentityProviders"] == ["COGNITO"]
        assert sorted(client["CallbackURLs"]) == sorted(authorizer["callback_urls"])
        prefix = authorizer.get("domain_prefix", f"{_prefix(config)}-{key}")
        assert (pool["domain"]["Domain"], pool["domain"]["UserPoolId"]) == (prefix, pool_id)
        assert outputs["user_pools"][key]["sign_in_url"] == (
            f"https://{prefix}.auth.{config['region']}.amazoncognito.com"
        )
        for route in config["routes"]:
            if route.get("authorization") == key:
                assert set(route.get("scopes", [])) <= set(scopes), route


# API Gateway's spelling of a request part in an authorizer's identity source, per API kind
# (AWS: REST `identitySource`, HTTP API `IdentitySource`); the file writes `header.<name>`.
REST_REQUEST_PARTS = {"header": "method.request.header", "query": "method.request.querystring"}
HTTP_REQUEST_PARTS = {"header": "$request.header", "query": "$request.querystring"}
# An HTTP API route's AuthorizationType per authorizer type.
HTTP_ROUTE_TYPES = {"cognito": "JWT", "jwt": "JWT", "lambda": "CUSTOM"}
# API Gateway's default cache time of an authorizer's decision (both API kinds).
AUTHORIZER_RESULT_TTL_DEFAULT_S = 300


def _identity_source(source: str, parts: dict[str, str]) -> str:
    part, name = source.split(".", 1)
    return f"{parts[part]}.{name}"


def _execute_api_arn(config: dict[str, Any], api_id: str) -> str:
    return f"arn:aws:execute-api:{config['region']}:{EMULATOR_ACCOUNT}:{api_id}"


def _only_api_gateway_invokes(statements: list[dict[str, Any]], source_arn: str) -> None:
    """An authorizer's function is reached by API Gateway for `source_arn` only: no route
    invokes it, so that is its alias's one statement."""
    [statement] = statements
    assert statement["Principal"] == {"Service": "apigateway.amazonaws.com"}
    assert statement["Action"] == "lambda:InvokeFunction"
    assert statement["Condition"] == {"ArnLike": {"AWS:SourceArn": source_arn}}


def test_the_http_api_answers_browsers_with_its_cors_configuration(http_applied):
    api, config = http_applied["api"], http_applied["config"]
    cors = config["api"]["cors"]
    methods = sorted({route["method"] for route in config["routes"]})
    applied = api["api"]["CorsConfiguration"]
    # The provider keeps the lists as sets: their order is not the file's.
    assert {key: sorted(value) for key, value in applied.items() if isinstance(value, list)} == {
        "AllowOrigins": sorted(cors["allow_origins"]),
        # No methods in the file: those its routes serve.
        "AllowMethods": methods,
        "AllowHeaders": sorted(cors["allow_headers"]),
        "ExposeHeaders": [],
    }
    assert (applied["AllowCredentials"], applied["MaxAge"]) == (False, cors["max_age_seconds"])


def test_each_queue_is_encrypted_with_its_dead_letter_queue_and_redrive(applied):
    """Per `[queues.<key>]`: the stack key on both queues, the redrive policy with the file's
    max_receive_count (default 5), the visibility timeout 6 x its consumer's timeout_s, the
    dead-letter queue keeping messages 14 days."""
    config, events = applied["config"], applied["events"]
    assert set(events["queues"]) == set(config.get("queues", {}))
    key_arn = applied["stack_key"]
    for key, settings in config.get("queues", {}).items():
        queue, dead = events["queues"][key]["queue"], events["queues"][key]["dead_letter_queue"]
        assert queue["KmsMasterKeyId"] == dead["KmsMasterKeyId"] == key_arn, key
        assert json.loads(queue["RedrivePolicy"]) == {
            "deadLetterTargetArn": dead["QueueArn"],
            "maxReceiveCount": settings.get("max_receive_count", 5),
        }
        assert dead["QueueArn"].endswith(f":{_prefix(config)}-{key}-dead-letters")
        assert dead["MessageRetentionPeriod"] == "1209600"
        assert queue["MessageRetentionPeriod"] == str(settings.get("retention_seconds", 345600))
        # A queue nobody consumes (one receiving failures) keeps SQS's 30 s.
        consumers = [t["function"] for t in config["triggers"] if t.get("queue") == key]
        timeouts = [config["functions"][consumer].get("timeout_s", 10) for consumer in consumers]
        assert queue["VisibilityTimeout"] == str(6 * timeouts[0] if timeouts else 30)


def test_each_queue_trigger_is_a_mapping_enabled_on_the_live_alias(applied):
    """Per queue trigger: a mapping from the queue to the function's `live` alias, enabled,
    with the file's batch size (default 10), batching window (0), maximum concurrency and
    partial batch failures (on by default)."""
    config, events, outputs = applied["config"], applied["events"], applied["outputs"]
    triggers = _triggers(config, "queue")
    mappings = [m for m in events["mappings"] if m["EventSourceArn"].startswith("arn:aws:sqs:")]
    assert len(mappings) == len(triggers)
    for trigger in triggers:
        queue_arn = events["queues"][trigger["queue"]]["queue"]["QueueArn"]
        [mapping] = [m for m in mappings if m["EventSourceArn"] == queue_arn]
        alias = outputs["functions"][trigger["function"]]["live_alias_arn"]
        assert mapping["FunctionArn"] == alias and alias.endswith(":live")
        assert mapping["State"] == "Enabled"
        assert mapping["BatchSize"] == trigger.get("batch_size", 10)
        assert mapping.get("MaximumBatchingWindowInSeconds", 0) == trigger.get(
            "batching_window_seconds", 0
        )
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        if "maximum_concurrency" in trigger:
            assert mapping["ScalingConfig"] == {
                "MaximumConcurrency": trigger["maximum_concurrency"]
            }


def test_each_stream_trigger_is_a_mapping_enabled_on_the_live_alias(applied):
    """Per table trigger: a mapping from the table's stream to the function's `live` alias,
    enabled, with the file's starting position (default LATEST), batch size (100), batching
    window (0), bisect on error (off), retry attempts and record age (unset: Lambda's -1, until
    the record expires), partial batch failures (on) and its on-failure queue."""
    config, events, outputs = applied["config"], applied["events"], applied["outputs"]
    triggers = _triggers(config, "table")
    mappings = [m for m in events["mappings"] if ":dynamodb:" in m["EventSourceArn"]]
    assert len(mappings) == len(triggers)
    for trigger in triggers:
        stream_arn = applied["tables"][trigger["table"]]["table"]["LatestStreamArn"]
        [mapping] = [m for m in mappings if m["EventSourceArn"] == stream_arn]
        alias = outputs["functions"][trigger["function"]]["live_alias_arn"]
        assert mapping["FunctionArn"] == alias and alias.endswith(":live")
        assert mapping["State"] == "Enabled"
        assert mapping["StartingPosition"] == trigger.get("starting_position", "LATEST")
        assert mapping["BatchSize"] == trigger.get("batch_size", 100)
        assert mapping.get("MaximumBatchingWindowInSeconds", 0) == trigger.get(
            "batching_window_seconds", 0
        )
        assert mapping["BisectBatchOnFunctionError"] is trigger.get("bisect_on_error", False)
        assert mapping["MaximumRetryAttempts"] == trigger.get("retry_attempts", -1)
        assert mapping["MaximumRecordAgeInSeconds"] == trigger.get("maximum_record_age_seconds", -1)
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        on_failure = mapping.get("DestinationConfig", {}).get("OnFailure", {})
        if "on_failure" in trigger:
            queue_arn = events["queues"][trigger["on_failure"]]["queue"]["QueueArn"]
            assert on_failure == {"Destination": queue_arn}
        else:
            assert on_failure.get("Destination") is None


def test_each_topic_is_encrypted_and_its_triggers_subscribe_their_live_alias(applied):
    """Per `[topics.<key>]`: the stack key; per topic trigger a `lambda` subscription of the
    function's `live` alias with the file's filter policy, and the alias's permission for SNS
    from that topic only; a publisher finds the topic in TOPIC_<KEY>_ARN."""
    config, events, outputs = applied["config"], applied["events"], applied["outputs"]
    key_arn = applied["stack_key"]
    assert set(events["topics"]) == set(config.get("topics", {}))
    for key, topic in events["topics"].items():
        topic_arn = outputs["topics"][key]
        assert topic["attributes"]["TopicArn"] == topic_arn
        assert topic["attributes"]["KmsMasterKeyId"] == key_arn
        triggers = [t for t in _triggers(config, "topic") if t["topic"] == key]
        aliases = [outputs["functions"][t["function"]]["live_alias_arn"] for t in triggers]
        assert sorted(s["Endpoint"] for s in topic["subscriptions"]) == sorted(aliases)
        for trigger, alias in zip(triggers, aliases, strict=True):
            [subscription] = [s for s in topic["subscriptions"] if s["Endpoint"] == alias]
            assert (subscription["Protocol"], subscription["TopicArn"]) == ("lambda", topic_arn)
            if "filter_policy" in trigger:
                assert json.loads(subscription["FilterPolicy"]) == trigger["filter_policy"]
            [allowed] = [
                s
                for s in applied["invoke_policies"][trigger["function"]]
                if s["Principal"] == {"Service": "sns.amazonaws.com"}
                and s["Condition"]["ArnLike"]["AWS:SourceArn"] == topic_arn
            ]
            assert (allowed["Effect"], allowed["Resource"]) == ("Allow", alias)
        for function, settings in config["functions"].items():
            if key in settings.get("grants", {}).get("topics", {}):
                variables = applied["functions"][function]["configuration"]["Environment"]
                assert variables["Variables"][f"TOPIC_{key.upper()}_ARN"] == topic_arn
