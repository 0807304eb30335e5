"""`.github/workflows/ci.yml`: what its jobs do (Terraform installed, the apply cycle required,
the artifact, a gated plan job) and that its project steps are Makefile targets."""

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.support import ENVIRONMENT_FILES, REPO_ROOT, file_values

WORKFLOW = REPO_ROOT / ".github" / "workflows" / "ci.yml"
# Where jsii's node kernel unpacks packages on Linux, unless JSII_RUNTIME_PACKAGE_CACHE_ROOT says.
JSII_PACKAGE_CACHE = "~/.cache/aws/jsii/package-cache"
_MAKE = re.compile(r"^make ([\w.-]+)$")


@pytest.fixture(scope="module")
def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def uses(job: dict, action: str) -> dict:
    """The single step of a job that uses `action` (any version)."""
    steps = [s for s in job["steps"] if s.get("uses", "").split("@")[0] == action]
    assert len(steps) == 1, f"one {action} step expected, found {len(steps)}"
    return steps[0]


def runs(job: dict) -> list[str]:
    return [step["run"] for step in job["steps"] if "run" in step]


def make_targets(workflow: dict) -> list[str]:
    return [
        match.group(1)
        for job in workflow["jobs"].values()
        for command in runs(job)
        if (match := _MAKE.match(command))
    ]


def test_runs_on_pushes_and_pull_requests_with_read_only_token(workflow):
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert {"push", "pull_request"} <= set(triggers)
    assert workflow["permissions"] == {"contents": "read"}
    assert set(workflow["jobs"]) == {"test", "plan"}


def step_running(job: dict, command: str) -> dict:
    """The single step of a job whose `run` is the make command (with or without arguments)."""
    steps = [s for s in job["steps"] if s.get("run", "").split(" ")[:2] == command.split(" ")]
    assert len(steps) == 1, f"one `{command}` step expected, found {len(steps)}"
    return steps[0]


def step_env(workflow: dict, job: dict, step: dict) -> dict:
    """The environment a step runs with: the workflow's, the job's, then its own."""
    return {**workflow.get("env", {}), **job.get("env", {}), **step.get("env", {})}


def resolved(workflow: dict, value: str) -> str:
    """A `${{ env.NAME }}` expression replaced by the workflow's value."""
    return re.sub(r"\$\{\{ env\.(\w+) \}\}", lambda m: workflow["env"][m.group(1)], value)


def test_test_job_installs_from_lock_files_and_terraform_before_the_tests(workflow):
    job = workflow["jobs"]["test"]
    pythons = uses(job, "actions/setup-python")["with"]["python-version"].split()
    # The last one listed is the default `python`: the project's.
    assert pythons[-1] == "3.11"
    # One per runtime the shipped files use, to compile the packages' byte-code.
    runtimes = {
        function.get("runtime", "python3.13").removeprefix("python")
        for path in ENVIRONMENT_FILES.values()
        for function in file_values(path)["functions"].values()
    }
    assert runtimes <= set(pythons)
    # The Node that runs npm's first step is the pinned one's release line (tools/node).
    pinned = json.loads((REPO_ROOT / "tools" / "node" / "package.json").read_text())
    (release,) = set(pinned["optionalDependencies"].values())
    assert uses(job, "actions/setup-node")["with"]["node-version"] == release.split(".")[0]
    terraform = uses(job, "hashicorp/setup-terraform")
    assert re.fullmatch(r"hashicorp/setup-terraform@[0-9a-f]{40}", terraform["uses"])
    assert resolved(workflow, terraform["with"]["terraform_version"]) == "1.11.4"
    order = job["steps"].index
    make_test = step_running(job, "make test")
    assert order(step_running(job, "make setup")) < order(make_test)
    assert order(terraform) < order(step_running(job, "make provider-mirror")) < order(make_test)


def test_the_apply_cycle_cannot_skip_in_ci(workflow):
    """`make test` runs with E2E_REQUIRED=1 and the tests read the mirror the job filled."""
    job = workflow["jobs"]["test"]
    make_test = step_running(job, "make test")
    environment = step_env(workflow, job, make_test)
    assert environment["E2E_REQUIRED"] == "1"
    mirror = step_running(job, "make provider-mirror")
    assert mirror["run"] == 'make provider-mirror PROVIDER_MIRROR="$TERRAFORM_PROVIDER_MIRROR"'
    assert (
        step_env(workflow, job, mirror)["TERRAFORM_PROVIDER_MIRROR"]
        == (environment["TERRAFORM_PROVIDER_MIRROR"])
    )
    ci_run = (REPO_ROOT / ".ci" / "run").read_text()
    assert "\nexport E2E_REQUIRED=1\n" in ci_run
    assert ci_run.index("export E2E_REQUIRED=1") < ci_run.index("\nmake test\n")


def test_make_test_lints_first_and_runs_the_whole_suite():
    """`make -n test` shows what CI's `make test` does: lint, then pytest without a marker
    filter, so the apply cycle is part of it."""
    result = subprocess.run(
        ["make", "-n", "test"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    commands = result.stdout.splitlines()
    lint = commands.index(next(c for c in commands if "ruff check" in c))
    (pytest_run,) = [c for c in commands if " -m pytest" in c]
    assert lint < commands.index(pytest_run)
    assert " -m " not in pytest_run.split(" -m pytest", 1)[1]


def test_the_synth_output_is_uploaded_after_make_synth(workflow):
    job = workflow["jobs"]["test"]
    upload = uses(job, "actions/upload-artifact")
    assert upload["with"]["path"].rstrip("/") == "cdktf.out"
    assert job["steps"].index(step_running(job, "make synth")) < job["steps"].index(upload)


def test_every_make_target_used_exists_in_the_makefile(workflow):
    targets = make_targets(workflow)
    assert targets
    for target in targets:
        # Make itself says whether it has a rule; -n prints the recipe without running it.
        result = subprocess.run(
            ["make", "-n", target], cwd=REPO_ROOT, capture_output=True, text=True
        )
        assert result.returncode == 0, f"`make {target}`: {result.stderr.strip()}"


def test_plan_job_is_off_until_an_aws_role_is_set_and_uses_oidc(workflow):
    job = workflow["jobs"]["plan"]
    assert job["if"] == "vars.AWS_ROLE_ARN != ''"
    assert job["needs"] == "test"
    assert job["permissions"] == {"contents": "read", "id-token": "write"}
    credentials = uses(job, "aws-actions/configure-aws-credentials")["with"]
    assert credentials["role-to-assume"] == "${{ vars.AWS_ROLE_ARN }}"
    assert not any("aws-access-key-id" in key or "secret" in key for key in credentials)


def test_plan_job_plans_every_stack_folder_of_the_artifact(workflow, tmp_path):
    job, test_job = workflow["jobs"]["plan"], workflow["jobs"]["test"]
    # The matrix is whatever stack folders the test job's synthesis wrote.
    assert job["strategy"]["matrix"]["stack"] == "${{ fromJSON(needs.test.outputs.stacks) }}"
    assert test_job["outputs"]["stacks"] == "${{ steps.stacks.outputs.stacks }}"
    (listing,) = [step for step in test_job["steps"] if step.get("id") == "stacks"]
    for env in ("qa", "dev", "staging"):
        (tmp_path / "cdktf.out" / "stacks" / env).mkdir(parents=True)
    output = tmp_path / "github_output"
    subprocess.run(
        ["bash", "-c", listing["run"]],
        cwd=tmp_path,
        env={**os.environ, "GITHUB_OUTPUT": str(output)},
        check=True,
    )
    assert output.read_text() == 'stacks=["dev", "qa", "staging"]\n'
    assert job["defaults"]["run"]["working-directory"] == "cdktf.out/stacks/${{ matrix.stack }}"
    download = uses(job, "actions/download-artifact")["with"]
    upload = uses(workflow["jobs"]["test"], "actions/upload-artifact")["with"]
    assert (download["name"], download["path"]) == (upload["name"], "cdktf.out")
    uses(job, "hashicorp/setup-terraform")
    assert [c.split()[:2] for c in runs(job)] == [["terraform", "init"], ["terraform", "plan"]]


def test_test_job_keeps_jsii_package_cache_keyed_on_the_python_lock_files(workflow):
    job = workflow["jobs"]["test"]
    cache = uses(job, "actions/cache")
    assert cache["with"]["path"] == JSII_PACKAGE_CACHE
    # Both frameworks' packages are unpacked there: cdktf's (.venv) and CDK Terrain's.
    assert "hashFiles('Pipfile.lock', 'frameworks/cdktn/requirements.txt')" in cache["with"]["key"]
    assert job["steps"].index(cache) < job["steps"].index(step_running(job, "make test"))


def test_the_cached_folder_is_where_jsii_unpacked_the_aws_provider():
    """The test session loaded the provider through jsii: it must be in the cached folder."""
    if os.environ.get("JSII_RUNTIME_PACKAGE_CACHE_ROOT") or (
        os.environ.get("JSII_RUNTIME_PACKAGE_CACHE", "enabled").lower() != "enabled"
    ):
        pytest.skip("jsii's package cache is moved or off in this environment")
    unpacked = Path(JSII_PACKAGE_CACHE).expanduser() / "@cdktf" / "provider-aws"
    assert any(unpacked.glob("*/*/lib/index.js")), f"nothing unpacked under {unpacked}"
