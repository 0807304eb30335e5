"""docs/operating.md backs each section with tests: every test it names exists, and the
README links the page."""

import ast
import re

from tests.support import REPO_ROOT

DOC = REPO_ROOT / "docs" / "operating.md"
CITED = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")


def test_every_cited_test_exists():
    cited = CITED.findall(DOC.read_text())
    assert len(cited) >= 20
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


def test_readme_links_operating_it():
    assert "[Operating it](docs/operating.md)" in (REPO_ROOT / "README.md").read_text()
