"""The CLIs pinned in package-lock.json synthesize exactly what `make synth` does: cdktf's,
and CDK Terrain's (`FRAMEWORK=cdktn npx cdktn synth`, docs/frameworks.md)."""

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.support import REPO_ROOT, framework_python, run_main

# Each framework's CLI package, its command and its pinned release (the library's own).
CLIS = {"cdktf": ("cdktf-cli", "0.21.0"), "cdktn": ("cdktn-cli", "0.24.0")}
# No version check or telemetry call home: the synth must work offline.
CLI_ENVIRONMENT = {"CHECKPOINT_DISABLE": "1"}


def installed_cli(framework: str) -> Path:
    cli = REPO_ROOT / "node_modules" / ".bin" / framework
    if not cli.is_file():
        pytest.fail(
            f"node_modules/.bin/{framework} is missing: run `npm ci` (`make setup` does it), "
            "which installs the CLIs pinned in package-lock.json"
        )
    return cli


def files_under(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_package_files_pin_the_clis_exactly():
    package = json.loads((REPO_ROOT / "package.json").read_text())
    lock = json.loads((REPO_ROOT / "package-lock.json").read_text())
    pinned = dict(CLIS.values())
    assert package["dependencies"] == pinned
    assert lock["packages"][""]["dependencies"] == pinned
    for name, release in pinned.items():
        assert lock["packages"][f"node_modules/{name}"]["version"] == release
    # `npm ci` verifies every download against these hashes (bundled ones come inside another).
    unverified = [
        name
        for name, entry in lock["packages"].items()
        if name and "integrity" not in entry and not entry.get("inBundle")
    ]
    assert unverified == []


LIBRARY_RELEASE = "from importlib.metadata import version; print(version({!r}))"


@pytest.mark.parametrize("framework", CLIS)
def test_cli_matches_its_library_and_never_reports_crashes(framework):
    installed_cli(framework)
    name, release = CLIS[framework]
    package = REPO_ROOT / "node_modules" / name / "package.json"
    assert json.loads(package.read_text())["version"] == release, "stale node_modules: `npm ci`"
    library = subprocess.run(
        [str(framework_python(framework)), "-c", LIBRARY_RELEASE.format(framework)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert library.stdout.strip() == release, "the CLI and the Python library: one release"
    project = json.loads((REPO_ROOT / "cdktf.json").read_text())
    assert project["sendCrashReports"] in (False, "false")


@pytest.fixture
def main_py_output(request, synth_output, tmp_path) -> Path:
    """`main.py` on the framework's environment: the session's run for cdktf (conftest.py)."""
    if request.param == "cdktf":
        return synth_output
    out = tmp_path / "main"
    result = run_main("--outdir", str(out), python=framework_python(request.param))
    assert result.returncode == 0, result.stderr
    return out


@pytest.mark.parametrize("main_py_output", CLIS, indirect=True)
def test_cli_synth_writes_the_same_files_as_main_py(request, tmp_path, main_py_output):
    framework = request.node.callspec.params["main_py_output"]
    result = subprocess.run(
        [str(installed_cli(framework)), "synth", "--output", str(tmp_path / "cli")],
        cwd=REPO_ROOT,
        env={**os.environ, **CLI_ENVIRONMENT, "FRAMEWORK": framework},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr

    from_cli = files_under(tmp_path / "cli")
    from_python = files_under(main_py_output)
    assert "stacks/dev/cdk.tf.json" in from_python
    assert sorted(from_cli) == sorted(from_python)
    assert [name for name in from_python if from_cli[name] != from_python[name]] == []
