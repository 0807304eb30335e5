import base64
import hashlib
import os
import zipfile

import pytest

from constructs_lib.packaging import build_zip, package_files


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
