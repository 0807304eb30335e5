"""Deterministic Lambda deployment packages, built while synthesizing.

The same source gives the same zip bytes on every run, checkout path and machine: entries in
sorted order, one fixed timestamp, permission bits reduced to 0644/0755, byte-code caches left
out. Terraform then sees a new `source_code_hash` only when the code really changed, and the
zip travels inside the stack folder, so `terraform plan -out` on one machine and `apply` of
that plan on another upload the same file.

A function with third-party dependencies gets them at the zip root next to its code (see
`constructs_lib.dependencies` for how they are installed and cached). Given its runtime, the
package also carries byte-code for every module, compiled deterministically for that runtime
(`constructs_lib.bytecode`), where the machine has its interpreter. Lambda's size limit is
checked here, at synth time, rather than by a failed deploy.
"""

from __future__ import annotations

import base64
import hashlib
import stat
import zipfile
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

from constructs_lib.bytecode import compile_sources

# Never taken from the source folder: its byte-code caches would make the package depend on
# who ran the tests (the packager compiles its own, constructs_lib.bytecode).
PACKAGE_EXCLUDES = ("__pycache__", "*.pyc", ".pytest_cache")
# The earliest time a zip entry can hold (DOS date); any fixed value would do.
FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
# Regular file, readable by all; executable where the source is (git keeps that bit).
_FILE_MODE = stat.S_IFREG | 0o644
_EXECUTABLE_MODE = stat.S_IFREG | 0o755
COMPRESSION_LEVEL = 9
# Lambda's limit for the unzipped code plus all layers. The zip goes through S3, so the
# 50 MB limit of a direct upload does not apply.
LAMBDA_UNZIPPED_LIMIT = 262_144_000


class PackagingError(Exception):
    """A function cannot be packaged; the message is one line, for the CLI to print as is."""


class PackageTooLargeError(PackagingError):
    """The unzipped package would exceed Lambda's limit."""


class PackageClashError(PackagingError):
    """The function's code and a dependency ship the same top-level module or file."""


@dataclass(frozen=True)
class Package:
    path: Path
    # base64 of the zip's SHA-256: the form `source_code_hash` and `filebase64sha256()` use.
    base64_sha256: str
    # None: byte-code compiled for the runtime, or none asked for; else why there is none.
    bytecode_skipped: str | None = None


def package_files(source_dir: Path) -> list[Path]:
    """The files that go into the package, relative to `source_dir`, in archive order."""
    return sorted(
        path.relative_to(source_dir)
        for path in source_dir.rglob("*")
        if path.is_file() and not _excluded(path.relative_to(source_dir))
    )


def build_zip(
    source_dir: Path,
    target: Path,
    *,
    dependencies_dir: Path | None = None,
    bytecode_runtime: str | None = None,
    unzipped_limit: int = LAMBDA_UNZIPPED_LIMIT,
) -> Package:
    """Zip `source_dir` (and the installed dependencies in `dependencies_dir`, if any) into
    `target` deterministically, with byte-code for `bytecode_runtime` (e.g. "python3.13")
    when given; return where it is and its hash."""
    if not source_dir.is_dir():
        # rglob would find nothing and the function would deploy as an empty zip.
        raise FileNotFoundError(f"{source_dir}: the function's source folder does not exist")
    entries = {relative.as_posix(): source_dir / relative for relative in package_files(source_dir)}
    if dependencies_dir is not None:
        entries = _merge(entries, dependencies_dir)
    contents: dict[str, bytes | Path] = dict(entries)
    skipped = None
    if bytecode_runtime is not None:
        bytecode = compile_sources(entries, bytecode_runtime)
        contents.update(bytecode.files)
        skipped = bytecode.skipped
    _check_size(contents, unzipped_limit)
    with zipfile.ZipFile(target, "w") as archive:
        for name in sorted(contents):
            _add_file(archive, contents[name], name)
    digest = hashlib.sha256(target.read_bytes()).digest()
    return Package(
        path=target,
        base64_sha256=base64.b64encode(digest).decode("ascii"),
        bytecode_skipped=skipped,
    )


def _merge(code: dict[str, Path], dependencies_dir: Path) -> dict[str, Path]:
    """Code and dependencies side by side at the zip root. A shared top-level module would make
    one silently shadow the other at import time, so it is an error."""
    dependencies = {
        relative.as_posix(): dependencies_dir / relative
        for relative in package_files(dependencies_dir)
    }
    clashes = sorted(_top_level_names(code) & _top_level_names(dependencies))
    if clashes:
        raise PackageClashError(
            f"{', '.join(clashes)}: both the function's code and its dependencies provide "
            "this top-level name; rename the function's module"
        )
    return {**dependencies, **code}


def _top_level_names(entries: dict[str, Path]) -> set[str]:
    """Import names at the zip root: `x.py`, `x.cpython-313-x86_64-linux-gnu.so` and `x/`
    are all `x`; any other file counts by its full name."""
    names = set()
    for name in entries:
        first, _, rest = name.partition("/")
        is_module = not rest and first.endswith((".py", ".so"))
        names.add(first.split(".", 1)[0] if is_module else first)
    return names


def _check_size(contents: dict[str, bytes | Path], limit: int) -> None:
    unzipped = sum(
        len(content) if isinstance(content, bytes) else content.stat().st_size
        for content in contents.values()
    )
    if unzipped > limit:
        raise PackageTooLargeError(
            f"the function's package is {unzipped:,} bytes unzipped; Lambda allows at most "
            f"{limit:,} bytes unzipped for code and layers together; drop dependencies "
            "or move to a container image"
        )


def _add_file(archive: zipfile.ZipFile, content: bytes | Path, name: str) -> None:
    """A file of the source (its bytes and executable bit) or generated bytes (0644)."""
    entry = zipfile.ZipInfo(name, date_time=FIXED_ZIP_TIME)
    entry.compress_type = zipfile.ZIP_DEFLATED
    executable = isinstance(content, Path) and content.stat().st_mode & stat.S_IXUSR
    entry.external_attr = (_EXECUTABLE_MODE if executable else _FILE_MODE) << 16
    # Unix as the creating system, whatever machine builds it: Lambda reads the mode bits.
    entry.create_system = 3
    data = content if isinstance(content, bytes) else content.read_bytes()
    archive.writestr(entry, data, compresslevel=COMPRESSION_LEVEL)


def _excluded(relative: Path) -> bool:
    return any(fnmatch(part, pattern) for part in relative.parts for pattern in PACKAGE_EXCLUDES)
