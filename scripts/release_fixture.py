"""Record a release's synthesized dev stack: the fixture the apply cycle's upgrade step starts from.

Usage: python -m scripts.release_fixture RELEASE COMMIT
       (make release-fixture RELEASE=v0.1.0 COMMIT=8cab6fd)

COMMIT is checked out into a temporary git worktree, whose own `main.py` synthesizes its own
`config/dev.toml` with this checkout's Python (the locked .venv). The result goes to
`tests/releases/RELEASE/`:

    dev/cdk.tf.json, dev/assets/...  the stack folder exactly as that release handed it off
    dev.toml                         the configuration it was synthesized from
    release.toml                     the full commit id

The folder is committed, so the test suite never needs the commit or a tag (CI clones shallow).
Only the previous release is upgraded from: the folders of other releases are removed, and an
empty upgrade overlay `tests/config/upgrade_from_RELEASE.toml` is created when there is none.
Exit status 0 done, 2 when git or the old synth fails (its output on stderr).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
RELEASES_DIR = REPO_ROOT / "tests" / "releases"
OVERLAY_DIR = REPO_ROOT / "tests" / "config"
ENV = "dev"
OVERLAY_HEADER = """\
# What the CHANGELOG tells users upgrading from {release} to set in config/dev.toml to keep
# what they have (names that would otherwise change, and with them replace resources). The
# apply cycle's upgrade step merges this onto config/dev.toml (tests/test_change_cycle.py).
"""


class FixtureError(Exception):
    """git or the release's synth failed; the message is its output."""


def overlay_path(release: str) -> Path:
    return OVERLAY_DIR / f"upgrade_from_{release}.toml"


def record(release: str, commit: str) -> Path:
    """Synthesize `commit`'s dev stack and store it as tests/releases/<release>/."""
    with tempfile.TemporaryDirectory(prefix="release-fixture-") as scratch:
        tree, out = Path(scratch) / "tree", Path(scratch) / "cdktf.out"
        full_commit = _git("rev-parse", "--verify", f"{commit}^{{commit}}").strip()
        _git("worktree", "add", "--detach", str(tree), full_commit)
        try:
            _synthesize(tree, out)
            destination = RELEASES_DIR / release
            shutil.rmtree(destination, ignore_errors=True)
            shutil.copytree(out / "stacks" / ENV, destination / ENV)
            shutil.copy(tree / "config" / f"{ENV}.toml", destination / f"{ENV}.toml")
            (destination / "release.toml").write_text(f'commit = "{full_commit}"\n')
        finally:
            _git("worktree", "remove", "--force", str(tree))
    _forget_other_releases(release)
    overlay = overlay_path(release)
    if not overlay.exists():
        overlay.write_text(OVERLAY_HEADER.format(release=release))
    return destination


def _synthesize(tree: Path, out: Path) -> None:
    # The old tree's main.py finds its config and code next to itself; the dependency cache
    # is shared with this checkout (keyed by content, so an old entry is never wrong).
    environment = {**os.environ, "LAMBDA_DEPS_CACHE": str(REPO_ROOT / ".cache" / "lambda-deps")}
    arguments = ["--config", str(tree / "config" / f"{ENV}.toml"), "--outdir", str(out)]
    _run([sys.executable, str(tree / "main.py"), *arguments], cwd=tree, env=environment)


def _forget_other_releases(kept: str) -> None:
    for folder in RELEASES_DIR.iterdir():
        if folder.is_dir() and folder.name != kept:
            shutil.rmtree(folder)
    for overlay in OVERLAY_DIR.glob("upgrade_from_*.toml"):
        if overlay != overlay_path(kept):
            overlay.unlink()


def _git(*arguments: str) -> str:
    return _run(["git", *arguments], cwd=REPO_ROOT, env=dict(os.environ))


def _run(command: list[str], cwd: Path, env: dict[str, str]) -> str:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise FixtureError(f"{' '.join(command[:3])} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("release", help="the release's name, e.g. v0.1.0")
    parser.add_argument("commit", help="the release's commit (any git revision)")
    args = parser.parse_args(argv)
    try:
        destination = record(args.release, args.commit)
    except FixtureError as error:
        print(error, file=sys.stderr)
        return 2
    print(f"{args.release} ({args.commit}): {destination.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
