"""Third-party dependencies of a Lambda function, installed for Lambda, cached by content.

A function may name one dependency file: a pinned `requirements.txt`, or a uv project's
`uv.lock` / `pyproject.toml` (exported to requirements by `uv`, which must then be on PATH).
The requirements are installed with the running interpreter's pip, from wheels only, for the
function's runtime and architecture rather than for the machine that synthesizes, into a cache
folder keyed by the dependency file's content, the runtime and the architecture. A second
synth with the same key finds the folder and never runs pip: it works offline.

The installed tree is normalized so it depends only on the wheels: no byte-code, no console
scripts (their first line names the building interpreter) and no RECORD rows for them.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from constructs_lib.limits import LAMBDA_ARCHITECTURES, LAMBDA_PYTHON_RUNTIMES
from constructs_lib.packaging import PackagingError

# Amazon Linux 2 (python3.11) has glibc 2.26; Amazon Linux 2023 (python3.12+) has glibc 2.34.
_GLIBC_MINOR_BY_RUNTIME = {"python3.11": 26}
_DEFAULT_GLIBC_MINOR = 34
# manylinux2014 is glibc 2.17; pip expands it to the older manylinux2010 and manylinux1 itself.
_MANYLINUX2014_GLIBC_MINOR = 17
_MACHINE = {"x86_64": "x86_64", "arm64": "aarch64"}
REQUIREMENTS_NAMES = ("requirements.txt",)
UV_PROJECT_NAMES = ("uv.lock", "pyproject.toml")
# The dependency files a function may name: a pip requirements file or a uv / PEP 621 project.
DEPENDENCY_FILE_NAMES = (*REQUIREMENTS_NAMES, *UV_PROJECT_NAMES)
# Bumped when the installed layout changes, so old cache entries are not reused.
_CACHE_FORMAT = "lambda-deps-1"
CACHE_ENV = "LAMBDA_DEPS_CACHE"
DEFAULT_CACHE_DIR = Path(__file__).resolve().parent.parent / ".cache" / "lambda-deps"
# Never part of the installed tree: byte-code is machine-dependent, and console scripts start
# with the building interpreter's path and cannot run on Lambda anyway.
_DROPPED_TOP_LEVEL = ("bin",)


class DependencyError(PackagingError):
    """The function's dependencies cannot be installed."""


class NoWheelError(DependencyError):
    """A requirement has no wheel for the function's runtime and architecture."""


class HashMismatchError(DependencyError):
    """A downloaded file does not match the hash pinned in the requirements file."""


class UvNotFoundError(DependencyError):
    """A uv project was given but `uv` is not installed."""


@dataclass(frozen=True)
class Target:
    """Where the dependencies run: a Lambda runtime on one architecture."""

    runtime: str = "python3.13"
    architecture: str = "x86_64"

    def __post_init__(self) -> None:
        if self.runtime not in LAMBDA_PYTHON_RUNTIMES:
            raise DependencyError(
                f"runtime {self.runtime!r}: dependencies can be packaged for "
                f"{', '.join(LAMBDA_PYTHON_RUNTIMES)}"
            )
        if self.architecture not in LAMBDA_ARCHITECTURES:
            raise DependencyError(
                f"architecture {self.architecture!r}: expected one of "
                f"{', '.join(LAMBDA_ARCHITECTURES)}"
            )

    @property
    def python_version(self) -> str:
        return self.runtime.removeprefix("python")

    @property
    def abi(self) -> str:
        return "cp" + self.python_version.replace(".", "")

    @property
    def glibc(self) -> str:
        return f"2.{_GLIBC_MINOR_BY_RUNTIME.get(self.runtime, _DEFAULT_GLIBC_MINOR)}"

    @property
    def platforms(self) -> tuple[str, ...]:
        """Wheel platform tags Lambda can load, newest first. pip does not expand a
        `manylinux_2_NN` tag to older glibc levels, so every level is listed."""
        machine = _MACHINE[self.architecture]
        newest = _GLIBC_MINOR_BY_RUNTIME.get(self.runtime, _DEFAULT_GLIBC_MINOR)
        levels = range(newest, _MANYLINUX2014_GLIBC_MINOR, -1)
        return (
            *(f"manylinux_2_{minor}_{machine}" for minor in levels),
            f"manylinux2014_{machine}",
        )

    def describe(self) -> str:
        return f"{self.runtime} on {self.architecture} (manylinux, glibc <= {self.glibc})"


@dataclass(frozen=True)
class DependencySpec:
    """A dependency file and the files whose content decides what gets installed."""

    path: Path
    kind: str  # "requirements" or "uv"

    @property
    def inputs(self) -> tuple[Path, ...]:
        if self.kind == "requirements":
            return (self.path,)
        project = self.path.parent
        return (project / "pyproject.toml", project / "uv.lock")


def dependency_spec(path: Path) -> DependencySpec:
    """Recognize a dependency file by name and check it (`dependency_file_problem`)."""
    problem = dependency_file_problem(path)
    if problem is not None:
        raise DependencyError(f"{path}: {problem}")
    if path.name in UV_PROJECT_NAMES:
        return DependencySpec(path, "uv")
    return DependencySpec(path, "requirements")


def dependency_file_problem(path: Path) -> str | None:
    """Why `path` cannot be a function's dependency file, in one line saying how to fix it;
    None when it can. Reads the file: the configuration check and the synth refuse alike."""
    if not path.is_file():
        return "the function's dependency file does not exist"
    if path.name in UV_PROJECT_NAMES:
        project = DependencySpec(path, "uv")
        if not all(input.is_file() for input in project.inputs):
            # Without a lock, uv would resolve afresh and the package would drift over time.
            return "a uv project needs both pyproject.toml and uv.lock (run `uv lock`)"
        return None
    if not path.name.endswith(".txt"):
        return "expected a requirements file (*.txt), uv.lock or pyproject.toml"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return f"cannot read it: {getattr(error, 'strerror', None) or error}"
    return next(
        (
            f"line {number}: {problem}"
            for number, requirement in requirement_lines(text)
            if (problem := _requirement_problem(requirement)) is not None
        ),
        None,
    )


# Options that pull in another file, whose content the cache key would not cover.
_FILE_OPTIONS = ("-r", "--requirement", "-c", "--constraint", "-e", "--editable")
# `name[extras]==version` (or `===`), then environment markers; one exact version, no `*`.
_PINNED = re.compile(
    r"(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:\[[^\]]*\])?\s*"
    r"===?\s*[A-Za-z0-9!+._-]+\s*(?:;.*)?"
)
_HASH_OPTION = re.compile(r"\s--hash[=\s]\S+")
PIN_ADVICE = (
    "write name==version for every package, dependencies of dependencies too (`pip freeze` "
    "or `uv pip compile` write such a file); unpinned, the zip depends on the day it is built"
)


def requirement_lines(text: str) -> Iterator[tuple[int, str]]:
    """(first line number, logical line) of each requirement or option: continuation lines
    joined, comments and blank lines left out."""
    pending: list[str] = []
    start = 0
    for number, line in enumerate(text.splitlines(), start=1):
        start = start or number
        # pip: a comment starts at a `#` at the line's start or after whitespace.
        line = re.split(r"(?:^|\s)#", line, maxsplit=1)[0]
        if line.endswith("\\"):
            pending.append(line[:-1])
            continue
        logical = " ".join([*pending, line]).strip()
        if logical:
            yield start, logical
        pending, start = [], 0


def _requirement_problem(requirement: str) -> str | None:
    words = requirement.split()
    option = next((o for o in _FILE_OPTIONS if words[0] == o or words[0].startswith(o + "=")), None)
    if option:
        return (
            f"`{option}` is not supported: the cache follows this file's content only; list "
            "every pinned requirement in it"
        )
    if requirement.startswith("-"):
        return None  # --index-url, --only-binary, ...: how to install, not what
    if _pinned(requirement) is None:
        return f"`{_shortened(requirement)}` is not pinned: {PIN_ADVICE}"
    return None


def _pinned(requirement: str) -> re.Match[str] | None:
    return _PINNED.fullmatch(_HASH_OPTION.sub("", f" {requirement}").strip())


def pinned_names(requirements: Path) -> set[str]:
    """The normalized names (PEP 503) of the packages a checked requirements file pins."""
    return {
        normalized_name(match["name"])
        for _, requirement in requirement_lines(requirements.read_text(encoding="utf-8"))
        if (match := _pinned(requirement)) is not None
    }


def normalized_name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _shortened(text: str, room: int = 80) -> str:
    return text if len(text) <= room else f"{text[:room]}..."


def cache_key(spec: DependencySpec, target: Target) -> str:
    """Content hash of the dependency inputs plus the target; line endings do not count,
    so a checkout that converts them still hits the same entry."""
    digest = hashlib.sha256()
    for part in (_CACHE_FORMAT, spec.kind, target.runtime, target.architecture):
        digest.update(part.encode() + b"\0")
    for path in spec.inputs:
        digest.update(path.name.encode() + b"\0")
        digest.update(path.read_bytes().replace(b"\r\n", b"\n") + b"\0")
    return digest.hexdigest()[:32]


def cache_root() -> Path:
    override = os.environ.get(CACHE_ENV)
    return Path(override) if override else DEFAULT_CACHE_DIR


def install_dependencies(
    dependency_file: Path,
    target: Target,
    *,
    cache_dir: Path | None = None,
) -> Path:
    """The folder holding the installed dependencies (its content goes at the zip root).

    Installs only on a cache miss; the entry appears atomically, complete or not at all.
    """
    spec = dependency_spec(dependency_file)
    root = cache_dir if cache_dir is not None else cache_root()
    entry = root / cache_key(spec, target)
    if entry.is_dir():
        return entry
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".partial-", dir=root) as scratch:
        requirements = _requirements_file(spec, Path(scratch))
        site = Path(scratch) / "site"
        _pip_install(requirements, site, target)
        _refuse_unpinned_installs(dependency_file, requirements, site)
        _normalize(site)
        try:
            site.rename(entry)
        except OSError:
            # Another synth finished the same entry first; its content is the same.
            if not entry.is_dir():
                raise
    return entry


def pip_install_command(requirements: Path, destination: Path, target: Target) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--target",
        str(destination),
        "--requirement",
        str(requirements),
        "--only-binary=:all:",
        "--implementation",
        "cp",
        "--python-version",
        target.python_version,
        "--abi",
        # pip adds the abi3 and pure-Python (none) tags that go with it.
        target.abi,
        "--no-compile",
        "--no-input",
        "--disable-pip-version-check",
    ]
    for platform in target.platforms:
        command += ["--platform", platform]
    if uses_hashes(requirements):
        # Explicit, so one unhashed requirement (or dependency) is refused, not installed.
        command.append("--require-hashes")
    return command


def uses_hashes(requirements: Path) -> bool:
    return any("--hash" in line.split("#", 1)[0] for line in requirements.read_text().splitlines())


def _requirements_file(spec: DependencySpec, scratch: Path) -> Path:
    if spec.kind == "requirements":
        return spec.path
    return _export_uv_project(spec.path.parent, scratch / "requirements.txt")


def _export_uv_project(project: Path, output: Path) -> Path:
    uv = shutil.which("uv")
    if uv is None:
        raise UvNotFoundError(
            f"{project}: uv is not installed; export the lock to a requirements file with "
            "`uv export --format requirements-txt --no-dev --no-emit-project "
            "-o requirements.txt` and point the function at that file"
        )
    command = [
        uv,
        "export",
        "--format",
        "requirements-txt",
        "--frozen",
        "--no-dev",
        "--no-emit-project",
        "--no-header",
        "--output-file",
        str(output),
    ]
    result = subprocess.run(command, cwd=project, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise DependencyError(f"{project}: uv export failed: {_last_error_line(result.stderr)}")
    return output


def _pip_install(requirements: Path, destination: Path, target: Target) -> None:
    result = _run_pip(pip_install_command(requirements, destination, target))
    if result.returncode != 0:
        raise _pip_failure(requirements, target, result.stdout + "\n" + result.stderr)


def _run_pip(command: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(command), capture_output=True, text=True, check=False)


_NO_MATCH = re.compile(r"No matching distribution found for (\S+)")
_NO_VERSION = re.compile(r"Could not find a version that satisfies the requirement (\S+)")
_HASH_MISMATCH_ROW = re.compile(r"^\s+(\S+?)(?:==\S+)? from \S+", re.MULTILINE)


def _pip_failure(requirements: Path, target: Target, output: str) -> DependencyError:
    """Turn pip's multi-line report into one line naming the package at fault."""
    missing = _NO_MATCH.search(output) or _NO_VERSION.search(output)
    if missing:
        return NoWheelError(
            f"{missing.group(1)}: no wheel for {target.describe()}; Lambda packages are built "
            "from wheels only (pin a version that publishes one, or drop the package)"
        )
    if "DO NOT MATCH THE HASHES" in output:
        rows = _HASH_MISMATCH_ROW.findall(output.split("DO NOT MATCH THE HASHES", 1)[1])
        names = ", ".join(rows) or "a package"
        return HashMismatchError(
            f"{requirements}: {names} does not match the hash pinned in the file "
            "(the file changed upstream, or the pin is wrong)"
        )
    return DependencyError(f"{requirements}: pip install failed: {_last_error_line(output)}")


def _last_error_line(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR:")]
    return (errors or lines or ["no output"])[-1]


def _refuse_unpinned_installs(dependency_file: Path, requirements: Path, site: Path) -> None:
    """Without hashes pip installs the dependencies of the pinned packages at whatever version
    is newest that day: every installed distribution must be pinned in the file."""
    pinned = pinned_names(requirements)
    unpinned = sorted(
        f"{name}=={version}"
        for name, version in _installed_distributions(site)
        if normalized_name(name) not in pinned
    )
    if unpinned:
        raise DependencyError(
            f"{dependency_file}: pip also installed {', '.join(unpinned)}, which the file does "
            "not pin; add these lines (the versions pip chose now) so every synth installs the "
            "same"
        )


def _installed_distributions(site: Path) -> list[tuple[str, str]]:
    """(name, version) of each distribution pip installed into `site`."""
    found = []
    for metadata in sorted(site.glob("*.dist-info/METADATA")):
        text = metadata.read_text(encoding="utf-8", errors="replace")
        # The headers end at the first blank line; the description may hold anything.
        headers = text.split("\n\n", 1)[0].splitlines()
        fields = {
            key: value
            for key, _, value in (line.partition(": ") for line in headers)
            if key in ("Name", "Version")
        }
        found.append((fields.get("Name", metadata.parent.name), fields.get("Version", "?")))
    return found


def _normalize(site: Path) -> None:
    """Keep only what depends on the wheels' content (see the module docstring)."""
    for name in _DROPPED_TOP_LEVEL:
        shutil.rmtree(site / name, ignore_errors=True)
    for cache in sorted(site.rglob("__pycache__"), reverse=True):
        shutil.rmtree(cache, ignore_errors=True)
    for record in site.glob("*.dist-info/RECORD"):
        _drop_outside_rows(record)


def _drop_outside_rows(record: Path) -> None:
    """RECORD rows for files that are not shipped (scripts, byte-code) would list hashes of
    machine-dependent content; the rows for shipped files stay as pip wrote them."""
    rows = record.read_text().splitlines(keepends=True)
    kept = [row for row in rows if not _outside_row(row)]
    if kept != rows:
        record.write_text("".join(kept))


def _outside_row(row: str) -> bool:
    path = row.split(",", 1)[0].strip('"')
    parts = Path(path).parts
    return (
        path.startswith("..")
        or bool(parts and parts[0] in _DROPPED_TOP_LEVEL)
        or "__pycache__" in parts
        or path.endswith(".pyc")
    )
