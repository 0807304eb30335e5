import os
import sys
import tomllib
from pathlib import Path

import pytest

import main
from fast_synth import provider_loader
from serverless_app.config import load_config
from tests.support import CONFIG_DIR, ENVIRONMENTS, PINNED_NODE_BIN, env_config, synth_config

# Tests import lambda/app.py; its byte-code cache must not land in the packaged source.
sys.dont_write_bytecode = True
# The Node LTS pinned in tools/node (`make setup`) runs the jsii kernel and the CLIs, as under
# make; tests/test_node.py fails when it is not the one found.
os.environ["PATH"] = f"{PINNED_NODE_BIN}{os.pathsep}{os.environ.get('PATH', '')}"
# Before any test module imports a provider submodule (tests.support imports them lazily).
provider_loader.install()


def pytest_collection_modifyitems(items) -> None:
    """Under pytest-xdist (`make test`), the Terraform modules (apply and change cycle) go first:
    they take minutes on their workers while the others run everything else, instead of
    starting last and running alone. Every worker collects, so every worker sorts alike; a
    plain run keeps file order."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        items.sort(key=lambda item: item.get_closest_marker("e2e") is None)


@pytest.fixture(scope="session")
def stacks() -> dict[str, dict]:
    """The synthesized JSON of every shipped environment, built once per test session."""
    return {env: synth_config(env_config(env)) for env in ENVIRONMENTS}


@pytest.fixture(scope="session")
def nat_stack(tmp_path_factory) -> dict:
    """dev with one NAT gateway: the shipped files run without any, the constructs still must."""
    from tests.terraform_cycle import merged, toml_text

    dev = tomllib.loads((CONFIG_DIR / "dev.toml").read_text())
    path = tmp_path_factory.mktemp("nat") / "dev.toml"
    path.write_text(toml_text(merged(dev, {"vpc": {"nat_gateways": "single"}})))
    return synth_config(load_config(path))


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


def _cycle_lines() -> list[str]:
    """The apply and change cycles' measured times, per stack or step, and the provider version."""
    from tests.terraform_cycle import summary_lines

    return summary_lines()


# Under pytest-xdist the cycle runs in a worker process and the summary is printed by the
# controller: each worker hands its lines over in `workeroutput` when it finishes.
_WORKER_LINES: list[str] = []


def pytest_sessionfinish(session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # this process is an xdist worker
        workeroutput["apply_cycle_lines"] = _cycle_lines()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    _WORKER_LINES.extend(getattr(node, "workeroutput", {}).get("apply_cycle_lines", []))


def pytest_terminal_summary(terminalreporter) -> None:
    for line in [*_cycle_lines(), *_WORKER_LINES]:
        terminalreporter.write_line(line)
