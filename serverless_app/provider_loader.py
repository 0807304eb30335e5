"""Load only the AWS provider submodules a program imports, instead of all ~2,200.

`cdktf_cdktf_provider_aws/__init__.py` imports every resource submodule so that their types
are registered with the jsii runtime; that costs about 8 s, while a stack uses a few dozen
submodules. `install()` puts the package into `sys.modules` *without running its
`__init__`*, so `from cdktf_cdktf_provider_aws.vpc import Vpc` loads just `_jsii` (the
assembly, loaded into node exactly as before) and `vpc`. Nothing installed is modified and
no import statement changes. What the skipped `__init__` used to provide is rebuilt here:

- `cdktf_cdktf_provider_aws.<submodule>` attribute access and `from ... import <submodule>`:
  a module `__getattr__` (PEP 562) imports the submodule on first use; `__all__` lists them.
- Objects created on the node side whose Python class lives in a submodule nobody imported:
  the jsii runtime imports the submodule on demand when it knows which module holds a jsii
  namespace. Packages built by newer jsii-pacmak ship that map (`_SUBMODULE_FQN_MAP`); this
  one does not, so `install()` registers it, derived from the folder names (`s3_bucket`
  holds the jsii namespace `s3Bucket`; a test checks the rule for every submodule).

Programs call `install()` before their first provider import (`main.py`,
`tests/conftest.py`). Set CDKTF_FULL_PROVIDER_IMPORT=1 for the stock import path
(e.g. to compare output or timings); a provider already imported is left alone.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from jsii import _reference_map

PROVIDER_PACKAGE = "cdktf_cdktf_provider_aws"
PROVIDER_ASSEMBLY = "@cdktf/provider-aws"
OPT_OUT_VARIABLE = "CDKTF_FULL_PROVIDER_IMPORT"


def install(package_name: str = PROVIDER_PACKAGE, assembly: str = PROVIDER_ASSEMBLY) -> bool:
    """Make the provider package import lazily; False when the stock path stays in effect."""
    if os.environ.get(OPT_OUT_VARIABLE) == "1" or package_name in sys.modules:
        return False
    spec = importlib.util.find_spec(package_name)
    if spec is None or spec.submodule_search_locations is None:
        return False
    package = importlib.util.module_from_spec(spec)
    submodules = submodule_names(Path(next(iter(spec.submodule_search_locations))))
    # A module object takes any attribute; typeshed's ModuleType declares neither of these.
    package.__all__ = submodules  # type: ignore[attr-defined]
    package.__getattr__ = _submodule_importer(package_name, frozenset(submodules))  # type: ignore[method-assign]
    sys.modules[package_name] = package
    # The map JSIIAssembly.load() fills from `_SUBMODULE_FQN_MAP`; jsii is pinned in Pipfile.lock
    # and tests/test_provider_loader.py fails if a node-created object stops resolving.
    _reference_map._submodule_fqn_map.update(
        {f"{assembly}.{jsii_namespace(name)}": f"{package_name}.{name}" for name in submodules}
    )
    return True


def submodule_names(package_dir: Path) -> list[str]:
    """The public submodules: every folder not starting with `_` (`_jsii` is the assembly)."""
    return sorted(
        entry.name
        for entry in os.scandir(package_dir)
        if entry.is_dir() and not entry.name.startswith(("_", "."))
    )


def jsii_namespace(submodule: str) -> str:
    """`data_aws_s3_bucket` -> `dataAwsS3Bucket`: the jsii namespace the submodule holds."""
    first, *rest = submodule.split("_")
    return first + "".join(part[:1].upper() + part[1:] for part in rest)


def _submodule_importer(
    package_name: str, submodules: frozenset[str]
) -> Callable[[str], ModuleType]:
    def __getattr__(name: str) -> ModuleType:
        if name not in submodules:
            raise AttributeError(f"module {package_name!r} has no attribute {name!r}")
        return importlib.import_module(f"{package_name}.{name}")

    return __getattr__
