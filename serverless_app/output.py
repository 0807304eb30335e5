"""The output folder: replaced as a whole, atomically, and only when it is absent, empty or a
previous output (cdktf's manifest.json listing existing stacks/, nothing else at its top); a
second run on the same folder at the same time fails. Terraform's working files in a stack
folder (local state, `.terraform/`, the lock file) are carried over to the new output.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import json
import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from serverless_app.summary import synth_summary

if TYPE_CHECKING:
    from cdktf import App


# What cdktf writes at the top of an output folder. A folder holding anything else is not a
# previous output of this program, so replacing it could delete someone's files.
OUTPUT_TOP_LEVEL = frozenset({"manifest.json", "stacks"})


class OutputError(Exception):
    """The output folder cannot be written or replaced; the message is one line for stderr."""


def outdir_problems(outdir: Path, config: Path | None = None) -> list[str]:
    """The output folder is replaced as a whole: refuse anything but an absent or empty folder
    or a previous output (see `previous_output_problem`), and an output the configuration
    files `config` (a file or a folder) would get mixed up with."""
    problem = (config and configuration_problem(outdir, config)) or replace_problem(outdir)
    return [f"{outdir}: not replaced: {problem}"] if problem else []


def configuration_problem(outdir: Path, config: Path) -> str | None:
    """Every run over a configuration folder reads its `*.toml` entries: an output named so is
    read as a configuration file (and fails every later run), and an output inside a folder
    given as the configuration mixes generated files into what every run reads."""
    if outdir.suffix == ".toml":
        return (
            "an output named *.toml would be read as a configuration file by every run over "
            "its folder; choose another name"
        )
    if not config.is_dir():
        return None
    try:
        inside = config.resolve() in (outdir.resolve(), *outdir.resolve().parents)
    except (OSError, RuntimeError):  # a symbolic link loop: reported when the folder is read
        return None
    if inside:
        return (
            f"it is inside the configuration folder {config}, whose files every run reads; "
            "write the output elsewhere"
        )
    return None


def replace_problem(outdir: Path) -> str | None:
    if outdir.is_symlink():
        return "it is a symbolic link; give the folder it points to"
    if not outdir.exists():
        return None
    if not outdir.is_dir():
        return "it is not a folder"
    try:
        entries = {entry.name for entry in outdir.iterdir()}
    except OSError as error:
        return f"cannot list it: {error.strerror}"
    return previous_output_problem(outdir, entries) if entries else None


def previous_output_problem(outdir: Path, entries: set[str]) -> str | None:
    """A previous output holds only manifest.json and stacks/ at the top, and its manifest has
    cdktf's shape: a version and one or more stacks whose synthesizedStackPath exists."""
    foreign = sorted(entries - OUTPUT_TOP_LEVEL)
    if foreign:
        return f"it is not a synth output: it holds {', '.join(foreign)}"
    try:
        manifest = json.loads((outdir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return "it is not a synth output: no readable cdktf manifest.json"
    if not _is_cdktf_manifest(outdir, manifest):
        return "it is not a synth output: manifest.json does not list its stacks the cdktf way"
    return None


def _is_cdktf_manifest(outdir: Path, manifest: object) -> bool:
    if not isinstance(manifest, dict) or not isinstance(manifest.get("version"), str):
        return False
    stacks = manifest.get("stacks")
    if not isinstance(stacks, dict) or not stacks:
        return False
    for stack in stacks.values():
        path = stack.get("synthesizedStackPath") if isinstance(stack, dict) else None
        if not isinstance(path, str) or not path.startswith("stacks/") or ".." in path:
            return False
        if not (outdir / path).is_file():
            return False
    return True


def synthesize(build: Callable[[App], None], outdir: Path) -> None:
    """Write every stack `build` adds into a fresh folder next to `outdir`, then swap it in with
    one atomic rename: a run that fails or is killed anywhere leaves the previous output
    exactly as it was. Raise OutputError when the output folder cannot be written."""
    shown_outdir = outdir
    # absolute(), not resolve(): a symbolic link is refused, never followed and replaced.
    outdir = outdir.absolute()
    with output_lock(outdir):
        remove_stale_staging(outdir)
        staging = outdir.with_name(f".{outdir.name}.{uuid.uuid4().hex[:8]}.new")
        try:
            staging.mkdir()
        except OSError as error:
            raise OutputError(f"{shown_outdir}: cannot write: {describe(error)}") from None
        try:
            synthesize_into(build, staging)
            # Checked again under the lock: the folder may have changed since validation.
            problems = outdir_problems(outdir)
            if problems:
                raise OutputError(problems[0])
            carry_over_working_files(outdir, staging)
            replace_folder(staging, outdir)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    print(synth_summary(shown_outdir))


# What cdktf writes into a stack folder. Anything else there is Terraform's or the operator's
# (local state, `.terraform/`, the lock file, saved plans) and must survive a new synth.
SYNTHESIZED_STACK_ENTRIES = frozenset({"cdk.tf.json", "assets"})


def carry_over_working_files(previous: Path, new: Path) -> None:
    """Hard-link every file a previous stack folder holds besides the synthesized ones into the
    same stack folder of the new output (the old output stays intact until the swap). A stack
    that is gone from the configuration but still holds such files is refused."""
    stacks = previous / "stacks"
    if not stacks.is_dir():
        return
    for stack in sorted(stacks.iterdir()):
        target = new / "stacks" / stack.name
        if stack.is_symlink() or not stack.is_dir():
            # Not a stack folder (a `.DS_Store`, a note): kept where it was, unless a stack of
            # that name now takes its place.
            if not target.exists():
                _link_tree(stack, target)
            continue
        kept = _working_files(stack)
        if not kept:
            continue
        if not target.is_dir():
            names = ", ".join(entry.name for entry in kept)
            raise OutputError(
                f"{stack}: not replaced: the configuration has no stack {stack.name} any more "
                f"but its folder holds {names}; move them out first"
            )
        for entry in kept:
            _link_tree(entry, target / entry.name)


def _working_files(stack: Path) -> list[Path]:
    """What a stack folder holds besides the synthesized files."""
    try:
        return sorted(e for e in stack.iterdir() if e.name not in SYNTHESIZED_STACK_ENTRIES)
    except OSError as error:
        raise OutputError(f"{stack}: not replaced: cannot read it: {describe(error)}") from None


def _link_tree(source: Path, destination: Path) -> None:
    # Hard links: a provider binary in .terraform/ is hundreds of MB, never worth a copy.
    if source.is_dir() and not source.is_symlink():
        shutil.copytree(source, destination, symlinks=True, copy_function=os.link)
    elif source.is_symlink():
        destination.symlink_to(os.readlink(source))
    else:
        os.link(source, destination)


def synthesize_into(build: Callable[[App], None], folder: Path) -> None:
    # Imported only after validation: loading the provider bindings takes seconds.
    from cdktf import App

    app = App(outdir=str(folder), stack_traces=False)
    build(app)
    app.synth()


def describe(error: OSError) -> str:
    return f"{error.strerror or error}: {error.filename}" if error.filename else str(error)


@contextmanager
def output_lock(outdir: Path) -> Iterator[None]:
    """One run at a time per output folder: a second one fails at once (OutputError), rather
    than racing the first one's swap. The lock file sits next to the folder and is removed."""
    lock_path = outdir.with_name(f".{outdir.name}.lock")
    try:
        outdir.parent.mkdir(parents=True, exist_ok=True)
        descriptor = _locked(lock_path)
    except BlockingIOError:
        raise OutputError(
            f"{outdir}: another run is writing it (lock {lock_path.name}); try again"
        ) from None
    except OSError as error:
        raise OutputError(f"{outdir}: cannot write: {describe(error)}") from None
    try:
        yield
    finally:
        lock_path.unlink(missing_ok=True)
        os.close(descriptor)


def _locked(lock_path: Path) -> int:
    """A descriptor holding an exclusive flock on the file now at `lock_path`."""
    while True:
        descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            # The previous holder removes the file when done: if it did so after we opened
            # it, we hold a lock nobody else sees; take the one on the new file instead.
            if os.fstat(descriptor).st_ino == os.stat(lock_path).st_ino:
                return descriptor
        except FileNotFoundError:
            pass
        except BaseException:
            os.close(descriptor)
            raise
        os.close(descriptor)


def staging_name(outdir: Path) -> re.Pattern[str]:
    return re.compile(rf"\.{re.escape(outdir.name)}\.[0-9a-f]{{8}}\.(new|old)")


def remove_stale_staging(outdir: Path) -> None:
    """Folders a killed run left next to the output (we hold the lock: no run is using them).
    An `.old` one without an output is a fallback swap cut between its renames: restore it."""
    pattern = staging_name(outdir)
    for leftover in sorted(outdir.parent.iterdir()):
        match = pattern.fullmatch(leftover.name)
        if match is None:
            continue
        if match.group(1) == "old" and not outdir.exists():
            leftover.rename(outdir)
        else:
            shutil.rmtree(leftover, ignore_errors=True)


RENAME_EXCHANGE = 2  # linux/fs.h
AT_FDCWD = -100


def replace_folder(new: Path, target: Path) -> None:
    """Put `new` in place of `target` in one atomic step; the previous `target` ends up at
    `new`'s path for the caller to remove. Both are in one folder (one file system)."""
    if not target.exists():
        new.rename(target)
        return
    try:
        exchange(new, target)
    except OSError as error:
        if error.errno not in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
            raise
        replace_by_two_renames(new, target)


def exchange(first: Path, second: Path) -> None:
    """Swap two paths atomically: Linux renameat2(RENAME_EXCHANGE), glibc 2.28+."""
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if renameat2 is None:
        raise OSError(errno.ENOSYS, "renameat2 is not available")
    if renameat2(AT_FDCWD, os.fsencode(first), AT_FDCWD, os.fsencode(second), RENAME_EXCHANGE):
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code), str(first), None, str(second))


def replace_by_two_renames(new: Path, target: Path) -> None:
    """Where the file system cannot exchange: not atomic, but a run killed between the renames
    leaves `.old`, which the next run puts back (remove_stale_staging)."""
    previous = new.with_suffix(".old")
    target.rename(previous)
    try:
        new.rename(target)
    except OSError:
        previous.rename(target)
        raise
    previous.rename(new)
