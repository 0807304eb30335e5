"""Deterministic Lambda deployment packages, built while synthesizing.

The same source gives the same zip bytes on every run, checkout path and machine: entries in
sorted order, one fixed timestamp, permission bits reduced to 0644/0755, byte-code caches left
out. Terraform then sees a new `source_code_hash` only when the code really changed, and the
zip travels inside the stack folder, so `terraform plan -out` on one machine and `apply` of
that plan on another upload the same file.
"""

from __future__ import annotations

import base64
import hashlib
import stat
import zipfile
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

# Never packaged: byte-code caches would make the package depend on who ran the tests.
PACKAGE_EXCLUDES = ("__pycache__", "*.pyc", ".pytest_cache")
# The earliest time a zip entry can hold (DOS date); any fixed value would do.
FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
# Regular file, readable by all; executable where the source is (git keeps that bit).
_FILE_MODE = stat.S_IFREG | 0o644
_EXECUTABLE_MODE = stat.S_IFREG | 0o755
COMPRESSION_LEVEL = 9


@dataclass(frozen=True)
class Package:
    path: Path
    # base64 of the zip's SHA-256: the form `source_code_hash` and `filebase64sha256()` use.
    base64_sha256: str


def package_files(source_dir: Path) -> list[Path]:
    """The files that go into the package, relative to `source_dir`, in archive order."""
    return sorted(
        path.relative_to(source_dir)
        for path in source_dir.rglob("*")
        if path.is_file() and not _excluded(path.relative_to(source_dir))
    )


def build_zip(source_dir: Path, target: Path) -> Package:
    """Zip `source_dir` into `target` deterministically; return where it is and its hash."""
    if not source_dir.is_dir():
        # rglob would find nothing and the function would deploy as an empty zip.
        raise FileNotFoundError(f"{source_dir}: the function's source folder does not exist")
    with zipfile.ZipFile(target, "w") as archive:
        for relative in package_files(source_dir):
            _add_file(archive, source_dir / relative, relative.as_posix())
    digest = hashlib.sha256(target.read_bytes()).digest()
    return Package(path=target, base64_sha256=base64.b64encode(digest).decode("ascii"))


def _add_file(archive: zipfile.ZipFile, source: Path, name: str) -> None:
    entry = zipfile.ZipInfo(name, date_time=FIXED_ZIP_TIME)
    entry.compress_type = zipfile.ZIP_DEFLATED
    executable = source.stat().st_mode & stat.S_IXUSR
    entry.external_attr = (_EXECUTABLE_MODE if executable else _FILE_MODE) << 16
    # Unix as the creating system, whatever machine builds it: Lambda reads the mode bits.
    entry.create_system = 3
    archive.writestr(entry, source.read_bytes(), compresslevel=COMPRESSION_LEVEL)


def _excluded(relative: Path) -> bool:
    return any(fnmatch(part, pattern) for part in relative.parts for pattern in PACKAGE_EXCLUDES)
