"""CDK for Terraform and CDK Terrain synthesize the same stacks from the same code.

Every shipped and test configuration (config/*.toml, the prod variant the apply cycle
applies, tests/config/operations.toml, the test bootstrap file) is synthesized by `main.py` on
each framework's Python environment, and the JSON is compared value by value: the only
differences allowed are the ones listed in EXPECTED_DIFFERENCES (docs/frameworks.md).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support import (
    BOOTSTRAP_TEST_CONFIG,
    CONFIG_DIR,
    REPO_ROOT,
    framework_python,
    run_main,
    snapshot,
)
from tests.terraform_cycle import PROD_OVERLAY, variant_config

FRAMEWORKS = ("cdktf", "cdktn")


def _requirement_pin(requirements: Path, name: str) -> str:
    pinned = re.search(rf"^{re.escape(name)}==(\S+)", requirements.read_text(), re.MULTILINE)
    assert pinned is not None, f"{requirements} does not pin {name}"
    return pinned[1]


# Each framework's release, as the lock files pin it.
RELEASES = {
    "cdktf": json.loads((REPO_ROOT / "Pipfile.lock").read_text())["default"]["cdktf"][
        "version"
    ].removeprefix("=="),
    "cdktn": _requirement_pin(REPO_ROOT / "frameworks/cdktn/requirements.txt", "cdktn"),
}
# The hashicorp/aws release each framework's provider bindings were generated from.
PROVIDER_RELEASES = {"cdktf": "6.25.0", "cdktn": "6.69.1"}
# Every difference between the two outputs: (file kind, JSON path) -> the value on each side.
EXPECTED_DIFFERENCES = {
    ("manifest", ("version",)): RELEASES,
    ("stack", ("//", "metadata", "version")): RELEASES,
    ("stack", ("terraform", "required_providers", "aws", "version")): PROVIDER_RELEASES,
    # The same provider: Terraform reads a bare "aws" as registry.terraform.io/hashicorp/aws.
    ("stack", ("terraform", "required_providers", "aws", "source")): {
        "cdktf": "aws",
        "cdktn": "hashicorp/aws",
    },
}
# config/bootstrap/state.toml ships a placeholder bucket name that main.py refuses.
BOOTSTRAP_FILES = (BOOTSTRAP_TEST_CONFIG,)


def config_folders(base: Path) -> dict[str, Path]:
    """Each folder main.py synthesizes at once: environment names must differ within one."""
    shipped = base / "shipped"
    shipped.mkdir(parents=True)
    for file in [*CONFIG_DIR.glob("*.toml"), REPO_ROOT / "tests" / "config" / "operations.toml"]:
        shutil.copy(file, shipped / file.name)
    variant = base / "prod-variant"
    variant.mkdir()
    (variant / "prod.toml").write_text(
        variant_config(CONFIG_DIR / "prod.toml", PROD_OVERLAY, "Z0123456789EXAMPLE")
    )
    return {"shipped": shipped, "prod-variant": variant}


def synthesized(framework: str, folders: dict[str, Path], out: Path) -> Path:
    python = framework_python(framework)
    runs = [
        *(
            ["--config", str(folder), "--outdir", str(out / name)]
            for name, folder in folders.items()
        ),
        *(
            ["--bootstrap", "--config", str(file), "--outdir", str(out / f"bootstrap-{file.stem}")]
            for file in BOOTSTRAP_FILES
        ),
    ]
    for arguments in runs:
        result = run_main(*arguments, python=python)
        assert result.returncode == 0, f"{framework}: {result.stderr}"
    return out


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("frameworks")
    folders = config_folders(base / "config")
    return {name: synthesized(name, folders, base / name) for name in FRAMEWORKS}


def differences(
    left: Any, right: Any, path: tuple[str, ...] = ()
) -> dict[tuple[str, ...], tuple[Any, Any]]:
    """JSON path -> (left value, right value) wherever the two documents differ."""
    if isinstance(left, dict) and isinstance(right, dict):
        found = {}
        for key in sorted(left.keys() | right.keys()):
            if key not in left or key not in right:
                found[(*path, key)] = (left.get(key), right.get(key))
            else:
                found.update(differences(left[key], right[key], (*path, key)))
        return found
    if isinstance(left, list) and isinstance(right, list) and len(left) == len(right):
        found = {}
        for index, (one, other) in enumerate(zip(left, right, strict=True)):
            found.update(differences(one, other, (*path, str(index))))
        return found
    return {} if left == right else {path: (left, right)}


def json_files(out: Path) -> list[str]:
    return sorted(str(path.relative_to(out)) for path in out.rglob("*.json"))


def test_both_frameworks_write_the_same_files(outputs):
    files = json_files(outputs["cdktf"])
    # Every environment in config/ and ops; the prod variant; the bootstrap stack.
    stacks = len(list(CONFIG_DIR.glob("*.toml"))) + 1 + 1 + len(BOOTSTRAP_FILES)
    assert len([name for name in files if name.endswith("cdk.tf.json")]) == stacks, files
    assert files == json_files(outputs["cdktn"])


def test_the_json_differs_only_in_framework_release_and_provider_constraint(outputs):
    found: dict[tuple[str, tuple[str, ...]], set[tuple[Any, Any]]] = {}
    for name in json_files(outputs["cdktf"]):
        kind = "manifest" if name.endswith("manifest.json") else "stack"
        cdktf, cdktn = (json.loads((outputs[f] / name).read_text()) for f in FRAMEWORKS)
        for path, (one, other) in differences(cdktf, cdktn).items():
            found.setdefault((kind, path), set()).add((one, other))
    expected = {
        key: {(values["cdktf"], values["cdktn"])} for key, values in EXPECTED_DIFFERENCES.items()
    }
    assert found == expected


def test_the_fast_loader_works_on_cdk_terrain_with_the_stock_output(tmp_path):
    """The stock path (no lazy loading on either side) writes byte-identical files, and the
    fast path really loaded CDK Terrain's provider lazily and skipped its token stacks."""
    python, stats = framework_python("cdktn"), tmp_path / "stats.jsonl"
    fast = run_main(
        "--outdir", str(tmp_path / "fast"), python=python, CDKTF_LAZY_NODE_STATS=str(stats)
    )
    stock = run_main(
        "--outdir", str(tmp_path / "stock"), python=python, CDKTF_FULL_PROVIDER_IMPORT="1"
    )
    for result in (fast, stock):
        assert result.returncode == 0, result.stderr
    assert snapshot(tmp_path / "fast") == snapshot(tmp_path / "stock")
    applied = [json.loads(line) for line in stats.read_text().splitlines()]
    lazy = {line["package"]: line["lazy"] for line in applied if "lazy" in line}
    assert lazy.get("@cdktn/provider-aws", 0) > 2000, applied
    stacks = [
        (line["package"], line["creation_stacks"]) for line in applied if "creation_stacks" in line
    ]
    assert stacks == [("cdktn", "skipped")]


def test_cdk_terrain_environment_has_no_cdktf():
    """The alias, not a second copy of cdktf, answers cdktf's names in .venv-cdktn."""
    probe = (
        "import importlib.machinery as m, constructs_lib, cdktf, cdktf_cdktf_provider_aws.vpc as v;"
        "print(m.PathFinder.find_spec('cdktf') is None, cdktf.__name__, v.Vpc.__module__)"
    )
    result = subprocess.run(
        [str(framework_python("cdktn")), "-c", probe],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env=os.environ,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "cdktn", "cdktn_provider_aws.vpc"]
