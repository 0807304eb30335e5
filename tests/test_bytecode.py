"""Byte-code in the package: compiled by the runtime's own CPython, unchecked-hash, the same
bytes on every run, and used by the import system without reading the source."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from constructs_lib.bytecode import BytecodeUnavailable, compile_sources, find_interpreter
from constructs_lib.packaging import build_zip
from tests.bytecode_facts import UNCHECKED_HASH_FLAGS, pyc_facts

SOURCES = {
    "app.py": "from pkg import util\n\ndef handler(event, context):\n    return util.X\n",
    "pkg/__init__.py": "",
    "pkg/util.py": "X = 'from byte-code'\n",
    # Not Python at all (a template shipped as data): packaged as is, without byte-code.
    "templates/page.py": "{% if not python %}\n",
}
RUNTIMES = ["python3.11", "python3.12", "python3.13"]


def write_sources(root: Path) -> Path:
    for name, text in SOURCES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def interpreter_or_skip(runtime: str) -> Path:
    try:
        return find_interpreter(runtime).path
    except BytecodeUnavailable as reason:
        pytest.skip(str(reason))


@pytest.fixture
def no_other_interpreters(tmp_path, monkeypatch):
    """A machine with no Python on PATH, an empty pyenv and an empty byte-code cache."""
    monkeypatch.setenv("LAMBDA_BYTECODE_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "no-pyenv"))
    find_interpreter.cache_clear()
    yield
    find_interpreter.cache_clear()


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_each_module_gets_unchecked_hash_bytecode_of_its_runtime(runtime, tmp_path):
    interpreter = interpreter_or_skip(runtime)
    source = write_sources(tmp_path / "src")
    package = build_zip(source, tmp_path / "out.zip", bytecode_runtime=runtime)
    tag = "cpython-" + runtime.removeprefix("python").replace(".", "")
    assert package.bytecode_skipped is None
    with zipfile.ZipFile(package.path) as archive:
        compiled = {
            name: archive.read(name) for name in archive.namelist() if name.endswith(".pyc")
        }
    assert sorted(compiled) == [
        f"__pycache__/app.{tag}.pyc",
        f"pkg/__pycache__/__init__.{tag}.pyc",
        f"pkg/__pycache__/util.{tag}.pyc",
    ]
    sources = ["app.py", "pkg/__init__.py", "pkg/util.py"]
    for name, source_name in zip(sorted(compiled), sources, strict=True):
        facts = pyc_facts(
            interpreter, compiled[name], (source / source_name).read_bytes(), tmp_path / "facts"
        )
        assert facts == {
            "magic_matches": True,
            "flags": UNCHECKED_HASH_FLAGS,
            "hash_matches": True,
            "filename": f"/var/task/{source_name}",
        }


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_the_runtime_imports_the_bytecode_without_reading_the_source(runtime, tmp_path):
    """As on Lambda: the package unpacked, and the import system trusts unchecked byte-code,
    so a source changed after packaging is not what runs."""
    interpreter = interpreter_or_skip(runtime)
    package = build_zip(
        write_sources(tmp_path / "src"), tmp_path / "out.zip", bytecode_runtime=runtime
    )
    task = tmp_path / "task"
    with zipfile.ZipFile(package.path) as archive:
        archive.extractall(task)
    (task / "pkg" / "util.py").write_text("X = 'from the source'\n")
    result = subprocess.run(
        [
            str(interpreter),
            "-I",
            "-B",
            "-c",
            "import sys; sys.path.insert(0, sys.argv[1]); import app; print(app.handler({}, None))",
            str(task),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout == "from byte-code\n"


def test_the_same_sources_give_the_same_zip_wherever_and_however_often_built(tmp_path, monkeypatch):
    runtime = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    zips = []
    for run in ("one", "two"):
        monkeypatch.setenv("LAMBDA_BYTECODE_CACHE", str(tmp_path / run / "cache"))
        source = write_sources(tmp_path / run / "deeper" / "src")
        zips.append(build_zip(source, tmp_path / f"{run}.zip", bytecode_runtime=runtime))
    assert zips[0].path.read_bytes() == zips[1].path.read_bytes()
    assert zips[0].bytecode_skipped is None


def test_without_the_runtimes_interpreter_the_package_has_no_bytecode_and_says_why(
    tmp_path, no_other_interpreters
):
    # Any runtime but the running interpreter's, which is always found.
    runtime = "python3.12" if sys.version_info[:2] != (3, 12) else "python3.13"
    source = write_sources(tmp_path / "src")
    package = build_zip(source, tmp_path / "out.zip", bytecode_runtime=runtime)
    with zipfile.ZipFile(package.path) as archive:
        assert sorted(archive.namelist()) == sorted(SOURCES)
    assert package.bytecode_skipped is not None
    assert package.bytecode_skipped.startswith(f"no {runtime} on this machine")
    assert "cold start" in package.bytecode_skipped


def test_compiled_files_are_cached_per_compiler_release(tmp_path):
    runtime = "python3.12" if sys.version_info[:2] != (3, 12) else "python3.13"
    interpreter = interpreter_or_skip(runtime)
    release = subprocess.run(
        [str(interpreter), "-c", "import platform; print(platform.python_version())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    source = write_sources(tmp_path / "src")
    sources = {name: source / name for name in SOURCES}
    first = compile_sources(sources, runtime, cache_dir=tmp_path / "cache")
    assert [folder.name for folder in (tmp_path / "cache").iterdir()] == [release]
    # A cache entry changed behind its back is what the next compile returns: it was read,
    # not compiled again.
    app_pyc = f"__pycache__/app.cpython-{runtime[6:].replace('.', '')}.pyc"
    [entry] = [
        entry
        for entry in (tmp_path / "cache" / release).iterdir()
        if entry.read_bytes() == first.files[app_pyc]
    ]
    entry.write_bytes(b"from the cache")
    second = compile_sources(sources, runtime, cache_dir=tmp_path / "cache")
    assert second.files[app_pyc] == b"from the cache"
    assert second.files.keys() == first.files.keys()


def test_a_changed_source_is_compiled_again(tmp_path):
    runtime = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    source = write_sources(tmp_path / "src")
    before = compile_sources({"pkg/util.py": source / "pkg/util.py"}, runtime, cache_dir=tmp_path)
    (source / "pkg" / "util.py").write_text("X = 'changed'\n")
    after = compile_sources({"pkg/util.py": source / "pkg/util.py"}, runtime, cache_dir=tmp_path)
    assert before.files.keys() == after.files.keys()
    assert before.files != after.files
