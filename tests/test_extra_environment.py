"""A team adds environment files to config/: the check, the synthesis and the tests follow the
files that are there. Beside the shipped files: a copy of dev under another env (`staging`), and
tests/config/sandbox.toml, which declares none of the data and events the shipped files do.
The tests read each file's own values, never dev's as every environment's: copied into
config/, these two leave the suite passing (docs/tests.md says how to run that).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

import main
from tests.support import (
    CONFIG_DIR,
    ENVIRONMENT_FILES,
    REPO_ROOT,
    checkable_copy,
    environment_files,
    resources,
    with_test_account,
)
from tests.test_docs import code_blocks

SANDBOX = REPO_ROOT / "tests" / "config" / "sandbox.toml"


def documented_recipe() -> str:
    """The commands docs/tests.md gives to add the two environments to config/."""
    text = (REPO_ROOT / "docs" / "tests.md").read_text()
    [recipe] = [block for block in code_blocks(text, "sh") if "sandbox.toml" in block]
    return recipe


@pytest.fixture
def config_with_extras(tmp_path) -> Path:
    """A copy of config/ with the two environments added by the documented recipe, every file
    naming the test account."""
    shutil.copytree(CONFIG_DIR, tmp_path / "config")
    (tmp_path / "tests" / "config").mkdir(parents=True)
    shutil.copy(SANDBOX, tmp_path / "tests" / "config")
    subprocess.run(["bash", "-euc", documented_recipe()], cwd=tmp_path, check=True, timeout=60)
    for file in (tmp_path / "config").glob("*.toml"):
        file.write_text(with_test_account(file.read_text()))
    return tmp_path / "config"


def test_the_tests_environments_are_the_files_in_the_folder(config_with_extras):
    found = environment_files(config_with_extras)
    assert set(found) == {*ENVIRONMENT_FILES, "staging", "sandbox"}
    assert found["sandbox"].name == "sandbox.toml" and found["staging"].name == "staging.toml"


def test_the_extra_environments_pass_the_check_beside_the_shipped_ones(config_with_extras, capsys):
    assert main.main(["--check", "--config", str(config_with_extras)]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert sorted(captured.out.splitlines()) == sorted(
        f"{path}: {env} ok" for env, path in environment_files(config_with_extras).items()
    )


def test_an_environment_without_data_or_events_synthesizes_none(tmp_path):
    config = checkable_copy(SANDBOX, tmp_path / "sandbox.toml")
    out = tmp_path / "cdktf.out"
    assert main.main(["--config", str(config), "--outdir", str(out)]) == 0
    stack = json.loads((out / "stacks" / "sandbox" / "cdk.tf.json").read_text())
    for absent in (
        "aws_dynamodb_table",
        "aws_cloudwatch_event_rule",
        "aws_scheduler_schedule",
        "aws_lambda_event_source_mapping",
        "aws_sns_topic_subscription",
        "aws_cognito_user_pool",
    ):
        assert resources(stack, absent) == {}, absent
    # The function's own dead-letter queue is the only queue; the alarm topic the only topic.
    assert [queue["name"] for queue in resources(stack, "aws_sqs_queue").values()] == [
        "hello-sandbox-escape-dlq"
    ]
    assert [topic["name"] for topic in resources(stack, "aws_sns_topic").values()] == [
        "hello-sandbox-alarms"
    ]
