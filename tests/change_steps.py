"""The change cycle's steps as data, and the release the upgrade step starts from.

`CHANGES` is a table of name -> edit: each edit turns the previous step's configuration (a
parsed TOML file) into the step's own, so adding a step is one entry. `CONFIGS` holds every
step's configuration, computed once from the shipped config/dev.toml; the e2e module
(tests/test_change_cycle.py) applies them and tests/test_apply_harness.py checks them without
Terraform.
"""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support import CONFIG_DIR, REPO_ROOT
from tests.terraform_cycle import in_emulator_account, merged

Config = dict[str, Any]
Edit = Callable[[Config], Config]

RELEASES_DIR = REPO_ROOT / "tests" / "releases"
UPGRADE_OVERLAYS = REPO_ROOT / "tests" / "config"


def shipped_dev() -> Config:
    """The shipped dev file, naming the emulator's account (its placeholder matches none)."""
    return tomllib.loads(in_emulator_account((CONFIG_DIR / "dev.toml").read_text()))


@dataclass(frozen=True)
class ChangeStep:
    name: str
    edit: Edit  # the previous step's configuration -> this step's


def add_route(route: Config) -> Edit:
    def edit(config: Config) -> Config:
        changed = copy.deepcopy(config)
        changed["routes"].append(route)
        return changed

    return edit


def remove_route(method: str, path: str) -> Edit:
    """The route, and its path from `waf.markup_paths` when no other route has it (the check
    refuses a markup path that is no route's, so a user removes both)."""

    def edit(config: Config) -> Config:
        changed = copy.deepcopy(config)
        kept = [r for r in config["routes"] if (r["method"], r["path"]) != (method, path)]
        assert len(kept) == len(config["routes"]) - 1, f"no route {method} {path} to remove"
        changed["routes"] = kept
        waf = changed.get("waf", {})
        if path in waf.get("markup_paths", []) and path not in {r["path"] for r in kept}:
            waf["markup_paths"] = [p for p in waf["markup_paths"] if p != path]
        return changed

    return edit


def add_function(key: str, settings: Config, route: Config) -> Edit:
    def edit(config: Config) -> Config:
        changed = copy.deepcopy(config)
        assert key not in changed["functions"], f"function {key} exists already"
        changed["functions"][key] = settings
        changed["routes"].append({**route, "function": key})
        return changed

    return edit


def remove_function(key: str) -> Edit:
    """The function and every route to it."""

    def edit(config: Config) -> Config:
        changed = copy.deepcopy(config)
        del changed["functions"][key]
        changed["routes"] = [r for r in config["routes"] if r["function"] != key]
        return changed

    return edit


def change_function(key: str, **settings: object) -> Edit:
    def edit(config: Config) -> Config:
        changed = copy.deepcopy(config)
        changed["functions"][key].update(settings)
        return changed

    return edit


def add_queue_trigger(queue: str, function: str, trigger: Config) -> Edit:
    """A new queue and a trigger feeding an existing function from it, ahead of the others
    (their Terraform addresses must not move)."""

    def edit(config: Config) -> Config:
        changed = copy.deepcopy(config)
        assert queue not in changed.get("queues", {}), f"queue {queue} exists already"
        changed.setdefault("queues", {})[queue] = {}
        changed["triggers"] = [
            {"function": function, "queue": queue, **trigger},
            *changed.get("triggers", []),
        ]
        return changed

    return edit


def add_failure_queue(queue: str, source: str) -> Edit:
    """A new queue receiving what EventBridge could not deliver to the `source` triggers
    (`bucket` or `rule`): their targets change in place, the stack key's policy too."""

    def edit(config: Config) -> Config:
        changed = copy.deepcopy(config)
        assert queue not in changed.get("queues", {}), f"queue {queue} exists already"
        changed.setdefault("queues", {})[queue] = {}
        triggers = [trigger for trigger in changed["triggers"] if source in trigger]
        assert triggers, f"no {source} trigger to send failures from"
        for trigger in triggers:
            trigger["on_failure"] = queue
        return changed

    return edit


def new_environment(env: str) -> Edit:
    """What README's recipe has a user do: a copy of the shipped dev.toml, only `env` changed."""
    return lambda _previous: {**shipped_dev(), "env": env}


CHANGES = (
    ChangeStep("first-apply", lambda _previous: shipped_dev()),
    ChangeStep(
        "add-route",
        add_route(
            {"method": "GET", "path": "/hello/{who}", "function": "hello"}
            | {"authorization": "NONE", "load_balancer": True}
        ),
    ),
    ChangeStep("remove-route", remove_route("GET", "/escape/{name}")),
    ChangeStep(
        "add-function",
        add_function(
            "greet",
            {"source_dir": "lambda"},
            {"method": "GET", "path": "/greet", "authorization": "NONE"},
        ),
    ),
    ChangeStep("remove-function", remove_function("greet")),
    ChangeStep(
        "change-function-settings",
        change_function(
            "hello",
            memory_mb=512,
            timeout_s=20,
            environment={"LOG_LEVEL": "INFO", "GREETING_STYLE": "short"},
        ),
    ),
    ChangeStep(
        "add-queue-trigger",
        add_queue_trigger("audits", "worker", {"batch_size": 5, "maximum_concurrency": 3}),
    ),
    ChangeStep("add-failure-queue", add_failure_queue("undelivered", "bucket")),
    ChangeStep("add-environment", new_environment("staging")),
)


def _chained(steps: tuple[ChangeStep, ...]) -> dict[str, Config]:
    configs: dict[str, Config] = {}
    previous: Config = {}
    for step in steps:
        previous = configs[step.name] = step.edit(previous)
    return configs


def _release_key(folder: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in folder.name.removeprefix("v").split("."))


# The release upgraded from: the newest folder of tests/releases (make release-fixture).
PREVIOUS_RELEASE = max((p for p in RELEASES_DIR.iterdir() if p.is_dir()), key=_release_key)
RELEASE_STEP = f"release-{PREVIOUS_RELEASE.name}"
UPGRADE_STEP = f"upgrade-from-{PREVIOUS_RELEASE.name}"
# What the CHANGELOG tells users upgrading from that release to set in their config.
UPGRADE_OVERLAY = UPGRADE_OVERLAYS / f"upgrade_from_{PREVIOUS_RELEASE.name}.toml"

CONFIGS = {
    **_chained(CHANGES),
    RELEASE_STEP: tomllib.loads((PREVIOUS_RELEASE / "dev.toml").read_text()),
    UPGRADE_STEP: merged(shipped_dev(), tomllib.loads(UPGRADE_OVERLAY.read_text())),
}
CHAINS = {
    "change cycle": [step.name for step in CHANGES],
    f"upgrade from {PREVIOUS_RELEASE.name}": [RELEASE_STEP, UPGRADE_STEP],
}


def _earlier_steps() -> Iterator[tuple[str, str | None]]:
    """Each step with the step before it on the same environment in its chain (None: the
    step creates that environment)."""
    for names in CHAINS.values():
        last: dict[str, str] = {}
        for name in names:
            env = CONFIGS[name]["env"]
            yield name, last.get(env)
            last[env] = name


EARLIER = dict(_earlier_steps())
# The steps applied with this version's code (the release step ran an older one).
CURRENT = [name for name in EARLIER if name != RELEASE_STEP]
ONTO_STATE = [name for name, before in EARLIER.items() if before is not None]


def removed_functions(name: str) -> list[str]:
    before = EARLIER[name]
    if before is None:
        return []
    return sorted(set(CONFIGS[before]["functions"]) - set(CONFIGS[name]["functions"]))
