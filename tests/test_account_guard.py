"""Terraform refuses the shipped dev stack under credentials of another account than the one its
file names, before it changes anything: `terraform apply` against the emulator, whose account id
is set with moto's MOTO_ACCOUNT_ID."""

from __future__ import annotations

import pytest

import main
from tests.aws_facts import Endpoint, inventory
from tests.moto_server import moto_server, tls_files
from tests.support import CONFIG_DIR
from tests.terraform_cycle import (
    EMULATOR_ACCOUNT,
    in_emulator_account,
    required_toolchain,
    workspace,
)

pytestmark = pytest.mark.e2e

ANOTHER_ACCOUNT = "210987654321"
SHIPPED = (CONFIG_DIR / "dev.toml").read_text()


@pytest.mark.parametrize(
    ("config_text", "emulator_account"),
    [(SHIPPED, EMULATOR_ACCOUNT), (in_emulator_account(SHIPPED), ANOTHER_ACCOUNT)],
    ids=["shipped placeholder", "another account's credentials"],
)
def test_apply_under_another_account_stops_before_any_change(
    tmp_path, config_text, emulator_account
):
    toolchain = required_toolchain()
    config = tmp_path / "config"
    config.mkdir()
    (config / "dev.toml").write_text(config_text)
    assert main.main(["--config", str(config), "--outdir", str(tmp_path / "out")]) == 0
    tls = tls_files(tmp_path)
    with moto_server({"MOTO_ACCOUNT_ID": emulator_account}, tls=tls) as url:
        where, _ = workspace(
            tmp_path / "out" / "stacks" / "dev", tmp_path / "work", toolchain, url, tls
        )
        endpoint = Endpoint(url, where.region, str(tls.certificate))
        before = inventory(endpoint)
        assert where.run("init").returncode == 0
        result = where.run("apply", "-auto-approve", "-no-color")
        after = inventory(endpoint)
    assert result.returncode == 1
    assert f"AWS account ID not allowed: {emulator_account}" in " ".join(result.output.split())
    assert "Creating..." not in result.output
    assert after == before
