"""docs/operating.md backs each section with tests: every test it names exists."""

import ast
import re

from tests.support import REPO_ROOT

DOC = REPO_ROOT / "docs" / "operating.md"
CITED = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")


def test_every_cited_test_exists():
    cited = CITED.findall(DOC.read_text())
    assert cited, "docs/operating.md names no test"
    for path, name in cited:
        tree = ast.parse((REPO_ROOT / path).read_text())
        names = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
        assert name in names, f"{path}::{name} is cited by docs/operating.md but does not exist"


def test_each_operating_topic_is_backed():
    text = DOC.read_text()
    for heading in (
        "## What pages whom",
        "## How a release rolls forward",
        "## How to roll back by hand",
        "## How to attach a domain",
        "## How to add a secret",
    ):
        section = text.split(heading, 1)[1].split("\n## ", 1)[0]
        assert CITED.search(section), f"{heading}: no test named"


def alarm_table() -> dict[str, tuple[bool, str, str]]:
    """The alarm table's rows: name pattern -> (rolls back, what fires it, what to do)."""
    text = DOC.read_text()
    table = text.split("<!-- alarm-table:start -->", 1)[1].split("<!-- alarm-table:end -->")[0]
    rows = {}
    for line in table.strip().splitlines()[2:]:
        name, rolls_back, fires, what_to_do = [cell.strip() for cell in line.strip("|").split("|")]
        rows[name.strip("`")] = (rolls_back == "yes", fires, what_to_do)
    return rows


def test_alarm_table_is_each_alarms_description(stacks):
    """Every alarm of the shipped stacks has its row, whose runbook line is the alarm's own
    description, and "Rolls back" says whether its function's deployment group holds it."""
    rows = alarm_table()
    # Longest suffix first: `-api-5xx` and `-elb-5xx` before the target group's `-5xx`.
    suffixes = sorted(rows, key=lambda name: -len(name.split(">", 1)[1]))
    used = set()
    for stack in stacks.values():
        rolled_back = {
            reference
            for group in stack["resource"]["aws_codedeploy_deployment_group"].values()
            for reference in group["alarm_configuration"]["alarms"]
        }
        for rid, alarm in stack["resource"]["aws_cloudwatch_metric_alarm"].items():
            [row] = [s for s in suffixes if alarm["alarm_name"].endswith(s.split(">", 1)[1])][:1]
            used.add(row)
            rolls_back, fires, what_to_do = rows[row]
            assert alarm["alarm_description"].endswith(f" Fires when {fires}. Do: {what_to_do}.")
            reference = f"${{aws_cloudwatch_metric_alarm.{rid}.alarm_name}}"
            assert (reference in rolled_back) is rolls_back, alarm["alarm_name"]
    assert used == set(rows)
