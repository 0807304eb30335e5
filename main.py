"""Synthesize one Terraform stack per environment file: `cdktf.out/stacks/<env>/cdk.tf.json`.

Usage: python main.py [--config FILE_OR_FOLDER] [--outdir DIR] [--check]
       python main.py --bootstrap [--config FILE] [--outdir DIR]
The environment variable STACK_CONFIG means the same as --config (for the cdktf CLI).
--bootstrap synthesizes only the remote-state bucket stack (config/bootstrap/state.toml)
into bootstrap.out/, a folder of its own: `cdktf synth` prunes unknown stacks from cdktf.out.
Exit status: 0 done, 2 configuration problems (one line each on stderr, nothing written).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from constructs_lib.config import (
    DEFAULT_BOOTSTRAP_CONFIG,
    DEFAULT_CONFIG_PATH,
    BootstrapConfig,
    ConfigError,
    StackConfig,
    config_warnings,
    load_config,
    shown,
    validate_configs,
)
from constructs_lib.summary import synth_summary

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
    if not problems and not args.check:
        problems = outdir_problems(args.outdir)
    for path, config in configs:
        print_lines(config_warnings(path, config), sys.stderr)
    print_lines(problems, sys.stderr)
    if args.check:
        print_lines([f"{shown(path)}: {config.env} ok" for path, config in configs], sys.stdout)
    if problems:
        return EXIT_BAD_CONFIG
    if not args.check:
        synthesize(lambda app: build_environments(app, configs), args.outdir)
    return 0


def build_environments(app: App, configs: Sequence[tuple[Path, StackConfig]]) -> None:
    from constructs_lib.stack import ServerlessStack

    for _, config in configs:
        ServerlessStack(app, config)


def bootstrap(config_path: Path, outdir: Path) -> int:
    try:
        config = load_config(config_path, BootstrapConfig)
    except ConfigError as error:
        print_lines(error.problems, sys.stderr)
        return EXIT_BAD_CONFIG
    problems = outdir_problems(outdir)
    print_lines(problems, sys.stderr)
    if problems:
        return EXIT_BAD_CONFIG

    def build(app: App) -> None:
        from constructs_lib.bootstrap import StateBucketStack

        StateBucketStack(app, config)

    synthesize(build, outdir)
    return 0


def print_lines(lines: Sequence[str], stream: TextIO) -> None:
    for line in lines:
        print(line, file=stream)


def outdir_problems(outdir: Path) -> list[str]:
    """The output folder is replaced as a whole: refuse anything but a previous output."""
    if outdir.is_dir() and any(outdir.iterdir()) and not (outdir / "manifest.json").is_file():
        return [f"{outdir}: not replaced: it is not empty and holds no cdktf manifest.json"]
    return []


def synthesize(build: Callable[[App], None], outdir: Path) -> None:
    """Write every stack `build` adds into a fresh folder next to `outdir`, then swap it in: a
    run that fails anywhere leaves the previous output exactly as it was."""
    # Imported only after validation: loading the provider bindings takes seconds.
    from cdktf import App

    shown_outdir = outdir
    outdir = outdir.resolve()
    staging = outdir.with_name(f".{outdir.name}.{uuid.uuid4().hex[:8]}.new")
    staging.mkdir(parents=True)
    try:
        app = App(outdir=str(staging), stack_traces=False)
        build(app)
        app.synth()
        replace_folder(staging, outdir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    print(synth_summary(shown_outdir))


def replace_folder(new: Path, target: Path) -> None:
    """Put `new` in place of `target` by renames within one folder (one file system)."""
    if not target.exists():
        new.rename(target)
        return
    previous = new.with_suffix(".old")
    target.rename(previous)
    try:
        new.rename(target)
    except OSError:
        previous.rename(target)
        raise
    shutil.rmtree(previous)


if __name__ == "__main__":
    from constructs_lib.provider_loader import exit_after_flush

    exit_after_flush(main())
