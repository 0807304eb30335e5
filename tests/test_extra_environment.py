"""A team adds environment files to config/: the check, the synthesis and the tests follow the
files that are there. Beside the shipped files: a copy of dev under another env (`staging`), and
tests/config/sandbox.toml, which declares none of the data and events the shipped files do.
The tests read each file's own values, never dev's as every environment's: copied into
config/, these two leave the suite passing (docs/tests.md says how to run that).
"""

from __future__ import annotations

import json
import re
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

SANDBOX = REPO_ROOT / "tests" / "config" / "sandbox.toml"


def staging_text() -> str:
    """The shipped dev file under env `staging`, naming the test account."""
    dev = with_test_account((CONFIG_DIR / "dev.toml").read_text())
    staging, count = re.subn(r'^env = "dev"', 'env = "staging"', dev, flags=re.MULTILINE)
    assert count == 1
    return staging


@pytest.fixture
def config_with_extras(tmp_path) -> Path:
    """A copy of config/ with the two extra environments in it."""
    folder = tmp_path / "config"
    folder.mkdir()
    for shipped in CONFIG_DIR.glob("*.toml"):
        checkable_copy(shipped, folder / shipped.name)
    (folder / "staging.toml").write_text(staging_text())
    checkable_copy(SANDBOX, folder / "sandbox.toml")
    return folder


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
