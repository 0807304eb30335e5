import base64
import hashlib
import itertools
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from constructs_lib import dependencies
from constructs_lib.dependencies import (
    DependencyError,
    HashMismatchError,
    NoWheelError,
    Target,
    UvNotFoundError,
    cache_key,
    dependency_spec,
    install_dependencies,
    pip_install_command,
    uses_hashes,
)
from constructs_lib.packaging import (
    PackageClashError,
    PackageTooLargeError,
    PackagingError,
    build_zip,
    package_files,
)
from tests.support import REPO_ROOT
from tests.wheels import file_sha256, make_sdist, make_wheel, use_only

EXAMPLE = REPO_ROOT / "functions" / "hello_deps"


def make_source(root, mtime):
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__pycache__").mkdir()
    files = {"app.py": b"def handler(e, c):\n    return {}\n", "pkg/util.py": b"X = 1\n"}
    for name, content in files.items():
        (root / name).write_bytes(content)
        os.utime(root / name, (mtime, mtime))
    (root / "pkg" / "__pycache__" / "util.cpython-311.pyc").write_bytes(b"cache")
    (root / "stray.pyc").write_bytes(b"cache")
    (root / "run.sh").write_bytes(b"#!/bin/sh\n")
    (root / "run.sh").chmod(0o775)
    return files


def test_same_source_gives_the_same_bytes_whatever_the_times_and_place(tmp_path):
    make_source(tmp_path / "one", mtime=1_000_000_000)
    make_source(tmp_path / "elsewhere" / "two", mtime=1_700_000_000)
    first = build_zip(tmp_path / "one", tmp_path / "first.zip")
    second = build_zip(tmp_path / "elsewhere" / "two", tmp_path / "second.zip")
    assert first.path.read_bytes() == second.path.read_bytes()
    assert first.base64_sha256 == second.base64_sha256


def test_hash_is_the_base64_sha256_of_the_zip(tmp_path):
    make_source(tmp_path / "src", mtime=1_000_000_000)
    package = build_zip(tmp_path / "src", tmp_path / "out.zip")
    digest = hashlib.sha256((tmp_path / "out.zip").read_bytes()).digest()
    assert package.base64_sha256 == base64.b64encode(digest).decode()


def test_entries_are_sorted_dated_and_moded_without_caches(tmp_path):
    files = make_source(tmp_path / "src", mtime=1_000_000_000)
    build_zip(tmp_path / "src", tmp_path / "out.zip")
    with zipfile.ZipFile(tmp_path / "out.zip") as archive:
        entries = {entry.filename: entry for entry in archive.infolist()}
        assert list(entries) == ["app.py", "pkg/util.py", "run.sh"]
        assert {entry.date_time for entry in entries.values()} == {(1980, 1, 1, 0, 0, 0)}
        assert entries["app.py"].external_attr >> 16 == 0o100644
        assert entries["run.sh"].external_attr >> 16 == 0o100755
        assert archive.read("pkg/util.py") == files["pkg/util.py"]


def test_a_changed_file_changes_the_hash(tmp_path):
    make_source(tmp_path / "src", mtime=1_000_000_000)
    before = build_zip(tmp_path / "src", tmp_path / "before.zip")
    (tmp_path / "src" / "app.py").write_bytes(b"def handler(e, c):\n    return {'x': 1}\n")
    after = build_zip(tmp_path / "src", tmp_path / "after.zip")
    assert before.base64_sha256 != after.base64_sha256


def test_package_files_lists_what_the_zip_holds(tmp_path):
    make_source(tmp_path / "src", mtime=1_000_000_000)
    names = [path.as_posix() for path in package_files(tmp_path / "src")]
    assert names == ["app.py", "pkg/util.py", "run.sh"]


def test_a_missing_source_folder_is_an_error_not_an_empty_zip(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        build_zip(tmp_path / "gone", tmp_path / "out.zip")
    assert not (tmp_path / "out.zip").exists()


# --- Dependencies ---------------------------------------------------------------------------


@pytest.fixture
def wheelhouse(tmp_path, monkeypatch) -> Path:
    """A local package index of hand-made wheels; pip sees nothing else."""
    house = tmp_path / "wheelhouse"
    make_wheel(
        house,
        "tinylib",
        files={"tinylib/__init__.py": "def shout(text):\n    return text.upper()\n"},
        entry_points="[console_scripts]\ntinylib = tinylib:shout\n",
    )
    for machine in ("x86_64", "aarch64"):
        make_wheel(
            house,
            "tinyplat",
            tag=f"cp313-cp313-manylinux2014_{machine}",
            files={"tinyplat/__init__.py": f"MACHINE = {machine!r}\n"},
        )
    # Built against glibc 2.28: loads on Amazon Linux 2023 (python3.12+), not on AL2 (3.11).
    make_wheel(house, "tinynew", tag="cp311-abi3-manylinux_2_28_x86_64")
    make_sdist(house, "nowheel")
    use_only(monkeypatch, house)
    return house


@pytest.fixture
def pip_calls(monkeypatch) -> list[list[str]]:
    """Every pip command the packager runs, still run for real."""
    calls: list[list[str]] = []
    real = dependencies._run_pip

    def counting(command):
        calls.append(list(command))
        return real(command)

    monkeypatch.setattr(dependencies, "_run_pip", counting)
    return calls


def function_source(root: Path, requirements: str) -> Path:
    root.mkdir(parents=True)
    (root / "app.py").write_text(
        "import tinylib\n\ndef handler(e, c):\n    return tinylib.shout('x')\n"
    )
    (root / "requirements.txt").write_text(requirements)
    return root


def package(source: Path, cache: Path, **kwargs):
    installed = install_dependencies(source / "requirements.txt", Target(), cache_dir=cache)
    return build_zip(
        source, source.parent / f"{source.name}.zip", dependencies_dir=installed, **kwargs
    )


def zip_names(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        return archive.namelist()


def test_dependencies_go_at_the_zip_root_next_to_the_code(wheelhouse, tmp_path):
    source = function_source(tmp_path / "fn", "tinylib==1.0\n")
    names = zip_names(package(source, tmp_path / "cache").path)
    assert "app.py" in names and "requirements.txt" in names
    assert "tinylib/__init__.py" in names
    assert "tinylib-1.0.dist-info/RECORD" in names
    assert names == sorted(names)


def test_console_scripts_and_their_record_rows_are_left_out(wheelhouse, tmp_path):
    # A script's first line names the building interpreter: shipping it (or its hash in
    # RECORD) would make the zip depend on the machine.
    source = function_source(tmp_path / "fn", "tinylib==1.0\n")
    built = package(source, tmp_path / "cache").path
    assert not [name for name in zip_names(built) if name.startswith("bin/")]
    with zipfile.ZipFile(built) as archive:
        record = archive.read("tinylib-1.0.dist-info/RECORD").decode()
    assert "tinylib/__init__.py," in record
    assert "bin/" not in record and "../" not in record


def test_same_function_gives_the_same_bytes_from_separate_installs_and_places(wheelhouse, tmp_path):
    first = package(function_source(tmp_path / "a" / "fn", "tinylib==1.0\n"), tmp_path / "c1")
    second = package(
        function_source(tmp_path / "elsewhere" / "b" / "fn", "tinylib==1.0\n"), tmp_path / "c2"
    )
    assert first.path.read_bytes() == second.path.read_bytes()


def test_second_build_uses_the_cache_without_pip_or_network(
    wheelhouse, tmp_path, monkeypatch, pip_calls
):
    source = function_source(tmp_path / "fn", "tinylib==1.0\n")
    first = package(source, tmp_path / "cache").path.read_bytes()
    assert len(pip_calls) == 1
    # Any install now fails: nothing to find, and an index nobody answers.
    shutil.rmtree(wheelhouse)
    wheelhouse.mkdir()
    monkeypatch.delenv("PIP_NO_INDEX")
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    second = package(source, tmp_path / "cache").path.read_bytes()
    assert len(pip_calls) == 1
    assert second == first


def test_a_cache_miss_really_needs_pip(wheelhouse, tmp_path):
    # The counterpart of the cache test: the same emptied wheelhouse does fail a fresh install.
    source = function_source(tmp_path / "fn", "tinylib==1.0\n")
    shutil.rmtree(wheelhouse)
    wheelhouse.mkdir()
    with pytest.raises(NoWheelError, match=r"^tinylib==1.0: no wheel"):
        package(source, tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []  # no half-made entry left behind


def test_cache_key_follows_content_runtime_and_architecture(tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_bytes(b"tinylib==1.0\n")
    spec = dependency_spec(requirements)
    key = cache_key(spec, Target())
    assert cache_key(spec, Target(architecture="arm64")) != key
    assert cache_key(spec, Target(runtime="python3.12")) != key
    requirements.write_bytes(b"tinylib==1.0\r\n")  # a checkout that converts line endings
    assert cache_key(spec, Target()) == key
    requirements.write_bytes(b"tinylib==1.1\n")
    assert cache_key(spec, Target()) != key


def test_wheels_are_chosen_for_the_target_architecture(wheelhouse, tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("tinyplat==1.0\n")
    for architecture, machine in (("x86_64", "x86_64"), ("arm64", "aarch64")):
        target = Target(runtime="python3.13", architecture=architecture)
        installed = install_dependencies(requirements, target, cache_dir=tmp_path / "cache")
        assert (installed / "tinyplat" / "__init__.py").read_text() == f"MACHINE = {machine!r}\n"
        wheel = (installed / "tinyplat-1.0.dist-info" / "WHEEL").read_text()
        assert f"Tag: cp313-cp313-manylinux2014_{machine}" in wheel


def test_wheels_are_chosen_for_the_target_python(wheelhouse, tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("tinyplat==1.0\n")
    with pytest.raises(NoWheelError, match=r"^tinyplat==1.0: no wheel for python3.12 on x86_64"):
        install_dependencies(requirements, Target("python3.12"), cache_dir=tmp_path / "cache")


def test_manylinux_level_follows_the_runtime_glibc(wheelhouse, tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("tinynew==1.0\n")
    installed = install_dependencies(requirements, Target("python3.12"), cache_dir=tmp_path / "c")
    assert (installed / "tinynew" / "__init__.py").is_file()
    with pytest.raises(NoWheelError, match=r"^tinynew==1.0: no wheel for python3.11"):
        install_dependencies(requirements, Target("python3.11"), cache_dir=tmp_path / "c")


def test_an_sdist_only_package_is_one_clear_line(wheelhouse, tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("nowheel==1.0\n")
    with pytest.raises(NoWheelError) as raised:
        install_dependencies(requirements, Target(), cache_dir=tmp_path / "cache")
    message = str(raised.value)
    assert message.startswith("nowheel==1.0: no wheel for python3.13 on x86_64")
    assert "wheels only" in message and "\n" not in message


def test_pinned_hashes_are_checked(wheelhouse, tmp_path):
    good = file_sha256(wheelhouse / "tinylib-1.0-py3-none-any.whl")
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(f"tinylib==1.0 \\\n    --hash=sha256:{good}\n")
    installed = install_dependencies(requirements, Target(), cache_dir=tmp_path / "cache")
    assert (installed / "tinylib" / "__init__.py").is_file()


def test_a_wrong_hash_fails_naming_the_package(wheelhouse, tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(f"tinylib==1.0 --hash=sha256:{'0' * 64}\n")
    with pytest.raises(HashMismatchError, match="tinylib does not match the hash") as raised:
        install_dependencies(requirements, Target(), cache_dir=tmp_path / "cache")
    assert "\n" not in str(raised.value)
    assert list((tmp_path / "cache").iterdir()) == []


def test_one_hash_requires_them_all(wheelhouse, tmp_path):
    good = file_sha256(wheelhouse / "tinylib-1.0-py3-none-any.whl")
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(f"tinylib==1.0 --hash=sha256:{good}\ntinyplat==1.0\n")
    assert uses_hashes(requirements)
    with pytest.raises(DependencyError, match=r"[Hh]ashes are required"):
        install_dependencies(requirements, Target(), cache_dir=tmp_path / "cache")


def test_hash_mode_is_explicit_only_when_a_line_has_a_hash(tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# pin with --hash later\ntinylib==1.0\n")
    assert not uses_hashes(requirements)
    assert "--require-hashes" not in pip_install_command(requirements, tmp_path, Target())
    requirements.write_text("tinylib==1.0 --hash=sha256:abc\n")
    assert "--require-hashes" in pip_install_command(requirements, tmp_path, Target())


def test_pip_is_the_running_interpreters_and_targets_lambda(tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("tinylib==1.0\n")
    command = pip_install_command(requirements, tmp_path / "site", Target("python3.14", "arm64"))
    assert command[:4] == [sys.executable, "-m", "pip", "install"]
    pairs = set(itertools.pairwise(command))
    assert ("--python-version", "3.14") in pairs and ("--abi", "cp314") in pairs
    assert ("--implementation", "cp") in pairs and ("--target", str(tmp_path / "site")) in pairs
    assert ("--platform", "manylinux_2_34_aarch64") in pairs
    assert ("--platform", "manylinux_2_28_aarch64") in pairs
    assert ("--platform", "manylinux2014_aarch64") in pairs
    assert ("--platform", "manylinux_2_34_x86_64") not in pairs
    assert "--only-binary=:all:" in command and "--no-compile" in command


@pytest.mark.parametrize(
    ("runtime", "architecture"), [("python3.10", "x86_64"), ("python3.13", "aarch64")]
)
def test_unsupported_targets_are_refused(runtime, architecture):
    with pytest.raises(DependencyError, match=runtime if runtime != "python3.13" else "aarch64"):
        Target(runtime, architecture)


def test_a_module_in_both_code_and_dependencies_is_an_error(wheelhouse, tmp_path):
    source = function_source(tmp_path / "fn", "tinylib==1.0\n")
    (source / "tinylib.py").write_text("SHADOW = True\n")
    with pytest.raises(PackageClashError, match=r"^tinylib: both"):
        package(source, tmp_path / "cache")


def test_size_limit_is_checked_before_zipping(wheelhouse, tmp_path):
    source = function_source(tmp_path / "fn", "tinylib==1.0\n")
    with pytest.raises(PackageTooLargeError, match="at most 100 bytes unzipped"):
        package(source, tmp_path / "cache", unzipped_limit=100)
    assert not (tmp_path / "fn.zip").exists()


def test_default_size_limit_is_lambdas_250_mb_unzipped(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    with (source / "model.bin").open("wb") as sparse:  # no disk used: only the size counts
        sparse.truncate(262_144_000 + 1)  # Lambda's 250 MB, one byte over
    with pytest.raises(PackageTooLargeError, match="at most 262,144,000 bytes unzipped"):
        build_zip(source, tmp_path / "out.zip")
    (source / "model.bin").unlink()
    with (source / "model.bin").open("wb") as sparse:
        sparse.truncate(100)
    build_zip(source, tmp_path / "out.zip")


def test_unknown_dependency_file_names_are_refused(tmp_path):
    (tmp_path / "Pipfile").write_text("[packages]\n")
    with pytest.raises(DependencyError, match="expected a requirements file"):
        dependency_spec(tmp_path / "Pipfile")
    with pytest.raises(DependencyError, match="does not exist"):
        dependency_spec(tmp_path / "requirements.txt")


@pytest.mark.parametrize("line", ["-r base.txt", "--constraint=c.txt", "-e ./lib"])
def test_requirements_pulling_in_other_files_are_refused(tmp_path, line):
    # Their content would not be part of the cache key, so a change there would go unseen.
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(f"tinylib==1.0\n{line}  # shared pins\n")
    with pytest.raises(DependencyError, match=r"requirements.txt: line 2: `-"):
        dependency_spec(requirements)


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        ("tinylib>=1.0", "tinylib>=1.0"),
        ("tinylib", "tinylib"),
        ("tinylib==1.*", "tinylib==1.*"),
        ("tinylib @ file:///wheels/tinylib-1.0-py3-none-any.whl", "tinylib @ file:///"),
    ],
)
def test_unpinned_requirements_are_refused_before_pip_runs(tmp_path, pip_calls, line, shown):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(f"tinyplat==1.0\n{line}\n")
    with pytest.raises(DependencyError, match=rf"requirements.txt: line 2: `{re.escape(shown)}"):
        install_dependencies(requirements, Target(), cache_dir=tmp_path / "cache")
    assert pip_calls == []


@pytest.fixture
def wheels_with_a_dependency(wheelhouse) -> Path:
    """`tinyapp` 1.0 needs some `tinydep`; the index has 1.0 and a newer 2.0."""
    make_wheel(wheelhouse, "tinyapp", requires=("tinydep",))
    for version in ("1.0", "2.0"):
        make_wheel(wheelhouse, "tinydep", version=version)
    return wheelhouse


def test_a_dependency_pip_pulls_in_unpinned_is_refused_naming_its_pin(
    wheels_with_a_dependency, tmp_path
):
    source = function_source(tmp_path / "fn", "tinyapp==1.0\n")
    cache = tmp_path / "cache"
    with pytest.raises(DependencyError) as error:
        install_dependencies(source / "requirements.txt", Target(), cache_dir=cache)
    assert str(error.value) == (
        f"{source / 'requirements.txt'}: pip also installed tinydep==2.0, which the file does "
        "not pin; add these lines (the versions pip chose now) so every synth installs the same"
    )
    assert [path.name for path in cache.iterdir() if not path.name.startswith(".partial")] == []
    # Pinned, as the message says, it installs.
    (source / "requirements.txt").write_text("tinyapp==1.0\ntinydep==2.0\n")
    installed = install_dependencies(source / "requirements.txt", Target(), cache_dir=cache)
    assert (installed / "tinydep" / "__init__.py").is_file()


def uv_project(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "pyproject.toml").write_text('[project]\nname = "fn"\nversion = "0"\n')
    (root / "uv.lock").write_text("version = 1\n")
    return root


def test_uv_project_without_uv_says_to_export_requirements(tmp_path, monkeypatch):
    project = uv_project(tmp_path / "fn")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(UvNotFoundError, match="uv export --format requirements-txt"):
        install_dependencies(project / "uv.lock", Target(), cache_dir=tmp_path / "cache")


def test_uv_project_needs_its_lock(tmp_path):
    project = uv_project(tmp_path / "fn")
    (project / "uv.lock").unlink()
    with pytest.raises(DependencyError, match="uv lock"):
        dependency_spec(project / "pyproject.toml")


def test_uv_project_is_exported_frozen_then_installed(wheelhouse, tmp_path, monkeypatch):
    project = uv_project(tmp_path / "fn")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "uv-calls"
    # A stand-in uv that records its arguments and exports one requirement.
    fake_uv = bin_dir / "uv"
    fake_uv.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        f"open({str(calls)!r}, 'a').write(' '.join(sys.argv[1:]) + '\\n')\n"
        "out = sys.argv[sys.argv.index('--output-file') + 1]\n"
        "open(out, 'w').write('tinylib==1.0\\n')\n"
    )
    fake_uv.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    installed = install_dependencies(project / "uv.lock", Target(), cache_dir=tmp_path / "cache")
    assert (installed / "tinylib" / "__init__.py").is_file()
    exported = calls.read_text()
    assert exported.startswith("export --format requirements-txt --frozen --no-dev")
    # The key covers the lock: a cached entry is reused without uv, a changed lock is not.
    assert (
        install_dependencies(project / "pyproject.toml", Target(), cache_dir=tmp_path / "cache")
        == installed
    )
    (project / "uv.lock").write_text("version = 1\n# relocked\n")
    assert (
        install_dependencies(project / "uv.lock", Target(), cache_dir=tmp_path / "cache")
        != installed
    )
    assert len(calls.read_text().splitlines()) == 2


# --- The shipped example, against the real package index (two small downloads) --------------


def pypi_reachable() -> bool:
    try:
        socket.create_connection(("pypi.org", 443), timeout=3).close()
    except OSError:
        return False
    return True


needs_pypi = pytest.mark.skipif(not pypi_reachable(), reason="pypi.org is not reachable")


@pytest.fixture(scope="module")
def example_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("example-cache")


@needs_pypi
@pytest.mark.skipif(platform.machine() != "x86_64", reason="imports an x86_64 build")
def test_example_imports_its_compiled_dependency_from_the_zip_alone(example_cache, tmp_path):
    # Built for this interpreter's Python so it can import here; the wheel is still chosen
    # by pip's --platform/--abi options, not installed for the running interpreter.
    runtime = f"python{sys.version_info.major}.{sys.version_info.minor}"
    installed = install_dependencies(
        EXAMPLE / "requirements.txt", Target(runtime, "x86_64"), cache_dir=example_cache
    )
    built = build_zip(EXAMPLE, tmp_path / "hello_deps.zip", dependencies_dir=installed)
    unzipped = tmp_path / "unzipped"
    with zipfile.ZipFile(built.path) as archive:
        archive.extractall(unzipped)
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]); "
        "import app, markupsafe, markupsafe._speedups as s; "
        "assert markupsafe.__file__.startswith(sys.argv[1]), markupsafe.__file__; "
        "assert s.__file__.endswith('-x86_64-linux-gnu.so'), s.__file__; "
        "print(app.handler({'queryStringParameters': {'name': '<b>Ada</b>'}}, None)['body'])"
    )
    # -I -S: no site-packages, no user site, no environment; only the zip and the stdlib.
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", probe, str(unzipped)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    # The request metric's record first, then the probe's print of the body.
    assert result.stdout.splitlines()[-1] == "<p>Hello, &lt;b&gt;Ada&lt;/b&gt;!</p>"


@needs_pypi
def test_example_for_arm64_ships_the_aarch64_wheel(example_cache, tmp_path):
    installed = install_dependencies(
        EXAMPLE / "requirements.txt", Target("python3.13", "arm64"), cache_dir=example_cache
    )
    names = zip_names(build_zip(EXAMPLE, tmp_path / "p.zip", dependencies_dir=installed).path)
    assert "markupsafe/_speedups.cpython-313-aarch64-linux-gnu.so" in names
    assert not [name for name in names if "x86_64" in name]
    wheel = (installed / "markupsafe-3.0.3.dist-info" / "WHEEL").read_text()
    assert "Tag: cp313-cp313-manylinux2014_aarch64" in wheel


def test_example_pins_its_dependency_with_hashes():
    assert uses_hashes(EXAMPLE / "requirements.txt")


def test_every_packaging_failure_is_one_catchable_type():
    # The CLI catches PackagingError and prints the message as its one line.
    for error in (NoWheelError, HashMismatchError, UvNotFoundError, DependencyError):
        assert issubclass(error, PackagingError)
    assert issubclass(PackageTooLargeError, PackagingError)
    assert issubclass(PackageClashError, PackagingError)
