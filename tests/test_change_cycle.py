"""Day two: edited configurations applied onto the same Terraform state, and the upgrade step.

The change cycle starts from the shipped config/dev.toml and applies one edited configuration
after the other (`CHANGES`: a table of name -> edit of the previous step's configuration) to the
same state, as a user does between the first apply and the last destroy. The upgrade step
applies the previous release's synthesized dev stack (tests/releases/<release>/dev/, committed)
and then this version's dev stack onto the same state.

Each step: `main.py` on a config folder holding only the step's configuration, the new
`cdk.tf.json` and assets copied into the applied folder (state, `.terraform/`, lock file and
override kept), `plan -out`, `show -json` of that plan (no stateful resource deleted or
replaced), `apply`, `plan -detailed-exitcode` = 0 (and the same for every other environment
applied in that emulator), then boto3 facts compared with the configuration. The two chains run
side by side, each in its own emulator; the pytest summary prints each step's time.
"""

from __future__ import annotations

import io
import json
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, redirect_stderr
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import main
from tests import aws_facts
from tests.aws_facts import Endpoint
from tests.change_steps import (
    CHAINS,
    CONFIGS,
    CURRENT,
    EARLIER,
    ONTO_STATE,
    PREVIOUS_RELEASE,
    RELEASE_STEP,
    removed_functions,
)
from tests.terraform_cycle import (
    CHANGE_CHAINS,
    ChangeChain,
    ChangeStepReport,
    Emulator,
    StepResult,
    Toolchain,
    Workspace,
    public_routes,
    replace_stack,
    required_toolchain,
    served_methods,
    start_emulator,
    stateful_losses,
    toml_text,
    wildcards,
    workspace,
)

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class Stage:
    """A step ready to apply: its stack folder, or why there is none."""

    name: str
    stack_folder: Path | None
    problem: str | None = None


def synthesized(name: str, folder: Path) -> Stage:
    """`main.py` on a config folder holding only the step's configuration."""
    config = CONFIGS[name]
    config_folder = folder / "config"
    config_folder.mkdir(parents=True)
    (config_folder / f"{config['env']}.toml").write_text(toml_text(config))
    out = folder / "cdktf.out"
    errors = io.StringIO()
    with redirect_stderr(errors):
        status = main.main(["--config", str(config_folder), "--outdir", str(out)])
    if status != 0:
        return Stage(name, None, f"main.py exited {status}: {errors.getvalue().strip()}")
    return Stage(name, out / "stacks" / config["env"])


class StepFailed(Exception):
    pass


def _succeeded(result: StepResult) -> StepResult:
    if result.returncode != 0:
        raise StepFailed(f"terraform {result.command} exited {result.returncode}")
    return result


def run_chain(
    title: str, stages: list[Stage], work: Path, toolchain: Toolchain, emulator: Emulator
) -> ChangeChain:
    """Every stage in order, each onto its environment's folder and state; a failed step is
    recorded and the chain goes on (the next step starts from whatever state it left)."""
    chain = ChangeChain(title)
    workspaces: dict[str, Workspace] = {}
    for stage in stages:
        report = ChangeStepReport(
            stack=CONFIGS[stage.name]["env"], name=stage.name, config=CONFIGS[stage.name]
        )
        chain.steps.append(report)
        try:
            if stage.stack_folder is None:
                raise StepFailed(stage.problem)
            _apply(report, stage.stack_folder, workspaces, work, toolchain, emulator)
        except Exception as error:  # recorded: the tests name the step and what broke
            report.failure = f"{type(error).__name__}: {error}"
    return chain


def _apply(
    report: ChangeStepReport,
    stack_folder: Path,
    workspaces: dict[str, Workspace],
    work: Path,
    toolchain: Toolchain,
    emulator: Emulator,
) -> None:
    env = report.stack
    if env in workspaces:
        where = workspaces[env].recording_into(report.steps)
        replace_stack(where, stack_folder, toolchain, emulator.url, emulator.tls)
    else:
        created, report.version_note = workspace(
            stack_folder, work / env, toolchain, emulator.url, emulator.tls
        )
        where = workspaces[env] = created.recording_into(report.steps)
        _succeeded(where.run("init"))
    _succeeded(where.run("plan", "-out=tfplan"))
    shown = _succeeded(where.run("show", "-json", "tfplan"))
    report.stateful_losses = stateful_losses(json.loads(shown.output))
    _succeeded(where.run("apply", "tfplan"))
    # This environment's re-plan, and every other one's: they share the account and must not
    # notice each other (a name taken twice, an alarm overwritten).
    for other, applied in workspaces.items():
        label = "" if other == env else other
        applied.recording_into(report.steps, label).run("plan", "-detailed-exitcode")
    report.facts = collect_facts(emulator.endpoint(where.region), where.output_values())


def collect_facts(endpoint: Endpoint, outputs: dict[str, Any]) -> dict[str, Any]:
    return {
        "outputs": outputs,
        "functions": {
            key: aws_facts.function_facts(endpoint, function["function_name"])
            for key, function in outputs["functions"].items()
        },
        "load_balancer": aws_facts.load_balancer_facts(endpoint, outputs["load_balancer_dns_name"]),
        # What the stage serves: its deployment's apiSummary.
        "served": aws_facts.api_facts(endpoint, outputs["api_invoke_url"])["served"],
        "inventory": aws_facts.inventory(endpoint),
    }


@pytest.fixture(scope="module")
def steps(tmp_path_factory) -> dict[str, ChangeStepReport]:
    toolchain = required_toolchain()
    base = tmp_path_factory.mktemp("change-cycle")
    # Synthesized first, in this thread: the jsii kernel is one per process.
    stages = {
        title: [
            Stage(name, PREVIOUS_RELEASE / "dev")
            if name == RELEASE_STEP
            else synthesized(name, base / "synth" / name)
            for name in names
        ]
        for title, names in CHAINS.items()
    }
    with ExitStack() as running, ThreadPoolExecutor(max_workers=len(CHAINS)) as pool:
        futures = [
            pool.submit(
                run_chain,
                title,
                chain_stages,
                base / "work" / str(number),
                toolchain,
                start_emulator(running, base / "emulator" / str(number)),
            )
            for number, (title, chain_stages) in enumerate(stages.items())
        ]
        chains = [future.result() for future in futures]
    CHANGE_CHAINS.extend(chains)
    return {step.name: step for chain in chains for step in chain.steps}


def _tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.splitlines()[-lines:])


@pytest.mark.parametrize("name", list(EARLIER))
def test_step_applies_and_every_plan_after_it_is_clean(steps, name):
    report = steps[name]
    for command in ("plan -out", "apply tfplan"):
        step = report.step(command)
        assert step.returncode == 0, f"terraform {command}:\n{_tail(step.output)}"
    replans = [s for s in report.steps if s.command.endswith("plan -detailed-exitcode")]
    assert replans, report.failure
    for replan in replans:
        assert replan.returncode == 0, f"{replan.command}:\n{_tail(replan.output, 80)}"
    assert report.failure is None


@pytest.mark.parametrize("name", ONTO_STATE)
def test_step_deletes_or_replaces_no_stateful_resource(steps, name):
    report = steps[name]
    assert report.stateful_losses is not None, report.failure
    assert report.stateful_losses == []


def _applied(report: ChangeStepReport) -> dict[str, Any]:
    assert report.facts, f"step {report.name} left no facts: {report.failure}"
    return report.facts


def listener_rules(facts: dict[str, Any]) -> dict[str, tuple[int, list[str]]]:
    """'METHOD pattern' -> (priority, the function keys its target group invokes), for each
    rule of the listener the routes are on (the one that does not redirect)."""
    balancer = facts["load_balancer"]
    key_of_alias = {
        f"{function['configuration']['FunctionArn']}:live": key
        for key, function in facts["functions"].items()
    }
    (listener,) = [
        item for item in balancer["listeners"] if item["DefaultActions"][0]["Type"] != "redirect"
    ]
    rules = {}
    for rule in balancer["rules"][listener["ListenerArn"]]:
        if rule["IsDefault"]:
            continue
        conditions = {condition["Field"]: condition for condition in rule["Conditions"]}
        (pattern,) = conditions["path-pattern"]["PathPatternConfig"]["Values"]
        method = conditions.get("http-request-method", {}).get("HttpRequestMethodConfig", {})
        (method_name,) = method.get("Values", ["ANY"])
        (action,) = rule["Actions"]
        targets = balancer["targets"][action["TargetGroupArn"]]
        functions = sorted(key_of_alias.get(target, target) for target in targets)
        rules[f"{method_name} {pattern}"] = (int(rule["Priority"]), functions)
    return rules


@pytest.mark.parametrize("name", CURRENT)
def test_listener_rules_send_exactly_the_public_routes_to_their_functions(steps, name):
    config = CONFIGS[name]
    live = {
        route: functions for route, (_, functions) in listener_rules(_applied(steps[name])).items()
    }
    expected = {
        f"{route['method']} {wildcards(route['path'])}": [route["function"]]
        for route in public_routes(config)
    }
    assert live == expected


# An upgrade may renumber the rules (its apply proves that it can); a change step may not.
@pytest.mark.parametrize("name", [n for n in ONTO_STATE if {n, EARLIER[n]} <= set(CURRENT)])
def test_listener_rules_that_stay_keep_their_priorities(steps, name):
    before = {r: p for r, (p, _) in listener_rules(_applied(steps[EARLIER[name]])).items()}
    after = {r: p for r, (p, _) in listener_rules(_applied(steps[name])).items()}
    kept = before.keys() & after.keys()
    assert {r: after[r] for r in kept} == {r: before[r] for r in kept}


@pytest.mark.parametrize("name", CURRENT)
def test_api_stage_serves_exactly_the_configured_routes(steps, name):
    summary = _applied(steps[name])["served"]
    served = {
        path: {
            method: {key: answer[key] for key in ("authorizationType", "apiKeyRequired")}
            for method, answer in methods.items()
        }
        for path, methods in summary.items()
        if methods
    }
    expected = {
        path: {
            method: {"authorizationType": kind, "apiKeyRequired": False}
            for method, kind in methods.items()
        }
        for path, methods in served_methods(CONFIGS[name]).items()
    }
    assert served == expected


@pytest.mark.parametrize("name", [name for name in CURRENT if removed_functions(name)])
def test_removed_functions_their_roles_and_target_groups_are_gone(steps, name):
    before, after = _applied(steps[EARLIER[name]]), _applied(steps[name])
    inventory = after["inventory"]
    groups = {
        group["TargetGroupArn"]: group["TargetGroupName"]
        for group in before["load_balancer"]["target_groups"]
    }
    for key in removed_functions(name):
        configuration = before["functions"][key]["configuration"]
        assert configuration["FunctionName"] not in inventory["lambda functions"], key
        assert before["functions"][key]["role"]["RoleName"] not in inventory["iam roles"], key
        alias = f"{configuration['FunctionArn']}:live"
        (group,) = [
            groups[arn]
            for arn, targets in before["load_balancer"]["targets"].items()
            if targets == [alias]
        ]
        assert group not in inventory["target groups"], key


# Function settings and the Lambda configuration field each lands in.
LAMBDA_FIELDS = {"memory_mb": "MemorySize", "timeout_s": "Timeout"}


@pytest.mark.parametrize("name", CURRENT)
def test_functions_run_with_their_configured_settings(steps, name):
    facts, config = _applied(steps[name]), CONFIGS[name]
    assert set(facts["functions"]) == set(config["functions"])
    for key, settings in config["functions"].items():
        configuration = facts["functions"][key]["configuration"]
        for setting, field in LAMBDA_FIELDS.items():
            if setting in settings:
                assert configuration[field] == settings[setting], f"{key}.{setting}"
        variables = configuration.get("Environment", {}).get("Variables", {})
        assert settings.get("environment", {}).items() <= variables.items(), key
