"""The fast provider loader: only the submodules a program imports, the same bytes as stock."""

from __future__ import annotations

import ast
import base64
import importlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from jsii import _reference_map

from fast_synth import provider_loader
from fast_synth.provider_loader import (
    DIRECT_KERNEL_NODE,
    JSII_NODE_VARIABLE,
    JSII_RUNTIME_VARIABLE,
    NODE_PACKAGES_VARIABLE,
    NODE_PRELOAD,
    NODE_STATS_VARIABLE,
    OPT_OUT_VARIABLE,
    PROVIDER_ASSEMBLY,
    PROVIDER_PACKAGE,
)
from tests.support import BOOTSTRAP_TEST_CONFIG, REPO_ROOT, snapshot


def package_dir(package: str) -> Path:
    """The folder of an installed package's `__init__.py`."""
    spec = importlib.util.find_spec(package)
    assert spec is not None and spec.origin is not None, f"{package} is not installed"
    return Path(spec.origin).parent


PROVIDER_DIR = package_dir(PROVIDER_PACKAGE)
FAKE_PACKAGE = "fake_provider_for_loader_tests"
FAKE_ASSEMBLY = "@fake/provider"
_FIRST_JSII_TYPE = re.compile(rb'jsii_type="@cdktf/provider-aws\.(\w+)\.')


@pytest.fixture
def fake_provider(tmp_path, monkeypatch) -> Iterator[str]:
    """A package shaped like a provider whose `__init__` fails if it ever runs."""
    package = tmp_path / FAKE_PACKAGE
    for folder in ("", "_jsii", "__pycache__", "alpha_beta", "gamma"):
        (package / folder).mkdir(exist_ok=True)
        (package / folder / "__init__.py").write_text(f"NAME = {folder!r}\n")
    (package / "__init__.py").write_text("raise RuntimeError('the package __init__ ran')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv(OPT_OUT_VARIABLE, raising=False)
    # install() edits the node environment: start from a user's own option, restore it after.
    monkeypatch.setenv("NODE_OPTIONS", "--no-warnings")
    monkeypatch.delenv(NODE_PACKAGES_VARIABLE, raising=False)
    monkeypatch.delenv(JSII_NODE_VARIABLE, raising=False)
    monkeypatch.setattr(_reference_map, "_submodule_fqn_map", {})
    yield FAKE_PACKAGE
    for name in [name for name in sys.modules if name.startswith(FAKE_PACKAGE)]:
        del sys.modules[name]


def install_fake(name: str) -> ModuleType:
    assert provider_loader.install(name, FAKE_ASSEMBLY) is True
    return sys.modules[name]


def test_submodule_imports_without_running_the_package_init(fake_provider):
    install_fake(fake_provider)
    alpha_beta = importlib.import_module(f"{fake_provider}.alpha_beta")
    assert alpha_beta.NAME == "alpha_beta"
    assert f"{fake_provider}.gamma" not in sys.modules


def test_submodules_load_on_attribute_access_and_from_import(fake_provider):
    package = install_fake(fake_provider)
    assert package.gamma.NAME == "gamma"
    assert f"{fake_provider}.gamma" in sys.modules
    namespace: dict[str, Any] = {}
    exec(f"from {fake_provider} import alpha_beta", namespace)
    assert namespace["alpha_beta"].NAME == "alpha_beta"


def test_unknown_attribute_raises_attribute_error(fake_provider):
    package = install_fake(fake_provider)
    with pytest.raises(AttributeError, match="has no attribute 'delta'"):
        package.delta  # noqa: B018


def test_all_lists_the_public_submodules(fake_provider):
    assert install_fake(fake_provider).__all__ == ["alpha_beta", "gamma"]


def test_jsii_namespaces_map_to_their_submodules(fake_provider):
    install_fake(fake_provider)
    assert _reference_map._submodule_fqn_map == {
        f"{FAKE_ASSEMBLY}.alphaBeta": f"{fake_provider}.alpha_beta",
        f"{FAKE_ASSEMBLY}.gamma": f"{fake_provider}.gamma",
    }


def test_opt_out_keeps_the_stock_import_path(fake_provider, monkeypatch):
    monkeypatch.setenv(OPT_OUT_VARIABLE, "1")
    assert provider_loader.install(fake_provider, FAKE_ASSEMBLY) is False
    with pytest.raises(RuntimeError, match="the package __init__ ran"):
        importlib.import_module(f"{fake_provider}.alpha_beta")


def test_install_adds_the_node_preload_after_the_users_node_options(fake_provider):
    install_fake(fake_provider)
    assert os.environ["NODE_OPTIONS"] == f'--no-warnings --require "{NODE_PRELOAD}"'
    assert os.environ[NODE_PACKAGES_VARIABLE] == FAKE_ASSEMBLY
    assert os.environ[JSII_NODE_VARIABLE] == str(DIRECT_KERNEL_NODE)


def test_enabling_the_node_preload_twice_changes_nothing():
    environ = {"NODE_OPTIONS": "--no-warnings"}
    for _ in range(2):
        provider_loader.enable_node_preload(FAKE_ASSEMBLY, environ)
        provider_loader.enable_node_preload(PROVIDER_ASSEMBLY, environ)
    assert environ == {
        "NODE_OPTIONS": f'--no-warnings --require "{NODE_PRELOAD}"',
        NODE_PACKAGES_VARIABLE: f"{FAKE_ASSEMBLY},{PROVIDER_ASSEMBLY}",
        JSII_NODE_VARIABLE: str(DIRECT_KERNEL_NODE),
    }


@pytest.mark.parametrize("variable", [JSII_NODE_VARIABLE, JSII_RUNTIME_VARIABLE])
def test_a_users_own_jsii_node_or_runtime_is_kept(variable):
    environ = {variable: "/opt/node/bin/node"}
    provider_loader.enable_node_preload(PROVIDER_ASSEMBLY, environ)
    assert environ[variable] == "/opt/node/bin/node"
    assert environ.get(JSII_NODE_VARIABLE, "/opt/node/bin/node") == "/opt/node/bin/node"
    provider_loader.disable_node_preload(environ)
    assert environ[variable] == "/opt/node/bin/node"


def test_opt_out_also_removes_an_inherited_node_preload(fake_provider, monkeypatch):
    monkeypatch.setenv(OPT_OUT_VARIABLE, "1")
    monkeypatch.setenv("NODE_OPTIONS", f'--no-warnings --require "{NODE_PRELOAD}" --trace-gc')
    monkeypatch.setenv(NODE_PACKAGES_VARIABLE, PROVIDER_ASSEMBLY)
    monkeypatch.setenv(JSII_NODE_VARIABLE, str(DIRECT_KERNEL_NODE))
    assert provider_loader.install(fake_provider, FAKE_ASSEMBLY) is False
    assert os.environ["NODE_OPTIONS"] == "--no-warnings --trace-gc"
    assert NODE_PACKAGES_VARIABLE not in os.environ
    assert JSII_NODE_VARIABLE not in os.environ


def test_an_already_imported_package_is_left_alone(fake_provider):
    already = ModuleType(fake_provider)
    sys.modules[fake_provider] = already
    assert provider_loader.install(fake_provider, FAKE_ASSEMBLY) is False
    assert sys.modules[fake_provider] is already


def test_all_matches_the_stock_package():
    tree = ast.parse((PROVIDER_DIR / "__init__.py").read_text(encoding="utf-8"))
    (stock_all,) = [
        ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "__all__"
    ]
    assert provider_loader.submodule_names(PROVIDER_DIR) == sorted(stock_all)


def test_namespace_rule_holds_for_every_provider_submodule():
    """Each submodule declares its jsii types under the namespace `jsii_namespace` derives."""
    mismatches = {}
    for name in provider_loader.submodule_names(PROVIDER_DIR):
        declared = _first_jsii_namespace(PROVIDER_DIR / name / "__init__.py")
        if declared != provider_loader.jsii_namespace(name):
            mismatches[name] = declared
    assert mismatches == {}


def _first_jsii_namespace(source: Path) -> str | None:
    with source.open("rb") as file:
        head = b""
        while chunk := file.read(16_384):
            head += chunk
            if found := _FIRST_JSII_TYPE.search(head):
                return found.group(1).decode()
    return None


def test_the_pytest_process_uses_the_fast_loader():
    """conftest installs the loader first, so collecting the suite stays fast."""
    assert "__getattr__" in vars(sys.modules[PROVIDER_PACKAGE])


# Runs in a fresh interpreter: what a user's program sees after `provider_loader.install()`.
FRESH_PROCESS = """
import json, sys
from fast_synth import provider_loader
provider_loader.install()
from cdktf import TerraformStack, Testing
from cdktf_cdktf_provider_aws.vpc import Vpc
from constructs import Node
import jsii
from jsii._kernel import _make_reference_for_native
from jsii._kernel.types import CreateRequest

loaded = sorted(name for name in sys.modules if name.startswith("cdktf_cdktf_provider_aws"))
stack = TerraformStack(Testing.app(), "stack")
# An object node creates on its own, of a class in a submodule Python never imported.
jsii.kernel.provider.create(CreateRequest(
    fqn="@cdktf/provider-aws.s3Bucket.S3Bucket",
    args=_make_reference_for_native(jsii.kernel, [stack, "bucket"]),
))
cls = type(Node.of(stack).find_child("bucket"))
print(json.dumps({"loaded": loaded, "bucket_class": f"{cls.__module__}.{cls.__name__}"}))
"""


@pytest.fixture(scope="module")
def fresh_process() -> dict:
    result = subprocess.run(
        [sys.executable, "-c", FRESH_PROCESS],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env={
            **os.environ,
            OPT_OUT_VARIABLE: "0",
        },
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_importing_one_resource_loads_only_its_submodule(fresh_process):
    public = [name for name in fresh_process["loaded"] if not name.endswith("._private")]
    assert public == [PROVIDER_PACKAGE, f"{PROVIDER_PACKAGE}._jsii", f"{PROVIDER_PACKAGE}.vpc"]


def test_object_created_by_node_gets_its_python_class(fresh_process):
    assert fresh_process["bucket_class"] == f"{PROVIDER_PACKAGE}.s3_bucket.S3Bucket"


# The node side, on a small npm package shaped like a provider: node itself runs the preload.
FAKE_INDEX = """\
"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.gamma = exports.alphaBeta = void 0;
exports.alphaBeta = require("./alpha-beta");
exports.gamma = require("./gamma");
"""
# Prints which submodules ran before and after one is used, and what the package exposes.
NODE_PROGRAM = """
globalThis.evaluated = [];
const provider = require("@fake/provider");
const before = [...globalThis.evaluated];
const keys = Object.keys(provider);
const name = provider.alphaBeta.NAME;
provider.gamma = "replaced";
const after = globalThis.evaluated;
console.log(JSON.stringify({ before, keys, name, after, gamma: provider.gamma }));
"""


@pytest.fixture
def npm_package(tmp_path) -> Path:
    """node_modules/@fake/provider, in a folder whose name needs quoting in NODE_OPTIONS."""
    project = tmp_path / 'a "quoted" path with spaces'
    lib = project / "node_modules" / "@fake" / "provider" / "lib"
    for submodule in ("alpha-beta", "gamma"):
        (lib / submodule).mkdir(parents=True)
        (lib / submodule / "index.js").write_text(
            f'globalThis.evaluated.push("{submodule}");\nexports.NAME = "{submodule}";\n'
        )
    (lib / "index.js").write_text(FAKE_INDEX)
    (lib.parent / "package.json").write_text(
        json.dumps({"name": FAKE_ASSEMBLY, "main": "lib/index.js"})
    )
    shutil.copyfile(NODE_PRELOAD, project / NODE_PRELOAD.name)
    return project


def run_node(
    project: Path, program: str = NODE_PROGRAM, **env: str
) -> tuple[dict, str, list[dict]]:
    """The program's printed result, node's stderr and the preload's stats lines."""
    stats = project / "stats.jsonl"
    node_options = provider_loader.with_node_preload("--no-warnings", project / NODE_PRELOAD.name)
    result = subprocess.run(
        ["node", "-e", program],
        cwd=project,
        capture_output=True,
        text=True,
        env={
            "PATH": os.environ["PATH"],
            "NODE_OPTIONS": node_options,
            NODE_PACKAGES_VARIABLE: FAKE_ASSEMBLY,
            NODE_STATS_VARIABLE: str(stats),
            **env,
        },
    )
    assert result.returncode == 0, result.stderr
    lines = stats.read_text().splitlines() if stats.exists() else []
    return json.loads(result.stdout), result.stderr, [json.loads(line) for line in lines]


def test_node_evaluates_a_submodule_only_when_it_is_used(npm_package):
    output, stderr, stats = run_node(npm_package)
    assert output == {
        "before": [],
        "keys": ["alphaBeta", "gamma"],
        "name": "alpha-beta",
        "after": ["alpha-beta"],
        "gamma": "replaced",
    }
    assert stderr == ""
    assert [(line["package"], line["lazy"]) for line in stats] == [(FAKE_ASSEMBLY, 2)]


def test_node_loads_other_packages_unchanged(npm_package):
    output, _, stats = run_node(npm_package, **{NODE_PACKAGES_VARIABLE: "@other/provider"})
    assert output["before"] == ["alpha-beta", "gamma"]
    assert stats == []


def test_node_opt_out_loads_the_package_eagerly(npm_package):
    output, _, stats = run_node(npm_package, **{OPT_OUT_VARIABLE: "1"})
    assert output["before"] == ["alpha-beta", "gamma"]
    assert stats == []


def test_an_index_of_unknown_shape_loads_unchanged_and_says_so_once(npm_package):
    index = npm_package / "node_modules" / "@fake" / "provider" / "lib" / "index.js"
    # A require the rewrite does not recognise: its order might matter, so nothing is lazy.
    index.write_text(FAKE_INDEX + 'const helper = require("./gamma/index.js");\n')
    output, stderr, stats = run_node(npm_package)
    assert output["before"] == ["alpha-beta", "gamma"]
    assert stderr.count("unrecognised shape") == 1
    assert [line["lazy"] for line in stats] == [0]


# The shape of cdktf's lib/tokens/private/stack-trace.js (tsc output), with a stand-in trace.
FAKE_STACK_TRACE_MODULE = """\
"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.captureStackTrace = captureStackTrace;
function captureStackTrace() { return ["at the caller (file.js:1:1)"]; }
"""
TRACE_PROGRAM = """
const { captureStackTrace } = require("cdktf/lib/tokens/private/stack-trace.js");
console.log(JSON.stringify({ trace: captureStackTrace() }));
"""
NOT_RECORDED = [
    "(token creation stack not recorded: set CDKTF_TOKEN_CREATION_STACKS=1 to record it)"
]


def write_stack_trace_module(project: Path, source: str = FAKE_STACK_TRACE_MODULE) -> None:
    module = project / "node_modules" / "cdktf" / "lib" / "tokens" / "private" / "stack-trace.js"
    module.parent.mkdir(parents=True)
    module.write_text(source)


def test_node_skips_cdktf_token_creation_stacks(npm_package):
    write_stack_trace_module(npm_package)
    output, stderr, stats = run_node(npm_package, TRACE_PROGRAM)
    assert output == {"trace": NOT_RECORDED}
    assert stderr == ""
    assert [(line["package"], line["creation_stacks"]) for line in stats] == [("cdktf", "skipped")]


@pytest.mark.parametrize(
    "variable", ["CDKTF_TOKEN_CREATION_STACKS", OPT_OUT_VARIABLE], ids=["asked for", "stock"]
)
def test_node_keeps_token_creation_stacks_when_asked_or_stock(npm_package, variable):
    write_stack_trace_module(npm_package)
    output, _, stats = run_node(npm_package, TRACE_PROGRAM, **{variable: "1"})
    assert output == {"trace": ["at the caller (file.js:1:1)"]}
    assert stats == []


def test_a_stack_trace_module_of_unknown_shape_is_kept_and_said_once(npm_package):
    write_stack_trace_module(npm_package, 'exports.trace = () => ["at x"];\n')
    program = """
const { trace } = require("cdktf/lib/tokens/private/stack-trace.js");
console.log(JSON.stringify({ trace: trace() }));
"""
    output, stderr, stats = run_node(npm_package, program)
    assert output == {"trace": ["at x"]}
    assert stderr.count("token creation stacks stay on") == 1
    assert [line["creation_stacks"] for line in stats] == ["kept"]


# main.py's stacks, then its bootstrap stack, in one process: the stock path's provider import
# (about 8 s) is paid once. The preload writes its stats to the file named in argv[3].
BOTH_SYNTHS = """
import sys
import main
bootstrap = ["--bootstrap", "--config", sys.argv[3], "--outdir", sys.argv[2]]
for args in (["--outdir", sys.argv[1]], bootstrap):
    assert main.main(args) == 0
"""


@pytest.fixture(scope="module")
def fast_and_stock(tmp_path_factory) -> dict[str, tuple[dict[str, bytes], list[dict], str]]:
    """cdktf.out/ and bootstrap.out/ of the fast and the fully stock path, with the stats and
    what the run printed on stderr."""
    base = tmp_path_factory.mktemp("fast-and-stock")
    found = {}
    for label, opt_out in (("fast", "0"), ("stock", "1")):
        folder, stats = base / label, base / f"{label}-stats.jsonl"
        result = subprocess.run(
            [
                sys.executable,
                "-c",
                BOTH_SYNTHS,
                f"{folder}/cdktf.out",
                f"{folder}/bootstrap.out",
                str(BOOTSTRAP_TEST_CONFIG),
            ],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            env={
                **os.environ,
                OPT_OUT_VARIABLE: opt_out,
                NODE_STATS_VARIABLE: str(stats),
            },
        )
        assert result.returncode == 0, result.stderr
        lines = stats.read_text().splitlines() if stats.exists() else []
        found[label] = (snapshot(folder), [json.loads(line) for line in lines], result.stderr)
    return found


def test_both_paths_wrote_the_stacks_and_the_bootstrap_stack(fast_and_stock):
    for tree, *_ in fast_and_stock.values():
        assert {name.split("/")[0] for name in tree} == {"cdktf.out", "bootstrap.out"}


def test_output_is_byte_identical_to_the_stock_path(fast_and_stock):
    assert fast_and_stock["fast"][0] == fast_and_stock["stock"][0]


def test_node_loads_the_aws_provider_lazily_only_on_the_fast_path(fast_and_stock):
    fast_stats, stock_stats = fast_and_stock["fast"][1], fast_and_stock["stock"][1]
    lazy = {line["package"]: line["lazy"] for line in fast_stats if "lazy" in line}
    assert lazy.get(PROVIDER_ASSEMBLY, 0) > 2000, fast_stats
    assert stock_stats == []


def test_cdktf_calls_no_deprecated_node_api_on_the_fast_path(fast_and_stock):
    """cdktf's `util.isArray` gets `Array.isArray`: Node's DEP0044 warning, printed on the
    stock path, is not printed ahead of the program's own messages."""
    assert "DEP0044" in fast_and_stock["stock"][2]
    assert "DEP0044" not in fast_and_stock["fast"][2]


def test_the_real_cdktf_skips_token_creation_stacks_only_on_the_fast_path(fast_and_stock):
    fast_stats = fast_and_stock["fast"][1]
    stacks = [line["creation_stacks"] for line in fast_stats if "creation_stacks" in line]
    assert stacks == ["skipped"], fast_stats


EXITING_PROGRAM = """
import atexit, sys
from fast_synth.provider_loader import exit_after_flush
atexit.register(lambda: print("; exit handler ran"))
sys.stdout.write("buffered, no newline")
sys.stderr.write("to stderr")
exit_after_flush(3)
print("not reached")
"""


def test_exit_after_flush_runs_exit_handlers_and_flushes_output():
    result = subprocess.run(
        [sys.executable, "-c", EXITING_PROGRAM], cwd=REPO_ROOT, capture_output=True, text=True
    )
    assert (result.returncode, result.stdout, result.stderr) == (
        3,
        "buffered, no newline; exit handler ran\n",
        "to stderr",
    )


UNCHECKED_PROCESS = """
import json, sys, typing
from fast_synth import provider_loader
provider_loader.install(runtime_type_checks=False)
import cdktf
from cdktf_cdktf_provider_aws.vpc import Vpc
roots = ("cdktf", "constructs", "cdktf_cdktf_provider_aws")
generated = {name: module for name, module in list(sys.modules.items())
             if name.split(".")[0] in roots and "check_type" in vars(module)}
print(json.dumps({
    "generated": sorted(generated),
    "checked": sorted(name for name, module in generated.items()
                      if module.check_type is not provider_loader._no_check),
    "typing_untouched": typing.get_type_hints is not provider_loader._no_type_hints,
}))
"""


def test_main_skips_the_generated_type_checks_in_every_binding_module():
    result = subprocess.run(
        [sys.executable, "-c", UNCHECKED_PROCESS],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env=os.environ,
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    roots = {name.split(".")[0] for name in found["generated"]}
    assert roots == {"cdktf", "constructs", PROVIDER_PACKAGE}, found
    assert found["checked"] == []
    assert found["typing_untouched"]


def _special_forms_outside_annotations(tree: ast.AST) -> list[tuple[int, str]]:
    """Each `typing.<inert form>` that is not in an annotation, in `typing.cast`'s first
    argument or in a `check_type(...)` call: code that might need the real special form."""
    found: list[tuple[int, str]] = []

    def annotations(node: ast.AST) -> list[ast.AST]:
        if isinstance(node, ast.arg | ast.AnnAssign):
            return [node.annotation] if node.annotation is not None else []
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            return [node.returns] if node.returns is not None else []
        return []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.Call):
            called = ast.unparse(node.func)
            if called == "check_type":
                return
            if called == "typing.cast" and node.args:
                for child in [*node.args[1:], *node.keywords]:
                    visit(child)
                return
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "typing"
            and node.attr in provider_loader.INERT_SPECIAL_FORMS
        ):
            found.append((node.lineno, node.attr))
        skipped = annotations(node)
        for child in ast.iter_child_nodes(node):
            if not any(child is annotation for annotation in skipped):
                visit(child)

    visit(tree)
    return found


def _generated_modules_the_stack_runs() -> list[Path]:
    """Every file of cdktf and constructs, and of each provider submodule the code imports."""
    sources = [
        *(REPO_ROOT / "constructs_lib").glob("*.py"),
        *(REPO_ROOT / "serverless_app").rglob("*.py"),
    ]
    used = {
        name
        for source in sources
        for name in re.findall(rf"{PROVIDER_PACKAGE}\.(\w+)", source.read_text())
    }
    folders = [PROVIDER_DIR / name for name in ("_jsii", *sorted(used))]
    for package in ("cdktf", "constructs"):
        folders.append(package_dir(package))
    return [file for folder in folders for file in sorted(folder.rglob("*.py"))]


@pytest.mark.parametrize(
    ("source", "found"),
    [
        (
            "def f(a: typing.Optional[int]) -> typing.List[str]:\n    x: typing.Dict[str, int] = 1",
            [],
        ),
        ("def f(a):\n    return typing.cast(typing.Optional[typing.Union[int, str]], a)", []),
        ("check_type(argname='a', value=a, expected_type=typing.Tuple[int, ...])", []),
        ("Alias = typing.Union[int, str]", [(1, "Union")]),
        ("def f(a):\n    return isinstance(a, typing.Mapping)", [(2, "Mapping")]),
        ("typing.cast(int, typing.Sequence)", [(1, "Sequence")]),
    ],
)
def test_the_special_form_scan_tells_annotations_from_other_uses(source, found):
    assert _special_forms_outside_annotations(ast.parse(source)) == found


def test_generated_code_needs_no_real_special_forms():
    """main.py gives the bindings an inert `typing.Optional[...]` & co.: safe only while the
    generated code builds them solely as annotations, for `typing.cast` or `check_type`."""
    files = _generated_modules_the_stack_runs()
    assert len(files) > 40
    for file in files:
        assert _special_forms_outside_annotations(ast.parse(file.read_text())) == [], file


def test_tests_keep_the_generated_type_checks():
    from cdktf import TerraformStack, Testing
    from cdktf_cdktf_provider_aws.vpc import Vpc

    with pytest.raises(TypeError, match="cidr_block"):
        Vpc(TerraformStack(Testing.app(), "stack"), "vpc", cidr_block=16)  # type: ignore[arg-type]


def test_the_jsii_kernel_runs_in_one_node_process():
    import jsii

    kernel = jsii.kernel.provider._process._process  # type: ignore[attr-defined]
    command = Path(f"/proc/{kernel.pid}/cmdline").read_bytes().split(b"\0")
    assert str(DIRECT_KERNEL_NODE.with_name("jsii_kernel.js")).encode() in command
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == kernel.pid:
            children.append(stat.parent.name)
    assert children == []


# Stands in for jsii's lib/program.js: one request on fd 3, console output, one response.
FAKE_KERNEL = """
const fs = require("fs");
const request = Buffer.alloc(64);
const size = fs.readSync(3, request);
console.log("console.log");
process.stderr.write("process.stderr");
fs.writeSync(2, Buffer.from("fd 2\\n"), 0);
fs.writeSync(3, Buffer.from(`{"ok":${request.toString("utf8", 0, size).trim()}}\\n`), 0);
"""


def test_the_direct_kernel_talks_on_stdio_and_relays_console_output_as_json(tmp_path):
    (tmp_path / "bin").mkdir()
    (tmp_path / "lib").mkdir()
    (tmp_path / "bin" / "jsii-runtime.js").write_text("throw new Error('the relay ran');\n")
    (tmp_path / "lib" / "program.js").write_text(FAKE_KERNEL)
    result = subprocess.run(
        [DIRECT_KERNEL_NODE, "--max-old-space-size=4069", tmp_path / "bin" / "jsii-runtime.js"],
        input=b'"ping"\n',
        capture_output=True,
    )
    assert (result.returncode, result.stdout) == (0, b'{"ok":"ping"}\n'), result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    relayed = [(key, base64.b64decode(value)) for line in lines for key, value in line.items()]
    assert relayed == [
        ("stdout", b"console.log\n"),
        ("stderr", b"process.stderr"),
        ("stderr", b"fd 2\n"),
    ]


def test_the_direct_kernel_node_runs_anything_else_as_given():
    result = subprocess.run(
        [DIRECT_KERNEL_NODE, "-e", "console.log(process.execArgv.length)"],
        capture_output=True,
        text=True,
    )
    assert (result.returncode, result.stdout) == (0, "2\n"), result.stderr
