"""README.md and docs/*.md name only what exists, and the README's recipes run as written.

Checked in every page: each relative link (and its #anchor) resolves, each `make <target>` is
a rule of the Makefile, each `python -m scripts.<name>` is a script, each repository path in
backticks exists, and each `tests/<module>.py::<test>` is a test. Paths the recipes tell the
reader to create are the only ones allowed to be missing (EXAMPLES).
"""

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import REPO_ROOT, with_test_account

PAGES = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
# What the recipes ask the reader to create, or name as a made-up example.
EXAMPLES = ("functions/orders/", "functions/report/", "config/staging.toml", "demo/")
# Folders and files of the repository a page may name; anything else in backticks (generated
# folders such as cdktf.out/, AWS names, URLs) is not a repository path.
TOP_LEVEL = (
    ".ci/",
    ".github/",
    "config/",
    "constructs_lib/",
    "docs/",
    "fast_synth/",
    "frameworks/",
    "functions/",
    "lambda/",
    "scripts/",
    "serverless_app/",
    "tests/",
    "tools/",
)
TOP_LEVEL_FILES = {
    ".checkov.yaml",
    ".pre-commit-config.yaml",
    "CHANGELOG.md",
    "Makefile",
    "Pipfile",
    "Pipfile.lock",
    "README.md",
    "cdktf.json",
    "main.py",
    "package-lock.json",
    "package.json",
    "pyproject.toml",
}
_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)|!\[[^\]]*\]\(([^)\s]+)\)")
_CODE_SPAN = re.compile(r"`([^`\n]+)`")
# `make X` where a command starts: a line or span, after `$ `, `;`, `&&` or `(`.
_MAKE = re.compile(r"(?:^|\$ |; |&& |\()make ([a-z][\w-]*)", re.MULTILINE)
_SCRIPT = re.compile(r"python -m scripts\.(\w+)")
_TEST = re.compile(r"(tests/[\w/]+\.py)::(\w+)")
_RULE = re.compile(r"^([a-z][\w-]*):(?!=)", re.MULTILINE)


def page_id(page: Path) -> str:
    return str(page.relative_to(REPO_ROOT))


def github_anchor(heading: str) -> str:
    """The fragment GitHub gives a heading: lowercase, punctuation dropped, spaces to `-`."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.DOTALL)
    return {github_anchor(line.lstrip("#")) for line in text.splitlines() if line.startswith("#")}


def links(page: Path) -> list[str]:
    return [a or b for a, b in _LINK.findall(page.read_text())]


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_relative_link_and_anchor_resolves(page):
    broken = []
    for target in links(page):
        if re.match(r"[a-z]+:", target):  # https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists():
            broken.append(target)
        elif not linked.is_relative_to(REPO_ROOT):
            broken.append(f"{target} (outside the repository)")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            broken.append(f"{target} (no such heading)")
    assert broken == [], f"{page_id(page)}: broken links"


def code(text: str) -> str:
    """The code of a page, fenced blocks and spans, where commands are written."""
    blocks = re.findall(r"```.*?```", text, flags=re.DOTALL)
    spans = _CODE_SPAN.findall(re.sub(r"```.*?```", "", text, flags=re.DOTALL))
    return "\n".join(line.strip() for line in "\n".join([*blocks, *spans]).splitlines())


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_make_target_named_is_a_makefile_rule(page):
    rules = set(_RULE.findall((REPO_ROOT / "Makefile").read_text()))
    named = set(_MAKE.findall(code(page.read_text())))
    assert named - rules == set(), f"{page_id(page)}: not targets of the Makefile"


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_script_named_exists(page):
    named = set(_SCRIPT.findall(page.read_text()))
    missing = {name for name in named if not (REPO_ROOT / "scripts" / f"{name}.py").is_file()}
    assert missing == set(), f"{page_id(page)}: no such scripts"


def repository_paths(text: str) -> set[str]:
    """Paths in backticks that name a file or folder of the repository (no placeholders)."""
    found = set()
    for span in _CODE_SPAN.findall(text):
        for word in span.split():
            word = word.strip("(),;:'\"").split("::")[0].split("#")[0]
            if re.search(r"[<>*{}$]|\.\.\.", word):
                continue
            if word in TOP_LEVEL_FILES or word.startswith(TOP_LEVEL):
                found.add(word)
    return found


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_repository_path_named_exists(page):
    named = repository_paths(page.read_text())
    missing = {
        path for path in named if not (REPO_ROOT / path).exists() and not path.startswith(EXAMPLES)
    }
    assert missing == set(), f"{page_id(page)}: no such files"


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_test_named_exists(page):
    missing = []
    for path, name in set(_TEST.findall(page.read_text())):
        module = REPO_ROOT / path
        source = module.read_text() if module.is_file() else ""
        if name not in {
            node.name for node in ast.parse(source).body if isinstance(node, ast.FunctionDef)
        }:
            missing.append(f"{path}::{name}")
    assert missing == [], f"{page_id(page)}: no such tests"


def test_the_path_finder_sees_paths_and_skips_placeholders():
    text = "`config/dev.toml`, `cdktf.out/stacks/dev`, `docs/<env>.png`, `make synth`, `main.py`"
    assert repository_paths(text) == {"config/dev.toml", "main.py"}


def test_headings_get_githubs_anchors_and_links_are_found(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "# Title\n\n## The function (`lambda/app.py`)\n\n```sh\n# not a heading\n```\n"
        "[a](#the-function-lambdaapppy) ![b](b.png) `make synth` and make it yours\n"
    )
    assert anchors(page) == {"title", "the-function-lambdaapppy"}
    assert links(page) == ["#the-function-lambdaapppy", "b.png"]
    assert _MAKE.findall(code(page.read_text())) == ["synth"]


# --- the README's recipes ----------------------------------------------------------------


def readme_section(heading: str) -> str:
    text = (REPO_ROOT / "README.md").read_text()
    return text.split(f"\n{heading}\n", 1)[1].split("\n## ", 1)[0].split("\n### ", 1)[0]


def code_blocks(text: str, language: str) -> list[str]:
    """Fenced blocks of one language, indentation (inside a list item) removed."""
    blocks = re.findall(rf"^( *)```{language}\n(.*?)^\1```", text, re.MULTILINE | re.DOTALL)
    return [re.sub(rf"^{indent}", "", body, flags=re.MULTILINE) for indent, body in blocks]


def commands(block: str) -> list[str]:
    """The commands of a shell block, comments left out."""
    lines = (line.split("#", 1)[0].strip() for line in block.splitlines())
    return [line for line in lines if line]


def test_the_two_commands_are_what_ci_runs():
    block = code_blocks(readme_section("## The two commands"), "sh")[0]
    ci_run = (REPO_ROOT / ".ci" / "run").read_text()
    assert commands(block) == re.findall(r"^make \w+$", ci_run, re.MULTILINE)
    assert commands(block) == ["make setup", "make test"]


def run_main(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO_ROOT / "main.py"), *arguments],
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_the_smallest_valid_file_passes_the_check(tmp_path):
    (block,) = code_blocks(readme_section("## Make it yours"), "toml")
    (tmp_path / "qa.toml").write_text(block)
    result = run_main("--check", "--config", str(tmp_path / "qa.toml"))
    assert (result.returncode, result.stderr) == (0, "")


def test_the_add_an_environment_recipe_gives_a_stack_folder(tmp_path):
    """Run in a copy of config/ as written: the copy passes the check beside the shipped
    files, and synthesizing it writes cdktf.out/stacks/staging/."""
    section = readme_section("### Add an environment")
    (recipe,) = code_blocks(section, "sh")
    shutil.copytree(REPO_ROOT / "config", tmp_path / "config")
    subprocess.run(["bash", "-euc", recipe], cwd=tmp_path, check=True, timeout=60)
    assert "`make check`" in section and "`make synth`" in section
    staging = tmp_path / "config" / "staging.toml"
    # The step the section asks for: the check refuses the placeholder account until it is set.
    refused = run_main("--check", "--config", str(tmp_path / "config"))
    assert refused.returncode == 2
    assert f"{staging}: account_id: " in refused.stderr
    assert "set `account_id`" in section
    for file in (tmp_path / "config").glob("*.toml"):
        file.write_text(with_test_account(file.read_text()))
    check = run_main("--check", "--config", str(tmp_path / "config"))
    assert check.returncode == 0, check.stderr
    assert "config/staging.toml: staging ok" in check.stdout
    out = tmp_path / "cdktf.out"
    synth = run_main("--config", str(tmp_path / "config" / "staging.toml"), "--outdir", str(out))
    assert synth.returncode == 0, synth.stderr
    assert (out / "stacks" / "staging" / "cdk.tf.json").is_file()


def test_the_unknown_function_message_in_functions_md_is_what_check_prints(tmp_path):
    """docs/functions.md quotes the line `make check` prints for a route naming no function:
    a typo in the shipped dev file's last route, run here."""
    dev = (REPO_ROOT / "config" / "dev.toml").read_text()
    last_route = dev.rindex("[[routes]]")
    function = re.compile(r'^function = "[\w-]+"', re.MULTILINE)
    typo = dev[:last_route] + function.sub('function = "reprot"', dev[last_route:], count=1)
    config = tmp_path / "config"
    config.mkdir()
    (config / "dev.toml").write_text(typo)
    result = run_main("--check", "--config", str(config / "dev.toml"))
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    quoted = line.replace(str(config / "dev.toml"), "config/dev.toml")
    assert f"(`{quoted}`)" in (REPO_ROOT / "docs" / "functions.md").read_text()
