"""Synthesize one Terraform stack per environment file: `cdktf.out/stacks/<env>/cdk.tf.json`.

Usage: python main.py [--config FILE_OR_FOLDER] [--outdir DIR] [--check]
       python main.py --bootstrap [--config FILE] [--outdir DIR]
The environment variable STACK_CONFIG means the same as --config (for the cdktf CLI).
--bootstrap synthesizes only the remote-state bucket stack (config/bootstrap/state.toml)
into bootstrap.out/, a folder of its own: `cdktf synth` prunes unknown stacks from cdktf.out;
with `[deployer]` there, the environments it names are synthesized first (into a temporary
folder) for their deployer policies.
Exit status: 0 done, 2 configuration, packaging or output-folder problems (one line each on
stderr, nothing written). How the output folder is replaced: serverless_app/output.py.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from constructs_lib.packaging import PackagingError
from fast_synth import provider_loader
from serverless_app.config import (
    DEFAULT_BOOTSTRAP_CONFIG,
    DEFAULT_CONFIG_PATH,
    BootstrapConfig,
    ConfigError,
    StackConfig,
    config_warnings,
    load_config,
    placeholder_account_lines,
    shown,
    validate_configs,
)
from serverless_app.deployer_roles import (
    EnvironmentRole,
    deployed_environments,
    environment_roles,
)
from serverless_app.output import OutputError, outdir_problems, synthesize

if TYPE_CHECKING:
    from cdktf import App

EXIT_BAD_CONFIG = 2


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--config",
        type=Path,
        help="a config file or a folder of *.toml files (default: $STACK_CONFIG or config/; "
        "with --bootstrap: config/bootstrap/state.toml)",
    )
    parser.add_argument(
        "--outdir",
        type=Path,
        help="where to write the synthesized stacks "
        "(default: $CDKTF_OUTDIR or cdktf.out; with --bootstrap: bootstrap.out)",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--check",
        action="store_true",
        help="only validate the configuration (fast: the AWS provider is not loaded)",
    )
    mode.add_argument(
        "--bootstrap",
        action="store_true",
        help="synthesize only the stack that creates the remote-state bucket",
    )
    args = parser.parse_args(argv)
    if args.bootstrap:
        args.config = args.config or DEFAULT_BOOTSTRAP_CONFIG
        args.outdir = args.outdir or Path("bootstrap.out")
    else:
        args.config = args.config or Path(os.environ.get("STACK_CONFIG") or DEFAULT_CONFIG_PATH)
        args.outdir = args.outdir or Path(os.environ.get("CDKTF_OUTDIR") or "cdktf.out")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.bootstrap:
        return bootstrap(args.config, args.outdir)
    configs, problems = validate_configs(args.config)
    placeholders = {
        path: placeholder_account_lines(path, config, checking=args.check)
        for path, config in configs
    }
    if args.check:
        problems += [line for lines in placeholders.values() for line in lines]
    elif not problems:
        problems = outdir_problems(args.outdir, args.config)
    for path, config in configs:
        print_lines(config_warnings(path, config), sys.stderr)
    print_lines(problems, sys.stderr)
    if args.check:
        fine = [(path, config) for path, config in configs if not placeholders[path]]
        print_lines([f"{shown(path)}: {config.env} ok" for path, config in fine], sys.stdout)
    if problems:
        return EXIT_BAD_CONFIG
    if args.check:
        return 0
    status = synthesize_or_report(lambda app: build_environments(app, configs), args.outdir)
    if status == 0:
        # After the summary: a run that fails says only why.
        print_lines([line for lines in placeholders.values() for line in lines], sys.stderr)
    return status


def synthesize_or_report(build: Callable[[App], None], outdir: Path) -> int:
    # Before `build` imports the constructs: they load only the provider submodules they use,
    # without jsii's run-time argument checks (see provider_loader; tests keep them).
    provider_loader.install(runtime_type_checks=False)
    try:
        synthesize(build, outdir)
    except (OutputError, PackagingError) as error:
        print(error, file=sys.stderr)
        return EXIT_BAD_CONFIG
    return 0


def build_environments(app: App, configs: Sequence[tuple[Path, StackConfig]]) -> None:
    from serverless_app.stack import ServerlessStack

    stacks = []
    for path, config in configs:
        try:
            stacks.append(ServerlessStack(app, config))
        except PackagingError as error:
            # A dependency without a wheel, a package over Lambda's limit, ...: the file and
            # the function are named; the previous output stays as it was.
            raise PackagingError(f"{shown(path)}: {error}") from error
    # Once per reason (one per runtime), not once per function and environment.
    skipped = {
        deployed.function.bytecode_skipped: None
        for stack in stacks
        for deployed in stack.functions.values()
        if deployed.function.bytecode_skipped is not None
    }
    print_lines([f"warning: {reason}" for reason in skipped], sys.stderr)


def bootstrap(config_path: Path, outdir: Path) -> int:
    try:
        config = load_config(config_path, BootstrapConfig)
    except ConfigError as error:
        print_lines(error.problems, sys.stderr)
        return EXIT_BAD_CONFIG
    problems = outdir_problems(outdir, config_path)
    print_lines(problems, sys.stderr)
    if problems:
        return EXIT_BAD_CONFIG
    try:
        roles = deployer_roles(config_path, config)
    except (ConfigError, OutputError, PackagingError) as error:
        print_lines(error.problems if isinstance(error, ConfigError) else [str(error)], sys.stderr)
        return EXIT_BAD_CONFIG

    def build(app: App) -> None:
        from serverless_app.bootstrap import StateBucketStack

        StateBucketStack(app, config, roles)

    return synthesize_or_report(build, outdir)


def deployer_roles(config_path: Path, config: BootstrapConfig) -> list[EnvironmentRole]:
    """The roles `[deployer]` asks for, each with its environment's generated policy."""
    if config.deployer is None:
        return []
    environments = deployed_environments(config_path, config.deployer)
    provider_loader.install(runtime_type_checks=False)
    return environment_roles(environments, build_environments)


def print_lines(lines: Sequence[str], stream: TextIO) -> None:
    for line in lines:
        print(line, file=stream)


if __name__ == "__main__":
    from fast_synth.provider_loader import exit_after_flush

    exit_after_flush(main())
