"""A function's deployment package from its source folder, dependency file and target: what
`ServerlessFunction` uploads and what `make serve` runs, built by the same code."""

from __future__ import annotations

from pathlib import Path

from constructs_lib.dependencies import Target, install_dependencies
from constructs_lib.packaging import Package, build_zip


def build_function_package(
    source_dir: Path, target_zip: Path, *, dependencies: Path | None, target: Target
) -> Package:
    """The deterministic zip of the code, its dependencies installed for `target` and
    byte-code for its runtime (see `constructs_lib.packaging`)."""
    installed = None if dependencies is None else install_dependencies(dependencies, target)
    return build_zip(
        source_dir, target_zip, dependencies_dir=installed, bytecode_runtime=target.runtime
    )
