"""scripts/coldstart.py: both variants of a real package measured in a real worker process
(the clock injected, so nothing depends on how fast this machine is), and the table's medians."""

from __future__ import annotations

import itertools
import sys
import zipfile

import pytest

from constructs_lib.bytecode import BytecodeUnavailable, find_interpreter
from scripts.coldstart import Row, Timing, measure, report, shipped_functions
from scripts.sandbox import FunctionSpec
from tests.support import CONFIG_DIR, ENVIRONMENT_FILES, file_values


def test_every_shipped_function_is_measured_once():
    specs = shipped_functions(CONFIG_DIR)
    expected = {
        (function["source_dir"], function.get("dependencies"))
        for path in ENVIRONMENT_FILES.values()
        for function in file_values(path)["functions"].values()
    }
    assert len(specs) == len(expected)
    assert {spec.key for spec in specs} <= {
        key for path in ENVIRONMENT_FILES.values() for key in file_values(path)["functions"]
    }


def test_both_variants_differ_only_by_bytecode_and_each_run_reaches_the_handler(tmp_path):
    runtime = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    source = tmp_path / "src"
    source.mkdir()
    (source / "app.py").write_text("import json\n\ndef handler(event, context):\n    return {}\n")
    spec = FunctionSpec(
        key="f",
        name="t-f",
        source_dir=source,
        handler="app.handler",
        runtime=runtime,
        architecture="x86_64",
        dependencies=None,
        timeout_s=3,
        memory_mb=128,
        environment={},
    )
    ticks = itertools.count(step=0.25)  # each reading of the clock a quarter second later
    row = measure(spec, runs=2, scratch=tmp_path / "scratch", clock=lambda: next(ticks))
    assert row.zip_bytes["with"] > row.zip_bytes["without"]
    with zipfile.ZipFile(tmp_path / "scratch" / "f-with.zip") as archive:
        with_names = set(archive.namelist())
    with zipfile.ZipFile(tmp_path / "scratch" / "f-without.zip") as archive:
        without_names = set(archive.namelist())
    tag = runtime.replace("python", "cpython-").replace(".", "")
    assert with_names - without_names == {f"__pycache__/app.{tag}.pyc"}
    for variant in ("without", "with"):
        # Two readings per run: started, then ready.
        assert [timing.ready_s for timing in row.timings[variant]] == [0.25, 0.25]
        assert all(timing.import_s > 0 for timing in row.timings[variant])
        assert all(timing.import_cpu_s > 0 for timing in row.timings[variant])


def test_a_runtime_this_machine_lacks_is_not_measured(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "no-pyenv"))
    find_interpreter.cache_clear()
    other = "python3.12" if sys.version_info[:2] != (3, 12) else "python3.13"
    spec = FunctionSpec("f", "t-f", tmp_path, "app.handler", other, "x86_64", None, 3, 128, {})
    try:
        with pytest.raises(BytecodeUnavailable, match=f"no {other} on this machine"):
            measure(spec, runs=1, scratch=tmp_path)
    finally:
        find_interpreter.cache_clear()


@pytest.mark.parametrize(
    ("imports_without", "imports_with", "shown"),
    [
        ([0.040, 0.010, 0.030], [0.020, 0.001, 0.015], "| 30.0 ms | 15.0 ms | -50% |"),
        ([0.010, 0.010], [0.011, 0.013], "| 10.0 ms | 12.0 ms | +20% |"),
    ],
    ids=["odd-runs-halved", "even-runs-slower"],
)
def test_the_table_shows_medians_and_the_change(imports_without, imports_with, shown):
    row = Row(
        "escape",
        "python3.13",
        {"without": 25_858, "with": 38_647},
        {
            "without": [Timing(s, 0.004, 0.1) for s in imports_without],
            "with": [Timing(s, 0.002, 0.1) for s in imports_with],
        },
    )
    lines = report([row], runs=len(imports_without))
    assert lines[-1].startswith("| escape | python3.13 | 25,858 B | 38,647 B | ")
    assert shown in lines[-1]
    assert lines[-1].endswith("| 4.0 ms | 2.0 ms | -50% | 100.0 ms | 100.0 ms | +0% |")
