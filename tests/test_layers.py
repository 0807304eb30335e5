"""The construct library stands on its own: it imports nothing of the app above it."""

import json
import subprocess
import sys

from tests.support import REPO_ROOT

CONSTRUCT_MODULES = sorted(
    f"constructs_lib.{path.stem}"
    for path in (REPO_ROOT / "constructs_lib").glob("*.py")
    if path.stem != "__init__"
)
# Imports every construct module in a fresh interpreter and lists the packages it loaded.
IMPORT_ALL = """
import importlib, json, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def test_constructs_import_without_the_app_package():
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_ALL, *CONSTRUCT_MODULES],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    assert "constructs_lib" in loaded and "cdktf_cdktf_provider_aws" in loaded
    assert "serverless_app" not in loaded
    assert "pydantic" not in loaded
