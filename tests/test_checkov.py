"""The security gate: checkov on every synthesized stack, with only the documented skips."""

import json
import re
import subprocess

import pytest

from scripts.checkov_gate import CHECKOV, CONFIG, scan
from tests.support import ENVIRONMENTS, REPO_ROOT

SKIP_LINE = re.compile(r"^\s*-\s*(CKV2?_AWS_\d+)\s*#\s*(.+)$")


def suppressions() -> dict[str, str]:
    return {
        match[1]: match[2].strip()
        for line in CONFIG.read_text().splitlines()
        if (match := SKIP_LINE.match(line))
    }


@pytest.fixture(scope="module")
def stack_dirs(stacks, tmp_path_factory) -> dict:
    folders = {}
    for env in ENVIRONMENTS:
        folder = tmp_path_factory.mktemp(env)
        (folder / "cdk.tf.json").write_text(json.dumps(stacks[env]))
        folders[env] = folder
    return folders


def test_checkov_is_current():
    # What `checkov --version` prints, read by checkov's own interpreter without the 3 s of
    # imports the command line costs (the scans below run the command line itself).
    version = subprocess.run(
        [
            str(CHECKOV.with_name("python")),
            "-c",
            "from checkov.version import version; print(version)",
        ],
        capture_output=True,
        text=True,
    )
    major, minor = (int(part) for part in version.stdout.strip().split(".")[:2])
    assert (major, minor) >= (3, 3)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_stack_passes_checkov(stack_dirs, env):
    assert scan(stack_dirs[env]) == []


def test_gate_catches_a_regression(stacks, tmp_path):
    weakened = json.loads(json.dumps(stacks["dev"]))
    for table in weakened["resource"]["aws_dynamodb_table"].values():
        table["point_in_time_recovery"] = {"enabled": False}
    (tmp_path / "cdk.tf.json").write_text(json.dumps(weakened))
    assert any(line.startswith("CKV_AWS_28 ") for line in scan(tmp_path))


def test_every_suppression_has_a_reason_and_is_documented():
    skips = suppressions()
    raw_entries = [
        line for line in CONFIG.read_text().splitlines() if "CKV" in line and "-" in line
    ]
    assert len(skips) == len(raw_entries), "a skip without a `# reason`"
    assert 0 < len(skips) <= 13
    security_page = (REPO_ROOT / "docs" / "security.md").read_text()
    for check_id, reason in skips.items():
        assert len(reason) > 30, check_id
        assert f"`{check_id}`" in security_page, f"{check_id} missing from docs/security.md"


@pytest.fixture(scope="module")
def operating_stacks(tmp_path_factory) -> dict:
    """Every operating option on: tests/config/operations.toml (domain, secrets under a
    customer key, no NAT so an ssm endpoint, provisioned concurrency, subscribers) and the
    prod the apply cycle applies (config/prod.toml + the overlay)."""
    from serverless_app.config import load_config
    from tests.support import synth_config
    from tests.terraform_cycle import PROD_OVERLAY, variant_config

    variant = tmp_path_factory.mktemp("variant") / "prod.toml"
    variant.write_text(
        variant_config(REPO_ROOT / "config" / "prod.toml", PROD_OVERLAY, "Z0CHECKOV")
    )
    configs = {
        "operations": REPO_ROOT / "tests" / "config" / "operations.toml",
        "prod-operations": variant,
    }
    folders = {}
    for name, path in configs.items():
        folder = tmp_path_factory.mktemp(name)
        (folder / "cdk.tf.json").write_text(json.dumps(synth_config(load_config(path))))
        folders[name] = folder
    return folders


@pytest.mark.parametrize("name", ["operations", "prod-operations"])
def test_every_operating_option_on_passes_checkov(operating_stacks, name):
    assert scan(operating_stacks[name]) == []
