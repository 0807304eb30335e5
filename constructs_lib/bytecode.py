"""Byte-code for a Lambda package, compiled by an interpreter of the function's runtime.

Without `__pycache__/*.pyc` in the package, every cold start compiles every module it imports
(Lambda's code folder is read-only, so nothing is ever cached there). The byte-code must come
from CPython of the runtime's minor version (the format changes with each minor release), so a
machine without such an interpreter ships no byte-code and says why: the package still works,
it only starts slower.

The files are PEP 552 hash-based and unchecked (`PycInvalidationMode.UNCHECKED_HASH`): they
hold a hash of the source instead of its modification time, and the import system trusts them
without reading the source again. They depend only on the source bytes, the file's name in the
package and the compiler, so the zip stays byte-identical across runs and machines with that
runtime's interpreter. Unchecked is safe here because a package is built in one go: its source
never changes under its byte-code.

Compiled files are cached by content and compiler release (next to the dependency cache), so a
synth asks the runtime's interpreter its version once and compiles only sources it has not
compiled before.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

# Where Lambda unpacks the package: the file name each code object records (import replaces
# it with the real path; it never names the machine that built the package).
LAMBDA_TASK_ROOT = "/var/task"
_RUNTIME = re.compile(r"python(?P<major>\d+)\.(?P<minor>\d+)")
PYENV_ROOT_ENV = "PYENV_ROOT"
CACHE_ENV = "LAMBDA_BYTECODE_CACHE"
DEFAULT_CACHE_DIR = Path(__file__).resolve().parent.parent / ".cache" / "lambda-bytecode"
# Bumped when what a cache entry holds changes.
_CACHE_FORMAT = "bytecode-1"

# Run by the runtime's interpreter: compiles each (source, name in package, output) it is given
# on stdin, skipping files that are not valid Python for it, as pip's compileall does.
_COMPILE_SCRIPT = """
import json, py_compile, sys
for source, name, output in json.load(sys.stdin):
    try:
        py_compile.compile(source, cfile=output, dfile=name, doraise=True,
                           invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    except py_compile.PyCompileError:
        pass
"""


class BytecodeUnavailable(Exception):
    """No byte-code for this runtime on this machine; the message says why, in one line."""


@dataclass(frozen=True)
class Bytecode:
    """What a package gets: archive name -> byte-code, or why it gets none."""

    files: Mapping[str, bytes]
    # None: compiled; else one line saying why the package ships without byte-code.
    skipped: str | None = None


def runtime_version(runtime: str) -> tuple[int, int]:
    """(3, 13) for "python3.13"."""
    match = _RUNTIME.fullmatch(runtime)
    if match is None:
        raise BytecodeUnavailable(f"{runtime}: not a Python runtime")
    return int(match["major"]), int(match["minor"])


def cache_name(archive_name: str, version: tuple[int, int]) -> str:
    """`pkg/mod.py` -> `pkg/__pycache__/mod.cpython-313.pyc`, where CPython looks for it."""
    folder, _, file = archive_name.rpartition("/")
    stem = file.removesuffix(".py")
    tag = f"cpython-{version[0]}{version[1]}"
    return f"{folder}/__pycache__/{stem}.{tag}.pyc".removeprefix("/")


@dataclass(frozen=True)
class Interpreter:
    path: Path
    release: str  # "3.13.0": the compiler, which the cached byte-code depends on


@functools.cache
def find_interpreter(runtime: str) -> Interpreter:
    """A CPython of the runtime's minor version: this one, `pythonX.Y` on PATH, or a pyenv
    version. Each candidate is asked its version (a pyenv shim may name one it cannot run)."""
    version = runtime_version(runtime)
    if sys.version_info[:2] == version and sys.implementation.name == "cpython":
        return Interpreter(Path(sys.executable), ".".join(map(str, sys.version_info[:3])))
    wanted = f"python{version[0]}.{version[1]}"
    pyenv_root = Path(os.environ.get(PYENV_ROOT_ENV) or Path.home() / ".pyenv")
    pyenv_versions = sorted(
        pyenv_root.glob(f"versions/{version[0]}.{version[1]}.*/bin/{wanted}"),
        key=lambda path: _patch_level(path.parent.parent.name),
        reverse=True,
    )
    on_path = shutil.which(wanted)
    # A pyenv shim is a shell script that runs `pyenv exec` (slow, and only for the versions
    # pyenv has selected); the versions themselves are tried below.
    shim = on_path is not None and Path(on_path).parent == pyenv_root / "shims"
    for candidate in [*([Path(on_path)] if on_path and not shim else []), *pyenv_versions]:
        release = _release_of(candidate)
        if release is not None and _patch_level(release)[:2] == version:
            return Interpreter(candidate, release)
    raise BytecodeUnavailable(
        f"no {wanted} on this machine (looked on PATH and in {pyenv_root}/versions): "
        f"{runtime} packages ship without byte-code and compile their modules at each cold "
        f"start; install CPython {version[0]}.{version[1]} to add it"
    )


def _patch_level(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", name))


def _release_of(interpreter: Path) -> str | None:
    """ "3.13.0" when `interpreter` runs and is CPython, else None."""
    try:
        result = subprocess.run(
            [
                str(interpreter),
                "-I",
                "-S",
                "-c",
                "import sys; print(sys.implementation.name, *sys.version_info[:3])",
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    words = result.stdout.split()
    if result.returncode != 0 or len(words) != 4 or words[0] != "cpython":
        return None
    return ".".join(words[1:])


def cache_root() -> Path:
    override = os.environ.get(CACHE_ENV)
    return Path(override) if override else DEFAULT_CACHE_DIR


def compile_sources(
    sources: Mapping[str, Path], runtime: str, *, cache_dir: Path | None = None
) -> Bytecode:
    """Byte-code for every `*.py` among `sources` (archive name -> file), keyed by where the
    runtime looks for it; no files and the reason when the runtime's interpreter is missing."""
    try:
        version = runtime_version(runtime)
        interpreter = find_interpreter(runtime)
    except BytecodeUnavailable as reason:
        return Bytecode({}, str(reason))
    # By release: another patch release's compiler may write other byte-code.
    root = (cache_dir if cache_dir is not None else cache_root()) / interpreter.release
    wanted = {
        name: (path, root / _entry_key(name, path.read_bytes()))
        for name, path in sources.items()
        if name.endswith(".py")
    }
    missing = {name: paths for name, paths in wanted.items() if not paths[1].exists()}
    if missing:
        try:
            _compile_into_cache(missing, interpreter.path, root)
        except BytecodeUnavailable as reason:
            return Bytecode({}, str(reason))
    return Bytecode(
        {
            cache_name(name, version): entry.read_bytes()
            for name, (_, entry) in wanted.items()
            if entry.stat().st_size  # empty: not valid Python for the runtime
        }
    )


def _entry_key(name: str, source: bytes) -> str:
    digest = hashlib.sha256()
    for part in (_CACHE_FORMAT.encode(), name.encode(), source):
        digest.update(part + b"\0")
    return digest.hexdigest()


def _compile_into_cache(
    missing: Mapping[str, tuple[Path, Path]], interpreter: Path, root: Path
) -> None:
    """Compile in one run of the runtime's interpreter; each entry appears atomically (an
    empty one for a source that does not compile, so it is not tried again)."""
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".partial-", dir=root) as scratch:
        jobs = [
            (str(source), f"{LAMBDA_TASK_ROOT}/{name}", str(Path(scratch) / entry.name))
            for name, (source, entry) in missing.items()
        ]
        result = subprocess.run(
            [str(interpreter), "-I", "-c", _COMPILE_SCRIPT],
            input=json.dumps(jobs),
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            last = (result.stderr.strip().splitlines() or ["no output"])[-1]
            raise BytecodeUnavailable(f"{interpreter} could not compile: {last}")
        for _, _, output in jobs:
            compiled = Path(output)
            if not compiled.exists():
                compiled.touch()
            compiled.replace(root / compiled.name)
