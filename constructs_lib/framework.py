"""The one import point for the CDK framework: CDK for Terraform (`cdktf`) or CDK Terrain (`cdktn`).

CDK Terrain is the maintained fork of CDK for Terraform: the same classes, construct ids,
logical ids and synthesized JSON under other package names (`cdktn`, `cdktn_provider_aws`).
The code is written against cdktf's names (`from cdktf import App`,
`from cdktf_cdktf_provider_aws.vpc import Vpc`), and mypy checks it against cdktf's bindings.

The framework is the one installed in the running Python environment: `.venv` holds cdktf,
`.venv-cdktn` CDK Terrain (docs/frameworks.md). In an environment with CDK Terrain and no
cdktf, `install()` makes every cdktf name import CDK Terrain's module of the same name: a
finder on `sys.meta_path` answers `cdktf...` and `cdktf_cdktf_provider_aws...` with the
`cdktn...` modules themselves, so an object's class is the same whichever name imported it.
Nothing else changes, and no import line anywhere names CDK Terrain.

`constructs_lib` and `serverless_app` call `install()` as they are imported, before any of
their modules imports cdktf's names; it does nothing where cdktf is installed.
"""

from __future__ import annotations

import functools
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType


@dataclass(frozen=True)
class Framework:
    name: str
    # Python package of the core library (App, TerraformStack, Fn, ...).
    core_package: str
    # Python package of the AWS provider bindings, and the jsii assembly (npm package) behind it.
    provider_package: str
    provider_assembly: str

    @property
    def package_names(self) -> dict[str, str]:
        """This framework's Python package for each package name the code imports."""
        return {
            WRITTEN_FOR.core_package: self.core_package,
            WRITTEN_FOR.provider_package: self.provider_package,
        }


CDKTF = Framework(
    name="cdktf",
    core_package="cdktf",
    provider_package="cdktf_cdktf_provider_aws",
    provider_assembly="@cdktf/provider-aws",
)
CDKTN = Framework(
    name="cdktn",
    core_package="cdktn",
    provider_package="cdktn_provider_aws",
    provider_assembly="@cdktn/provider-aws",
)
# The framework whose names the code imports; the other one is reached through the aliases.
WRITTEN_FOR = CDKTF
FRAMEWORKS = (CDKTF, CDKTN)


@functools.cache
def installed() -> Framework:
    """The framework of this Python environment: cdktf where it is installed (the default),
    else CDK Terrain where that is, else cdktf (its imports then fail as they always did)."""
    for framework in FRAMEWORKS:
        if _has_module(framework.core_package):
            return framework
    return WRITTEN_FOR


def _has_module(name: str) -> bool:
    # An alias installed earlier answers for cdktf's names: look at the real packages only.
    return importlib.machinery.PathFinder.find_spec(name) is not None


def install() -> Framework:
    """Make cdktf's names import the installed framework's modules (nothing to do for cdktf).
    Idempotent; returns the installed framework."""
    framework = installed()
    if framework != WRITTEN_FOR and not any(
        isinstance(finder, _AliasFinder) for finder in sys.meta_path
    ):
        sys.meta_path.insert(0, _AliasFinder(framework.package_names))
    return framework


class _AliasFinder(importlib.abc.MetaPathFinder):
    """`cdktf.x` -> the module `cdktn.x`, for each aliased top-level package."""

    def __init__(self, packages: Mapping[str, str]) -> None:
        self.packages = dict(packages)

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        top, dot, rest = fullname.partition(".")
        real_top = self.packages.get(top)
        if real_top is None:
            return None
        return importlib.util.spec_from_loader(fullname, _AliasLoader(real_top + dot + rest))


class _AliasLoader(importlib.abc.Loader):
    """Loads nothing itself: the aliased name gets the real module object, imported (once) under
    its own name, so its attributes, `__name__` and classes stay those of the real module."""

    def __init__(self, real_name: str) -> None:
        self.real_name = real_name

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return importlib.import_module(self.real_name)

    def exec_module(self, module: ModuleType) -> None:
        """The real module has run already (create_module imported it)."""
