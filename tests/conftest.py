import os
import sys
from pathlib import Path

import pytest

import main
from fast_synth import provider_loader
from tests.support import ENVIRONMENTS, env_config, synth_config

# Tests import lambda/app.py; its byte-code cache must not land in the packaged source.
sys.dont_write_bytecode = True
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
# Before any test module imports a provider submodule (tests.support imports them lazily).
provider_loader.install()


@pytest.fixture(scope="session")
def stacks() -> dict[str, dict]:
    """The synthesized JSON of every shipped environment, built once per test session."""
    return {env: synth_config(env_config(env)) for env in ENVIRONMENTS}


@pytest.fixture(scope="session")
def synth_output(tmp_path_factory) -> Path:
    """`python main.py` run once per session on the shipped configuration, for the tests that
    only read its output folder."""
    out = tmp_path_factory.mktemp("synth") / "cdktf.out"
    assert main.main(["--outdir", str(out)]) == 0
    return out


@pytest.fixture(scope="session", params=ENVIRONMENTS)
def stack(request, stacks) -> dict:
    return stacks[request.param]


def pytest_terminal_summary(terminalreporter) -> None:
    """The apply cycle's measured times, per stack and step, and the provider version used."""
    from tests.terraform_cycle import CYCLE_REPORTS

    for report in CYCLE_REPORTS:
        steps = ", ".join(f"{step.command} {step.seconds:.0f}s" for step in report.steps)
        line = f"apply cycle {report.stack}: {report.seconds():.0f}s ({steps})"
        terminalreporter.write_line(line)
        if report.version_note:
            terminalreporter.write_line(f"apply cycle {report.stack}: {report.version_note}")
