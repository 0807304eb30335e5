"""The deployer roles the bootstrap stack creates (`[deployer]` in the bootstrap file): for
each environment named there, its generated deployer policy (serverless_app/deployer_policy.py)
on a role `deployer-<project>-<env>`, outside the environment's name prefix: the policy lets
its holder change the roles named `<project>-<env>-*`, which must not include its own.

The environments are the files beside the bootstrap folder, read and checked as `make check`
reads them; each one's stack is synthesized (into a temporary folder) to generate its policy.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from serverless_app.config import ConfigError, StackConfig, shown, validate_configs
from serverless_app.config.aws_facts import PLACEHOLDER_ACCOUNT_ID
from serverless_app.config.bootstrap import DeployerRoles
from serverless_app.config.rules import partition_of
from serverless_app.deployer_policy import Scope, UnknownTypes, deployer_policies
from serverless_app.output import synthesize_into

if TYPE_CHECKING:
    from cdktf import App

ROLE_NAME_PREFIX = "deployer-"


@dataclass(frozen=True)
class EnvironmentRole:
    role_name: str
    policies: list[dict[str, Any]]


def role_name(config: StackConfig) -> str:
    return f"{ROLE_NAME_PREFIX}{config.name_prefix}"


def environments_folder(bootstrap_file: Path) -> Path:
    """The folder of environment files whose `bootstrap/state.toml` is `bootstrap_file`."""
    return bootstrap_file.parent.parent


def deployed_environments(
    bootstrap_file: Path, deployer: DeployerRoles
) -> list[tuple[Path, StackConfig]]:
    """The environment files `deployer.environments` names, in that order; ConfigError naming
    the bootstrap file's key path when one is missing, broken or has no account."""
    folder = environments_folder(bootstrap_file)
    configs, problems = validate_configs(folder)
    by_env = {config.env: (path, config) for path, config in configs}
    chosen = []
    for index, env in enumerate(deployer.environments):
        where = f"{shown(bootstrap_file)}: deployer.environments[{index}]"
        if env not in by_env:
            known = ", ".join(sorted(by_env)) or "none"
            problems.append(
                f"{where}: no valid environment file with env = {env!r} in {shown(folder)} "
                f"(valid there: {known})"
            )
            continue
        path, config = by_env[env]
        if config.account_id in (None, PLACEHOLDER_ACCOUNT_ID):
            problems.append(
                f"{where}: {shown(path)} needs its account_id (not the placeholder): the "
                "policy is scoped to it"
            )
            continue
        chosen.append((path, config))
    problems += _account_problems(bootstrap_file, deployer, chosen)
    if problems:
        raise ConfigError(problems)
    return chosen


def _account_problems(
    bootstrap_file: Path, deployer: DeployerRoles, chosen: list[tuple[Path, StackConfig]]
) -> list[str]:
    """The bootstrap stack creates its roles in the one account it is applied in: every
    environment, and an existing identity provider, must be in that account."""
    if not chosen:
        return []
    first_path, first = chosen[0]
    problems = [
        f"{shown(bootstrap_file)}: deployer.environments[{deployer.environments.index(config.env)}]"
        f": {shown(path)} deploys to account {config.account_id}, {shown(first_path)} to "
        f"{first.account_id}: the roles are created in the one account the bootstrap stack is "
        "applied in"
        for path, config in chosen[1:]
        if config.account_id != first.account_id
    ]
    provider_arn = deployer.github.oidc_provider_arn if deployer.github else None
    if provider_arn is not None and provider_arn.split(":")[4] != first.account_id:
        problems.append(
            f"{shown(bootstrap_file)}: deployer.github.oidc_provider_arn: not in account "
            f"{first.account_id} of {shown(first_path)}, where the roles are created "
            f"(given: {provider_arn})"
        )
    return problems


def environment_roles(
    environments: Sequence[tuple[Path, StackConfig]],
    build_environments: Callable[[App, Sequence[tuple[Path, StackConfig]]], None],
) -> list[EnvironmentRole]:
    """Synthesizes the environments' stacks and generates each one's deployer policies."""
    with tempfile.TemporaryDirectory(prefix="deployer-stacks-") as temporary:
        outdir = Path(temporary)
        synthesize_into(lambda app: build_environments(app, environments), outdir)
        roles = []
        for path, config in environments:
            stack = json.loads((outdir / "stacks" / config.env / "cdk.tf.json").read_text())
            scope = Scope(
                partition_of(config.region),
                config.region,
                str(config.account_id),
                config.name_prefix,
            )
            try:
                policies = deployer_policies(stack, scope)
            except (UnknownTypes, ValueError) as error:
                raise ConfigError([f"{shown(path)}: {error}"]) from None
            roles.append(EnvironmentRole(role_name(config), policies))
    return roles
