"""Tiny wheels and sdists built by hand, and a pip that sees only them: dependency tests run
offline and in a second or two."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import tarfile
import zipfile
from pathlib import Path

import pytest


def make_wheel(
    folder: Path,
    name: str,
    version: str = "1.0",
    tag: str = "py3-none-any",
    files: dict[str, str] | None = None,
    entry_points: str | None = None,
    requires: tuple[str, ...] = (),
) -> Path:
    """A valid wheel `name-version-tag.whl` in `folder` holding `files` (default: a package
    whose __init__ says which wheel it came from), depending on `requires`."""
    dist = f"{name}-{version}"
    contents = dict(files or {f"{name}/__init__.py": f"WHEEL = {tag!r}\n"})
    purelib = "true" if tag.endswith("-none-any") else "false"
    requirements = "".join(f"Requires-Dist: {requirement}\n" for requirement in requires)
    contents[f"{dist}.dist-info/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n{requirements}"
    )
    contents[f"{dist}.dist-info/WHEEL"] = (
        f"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: {purelib}\nTag: {tag}\n"
    )
    if entry_points:
        contents[f"{dist}.dist-info/entry_points.txt"] = entry_points
    record = f"{dist}.dist-info/RECORD"
    rows = [
        f"{path},sha256={_digest(text.encode())},{len(text.encode())}"
        for path, text in contents.items()
    ]
    contents[record] = "\n".join([*rows, f"{record},,"]) + "\n"
    folder.mkdir(parents=True, exist_ok=True)
    wheel = folder / f"{dist}-{tag}.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in contents.items():
            archive.writestr(path, text)
    return wheel


def make_sdist(folder: Path, name: str, version: str = "1.0") -> Path:
    """A source distribution only: pip may see it but must not build it."""
    folder.mkdir(parents=True, exist_ok=True)
    sdist = folder / f"{name}-{version}.tar.gz"
    with tarfile.open(sdist, "w:gz") as archive:
        data = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
        info = tarfile.TarInfo(f"{name}-{version}/PKG-INFO")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    return sdist


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def use_only(monkeypatch: pytest.MonkeyPatch, wheelhouse: Path) -> None:
    """Point pip at `wheelhouse` alone: no index, no user or machine configuration."""
    wheelhouse.mkdir(parents=True, exist_ok=True)
    for name in list(os.environ):
        if name.startswith("PIP_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheelhouse))
    monkeypatch.setenv("PIP_DISABLE_PIP_VERSION_CHECK", "1")


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
