"""The cdktf CLI pinned in package-lock.json synthesizes exactly what `make synth` does."""

import json
import os
import subprocess
from importlib.metadata import version
from pathlib import Path

import pytest

from tests.support import REPO_ROOT

PINNED = "0.21.0"
CLI = REPO_ROOT / "node_modules" / ".bin" / "cdktf"
# No version check or telemetry call home: the synth must work offline.
CLI_ENVIRONMENT = {"CHECKPOINT_DISABLE": "1"}


def installed_cli() -> Path:
    if not CLI.is_file():
        pytest.fail(
            "node_modules/.bin/cdktf is missing: run `npm ci` (`make setup` does it), "
            "which installs the CLI pinned in package-lock.json"
        )
    return CLI


def files_under(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_package_files_pin_the_cli_exactly():
    package = json.loads((REPO_ROOT / "package.json").read_text())
    lock = json.loads((REPO_ROOT / "package-lock.json").read_text())
    assert package["dependencies"] == {"cdktf-cli": PINNED}
    assert lock["packages"][""]["dependencies"] == {"cdktf-cli": PINNED}
    assert lock["packages"]["node_modules/cdktf-cli"]["version"] == PINNED
    # `npm ci` verifies every download against these hashes (bundled ones come inside another).
    unverified = [
        name
        for name, entry in lock["packages"].items()
        if name and "integrity" not in entry and not entry.get("inBundle")
    ]
    assert unverified == []


def test_cli_matches_the_cdktf_library_and_never_reports_crashes():
    installed_cli()
    package = REPO_ROOT / "node_modules" / "cdktf-cli" / "package.json"
    assert json.loads(package.read_text())["version"] == PINNED, "stale node_modules: run `npm ci`"
    assert version("cdktf") == PINNED, "the CLI and the Python library must be the same release"
    project = json.loads((REPO_ROOT / "cdktf.json").read_text())
    assert project["sendCrashReports"] in (False, "false")


def test_cdktf_synth_writes_the_same_files_as_main_py(tmp_path, synth_output):
    result = subprocess.run(
        [str(installed_cli()), "synth", "--output", str(tmp_path / "cli")],
        cwd=REPO_ROOT,
        env={**os.environ, **CLI_ENVIRONMENT},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr

    from_cli = files_under(tmp_path / "cli")
    # `main.main(["--outdir", ...])`, run once per session (conftest.py).
    from_python = files_under(synth_output)
    assert "stacks/dev/cdk.tf.json" in from_python
    assert sorted(from_cli) == sorted(from_python)
    assert [name for name in from_python if from_cli[name] != from_python[name]] == []
