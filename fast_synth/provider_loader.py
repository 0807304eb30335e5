"""Load only the AWS provider submodules a program imports, instead of all ~2,200.

The provider is the installed framework's (constructs_lib/framework.py): cdktf's
`cdktf_cdktf_provider_aws`, described below, or CDK Terrain's `cdktn_provider_aws`, whose
newer bindings already import their submodules on first use on the Python side; the node
side, the single kernel process and the skipped argument checks apply to both.

`cdktf_cdktf_provider_aws/__init__.py` imports every resource submodule so that their types
are registered with the jsii runtime; that costs about 8 s, while a stack uses a few dozen
submodules. `install()` puts the package into `sys.modules` *without running its
`__init__`*, so `from cdktf_cdktf_provider_aws.vpc import Vpc` loads just `_jsii` (the
assembly, which it loads into node) and `vpc`. Nothing installed is modified and
no import statement changes. What the skipped `__init__` used to provide is rebuilt here:

- `cdktf_cdktf_provider_aws.<submodule>` attribute access and `from ... import <submodule>`:
  a module `__getattr__` (PEP 562) imports the submodule on first use; `__all__` lists them.
- Objects created on the node side whose Python class lives in a submodule nobody imported:
  the jsii runtime imports the submodule on demand when it knows which module holds a jsii
  namespace. Packages built by newer jsii-pacmak ship that map (`_SUBMODULE_FQN_MAP`); this
  one does not, so `install()` registers it, derived from the folder names (`s3_bucket`
  holds the jsii namespace `s3Bucket`; a test checks the rule for every submodule).

The node side has the same problem: loading the provider package runs its `lib/index.js`,
which `require`s every submodule. `install()` also puts `node_preload.js` (next to this
file) into NODE_OPTIONS as a `--require` preload, and names the npm package in
CDKTF_LAZY_NODE_PACKAGES. The jsii kernel's node process, started by the first jsii call after
`install()`, inherits both: the preload turns the index file's eager `exports.x = require(...)`
lines into getters as node compiles it, so only the modules the stack reaches are evaluated.
It also stops cdktf from formatting a stack trace for every token it creates (kept only for
error messages; CDKTF_TOKEN_CREATION_STACKS=1 keeps them). Nothing on disk changes; a file of
another shape loads unchanged (one line on stderr).

The kernel itself runs in one node process rather than two: jsii's stock runtime starts the
kernel as a second node process and relays every request and response through itself, two
more process hops per call on a busy 2-core machine. `install()` sets JSII_NODE (jsii's own
setting for the node command) to `jsii_node.sh`, which starts the same kernel directly
(`jsii_kernel.js` does the relay's job in-process). A JSII_NODE or JSII_RUNTIME of the user's
own is left alone. On the Python side of that channel, `jsii_messages` encodes and decodes the
common messages without jsii's general-purpose converter (same bytes on the wire).

Programs call `install()` before their first provider import and before anything starts the
jsii kernel (`main.py`, `tests/conftest.py`). Set CDKTF_FULL_PROVIDER_IMPORT=1 for the stock
path on both sides (e.g. to compare output or timings); a provider already imported is left
alone.

`install(runtime_type_checks=False)` (what `main.py` asks for) also skips the argument checks
jsii generates into every binding method of `cdktf`, `constructs` and the provider: each call
runs `typing.get_type_hints(<stub>)` and typeguard's `check_type` on every argument, inside
`if __debug__:` blocks that only `python -O` removes. They cost about a third of building the
construct tree and cannot change the output: node receives the same values either way, and
mypy checks the constructs' types statically. The loader gives each generated module (now or
when it is imported) a no-op `check_type` and a `typing` whose `get_type_hints` returns no
hints. In that `typing`, `cast` returns its value and the special forms (`Optional[...]`,
`Union[...]`, `List[...]`, ...) are one inert object. Every property of a struct returns
`typing.cast(typing.Optional[...], value)`, and building that annotation on each read cost
more than the read; a module imported after `install()` also runs its top level with it, so
its thousands of signature annotations cost nothing either. A test checks that the generated
code uses these forms only in annotations and in arguments to `cast` and `check_type`. Tests
keep the checks: conftest installs the loader with them before `main` is imported, and a
second `install()` changes nothing.

`exit_after_flush()` ends a finished program without the interpreter's teardown of thousands of
objects (teardown 0.30 s -> 0.08 s in `make bench`): exit handlers run (the jsii kernel stops),
output is flushed, then `os._exit`.
"""

from __future__ import annotations

import atexit
import builtins
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
import typing
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any, NoReturn

import typeguard
from jsii import _reference_map, _type_checking

from constructs_lib import framework
from fast_synth import jsii_messages

# The installed framework's AWS provider: cdktf's or CDK Terrain's (constructs_lib/framework.py).
PROVIDER_PACKAGE = framework.installed().provider_package
PROVIDER_ASSEMBLY = framework.installed().provider_assembly
OPT_OUT_VARIABLE = "CDKTF_FULL_PROVIDER_IMPORT"
NODE_PRELOAD = Path(__file__).resolve().with_name("node_preload.js")
NODE_PACKAGES_VARIABLE = "CDKTF_LAZY_NODE_PACKAGES"
# jsii's settings for the kernel's node command and runtime script (jsii_node.sh).
JSII_NODE_VARIABLE = "JSII_NODE"
JSII_RUNTIME_VARIABLE = "JSII_RUNTIME"
DIRECT_KERNEL_NODE = NODE_PRELOAD.with_name("jsii_node.sh")
# When set to a file path, the preload appends one JSON line per change it applied.
NODE_STATS_VARIABLE = "CDKTF_LAZY_NODE_STATS"
# Python's own status when flushing stdout at exit fails (e.g. a closed pipe).
EXIT_FLUSH_FAILED = 120


# The jsii packages whose generated bindings check argument types at run time.
CHECKED_BINDINGS = (framework.installed().core_package, "constructs")


def install(
    package_name: str = PROVIDER_PACKAGE,
    assembly: str = PROVIDER_ASSEMBLY,
    *,
    runtime_type_checks: bool = True,
) -> bool:
    """Make the provider package import lazily; False when the stock path stays in effect.
    `runtime_type_checks=False` also skips the generated argument checks (module docstring)."""
    if os.environ.get(OPT_OUT_VARIABLE) == "1":
        # A parent process may have passed the preload on: stock means stock on both sides.
        disable_node_preload(os.environ)
        return False
    if package_name in sys.modules:
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
    enable_node_preload(assembly, os.environ)
    jsii_messages.install()
    if not runtime_type_checks:
        skip_runtime_type_checks((*CHECKED_BINDINGS, package_name))
    return True


def skip_runtime_type_checks(packages: Sequence[str]) -> None:
    """Turn off the generated argument checks in every module of `packages`: those already
    imported now, the others as they are imported."""
    for name, module in list(sys.modules.items()):
        if name.partition(".")[0] in packages:
            _without_checks(module)
    sys.meta_path.insert(0, _UncheckedBindingsFinder(frozenset(packages)))


class _NoHints(dict[str, Any]):
    """What the generated code gets from `typing.get_type_hints`: `hints["arg"]` is None."""

    def __missing__(self, key: str) -> None:
        return None


def _no_type_hints(*_args: object, **_kwargs: object) -> dict[str, Any]:
    return _NoHints()


def _no_check(argname: str, value: object, expected_type: object) -> None:
    """The generated `check_type(argname=..., value=..., expected_type=...)`, doing nothing."""


class _InertAnnotation:
    """Stands for every `typing.X[...]` the generated code builds: only annotations, `cast` and
    the skipped checks receive it."""

    def __getitem__(self, _parameters: object) -> _InertAnnotation:
        return self


def _cast(_annotation: object, value: object) -> object:
    return value


# The special forms the generated code subscripts (a test checks, on the installed bindings,
# that it uses them only in annotations and in arguments to `cast` and `check_type`).
INERT_SPECIAL_FORMS = ("Optional", "Union", "List", "Dict", "Mapping", "Sequence", "Type", "Tuple")

# `typing` as the generated modules see it: a copy of typing's namespace whose get_type_hints
# skips the annotation walk, whose cast costs nothing and whose special forms build nothing.
_INERT_TYPING = ModuleType(typing.__name__, typing.__doc__)
vars(_INERT_TYPING).update(vars(typing))
vars(_INERT_TYPING).update(
    get_type_hints=_no_type_hints,
    cast=_cast,
    **dict.fromkeys(INERT_SPECIAL_FORMS, _InertAnnotation()),
)


def _import_with_inert_typing(
    name: str,
    globals: Mapping[str, object] | None = None,
    locals: Mapping[str, object] | None = None,
    fromlist: Sequence[str] = (),
    level: int = 0,
) -> ModuleType:
    """`import typing` gives the inert copy; every other import goes to the real `__import__`."""
    if name == "typing" and not fromlist and level == 0:
        return _INERT_TYPING
    return builtins.__import__(name, globals, locals, fromlist, level)


# The builtins a generated module runs its top level with, so that its own `import typing`
# binds the inert copy: the thousands of annotations in its signatures are then built from
# nothing (about 0.2 s of CPU for the stack's modules). Other modules are not affected.
_BUILTINS_WITH_INERT_TYPING = {**vars(builtins), "__import__": _import_with_inert_typing}


def _without_checks(module: ModuleType) -> None:
    """Only a jsii-generated module: it defines `check_type` next to its typeguard switch, or
    imports typeguard's own (older jsii-pacmak, as in cdktf's `constructs`), or imports jsii's
    shared `check_type` and `cached_type_hints` (newer jsii-pacmak, as in CDK Terrain)."""
    namespace = vars(module)
    check = namespace.get("check_type")
    if check is _type_checking.check_type:
        namespace["cached_type_hints"] = _no_type_hints
    elif not (
        check is typeguard.check_type
        or ("TYPEGUARD_MAJOR_VERSION" in namespace and callable(check))
    ):
        return
    namespace["check_type"] = _no_check
    namespace["typing"] = _INERT_TYPING


class _UncheckedBindingsFinder(importlib.abc.MetaPathFinder):
    """Finds modules of the given packages as the standard path finder does, with a loader
    that removes the checks right after the module has run."""

    def __init__(self, packages: frozenset[str]) -> None:
        self.packages = packages

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname.partition(".")[0] not in self.packages:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        loader = spec.loader if spec is not None else None
        if spec is not None and type(loader) is importlib.machinery.SourceFileLoader:
            spec.loader = _UncheckedSourceLoader(loader.name, loader.path)
        return spec


class _UncheckedSourceLoader(importlib.machinery.SourceFileLoader):
    def exec_module(self, module: ModuleType) -> None:
        namespace = vars(module)
        namespace["__builtins__"] = _BUILTINS_WITH_INERT_TYPING
        try:
            super().exec_module(module)
        finally:
            namespace["__builtins__"] = builtins
        _without_checks(module)


def enable_node_preload(npm_package: str, environ: MutableMapping[str, str]) -> None:
    """Have node processes started from now on load `npm_package` lazily: the jsii kernel
    copies the environment when the first jsii call starts it; and run that kernel in one node
    process (JSII_NODE). Idempotent; keeps the user's NODE_OPTIONS, JSII_NODE and JSII_RUNTIME."""
    environ["NODE_OPTIONS"] = with_node_preload(environ.get("NODE_OPTIONS", ""), NODE_PRELOAD)
    packages = [name for name in environ.get(NODE_PACKAGES_VARIABLE, "").split(",") if name]
    if npm_package not in packages:
        environ[NODE_PACKAGES_VARIABLE] = ",".join([*packages, npm_package])
    if JSII_NODE_VARIABLE not in environ and JSII_RUNTIME_VARIABLE not in environ:
        environ[JSII_NODE_VARIABLE] = str(DIRECT_KERNEL_NODE)


def disable_node_preload(environ: MutableMapping[str, str]) -> None:
    """Undo `enable_node_preload` (a parent process may have passed it on)."""
    option = node_require_option(NODE_PRELOAD)
    node_options = environ.get("NODE_OPTIONS", "")
    if option in node_options:
        environ["NODE_OPTIONS"] = " ".join(node_options.replace(option, " ").split())
    environ.pop(NODE_PACKAGES_VARIABLE, None)
    if environ.get(JSII_NODE_VARIABLE) == str(DIRECT_KERNEL_NODE):
        del environ[JSII_NODE_VARIABLE]


def with_node_preload(node_options: str, preload: Path) -> str:
    """`node_options` plus a `--require` of `preload`, unless it is there already."""
    option = node_require_option(preload)
    if option in node_options:
        return node_options
    return f"{node_options} {option}".strip()


def node_require_option(preload: Path) -> str:
    """`--require "<path>"`: NODE_OPTIONS splits on spaces outside double quotes, and inside
    them a backslash escapes the next character."""
    quoted = str(preload).replace("\\", "\\\\").replace('"', '\\"')
    return f'--require "{quoted}"'


def exit_after_flush(status: int) -> NoReturn:
    """End the process once the program is done, skipping the interpreter's teardown: run the
    exit handlers (they stop the jsii kernel), flush stdout and stderr, then `os._exit`. Call
    it only with the finished program's status, never while work is pending."""
    # What the interpreter itself calls at shutdown; atexit has no public "run them now".
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            # What Python reports when it cannot flush stdout at exit.
            status = status or EXIT_FLUSH_FAILED
    os._exit(status)


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
