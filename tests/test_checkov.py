"""The security gate: checkov on every synthesized stack, with only the documented skips and
the waivers each environment's file chooses."""

import json
import re
import subprocess
import tomllib
from pathlib import Path

import pytest

from scripts.checkov_gate import CHECKOV, CONFIG, WAIVABLE, judge, main, scan, verdict
from serverless_app.config import StackConfig, load_config
from tests.support import (
    ENVIRONMENT_FILES,
    ENVIRONMENTS,
    REPO_ROOT,
    file_values,
    name_prefix,
    resources,
    synth_config,
)
from tests.terraform_cycle import merged, toml_text

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


def environment(path: Path) -> tuple[Path, StackConfig]:
    return path, load_config(path)


def variant(folder: Path, base: Path, changes: dict) -> Path:
    """`base` with `changes` merged in, written as `folder/<base's name>`."""
    folder.mkdir(exist_ok=True)
    path = folder / base.name
    path.write_text(toml_text(merged(tomllib.loads(base.read_text()), changes)))
    return path


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_stack_passes_checkov(stack_dirs, env):
    assert judge(stack_dirs[env], environment(ENVIRONMENT_FILES[env])).failed == []


def test_shipped_dev_fails_only_the_year_of_retention_its_file_gives_up(stacks, stack_dirs):
    days = file_values(ENVIRONMENT_FILES["dev"])["logs"]["retention_days"]
    assert days < 365  # checkov's CKV_AWS_338 wants a year
    result = judge(stack_dirs["dev"], environment(ENVIRONMENT_FILES["dev"]))
    log_groups = resources(stacks["dev"], "aws_cloudwatch_log_group")
    assert sorted(result.waived) == sorted(
        f"CKV_AWS_338 aws_cloudwatch_log_group.{name}" for name in log_groups
    )
    for reason in result.waived.values():
        assert reason.startswith(f"logs.retention_days = {days} in ")
        assert reason.endswith("dev.toml")


def test_prod_waives_nothing(stack_dirs):
    assert judge(stack_dirs["prod"], environment(ENVIRONMENT_FILES["prod"])).waived == {}


# dev with every waivable choice made, and the same stack judged against a file that makes none.
CHEAP = {"vpc": {"flow_logs": "none"}, "functions": {"escape": {"in_vpc": False}}}
STRICT = {
    "vpc": {"flow_logs": "ALL"},
    "logs": {"retention_days": 365},
    "functions": {"escape": {"in_vpc": True}},
}


@pytest.fixture(scope="module")
def cheap_dev(tmp_path_factory) -> tuple[Path, Path, dict]:
    """(config folder, stack folder `dev`, JSON) of dev with CHEAP."""
    base = tmp_path_factory.mktemp("cheap")
    config = variant(base / "config", ENVIRONMENT_FILES["dev"], CHEAP)
    document = synth_config(load_config(config))
    stack = base / "stacks" / "dev"
    stack.mkdir(parents=True)
    (stack / "cdk.tf.json").write_text(json.dumps(document))
    return config.parent, stack, document


def chosen_failures(document: dict) -> dict[str, str]:
    """The failures CHEAP's choices cause in `document`, each with the key and value that
    chose it."""
    escape_name = f"{name_prefix(ENVIRONMENT_FILES['dev'])}-escape"
    (escape,) = [
        name
        for name, body in resources(document, "aws_lambda_function").items()
        if body["function_name"] == escape_name
    ]
    (vpc,) = resources(document, "aws_vpc")
    days = file_values(ENVIRONMENT_FILES["dev"])["logs"]["retention_days"]
    return {
        f"CKV2_AWS_11 aws_vpc.{vpc}": 'vpc.flow_logs = "none"',
        f"CKV_AWS_117 aws_lambda_function.{escape}": "functions.escape.in_vpc = false",
        **{
            f"CKV_AWS_338 aws_cloudwatch_log_group.{name}": f"logs.retention_days = {days}"
            for name in resources(document, "aws_cloudwatch_log_group")
        },
    }


def test_gate_waives_exactly_what_the_file_chose_and_says_which_key(cheap_dev, capsys):
    config_folder, stack, document = cheap_dev
    assert main(["--config", str(config_folder), str(stack)]) == 0
    printed = capsys.readouterr().out.splitlines()
    expected = chosen_failures(document)
    assert printed[:2] == [
        "dev: 0 failed checks",
        f"dev: {len(expected)} waived by a documented choice of its file",
    ]
    waived = dict(line.strip().split(": ", 1) for line in printed[2:])
    assert waived == {
        line: f"{reason} in {config_folder / 'dev.toml'}" for line, reason in expected.items()
    }


def test_the_same_stack_fails_when_its_file_chose_otherwise(cheap_dev, tmp_path, capsys):
    _, stack, document = cheap_dev
    strict = variant(tmp_path, ENVIRONMENT_FILES["dev"], merged(CHEAP, STRICT))
    assert main(["--config", str(strict.parent), str(stack)]) == 1
    printed = capsys.readouterr().out.splitlines()
    expected = chosen_failures(document)
    assert printed[0] == f"dev: {len(expected)} failed checks"
    assert sorted(line.strip() for line in printed[1:]) == sorted(expected)


def test_a_bad_environment_file_stops_the_gate_with_one_line(tmp_path, capsys):
    bad = variant(tmp_path, ENVIRONMENT_FILES["dev"], {"vpc": {"flow_logs": True}})
    assert main(["--config", str(bad), str(tmp_path)]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"{bad}: vpc.flow_logs: ")


# A stack with one resource for every waivable check and a second one that no choice covers,
# and a check no file can waive.
DEV_PREFIX = name_prefix(ENVIRONMENT_FILES["dev"])
DOCUMENT = {
    "resource": {
        "aws_vpc": {"vpc": {}},
        "aws_cloudwatch_log_group": {
            "short": {"retention_in_days": 30},
            "shorter": {"retention_in_days": 7},
        },
        "aws_lambda_function": {
            "escape": {"function_name": f"{DEV_PREFIX}-escape"},
            "hello": {"function_name": f"{DEV_PREFIX}-hello"},
        },
        "aws_lambda_function_url": {
            "open": {"function_name": f"{DEV_PREFIX}-escape", "authorization_type": "NONE"},
        },
        "aws_dynamodb_table": {"table": {}},
    }
}
FAILURES = [
    "CKV2_AWS_11 aws_vpc.vpc",
    "CKV_AWS_338 aws_cloudwatch_log_group.short",
    "CKV_AWS_338 aws_cloudwatch_log_group.shorter",
    "CKV_AWS_117 aws_lambda_function.escape",
    "CKV_AWS_117 aws_lambda_function.hello",
    "CKV_AWS_258 aws_lambda_function_url.open",
    "CKV_AWS_28 aws_dynamodb_table.table",
]
OPEN_URL = {"auth": "NONE", "public_reason": "escape echoes its input, escaped, and reads nothing"}


@pytest.mark.parametrize(
    ("changes", "waived"),
    [
        ({"logs": {"retention_days": 30}}, ["CKV_AWS_338 aws_cloudwatch_log_group.short"]),
        ({"logs": {"retention_days": 365}}, []),
        ({"logs": {"retention_days": 365}, "vpc": {"flow_logs": "REJECT"}}, []),
        (
            {"logs": {"retention_days": 365}, "vpc": {"flow_logs": "none"}},
            ["CKV2_AWS_11 aws_vpc.vpc"],
        ),
        (
            {"logs": {"retention_days": 365}, "functions": {"escape": {"in_vpc": False}}},
            ["CKV_AWS_117 aws_lambda_function.escape"],
        ),
        (
            {"logs": {"retention_days": 365}, "functions": {"hello": {"in_vpc": False}}},
            ["CKV_AWS_117 aws_lambda_function.hello"],
        ),
        (
            {"logs": {"retention_days": 365}, "functions": {"escape": {"url": OPEN_URL}}},
            ["CKV_AWS_258 aws_lambda_function_url.open"],
        ),
        (
            {
                "logs": {"retention_days": 365},
                "functions": {"hello": {"url": OPEN_URL}, "escape": {"url": {"auth": "AWS_IAM"}}},
            },
            [],
        ),
    ],
    ids=[
        "retention",
        "a-year",
        "reject-only",
        "no-flow-log",
        "escape-outside",
        "hello-outside",
        "escape-open-url",
        "another-open-url",
    ],
)
def test_each_choice_waives_its_check_on_its_resources_only(tmp_path, changes, waived):
    config = variant(tmp_path, ENVIRONMENT_FILES["dev"], changes)
    result = verdict(FAILURES, DOCUMENT, environment(config))
    assert sorted(result.waived) == sorted(waived)
    assert result.failed == [line for line in FAILURES if line not in waived]


def test_without_an_environment_file_nothing_is_waived():
    assert verdict(FAILURES, DOCUMENT, None).failed == FAILURES


def test_every_waivable_check_and_its_key_are_documented():
    security_page = (REPO_ROOT / "docs" / "security.md").read_text()
    skipped = suppressions()
    for check in WAIVABLE:
        assert check.check_id not in skipped, "skipped for every stack: nothing left to waive"
        assert re.search(rf"\| `{check.check_id}`[^\n]*`{re.escape(check.key)}", security_page), (
            check.check_id
        )


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
