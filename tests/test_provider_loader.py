"""The fast provider loader: only the submodules a program imports, the same bytes as stock."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from jsii import _reference_map

from serverless_app import provider_loader
from serverless_app.provider_loader import OPT_OUT_VARIABLE, PROVIDER_PACKAGE
from tests.support import REPO_ROOT, snapshot, synth

PROVIDER_DIR = Path(importlib.util.find_spec(PROVIDER_PACKAGE).origin).parent
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
    namespace: dict[str, object] = {}
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
from serverless_app import provider_loader
provider_loader.install()
from cdktf import App, TerraformStack
from cdktf_cdktf_provider_aws.vpc import Vpc
from constructs import Node
import jsii
from jsii._kernel import _make_reference_for_native
from jsii._kernel.types import CreateRequest

loaded = sorted(name for name in sys.modules if name.startswith("cdktf_cdktf_provider_aws"))
stack = TerraformStack(App(), "stack")
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
            "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
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


def test_synth_output_is_byte_identical_to_the_stock_import_path(tmp_path):
    fast, stock = tmp_path / "fast", tmp_path / "stock"
    for outdir, opt_out in ((fast, "0"), (stock, "1")):
        synth("--outdir", str(outdir), **{OPT_OUT_VARIABLE: opt_out})
    assert snapshot(fast) == snapshot(stock)
