"""The outputs of an applied stack, as `terraform output -json` prints them in its folder."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any


class OutputsError(Exception):
    """Terraform could not be run, or had no outputs to give. One line for stderr."""


def read_outputs(stack_dir: Path) -> dict[str, Any]:
    """{name: {"value": ..., "type": ...}} from `terraform output -json` in `stack_dir`."""
    try:
        result = subprocess.run(
            ["terraform", "output", "-json"],
            cwd=stack_dir,
            capture_output=True,
            text=True,
            check=False,
        )
    except (FileNotFoundError, NotADirectoryError) as error:
        raise OutputsError(f"cannot run terraform in {stack_dir}: {error}") from None
    if result.returncode != 0:
        raise OutputsError(f"terraform output failed in {stack_dir}: {result.stderr.strip()}")
    outputs: dict[str, Any] = json.loads(result.stdout)
    return outputs
