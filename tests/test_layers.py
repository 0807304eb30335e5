"""The construct library stands on its own: it imports nothing of the app above it."""

import json
import os
import subprocess
import sys

from fast_synth import provider_loader
from tests.support import REPO_ROOT

CONSTRUCT_MODULES = sorted(
    f"constructs_lib.{path.stem}"
    for path in (REPO_ROOT / "constructs_lib").glob("*.py")
    if path.stem != "__init__"
)
# Imports every construct module in a fresh interpreter and lists the packages it loaded.
# The provider loader comes first, as in every program of this repo, so the AWS bindings load
# in about a second instead of the stock ~15 s. It lives in `fast_synth`, which imports nothing
# of the app either: if it did, `serverless_app` would show up here too.
IMPORT_ALL = """
import importlib, json, sys
from fast_synth import provider_loader
installed = provider_loader.install()
for name in sys.argv[1:]:
    importlib.import_module(name)
packages = sorted({name.split(".")[0] for name in sys.modules})
print(json.dumps({"installed": installed, "packages": packages}))
"""


def test_constructs_import_without_the_app_package():
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_ALL, *CONSTRUCT_MODULES],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        # The stock path would prove the same, only slower: keep the fast one.
        env={k: v for k, v in os.environ.items() if k != provider_loader.OPT_OUT_VARIABLE},
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["installed"] is True
    loaded = found["packages"]
    assert "constructs_lib" in loaded and "cdktf_cdktf_provider_aws" in loaded
    assert "serverless_app" not in loaded
    assert "pydantic" not in loaded
