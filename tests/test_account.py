"""An environment names its AWS account and, optionally, the role Terraform assumes there: the
checks on the file, and what the provider block of the synthesized stack carries."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from serverless_app.config import ConfigError, load_config
from tests.support import CONFIG_DIR, REPO_ROOT

DEV = (CONFIG_DIR / "dev.toml").read_text()
SHIPPED_ACCOUNT_LINE = re.compile(r'^account_id = "000000000000".*$', re.MULTILINE)
ACCOUNT = "111122223333"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/hello-deployer"


def dev_with(tmp_path: Path, top: str, assume_role: str = "") -> Path:
    """config/dev.toml with `top` in place of its account line and an `[assume_role]` table."""
    text = SHIPPED_ACCOUNT_LINE.sub(lambda _: top, DEV)
    assert text != DEV or not top, "the shipped file has no placeholder account line"
    path = tmp_path / "dev.toml"
    path.write_text(text + (f"\n[assume_role]\n{assume_role}" if assume_role else ""))
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as error:
        load_config(path)
    return error.value.problems


def test_the_shipped_environments_name_the_placeholder_account():
    for env in ("dev", "prod"):
        assert SHIPPED_ACCOUNT_LINE.search((CONFIG_DIR / f"{env}.toml").read_text()), env


# (the account line, the [assume_role] table, the key path reported, the message's start)
BAD_CASES = {
    "too few digits": ('account_id = "12345"', "", "account_id", "must be an AWS account id"),
    "letters": ('account_id = "12345678901a"', "", "account_id", "must be an AWS account id"),
    "a number, not a string": ("account_id = 111122223333", "", "account_id", "Input should be"),
    "no role_arn": (
        f'account_id = "{ACCOUNT}"',
        'session_name = "ci"\n',
        "assume_role.role_arn",
        "required key is missing",
    ),
    "not a role ARN": (
        f'account_id = "{ACCOUNT}"',
        f'role_arn = "arn:aws:iam::{ACCOUNT}:user/deployer"\n',
        "assume_role.role_arn",
        "must be an IAM role ARN",
    ),
    "a role name of 65 characters": (
        f'account_id = "{ACCOUNT}"',
        f'role_arn = "arn:aws:iam::{ACCOUNT}:role/{"r" * 65}"\n',
        "assume_role.role_arn",
        "must be an IAM role ARN",
    ),
    "a role of another account": (
        f'account_id = "{ACCOUNT}"',
        'role_arn = "arn:aws:iam::444455556666:role/deployer"\n',
        "assume_role.role_arn",
        "the role is in account 444455556666, not in account_id 111122223333",
    ),
    "a session name of 1 character": (
        "",
        f'role_arn = "{ROLE}"\nsession_name = "c"\n',
        "assume_role.session_name",
        "must be 2-64 letters",
    ),
    "a session name of 65 characters": (
        "",
        f'role_arn = "{ROLE}"\nsession_name = "{"c" * 65}"\n',
        "assume_role.session_name",
        "must be 2-64 letters",
    ),
    "a space in the session name": (
        "",
        f'role_arn = "{ROLE}"\nsession_name = "ci run"\n',
        "assume_role.session_name",
        "must be 2-64 letters",
    ),
    "an external id of 1225 characters": (
        "",
        f'role_arn = "{ROLE}"\nexternal_id = "{"x" * 1225}"\n',
        "assume_role.external_id",
        "must be 2-1224 letters",
    ),
    "an unknown key": (
        "",
        f'role_arn = "{ROLE}"\nduration = "1h"\n',
        "assume_role.duration",
        "unknown key",
    ),
}


@pytest.mark.parametrize(("top", "role", "key", "message"), BAD_CASES.values(), ids=list(BAD_CASES))
def test_a_bad_account_or_role_is_one_line_naming_the_key(tmp_path, top, role, key, message):
    path = dev_with(tmp_path, top, role)
    found = problems(path)
    assert len(found) == 1, found
    assert found[0].startswith(f"{path}: {key}: {message}"), found


@pytest.mark.parametrize(
    ("top", "role"),
    [
        (f'account_id = "{ACCOUNT}"', f'role_arn = "{ROLE}"\n'),
        ("", f'role_arn = "arn:aws:iam::{ACCOUNT}:role/ci/github/deployer"\n'),
        ("", f'role_arn = "{ROLE}"\nsession_name = "{"c" * 64}"\nexternal_id = "{"x" * 1224}"\n'),
        ("", f'role_arn = "{ROLE}"\nsession_name = "ci"\nexternal_id = "ab"\n'),
        (f'account_id = "{ACCOUNT}"', ""),
        ("", ""),
    ],
    ids=["account and role", "role with a path", "longest", "shortest", "account only", "none"],
)
def test_accounts_and_roles_at_their_limits_are_accepted(tmp_path, top, role):
    load_config(dev_with(tmp_path, top, role))


def synthesized_provider(tmp_path: Path, config: Path) -> tuple[dict, str]:
    completed = subprocess.run(
        [sys.executable, "main.py", "--config", str(config), "--outdir", str(tmp_path / "out")],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr
    stack = json.loads((tmp_path / "out" / "stacks" / "dev" / "cdk.tf.json").read_text())
    (provider,) = stack["provider"]["aws"]
    return provider, completed.stderr


def test_the_provider_allows_only_the_account_and_assumes_the_role_as_written(tmp_path):
    folder = tmp_path / "config"
    folder.mkdir()
    role = f'role_arn = "{ROLE}"\nsession_name = "ci@Run=1"\nexternal_id = "a:b/c"\n'
    dev_with(folder, f'account_id = "{ACCOUNT}"', role)
    provider, _ = synthesized_provider(tmp_path, folder)
    assert provider["allowed_account_ids"] == [ACCOUNT]
    assert provider["assume_role"] == [
        {"role_arn": ROLE, "session_name": "ci@Run=1", "external_id": "a:b/c"}
    ]


def test_the_placeholder_is_rendered_as_written_and_synthesis_warns_once(tmp_path):
    folder = tmp_path / "config"
    folder.mkdir()
    (folder / "dev.toml").write_text(DEV)
    provider, warnings = synthesized_provider(tmp_path, folder)
    # No account has this id: Terraform refuses every account (tests/test_account_guard.py).
    assert provider["allowed_account_ids"] == ["000000000000"]
    assert "assume_role" not in provider
    (line,) = [line for line in warnings.splitlines() if "account_id" in line]
    assert line.startswith(f"{folder / 'dev.toml'}: account_id: warning: ")
    assert "000000000000" in line and "Terraform refuses to plan or apply" in line


def test_check_refuses_the_placeholder_in_one_line_per_file(tmp_path):
    """`make check` on the shipped files: each is refused, naming the file and the key."""
    result = subprocess.run(
        [sys.executable, "main.py", "--check"], cwd=REPO_ROOT, capture_output=True, text=True
    )
    assert result.returncode == 2
    assert result.stdout == ""
    shipped = sorted(CONFIG_DIR.glob("*.toml"))
    assert [line.split(": ", 2)[:2] for line in result.stderr.splitlines()] == [
        [f"config/{path.name}", "account_id"] for path in shipped
    ]
    assert all("000000000000" in line for line in result.stderr.splitlines())
    assert "Traceback" not in result.stderr


def test_without_an_account_the_provider_allows_any(tmp_path):
    folder = tmp_path / "config"
    folder.mkdir()
    dev_with(folder, "")
    provider, _ = synthesized_provider(tmp_path, folder)
    assert "allowed_account_ids" not in provider
