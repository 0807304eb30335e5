"""Print the deployer policy of one environment: every IAM action `terraform plan`, `apply`
and `destroy` of its synthesized stack need, scoped to its name prefix, region and account, as
a JSON list of managed policy documents (each within IAM's 6,144 characters).

Usage: python -m scripts.deployer_policy --env dev [--config config] [--stacks cdktf.out/stacks]

Reads the environment's file (its `account_id` must be set, not the placeholder) and the stack
`make synth` wrote. Problems are one line on stderr, exit status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from serverless_app.config import DEFAULT_CONFIG_PATH, ConfigError, StackConfig, load_configs, shown
from serverless_app.config.aws_facts import PLACEHOLDER_ACCOUNT_ID
from serverless_app.deployer_policy import Scope, UnknownTypes, deployer_policies

DEFAULT_STACKS = Path("cdktf.out") / "stacks"
PARTITION = "aws"


class PolicyError(Exception):
    """One line for stderr."""


def environment(config_path: Path, env: str) -> tuple[Path, StackConfig]:
    try:
        configs = load_configs(config_path)
    except ConfigError as error:
        raise PolicyError("\n".join(error.problems)) from None
    for path, config in configs:
        if config.env == env:
            return path, config
    known = ", ".join(sorted(config.env for _, config in configs))
    raise PolicyError(f"{shown(config_path)}: no environment {env!r} (there are: {known})")


def policies_of(config_path: Path, env: str, stacks: Path) -> list[dict[str, Any]]:
    path, config = environment(config_path, env)
    if config.account_id in (None, PLACEHOLDER_ACCOUNT_ID):
        raise PolicyError(
            f"{shown(path)}: account_id: set the account this environment deploys to: the "
            "policy is scoped to it"
        )
    stack_file = stacks / env / "cdk.tf.json"
    if not stack_file.is_file():
        raise PolicyError(f"{stack_file}: not found: run `make synth` first")
    stack = json.loads(stack_file.read_text())
    scope = Scope(PARTITION, config.region, config.account_id, config.name_prefix)
    try:
        return deployer_policies(stack, scope)
    except (UnknownTypes, ValueError) as error:
        raise PolicyError(f"{stack_file}: {error}") from None


def main(arguments: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", required=True)
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG_PATH)
    parser.add_argument("--stacks", type=Path, default=DEFAULT_STACKS)
    options = parser.parse_args(arguments)
    try:
        policies = policies_of(options.config, options.env, options.stacks)
    except PolicyError as error:
        print(error, file=sys.stderr)
        return 2
    print(json.dumps(policies, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
