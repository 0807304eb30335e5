"""Files no sensible configuration looks like: values nested or sized past what Python reads,
handler modules Python cannot parse, paths that loop, dependency files that are not pinned.
Each must end as one short line naming the file and the key, never as a traceback."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from serverless_app.config import BootstrapConfig, ConfigError, load_config
from serverless_app.config.loading import shown_value
from tests.support import CONFIG_DIR, REPO_ROOT

DEV = (CONFIG_DIR / "dev.toml").read_text()
BOOTSTRAP = 'bucket_name = "my-org-terraform-state"\n'
# Longer than any problem line needs: a line that needs scrolling is a bug.
LONGEST_LINE = 400


def problems(path: Path, model: type[BootstrapConfig] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as error:
        load_config(path) if model is None else load_config(path, model)
    return error.value.problems


def written(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "env.toml"
    path.write_text(text)
    return path


def deep(opening: str, closing: str, levels: int, inner: str = "1") -> str:
    return opening * levels + inner + closing * levels


# (text appended to a valid file, the key reported, the message)
TOO_DEEP = "nested more than 32 levels deep; no key of the configuration nests that deep"
TOO_LONG = "an integer of 5,000 digits; no setting takes a number anywhere near that large"
DEEP_PATH = "zz" + "[0]" * 32
TEXT_CASES = {
    # tomllib itself recurses once per level and gives up a few hundred levels down.
    "array 2000 levels deep": (f"zz = {deep('[', ']', 2000)}\n", DEEP_PATH, TOO_DEEP),
    "array 40 levels deep": (f"zz = {deep('[', ']', 40)}\n", DEEP_PATH, TOO_DEEP),
    "inline table 2000 levels deep": (
        f"zz = {deep('{a = ', '}', 2000)}\n",
        "zz" + ".a" * 32,
        TOO_DEEP,
    ),
    # Read without recursion, but validating or printing it would recurse.
    "table header 5000 levels deep": (
        "[" + ".".join(["t"] * 5000) + "]\n",
        ".".join(["t"] * 33),
        TOO_DEEP,
    ),
    "deep array after brackets in strings and comments": (
        f'# [[[[\nzz = ["[[[", \'{{{{\', """]]\n]]""", {deep("[", "]", 600)}]\n',
        "zz[3]" + "[0]" * 31,
        TOO_DEEP,
    ),
    "integer of 5000 digits": (
        "account_concurrency = 1" + "0" * 4999 + "\n",
        "account_concurrency",
        TOO_LONG,
    ),
    "negative integer with underscores in an array": (
        "zz = [1, -" + "1_" * 4999 + "1]\n",
        "zz[1]",
        "an integer of 5,000 digits; no setting takes a number anywhere near that large",
    ),
}


@pytest.mark.parametrize(("added", "key", "message"), TEXT_CASES.values(), ids=list(TEXT_CASES))
def test_values_python_cannot_read_are_one_line_naming_the_key(tmp_path, added, key, message):
    # Added at the top, before the first table, so that a key lands at the top level.
    path = written(tmp_path, added + DEV)
    assert problems(path) == [f"{path}: {key}: {message}"]


def test_the_bootstrap_file_reports_them_alike(tmp_path):
    path = written(tmp_path, f"tags = {deep('{a = ', '}', 1000)}\n" + BOOTSTRAP)
    assert problems(path, BootstrapConfig) == [f"{path}: tags{'.a' * 32}: {TOO_DEEP}"]
    path.write_text(BOOTSTRAP + "noncurrent_version_expiration_days = " + "9" * 5000 + "\n")
    assert problems(path, BootstrapConfig) == [
        f"{path}: noncurrent_version_expiration_days: "
        "an integer of 5,000 digits; no setting takes a number anywhere near that large"
    ]


def test_a_long_digit_run_inside_a_string_or_key_is_no_integer(tmp_path):
    """Only values are read as integers: a key or a string of digits is left alone."""
    digits = "1" * 5000
    path = written(tmp_path, f'{digits} = "{digits}"\n' + DEV)
    [line] = problems(path)
    assert line.startswith(f"{path}: 1111") and ": unknown key (given: '1111" in line


def test_a_syntax_error_in_a_file_tomllib_cannot_follow_says_invalid_toml(tmp_path):
    path = written(tmp_path, f"zz = {deep('[', ']', 600)}\nbroken = = 1\n" + DEV)
    [line] = problems(path)
    assert line.startswith(f"{path}: invalid TOML: ") and "line 2" in line


def test_main_reports_them_without_a_traceback(tmp_path):
    environment = written(tmp_path, "account_concurrency = 1" + "0" * 4999 + "\n" + DEV)
    bootstrap = tmp_path / "state.toml"
    bootstrap.write_text(f"tags = {deep('[', ']', 3000)}\n" + BOOTSTRAP)
    runs = [
        ["--check", "--config", str(environment)],
        ["--config", str(environment), "--outdir", str(tmp_path / "out")],
        ["--bootstrap", "--config", str(bootstrap), "--outdir", str(tmp_path / "boot")],
    ]
    for arguments in runs:
        result = subprocess.run(
            [sys.executable, "main.py", *arguments],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 2, result.stderr
        assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["env.toml", "state.toml"]


# --- what a problem line echoes -------------------------------------------------------------


def nested_list(levels: int) -> list:
    value: list = []
    for _ in range(levels):
        value = [value]
    return value


ECHOES = {
    "short value as repr": ("a", "'a'"),
    "5 MB string": ("x" * 5_000_000, "'" + "x" * 60 + "'... (5,000,000 characters)"),
    "integer of 5000 digits": (10**4999, "an integer of 5,000 digits"),
    "negative integer of 5000 digits": (-(10**4999), "a negative integer of 5,000 digits"),
    "integer of 30 digits": (10**29, "1" + "0" * 29),
    "101 routes": (
        [{"method": "GET", "path": "/hello"}] * 101,
        "[{'method': 'GET', 'path': '/hello'}, {'method': 'GET', 'path': '/hello'}, "
        "{'method': 'GET', 'path': '/hello'}, ... (98 more)]",
    ),
    "list nested 1000 levels": (nested_list(1000), "[[[[... 1 item]]]]"),
    "table with a 200-character key": (
        {"k" * 200: "v"},
        "{'" + "k" * 60 + "'... (200 characters): 'v'}",
    ),
}


@pytest.mark.parametrize(("value", "echoed"), ECHOES.values(), ids=list(ECHOES))
def test_a_problem_line_echoes_a_bounded_part_of_the_value(value, echoed):
    assert shown_value(value) == echoed


def test_a_huge_value_in_a_file_gives_a_line_that_fits_a_terminal(tmp_path):
    routes = "".join(
        f'[[routes]]\nmethod = "GET"\npath = "/r{n}"\nfunction = "hello"\n' for n in range(101)
    )
    text = DEV.split("[[routes]]")[0] + routes
    text = text.replace("[tags]", f'[tags]\nNotes = "{"é" * 2_000_000}"\n', 1)
    path = written(tmp_path, text)
    lines = problems(path)
    assert [line.split(": ")[1] for line in lines] == ["tags.Notes", "routes"]
    assert all(len(line) - len(str(path)) < LONGEST_LINE for line in lines), lines
    assert lines[0].endswith("... (2,000,000 characters))")
    assert lines[1].endswith("... (99 more)])")


def test_ten_thousand_bad_items_are_fifty_lines_and_a_count(tmp_path):
    addresses = ", ".join(['"oncall"'] * 10_000)
    path = written(tmp_path, DEV.replace("email = []", f"email = [{addresses}]"))
    lines = problems(path)
    assert len(lines) == 51
    assert [line.split(": ")[1] for line in lines[:3]] == [
        "alarms.email[0]",
        "alarms.email[1]",
        "alarms.email[2]",
    ]
    assert lines[-1] == (
        f"{path}: (top level): 9,950 more problems like the ones above; fix those and run again"
    )


# --- handler modules ------------------------------------------------------------------------

HANDLER_SOURCES = {
    "inside a top-level try": (
        "try:\n    import fast as speed\nexcept ImportError:\n"
        "    def handler(event, context):\n        return {}\n"
    ),
    "in the else of a top-level if": (
        "import os\nif os.environ.get('X'):\n    pass\nelse:\n"
        "    def handler(event, context):\n        return {}\n"
    ),
    "in a finally": "try:\n    pass\nfinally:\n    handler = print\n",
    "inside a top-level with": (
        "import contextlib\nwith contextlib.suppress(Exception):\n"
        "    from os import getcwd as handler\n"
    ),
    "nested if inside try": (
        "try:\n    if True:\n        async def handler(event, context):\n            return {}\n"
        "except Exception:\n    pass\n"
    ),
}


def handler_config(tmp_path: Path, source: str) -> Path:
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "app.py").write_text(source)
    return written(
        tmp_path,
        DEV.replace('source_dir = "lambda"', f'source_dir = "{folder}"', 1),
    )


@pytest.mark.parametrize("source", HANDLER_SOURCES.values(), ids=list(HANDLER_SOURCES))
def test_a_handler_bound_when_the_module_is_imported_is_found(tmp_path, source):
    config = load_config(handler_config(tmp_path, source))
    assert config.functions["hello"].handler == "app.handler"


UNPARSABLE = {
    # Python's own limits: compiling these fails as well, so Lambda could not import them.
    "200,000-term sum": "x = " + "+".join(["1"] * 200_000) + "\ndef handler(e, c): pass\n",
    "100,000 unary minus signs": "x = " + "-" * 100_000 + "1\ndef handler(e, c): pass\n",
}


@pytest.mark.parametrize("source", UNPARSABLE.values(), ids=list(UNPARSABLE))
def test_a_module_python_cannot_parse_is_reported_on_the_handler(tmp_path, source):
    with pytest.raises((RecursionError, MemoryError)):
        compile(source, "app.py", "exec")
    path = handler_config(tmp_path, source)
    assert problems(path) == [
        f"{path}: functions.hello.handler: cannot read the module: Python cannot parse it (an "
        "expression nested too deeply) in app.py (given: 'app.handler')"
    ]


def test_a_handler_defined_only_in_a_loop_or_function_is_not_top_level(tmp_path):
    path = handler_config(tmp_path, "for _ in []:\n    def handler(e, c): pass\n")
    [line] = problems(path)
    assert "no top-level function handler in app.py" in line


# --- paths that cannot be looked at ---------------------------------------------------------


def symlink_loop(tmp_path: Path) -> Path:
    loop = tmp_path / "loop"
    loop.symlink_to(tmp_path / "other")
    (tmp_path / "other").symlink_to(loop)
    return loop


def deep_folder(tmp_path: Path) -> Path:
    """A path of a usable length whose resolved form, through a link, is longer than any the
    file system looks up."""
    link = tmp_path / "long"
    link.symlink_to(Path("/").joinpath(*["d" * 200] * 19))
    return link / ("e" * 200) / ("e" * 200)


PATH_CASES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "symbolic link loop": (symlink_loop, "cannot use this path: it runs into a symbolic link loop"),
    "a link to a path too long to look up": (
        deep_folder,
        "cannot use this path: File name too long",
    ),
}


@pytest.mark.parametrize("key", ["source_dir", "dependencies"])
@pytest.mark.parametrize(("make", "message"), PATH_CASES.values(), ids=list(PATH_CASES))
def test_a_path_that_cannot_be_looked_at_is_reported_on_its_key(tmp_path, key, make, message):
    target = make(tmp_path)
    given = str(target / "requirements.txt") if key == "dependencies" else str(target)
    text = DEV.replace(
        'source_dir = "lambda"' if key == "source_dir" else "[functions.hello.grants]",
        f'source_dir = "{given}"'
        if key == "source_dir"
        else f'dependencies = "{given}"\n\n[functions.hello.grants]',
        1,
    )
    path = written(tmp_path, text)
    [line] = problems(path)
    assert line.startswith(f"{path}: functions.hello.{key}: {message} (given: '"), line


# --- dependency files, read by the check ----------------------------------------------------

PINNED = "markupsafe==3.0.3\n"
DEPENDENCY_CASES = {
    "a range": ("requirements.txt", "flask>=3\n", "line 1: `flask>=3` is not pinned"),
    "a bare name after a pin": (
        "requirements.txt",
        PINNED + "# tools\nrequests\n",
        "line 3: `requests` is not pinned",
    ),
    "a wildcard version": ("requirements.txt", "flask==3.*\n", "line 1: `flask==3.*` is not"),
    "a direct URL": (
        "requirements.txt",
        "lib @ https://example.com/lib.whl\n",
        "line 1: `lib @ https://example.com/lib.whl` is not pinned",
    ),
    "two specifiers": (
        "requirements.txt",
        "flask==3.0,<4\n",
        "line 1: `flask==3.0,<4` is not pinned",
    ),
    "an include": ("requirements.txt", PINNED + "-r base.txt\n", "line 2: `-r` is not supported"),
    "a constraint file": (
        "requirements.txt",
        "--constraint=c.txt\n",
        "line 1: `--constraint` is not supported",
    ),
    "an editable install": ("requirements.txt", "-e ./lib\n", "line 1: `-e` is not supported"),
    "a uv lock without its project": (
        "uv.lock",
        "version = 1\n",
        "a uv project needs both pyproject.toml and uv.lock (run `uv lock`)",
    ),
    "a uv project without its lock": (
        "pyproject.toml",
        '[project]\nname = "fn"\nversion = "0"\n',
        "a uv project needs both pyproject.toml and uv.lock",
    ),
}


@pytest.mark.parametrize(
    ("name", "text", "message"), DEPENDENCY_CASES.values(), ids=list(DEPENDENCY_CASES)
)
def test_check_refuses_dependency_files_that_drift_and_says_how_to_pin(
    tmp_path, name, text, message
):
    folder = tmp_path / "deps"
    folder.mkdir()
    (folder / name).write_text(text)
    dependency = str(folder / name)
    path = written(
        tmp_path,
        DEV.replace(
            'dependencies = "functions/hello_deps/requirements.txt"',
            f'dependencies = "{dependency}"',
        ),
    )
    [line] = problems(path)
    assert line.startswith(f"{path}: functions.escape.dependencies: {message}"), line
    assert line.endswith(f"(given: {dependency!r})")
    if "not pinned" in message:
        assert "write name==version for every package" in line


PINNED_FILES = {
    "hashes over continuation lines": (
        "markupsafe==3.0.3 \\\n    --hash=sha256:"
        + "a" * 64
        + " \\\n    --hash=sha256:"
        + "b" * 64
        + "\n"
    ),
    "extras, markers and comments": (
        "# pinned by pip-compile\nrequests[socks]==2.32.3 ; python_version >= '3.11'  # http\n"
        "--only-binary=:all:\n\nidna===3.10\n"
    ),
}


@pytest.mark.parametrize("text", PINNED_FILES.values(), ids=list(PINNED_FILES))
def test_check_accepts_pinned_requirements(tmp_path, text):
    (tmp_path / "requirements.txt").write_text(text)
    dependency = str(tmp_path / "requirements.txt")
    config = load_config(
        written(
            tmp_path,
            DEV.replace(
                'dependencies = "functions/hello_deps/requirements.txt"',
                f'dependencies = "{dependency}"',
            ),
        )
    )
    assert config.functions["escape"].dependencies == dependency
