""".github/workflows/ci.yml: valid YAML, Makefile targets for project steps, a gated plan job."""

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.support import REPO_ROOT

WORKFLOW = REPO_ROOT / ".github" / "workflows" / "ci.yml"
GRAPHVIZ = "sudo apt-get update && sudo apt-get install -y graphviz"
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


def test_test_job_installs_from_lock_files_tests_and_uploads_the_synth_output(workflow):
    job = workflow["jobs"]["test"]
    assert uses(job, "actions/setup-python")["with"]["python-version"] == "3.11"
    # The Node that runs npm's first step is the pinned one's release line (tools/node).
    pinned = json.loads((REPO_ROOT / "tools" / "node" / "package.json").read_text())
    (release,) = set(pinned["optionalDependencies"].values())
    assert uses(job, "actions/setup-node")["with"]["node-version"] == release.split(".")[0]
    commands = runs(job)
    # Project steps are Makefile targets; the one system package is Graphviz; the stack list
    # for the plan job is read off the synthesized folders.
    listing = next(step["run"] for step in job["steps"] if step.get("id") == "stacks")
    assert [c for c in commands if not _MAKE.match(c)] == [GRAPHVIZ, listing]
    assert [c for c in commands if _MAKE.match(c)] == [
        "make setup",
        "make lint",
        "make test",
        "make synth",
    ]
    upload = uses(job, "actions/upload-artifact")
    assert upload["with"]["path"].rstrip("/") == "cdktf.out"
    assert job["steps"].index(upload) == len(job["steps"]) - 1, "upload after `make synth`"


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
    make_test = next(step for step in job["steps"] if step.get("run") == "make test")
    assert job["steps"].index(cache) < job["steps"].index(make_test)


def test_the_cached_folder_is_where_jsii_unpacked_the_aws_provider():
    """The test session loaded the provider through jsii: it must be in the cached folder."""
    if os.environ.get("JSII_RUNTIME_PACKAGE_CACHE_ROOT") or (
        os.environ.get("JSII_RUNTIME_PACKAGE_CACHE", "enabled").lower() != "enabled"
    ):
        pytest.skip("jsii's package cache is moved or off in this environment")
    unpacked = Path(JSII_PACKAGE_CACHE).expanduser() / "@cdktf" / "provider-aws"
    assert any(unpacked.glob("*/*/lib/index.js")), f"nothing unpacked under {unpacked}"
